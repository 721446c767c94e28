"""Which top-level package imports which, counted (imports inside functions included).

Usage: `python tools/import_map.py [--modules]` from the repository root. Each `import x` / `from x import y`
statement in model/, data_prep/ and app/ counts once for the pair (importing package -> imported package);
relative imports are resolved against the importing module. `--modules` also lists every cross-package import.
"""

from __future__ import annotations

import argparse
import ast
from collections import Counter
from pathlib import Path

PACKAGES = ("model", "data_prep", "app")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _targets(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    """Absolute names of every module one file imports, from every scope."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append(name)
    return found


def import_map(root: Path) -> tuple[Counter, list[tuple[str, str]]]:
    """(counts per (from package, to package) with from != to, the (module, imported) pairs behind them)."""
    counts: Counter = Counter()
    edges = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            module = _module_name(path, root)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for target in _targets(tree, module, path.name == "__init__.py"):
                top = target.split(".")[0]
                if top in PACKAGES and top != package:
                    counts[(package, top)] += 1
                    edges.append((module, target))
    return counts, edges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--modules", action="store_true", help="list each cross-package import")
    args = parser.parse_args()
    counts, edges = import_map(args.root)
    for src in PACKAGES:
        for dst in PACKAGES:
            if src != dst:
                print(f"{src:>9} -> {dst:<9} {counts[(src, dst)]:3d}")
    if args.modules:
        for module, target in edges:
            print(f"  {module} -> {target}")


if __name__ == "__main__":
    main()
