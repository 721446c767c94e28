"""`stutterscope prep synth`: arguments and handler. Nothing heavy is imported until it runs."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="corpus folder to write (created if missing)")
    parser.add_argument("--n", type=int, default=2000, help="3 s clips to make (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same corpus (default 0)")
    parser.add_argument("--voices", type=int, default=None,
                        help="speakers, one episode each (default: one per 50 clips, 4 to 48)")
    parser.add_argument("--sessions", type=int, default=0, metavar="K",
                        help="also write K long session recordings with event times (default 0)")
    parser.add_argument("--session-minutes", type=float, default=5.0, metavar="M",
                        help="length of each session, up to 10 minutes (default 5)")
    parser.add_argument("--fluent-fraction", type=float, default=0.3, help="share of fluent clips (default 0.3)")
    parser.add_argument("--dry", action="store_true", help="no background noise and no reverberation")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .acoustics import DRY, AcousticOptions
    from .generate import CorpusOptions, generate_corpus

    options = CorpusOptions(fluent_fraction=args.fluent_fraction, n_voices=args.voices,
                            acoustics=DRY if args.dry else AcousticOptions())
    with tqdm(total=args.n + args.sessions, unit="item", desc="synth") as bar:
        def progress(done: int, total: int) -> None:
            bar.update(done - bar.n)

        summary = generate_corpus(args.out, n_clips=args.n, seed=args.seed, sessions=args.sessions,
                                  session_minutes=args.session_minutes, options=options, progress=progress)
    counts = ", ".join(f"{k} {v}" for k, v in summary.counts.items())
    print(f"{summary.n_clips} clips from {len(summary.voices)} voices in {summary.seconds:.1f} s ({counts})")
    print(f"labels: {summary.label_csv}\nevents: {summary.event_csv}")
    for path in summary.sessions:
        print(f"session: {path}")
    return 0
