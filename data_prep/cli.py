"""`stutterscope prep ...`: corpus recipes, clip extraction, splits, combining, synthetic corpus, caches.

Nothing heavy is imported here at import time: each handler imports what it needs.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

_LIST_AT_MOST = 10  # ids printed per list; the full lists are in <manifest>.meta.json


def register(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """Add `prep` and its steps; returns the steps' subparsers, so a front end can add steps of its own."""
    prep = sub.add_parser("prep", help="prepare training data: corpora -> manifests -> feature caches",
                          description="Prepare training data: label CSVs + audio -> manifests (JSONL) with splits.")
    steps = prep.add_subparsers(dest="prep_command", metavar="STEP", required=True)
    for corpus, name in (("sep28k", "SEP-28k"), ("fluencybank", "FluencyBank")):
        p = steps.add_parser(corpus, help=f"{name} label CSV + clip folder -> manifest")
        _add_recipe_arguments(p, extended=corpus == "sep28k")
        p.add_argument("--corpus", default=corpus,
                       help=f"corpus name in the manifest and its ids (default {corpus}; e.g. 'synthetic' for "
                            "the synthetic corpus, which uses the SEP-28k layout)")
        p.set_defaults(func=_run_recipe, recipe=corpus)
    p = steps.add_parser("extract", help="cut clips from episode recordings at the CSV's Start/Stop (resumable)")
    _add_extract_arguments(p)
    p = steps.add_parser("split", help="re-split an existing manifest (joined samples are rebuilt)")
    _add_split_arguments(p)
    p = steps.add_parser("combine", help="combine manifests of several corpora into one")
    p.add_argument("manifests", nargs="+", type=Path, help="manifests to combine")
    p.add_argument("--out", type=Path, required=True, help="the combined manifest (JSONL)")
    p.set_defaults(func=_run_combine)
    add_delegated(steps, "casa", importlib.import_module("data_prep.recipes.casa"),
                  "CASA's SLP moment annotations + FluencyBank clips -> runs with frame targets")
    add_delegated(steps, "synth", importlib.import_module("data_prep.synth"), "generate the synthetic stutter corpus")
    add_delegated(steps, "cache", importlib.import_module("model.training.caches"),
                  "build log-mel / frozen-prefix feature caches")
    return steps


def add_delegated(steps, name: str, mod, help_text: str) -> None:
    """A step whose arguments and handler live in another module (`add_arguments(parser)`, `run(args)`)."""
    p = steps.add_parser(name, help=help_text)
    mod.add_arguments(p)
    p.set_defaults(func=mod.run)


def _add_split_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fractions", type=_fractions, default=(0.7, 0.15, 0.15), metavar="TRAIN,DEV,TEST",
                   help="shares of clips per split (default 0.7,0.15,0.15)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and of joined samples (default 0)")
    p.add_argument("--joins", type=int, default=0, metavar="N",
                   help="add N joined multi-stuttered samples (6-9 s, 2-3 clips) per train episode (default 0: off)")


def _add_recipe_arguments(p: argparse.ArgumentParser, *, extended: bool) -> None:
    from .recipes.clip_votes import EXCLUSION_COLUMNS, RelabelOptions

    defaults = RelabelOptions()
    p.add_argument("--labels", type=Path, required=True, help="the official *_labels.csv")
    p.add_argument("--clips", type=Path, help="clip folder: {Show}/{EpId}/{Show}_{EpId}_{ClipId}.{wav,flac,...}")
    p.add_argument("--out", type=Path, required=True, help="manifest to write (JSONL); meta and split tables go beside it")
    p.add_argument("--labels-only", action="store_true",
                   help="don't look at audio: count and split the labels (records point where the clips would be)")
    p.add_argument("--min-votes", type=int, default=defaults.min_votes,
                   help=f"votes of 3 for a type to be present (default {defaults.min_votes})")
    p.add_argument("--exclusion-votes", type=int, default=defaults.exclusion_votes,
                   help=f"votes for an exclusion rule to fire (default {defaults.exclusion_votes})")
    for rule, column in EXCLUSION_COLUMNS.items():
        on = getattr(defaults, f"exclude_{rule}")
        p.add_argument(f"--exclude-{rule.replace('_', '-')}", dest=f"exclude_{rule}",
                       action=argparse.BooleanOptionalAction, default=None,
                       help=f"drop clips with {column} votes (default {'on' if on else 'off'})")
    p.add_argument("--no-exclusions", action="store_true", help="turn every exclusion rule off (unless named)")
    if extended:
        from .corpus import EXTENDED_SPLIT_COLUMNS

        p.add_argument("--extended", type=Path,
                       help="SEP-28k-E clip CSV: split by speaker, using its suggested split (see --split-column)")
        p.add_argument("--split-column", choices=(*EXTENDED_SPLIT_COLUMNS, "none"), default="SEP28k-E",
                       help="with --extended: its suggested split to use, or none to compute speaker-exclusive "
                            "splits here (default SEP28k-E)")
    _add_split_options(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _add_extract_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--labels", type=Path, required=True, help="the official *_labels.csv")
    p.add_argument("--episodes", type=Path, required=True, help="episode folder: {Show}/{EpId}.{wav,mp3,...}")
    p.add_argument("--out", type=Path, required=True, help="clip folder to fill: {Show}/{EpId}/{Show}_{EpId}_{ClipId}.wav")
    p.add_argument("--format", choices=("wav", "flac"), default="wav", help="clip format (16 kHz mono, 16-bit)")
    p.add_argument("--overwrite", action="store_true", help="cut clips again even where they exist")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_run_extract)


