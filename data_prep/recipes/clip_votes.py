"""The clip-vote recipe both corpora share: a SEP-28k-layout label CSV + a clip folder -> a split, validated manifest.

Annotator votes become 0/1 labels at `min_votes` of 3; clips judged by enough annotators to have poor audio,
music, no speech or speech too hard to understand are excluded by default, each rule a flag. Every decision,
count, exclusion and skipped clip is written to `<manifest>.meta.json` so the counts can be reproduced.
Modelled on lhotse's recipes: re-runnable, validated before anything is written. The per-corpus entry points
are `data_prep.recipes.sep28k.prepare_sep28k` and `data_prep.recipes.fluencybank.prepare_fluencybank`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from model.audio.decode import SAMPLE_RATE, AudioDecodeError, audio_info
from model.labels import LABELS
from model.manifest import portable_audio_path, write_json, write_manifest

from ..corpus import (
    MAX_VOTES,
    ClipRow,
    expected_clip_path,
    index_clip_audio,
    read_extended_csv,
    read_label_csv,
)
from ..joins import build_joined_samples
from ..splits import SplitOptions, assign_splits, save_split_table, split_table

log = logging.getLogger(__name__)

# Exclusion rule name -> the vote column it reads.
EXCLUSION_COLUMNS = {
    "poor_audio": "PoorAudioQuality",
    "music": "Music",
    "no_speech": "NoSpeech",
    "difficult": "DifficultToUnderstand",
    "unsure": "Unsure",
}


@dataclass(frozen=True)
class RelabelOptions:
    min_votes: int = 2  # a type is present when at least this many of the 3 annotators ticked it
    exclusion_votes: int = 2  # an exclusion rule fires when its column has at least this many votes
    exclude_poor_audio: bool = True  # drop clips with PoorAudioQuality votes
    exclude_music: bool = True  # drop clips with Music votes
    exclude_no_speech: bool = True  # drop clips with NoSpeech votes
    exclude_difficult: bool = True  # drop clips with DifficultToUnderstand votes
    exclude_unsure: bool = False  # drop clips with Unsure votes (off: it says little about the audio)

    def __post_init__(self):
        for name in ("min_votes", "exclusion_votes"):
            value = getattr(self, name)
            if not 1 <= value <= MAX_VOTES:
                raise ValueError(f"{name} is {value}; give a number of votes from 1 to {MAX_VOTES}")

    def active_exclusions(self) -> dict[str, str]:
        return {rule: col for rule, col in EXCLUSION_COLUMNS.items() if getattr(self, f"exclude_{rule}")}

    def without_exclusions(self) -> RelabelOptions:
        return dataclasses.replace(self, **{f"exclude_{rule}": False for rule in EXCLUSION_COLUMNS})


@dataclass(frozen=True)
class RecipeOptions:
    corpus: str  # manifest corpus name and id prefix, e.g. "sep28k", "fluencybank"
    relabel: RelabelOptions = RelabelOptions()  # votes -> labels, exclusions
    split: SplitOptions = SplitOptions()  # fractions and seed for our own group-exclusive splits
    labels_only: bool = False  # don't look at audio: records point where the clip would be (counting labels)
    extended_csv: Path | None = None  # SEP-28k-E clip CSV: speakers (and suggested splits)
    split_column: str | None = None  # take splits from this SEP-28k-E column instead of computing them
    joins: int = 0  # joined multi-stuttered samples per episode in train (0 = off)


@dataclass
class RecipeResult:
    records: list[dict]  # what the manifest holds (clips, then joined samples)
    meta: dict  # what <manifest>.meta.json holds
    table: dict  # clips and positives per split and type
    skipped: list[dict] = field(default_factory=list)  # {id, reason} for clips left out for their audio


def clip_id(corpus: str, row: ClipRow) -> str:
    # FluencyBank's Show is the corpus itself: "fluencybank/010/12" rather than "fluencybank/FluencyBank/010/12".
    if row.show.lower() == corpus.lower():
        return f"{corpus}/{row.ep_id}/{row.clip_id}"
    return f"{corpus}/{row.show}/{row.ep_id}/{row.clip_id}"


def labels_of(row: ClipRow, options: RelabelOptions) -> dict[str, int]:
    return {name: int(row.votes[name] >= options.min_votes) for name in LABELS}


def exclusion_reason(row: ClipRow, options: RelabelOptions) -> str | None:
    fired = [f"{col}>={options.exclusion_votes}" for col in options.active_exclusions().values()
             if row.votes[col] >= options.exclusion_votes]
    return ", ".join(fired) or None


def make_record(row: ClipRow, *, corpus: str, audio: str, duration: float, options: RelabelOptions,
                speaker: str | None = None) -> dict:
    """A manifest record for one clip; `split` is filled in by the splitter."""
    labels = labels_of(row, options)
    return {
        "id": clip_id(corpus, row),
        "corpus": corpus,
        "audio": audio,
        "offset": 0.0,
        "duration": round(duration, 6),
        "labels": labels,
        "votes": dict(row.votes),
        "soft": {name: round(row.votes[name] / MAX_VOTES, 6) for name in LABELS},
        "episode": row.episode,
        "speaker": speaker or row.episode,
        "split": None,
        "multi": sum(labels.values()) >= 2,
        "episode_start": round(row.start / SAMPLE_RATE, 6),
    }


def check_clip_audio(rows: list[ClipRow], clips_dir: Path, *, corpus: str,
                     progress: bool = True) -> tuple[dict[str, tuple[Path, float]], list[dict]]:
    """Find and header-check each clip: id -> (path, seconds) for good ones, and {id, reason} for the rest."""
    index = index_clip_audio(clips_dir, {row.episode for row in rows})
    found: dict[str, tuple[Path, float]] = {}
    skipped: list[dict] = []
    for row in tqdm(rows, desc="checking clips", unit="clip", disable=not progress, leave=False):
        path = index.get(row.stem)
        if path is None:
            where = "no audio file" if (clips_dir / row.episode).is_dir() else f"no folder {row.episode}"
            skipped.append({"id": clip_id(corpus, row), "reason": f"missing: {where} in the clip folder"})
            continue
        try:
            info = audio_info(path)
        except AudioDecodeError as e:
            skipped.append({"id": clip_id(corpus, row), "reason": f"unreadable: {e}"})
            continue
        found[clip_id(corpus, row)] = (path, info.duration)
    return found, skipped


def _speakers(rows: list[ClipRow], extended: Path | None) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Per clip row stem: SEP-28k-E speaker and suggested splits (empty without the extended CSV)."""
    if extended is None:
        return {}, {}
    info = read_extended_csv(extended)
    speakers, splits = {}, {}
    for row in rows:
        ext = info.get((row.show, row.ep_id, row.clip_id))
        if ext is not None:
            # Names, not Show/name: one host speaks in two shows. The few clips without a speaker stay with
            # their episode rather than forming one big group.
            speakers[row.stem] = ext.speaker or row.episode
            splits[row.stem] = ext.splits
    return speakers, splits


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _count(records: list[dict]) -> dict:
    return {"clips": len(records),
            "positives": {name: sum(r["labels"][name] for r in records) for name in LABELS},
            "multi": sum(r["multi"] for r in records)}


