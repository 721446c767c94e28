"""One version number, from pyproject.toml, everywhere it is shown or stored."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import tomllib

import model

REPO_ROOT = Path(__file__).resolve().parents[2]


def pyproject_version() -> str:
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def test_package_version_is_pyprojects():
    # A mismatch means the environment holds an older install: re-run `make test` (it reinstalls).
    assert model.__version__ == pyproject_version()


def test_version_is_pep440():
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*(\.post\d+)?(\.dev\d+)?", pyproject_version())


def test_info_prints_the_version(capsys):
    from model.pipeline.inference_cli import cmd_info

    assert cmd_info(argparse.Namespace()) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["stutterscope"] == pyproject_version()


def test_model_files_record_the_version(frame_bundle_path):
    from model.encoder.bundle import read_metadata

    assert read_metadata(frame_bundle_path)["app_version"] == pyproject_version()


def test_changelog_has_the_current_version():
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(pyproject_version())}\]", changelog, re.MULTILINE), \
        "CHANGELOG.md has no section for the version in pyproject.toml"
