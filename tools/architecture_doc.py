"""The module list of docs/architecture.md: one line per module of model/, app/ and data_prep/.

Usage, from the repository root:
  `python tools/architecture_doc.py`          says which modules the doc misses or names but no longer exist
                                              (exit 1 if any; tests/test_architecture_doc.py runs this check);
  `python tools/architecture_doc.py --write`  rewrites the list between the markers from each module's docstring
                                              (its first sentence), keeping the lines already written by hand.

A package is listed as its folder (`model/training/`), from its `__init__.py` docstring.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

PACKAGES = ("model", "app", "data_prep")
DOC = Path("docs/architecture.md")
BEGIN = "<!-- modules: one line each; `python tools/architecture_doc.py --write` adds new ones -->"
END = "<!-- end of modules -->"
_ROW = re.compile(r"^- `([^`]+)`")  # a list line: - `model/audio/decode.py`: what it is for


def module_paths(root: Path) -> list[str]:
    """Every module and package of PACKAGES, as the doc names them: `model/audio/decode.py`, `model/training/`."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            rel = path.relative_to(root).as_posix()
            found.append(rel.removesuffix("__init__.py") if path.name == "__init__.py" else rel)
    return sorted(found)


def summary(root: Path, module: str) -> str:
    """The first sentence of a module's docstring ("" without one)."""
    path = root / module / "__init__.py" if module.endswith("/") else root / module
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    return re.split(r"(?<=\.)\s+(?=[A-Z`(])", first, maxsplit=1)[0].rstrip(".")


def listed(doc_text: str) -> dict[str, str]:
    """The modules the doc's list names, each with its line."""
    if BEGIN not in doc_text or END not in doc_text:
        return {}
    block = doc_text.split(BEGIN, 1)[1].split(END, 1)[0]
    return {m.group(1): line for line in block.splitlines() if (m := _ROW.match(line))}


def check(root: Path) -> tuple[list[str], list[str]]:
    """(modules the doc misses, modules it names that do not exist)."""
    have = module_paths(root)
    named = listed((root / DOC).read_text(encoding="utf-8"))
    return [m for m in have if m not in named], sorted(set(named) - set(have))


def write(root: Path) -> None:
    """Rewrite the list: the lines already there kept, new modules added from their docstrings, gone ones dropped."""
    path = root / DOC
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: add the two markers ({BEGIN} ... {END}) where the list belongs")
    named = listed(text)
    lines = [named.get(m) or f"- `{m}`: {summary(root, m) or 'TODO: say what it is for'}" for m in module_paths(root)]
    head, rest = text.split(BEGIN, 1)
    path.write_text(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + rest.split(END, 1)[1], encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--write", action="store_true", help="add missing modules to the list, drop gone ones")
    args = parser.parse_args()
    if args.write:
        write(args.root)
    missing, stale = check(args.root)
    for m in missing:
        print(f"{DOC}: no line for {m} (run python tools/architecture_doc.py --write, then edit the line)")
    for m in stale:
        print(f"{DOC}: names {m}, which no longer exists")
    return 1 if missing or stale else 0


if __name__ == "__main__":
    sys.exit(main())
