"""docs/architecture.md names every module of model/, app/ and data_prep/ (tools/architecture_doc.py)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("architecture_doc", REPO_ROOT / "tools" / "architecture_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_module_has_a_line_and_every_line_a_module(tool):
    missing, stale = tool.check(REPO_ROOT)
    assert not missing, f"docs/architecture.md has no line for {missing}: run python tools/architecture_doc.py --write"
    assert not stale, f"docs/architecture.md names modules that are gone: {stale}"


def test_a_new_module_is_missed_until_written_and_a_gone_one_is_dropped(tool, tmp_path):
    for package in tool.PACKAGES:
        shutil.copytree(REPO_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "assets"))
    (tmp_path / "docs").mkdir()
    shutil.copy(REPO_ROOT / tool.DOC, tmp_path / tool.DOC)
    tool.write(tmp_path)  # up to date first, whatever modules others are adding meanwhile
    (tmp_path / "model" / "new_thing.py").write_text('"""A new thing. More about it."""\n')
    (tmp_path / "model" / "labels.py").unlink()
    assert tool.check(tmp_path) == (["model/new_thing.py"], ["model/labels.py"])
    tool.write(tmp_path)
    assert tool.check(tmp_path) == ([], [])
    lines = tool.listed((tmp_path / tool.DOC).read_text(encoding="utf-8"))
    assert lines["model/new_thing.py"] == "- `model/new_thing.py`: A new thing"
    assert lines["model/audio/decode.py"] == tool.listed((REPO_ROOT / tool.DOC).read_text(encoding="utf-8"))["model/audio/decode.py"]