def _add_split_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("manifest", type=Path, help="manifest to re-split")
    p.add_argument("--out", type=Path, help="where to write (default: replace the manifest)")
    p.add_argument("--by", choices=("speaker", "episode"), default="speaker",
                   help="groups kept whole within a split (default speaker: the episode where no speaker is known)")
    _add_split_options(p)
    p.set_defaults(func=_run_split)


def _fractions(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give three numbers such as 0.7,0.15,0.15") from None
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"{text!r}: give three numbers (train,dev,test) such as 0.7,0.15,0.15")
    return parts  # type: ignore[return-value]


def relabel_options(args):
    from .recipes.clip_votes import EXCLUSION_COLUMNS, RelabelOptions

    options = RelabelOptions(min_votes=args.min_votes, exclusion_votes=args.exclusion_votes)
    if args.no_exclusions:
        options = options.without_exclusions()
    named = {f"exclude_{rule}": getattr(args, f"exclude_{rule}") for rule in EXCLUSION_COLUMNS}
    return RelabelOptions(**{**options.__dict__, **{k: v for k, v in named.items() if v is not None}})


def _run_recipe(args) -> int:
    from .recipes.clip_votes import RecipeOptions
    from .splits import SplitOptions

    extended = getattr(args, "extended", None)
    column = getattr(args, "split_column", None)
    options = RecipeOptions(corpus=args.corpus, relabel=relabel_options(args),
                            split=SplitOptions(fractions=args.fractions, seed=args.seed),
                            labels_only=args.labels_only, extended_csv=extended,
                            split_column=column if extended is not None and column != "none" else None,
                            joins=args.joins)
    # One recipe module per corpus (data_prep/recipes/<corpus>.py, `prepare_<corpus>`).
    recipe = importlib.import_module(f"data_prep.recipes.{args.recipe}")
    prepare = getattr(recipe, f"prepare_{args.recipe}")
    result = prepare(args.labels, args.clips, args.out, options=options, progress=not args.no_progress)
    _print_recipe(result, args.out)
    return 0


def _print_list(title: str, items: list[dict]) -> None:
    if not items:
        return
    print(f"{title}: {len(items):,}")
    for item in items[:_LIST_AT_MOST]:
        print(f"  {item['id']}: {item['reason']}")
    if len(items) > _LIST_AT_MOST:
        print(f"  ... and {len(items) - _LIST_AT_MOST:,} more")


def _breakdown(counts: dict[str, int]) -> str:
    return " (" + ", ".join(f"{k}: {v:,}" for k, v in counts.items()) + ")" if counts else ""


def _print_recipe(result, out: Path) -> None:
    from .splits import format_split_table

    counts = result.meta["counts"]
    print(f"{counts['rows']:,} rows read; {counts['excluded']:,} excluded{_breakdown(counts['excluded_by_rule'])}; "
          f"{counts['skipped']:,} skipped for their audio{_breakdown(counts['skipped_by_reason'])}")
    print(f"{counts['clips']:,} clips, {counts['multi']:,} multi-stuttered, {counts['joined']:,} joined samples; "
          "positives: " + ", ".join(f"{k} {v:,}" for k, v in counts["positives"].items()))
    _print_list("skipped (missing, empty or undecodable audio)", result.skipped)
    print(format_split_table(result.table))
    print(f"wrote {out} (+ .meta.json, .splits.json, .splits.md)")


def _run_extract(args) -> int:
    from model.manifest import write_json

    from .corpus import read_label_csv
    from .extract import ExtractOptions, extract_clips

    rows = read_label_csv(args.labels)
    report = extract_clips(rows, args.episodes, args.out, options=ExtractOptions(ext=f".{args.format}",
                           overwrite=args.overwrite), progress=not args.no_progress)
    report_path = args.out / "extract_report.json"
    write_json(report_path, report.to_dict())
    print(f"{report.written:,} clips written, {report.existing:,} already there; report in {report_path}")
    for title, items in (("episodes not found", report.missing_episodes),
                         ("episodes that could not be decoded", list(report.failed_episodes)),
                         ("clips past the end of their recording", report.beyond_end)):
        _print_list(title, [{"id": i, "reason": report.failed_episodes.get(i, "")} for i in items])
    return 1 if report.missing_episodes or report.failed_episodes else 0


def _run_split(args) -> int:
    from model.manifest import manifest_root, read_manifest, rebase_record, write_manifest

    from .joins import build_joined_samples
    from .splits import SplitOptions, assign_splits, format_split_table, save_split_table, split_table

    out = args.out or args.manifest
    records = [r for r in read_manifest(args.manifest) if "parts" not in r]
    split_of = assign_splits(records, options=SplitOptions(fractions=args.fractions, seed=args.seed), by=args.by)
    records = [dict(r, split=split_of[r["id"]]) for r in records]
    if args.joins:
        records += build_joined_samples(records, seed=args.seed, n_per_episode=args.joins)
    table = split_table(records)
    old_root, new_root = manifest_root(args.manifest), manifest_root(out)
    write_manifest([rebase_record(r, old_root, new_root) for r in records], out)
    save_split_table(table, out)
    print(format_split_table(table))
    print(f"wrote {out}")
    return 0


def _run_combine(args) -> int:
    from model.manifest import combine_manifests

    from .splits import format_split_table, save_split_table, split_table

    records = combine_manifests(args.manifests, args.out)
    table = split_table(records)
    save_split_table(table, args.out)
    print(format_split_table(table))
    print(f"wrote {args.out}: {len(records):,} records from {len(args.manifests)} manifests")
    return 0
