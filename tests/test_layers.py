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


def _run_contracts(root: Path) -> subprocess.CompletedProcess:
    # --no-cache: a cache from another tree must not answer for this one.
    return subprocess.run([_lint_imports(), "--no-cache", str(REPO_ROOT / "pyproject.toml")], cwd=root,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(root)})


def test_import_contracts_are_kept():
    proc = _run_contracts(REPO_ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "broken" in proc.stdout and ", 0 broken" in proc.stdout


@pytest.mark.parametrize(("module", "line"), [
    ("model/pipeline/inference_cli.py", "from ..training import options"),  # issue 23: passed the old list of 14 modules
    ("model/new_module.py", "from model.training.loop import train"),  # a module no list names yet
    ("app/review.py", "import sklearn"),
    ("app/new_module.py", "from data_prep.chat import chat_words"),
])
def test_a_shipped_module_that_imports_training_code_breaks_a_contract(tmp_path, module, line):
    """The contracts hold by folder: a copy of the sources with one such import planted is refused."""
    proc = _run_planted(tmp_path, module, line)
    assert proc.returncode != 0 and "What the desktop build leaves out" in proc.stdout, proc.stdout[-3000:]
    assert "BROKEN" in proc.stdout and Path(module).stem in proc.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("app/review.py", "import PySide6", "is imported only in app/qt/"),  # a Qt-free module importing Qt
    ("app/new_module.py", "from app.qt import state", "app/qt/ is imported only by itself"),  # Qt, indirectly
    ("model/moments/new_module.py", "from model.pipeline import analysis", "Layers inside model"),  # a layer up
])
def test_qt_outside_app_qt_or_an_import_up_a_layer_breaks_a_contract(tmp_path, module, line, contract):
    """The Qt and model-layer contracts hold by folder (issue 23 item 8): a module no list names is held too."""
    proc = _run_planted(tmp_path, module, line)
    assert proc.returncode != 0 and "Broken contracts" in proc.stdout, proc.stdout[-3000:]
    broken = proc.stdout.split("Broken contracts", 1)[1]  # the broken contracts' names, each with its imports
    assert contract in broken and Path(module).stem in broken, proc.stdout[-3000:]


def _run_planted(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess:
    """The contracts on a copy of the sources with `line` added to `module` (a new file where there is none)."""
    for package in ("model", "app", "data_prep"):
        shutil.copytree(REPO_ROOT / package, tmp_path / package, ignore=_not_python)
    planted = tmp_path / module
    planted.write_text((planted.read_text(encoding="utf-8") if planted.exists() else "") + f"\n{line}\n")
    return _run_contracts(tmp_path)


def _not_python(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if not (n.endswith(".py") or Path(folder, n).is_dir()) or n == "__pycache__"]