def _apply_suggested_splits(records: list[dict], rows_by_id: dict[str, ClipRow], splits: dict, column: str,
                            skipped: list[dict]) -> list[dict]:
    kept = []
    for rec in records:
        value = splits.get(rows_by_id[rec["id"]].stem, {}).get(column, "")
        if value in ("train", "dev", "test"):
            kept.append(dict(rec, split=value))
        else:
            skipped.append({"id": rec["id"], "reason": f"no split in the extended CSV's {column} column"})
    return kept


def build_records(rows: list[ClipRow], clips_dir: Path | None, *, options: RecipeOptions, root: Path,
                  speakers: dict[str, str] | None = None,
                  progress: bool = True) -> tuple[list[dict], list[dict], list[dict]]:
    """Relabel rows into unsplit records; returns (records, excluded, skipped). speakers: row stem -> speaker."""
    excluded, labelled = [], []
    for row in rows:
        reason = exclusion_reason(row, options.relabel)
        if reason:
            excluded.append({"id": clip_id(options.corpus, row), "reason": reason})
        else:
            labelled.append(row)
    speakers = speakers or {}
    skipped: list[dict] = []
    if options.labels_only:
        base = clips_dir if clips_dir is not None else root
        found = {clip_id(options.corpus, r): (expected_clip_path(base, r), r.duration) for r in labelled}
    else:
        assert clips_dir is not None, "the CLI requires --clips unless --labels-only"
        found, skipped = check_clip_audio(labelled, clips_dir, corpus=options.corpus, progress=progress)
    records = []
    for row in labelled:
        got = found.get(clip_id(options.corpus, row))
        if got is not None:
            records.append(make_record(row, corpus=options.corpus, audio=portable_audio_path(got[0], root),
                                       duration=got[1], options=options.relabel, speaker=speakers.get(row.stem)))
    return records, excluded, skipped


