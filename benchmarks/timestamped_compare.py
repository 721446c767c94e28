"""Transcription settings side by side: the per-episode syllable errors of several benchmarks/timestamped_syllables.py
reports (benchmarks/results/<name>.md, each made with its own command), with a paired bootstrap over the episodes.

For each report: episodes within 10 % of Timestamped's intended syllables, mean absolute error, median error and
the worst episode; for each report after the first, its mean absolute error minus the first's, with a 95 %
interval from 2,000 resamples of the episodes (paired: the same episodes in both).
Run: `.venv/bin/python benchmarks/timestamped_compare.py --reports timestamped_syllables_old other ... --name X`
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from model.training.cv_report import paired_bootstrap

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
# A row of the report's first table: | FluencyBank/097 | 32.6 (severe) | ... | **-7.0%** | ...
_ROW = re.compile(r"\| (FluencyBank/\d+) \| ([\d.]+).*?\| \*\*([+-]?[\d.]+)%\*\*")


def errors(report: Path) -> dict[str, tuple[float, float]]:
    """Episode -> (SLP moments per 100 syllables, Whisper's intended error in %) from a report's first table."""
    out = {}
    for line in report.read_text().splitlines():
        if (m := _ROW.match(line)) and m.group(1) not in out:
            out[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return out


def compare(reports: dict[str, dict[str, tuple[float, float]]], *, seed: int = 0, resamples: int = 2000) -> str:
    names = list(reports)
    episodes = [e for e in reports[names[0]] if all(e in r for r in reports.values())]
    if not episodes:
        raise SystemExit("the reports share no episode")
    err = {n: np.array([reports[n][e][1] for e in episodes]) for n in names}
    lines = ["| episode | SLP moments /100 syl. | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for k, e in enumerate(episodes):
        lines.append(f"| {e} | {reports[names[0]][e][0]} | " + " | ".join(f"{err[n][k]:+.1f}%" for n in names) + " |")
    lines += ["", "| report | within 10 % | mean absolute error | median error | worst | mean abs. error minus "
              f"{names[0]}'s [95 %] |", "|---|---|---|---|---|---|"]
    first = np.abs(err[names[0]])
    for n in names:
        a = np.abs(err[n])
        worst = int(np.argmax(a))
        versus = ""
        if n != names[0]:
            diff, low, high = paired_bootstrap(a, first, lambda x: x.mean(axis=-1), resamples=resamples, seed=seed)
            versus = f"{diff:+.2f} [{low:+.2f}, {high:+.2f}]"
        lines.append(f"| {n} | {int((a <= 10).sum())} of {len(a)} | {a.mean():.2f} % | {np.median(err[n]):+.1f} % | "
                     f"{err[n][worst]:+.1f} % ({episodes[worst]}) | {versus} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", nargs="+", required=True, help="names under benchmarks/results (no .md), the first "
                                                                "the one the others are compared with")
    ap.add_argument("--name", default=None, help="write benchmarks/results/<name>.md too")
    args = ap.parse_args(argv)
    table = compare({n: errors(RESULTS / f"{n}.md") for n in args.reports})
    text = (f"# Syllables against Timestamped: {', '.join(args.reports)}\n\nCommand: `.venv/bin/python "
            f"benchmarks/timestamped_compare.py --reports {' '.join(args.reports)}"
            + (f" --name {args.name}" if args.name else "") + "` (each report's own command is in its file)\n\n"
            + table + "\n")
    if args.name:
        (RESULTS / f"{args.name}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
