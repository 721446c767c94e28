"""The import contracts in pyproject.toml hold (layers app -> data_prep -> model; no Qt in the core)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

REPO_ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    found = Path(sys.executable).with_name("lint-imports")
    exe = str(found) if found.is_file() else shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports is missing: install the dev extra (pip install -e '.[dev]')")
    return exe


def test_no_contract_ignores_an_import():
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert len(config["contracts"]) >= 2
    for contract in config["contracts"]:
        assert not contract.get("ignore_imports"), f"{contract['name']}: move the import instead of ignoring it"


def test_import_contracts_are_kept():
    # --no-cache: a cache from another tree must not answer for this one.
    proc = subprocess.run([_lint_imports(), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "broken" in proc.stdout and ", 0 broken" in proc.stdout