def run_recipe(labels_csv: str | Path, clips_dir: str | Path | None, out: str | Path, *,
               options: RecipeOptions, progress: bool = True) -> RecipeResult:
    """Read, relabel, check audio, split, join and write manifest + meta + split table next to out."""
    labels_csv, out = Path(labels_csv), Path(out)
    clips_dir = None if clips_dir is None else Path(clips_dir)
    if clips_dir is None and not options.labels_only:
        raise ValueError("give the clip folder (--clips), or --labels-only to count labels without audio")
    if options.split_column and options.extended_csv is None:
        raise ValueError("--split-column needs the SEP-28k-E clip CSV (--extended)")
    rows = read_label_csv(labels_csv)
    if not rows:
        raise ValueError(f"{labels_csv}: has a header but no clips")
    speakers, suggested = _speakers(rows, options.extended_csv)
    records, excluded, skipped = build_records(rows, clips_dir, options=options, root=out.resolve().parent,
                                               speakers=speakers, progress=progress)
    if options.split_column:
        rows_by_id = {clip_id(options.corpus, r): r for r in rows}
        records = _apply_suggested_splits(records, rows_by_id, suggested, options.split_column, skipped)
    elif records:
        split_of = assign_splits(records, options=options.split)
        records = [dict(r, split=split_of[r["id"]]) for r in records]
    if not records:
        raise ValueError(f"no clip is left to write: {len(excluded)} excluded, {len(skipped)} skipped for their "
                         "audio (see the log); check --clips and the exclusion flags")
    clips = records
    if options.joins:
        records = records + build_joined_samples(records, seed=options.split.seed, n_per_episode=options.joins)
    table = split_table(records)
    meta = _meta(labels_csv, clips_dir, options, rows, clips, excluded, skipped, table, len(records) - len(clips))
    write_manifest(records, out)
    write_json(out.with_name(out.name + ".meta.json"), meta)
    save_split_table(table, out)
    return RecipeResult(records, meta, table, skipped)


def _meta(labels_csv: Path, clips_dir: Path | None, options: RecipeOptions, rows: list[ClipRow], clips: list[dict],
          excluded: list[dict], skipped: list[dict], table: dict, joined: int) -> dict:
    from model import __version__

    return {
        "corpus": options.corpus,
        "labels_csv": str(labels_csv.resolve()),
        "labels_csv_sha256": _sha256(labels_csv),
        "clips_dir": None if clips_dir is None else str(clips_dir.resolve()),
        "options": _jsonable(dataclasses.asdict(options)),
        "counts": {
            "rows": len(rows),
            "excluded": len(excluded),
            "excluded_by_rule": dict(Counter(r for e in excluded for r in e["reason"].split(", "))),
            "skipped": len(skipped),
            "skipped_by_reason": dict(Counter(s["reason"].split(":")[0] for s in skipped)),
            **_count(clips),
            "joined": joined,
        },
        "splits": table,
        "excluded": excluded,
        "skipped": skipped,
        "stutterscope_version": __version__,
    }


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return str(obj) if isinstance(obj, Path) else obj
