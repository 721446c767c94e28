"""Manifests: JSONL files of clip records (schema in docs/manifest.md).

Every record is validated before anything is written, and files are written atomically, so a manifest
on disk is always whole and valid. Audio paths are relative to the manifest's folder unless absolute.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from model.audio.decode import SAMPLE_RATE, AudioDecodeError, iter_audio, load_audio
from model.fileio import atomic_write_text
from model.jsonable import dumps
from model.labels import LABELS
from model.moments.frame_targets import check_annotation_fields

SPLITS = ("train", "dev", "test")
REQUIRED_FIELDS = ("id", "corpus", "audio", "offset", "duration", "labels", "votes", "episode", "speaker",
                   "split", "multi")
_DURATION_TOLERANCE = 0.01  # seconds: rounding between parts' durations and the total


def manifest_root(path: str | Path) -> Path:
    """The folder that relative audio paths in the manifest are resolved against."""
    return Path(path).resolve().parent


def _fail(rec: dict, field: str, why: str) -> None:
    name = rec.get("id") if isinstance(rec.get("id"), str) else "<no id>"
    raise ValueError(f"manifest record {name!r}: field {field!r} {why}")


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_span(rec: dict, where: str, span: dict) -> None:
    if not isinstance(span.get("audio"), str) or not span["audio"]:
        _fail(rec, f"{where}audio", "must be a non-empty path string")
    if not _is_number(span.get("offset")) or span["offset"] < 0:
        _fail(rec, f"{where}offset", f"must be a number of seconds >= 0, got {span.get('offset')!r}")
    if not _is_number(span.get("duration")) or span["duration"] <= 0:
        _fail(rec, f"{where}duration", f"must be a number of seconds > 0, got {span.get('duration')!r}")


def _check_labels(rec: dict) -> None:
    labels = rec["labels"]
    if not isinstance(labels, dict) or set(labels) != set(LABELS):
        _fail(rec, "labels", f"must map exactly {', '.join(LABELS)} to 0 or 1")
    for name, value in labels.items():
        if value not in (0, 1) or isinstance(value, bool):
            _fail(rec, f"labels.{name}", f"must be 0 or 1, got {value!r}")
    if rec["multi"] is not (sum(labels.values()) >= 2):
        _fail(rec, "multi", "must be true exactly when two or more labels are 1")


def _check_votes(rec: dict) -> None:
    if not isinstance(rec["votes"], dict):
        _fail(rec, "votes", "must map vote columns to annotator counts")
    for name, value in rec["votes"].items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            _fail(rec, f"votes.{name}", f"must be a whole number >= 0, got {value!r}")
    soft = rec.get("soft")
    if soft is not None:
        if not isinstance(soft, dict) or set(soft) != set(LABELS):
            _fail(rec, "soft", f"must map exactly {', '.join(LABELS)} to a number in 0..1")
        for name, value in soft.items():
            if not _is_number(value) or not 0 <= value <= 1:
                _fail(rec, f"soft.{name}", f"must be a number in 0..1, got {value!r}")


def _check_parts(rec: dict) -> None:
    parts = rec["parts"]
    if not isinstance(parts, list) or len(parts) < 2:
        _fail(rec, "parts", "must be a list of two or more {audio, offset, duration} spans")
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            _fail(rec, f"parts[{i}]", "must be an object with audio, offset and duration")
        _check_span(rec, f"parts[{i}].", part)
    if parts[0]["audio"] != rec["audio"] or parts[0]["offset"] != rec["offset"]:
        _fail(rec, "audio", "must be the first part's audio and offset")
    if abs(sum(p["duration"] for p in parts) - rec["duration"]) > _DURATION_TOLERANCE:
        _fail(rec, "duration", "must be the sum of the parts' durations")


def validate_record(rec: dict) -> None:
    """Raise ValueError naming the record and the field when rec is not a valid manifest record."""
    if not isinstance(rec, dict):
        raise ValueError(f"manifest record must be a JSON object, got {type(rec).__name__}")
    for field in REQUIRED_FIELDS:
        if field not in rec:
            _fail(rec, field, "is missing")
    for field in ("id", "corpus", "episode", "speaker"):
        if not isinstance(rec[field], str) or not rec[field]:
            _fail(rec, field, "must be a non-empty string")
    _check_span(rec, "", rec)
    if rec["split"] not in SPLITS:
        _fail(rec, "split", f"must be one of {', '.join(SPLITS)}, got {rec['split']!r}")
    if not isinstance(rec["multi"], bool):
        _fail(rec, "multi", "must be true or false")
    _check_labels(rec)
    _check_votes(rec)
    if "parts" in rec:
        _check_parts(rec)
    check_annotation_fields(rec, _fail)  # frames, moments, exclude, chat, clips (prep casa)


def validate_records(records: Iterable[dict]) -> list[dict]:
    """Validate every record and that ids are unique; returns the records as a list."""
    records = list(records)
    seen: set[str] = set()
    for rec in records:
        validate_record(rec)
        if rec["id"] in seen:
            raise ValueError(f"manifest record {rec['id']!r}: field 'id' is not unique; every record needs its own id")
        seen.add(rec["id"])
    return records


def write_json(path: str | Path, obj) -> None:
    atomic_write_text(path, dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write_manifest(records: Iterable[dict], path: str | Path, *, private: bool = False) -> None:
    """Validate all records, then write them as JSONL atomically; private: owner-only (patient data)."""
    records = validate_records(records)
    atomic_write_text(path, "".join(dumps(r, ensure_ascii=False) + "\n" for r in records), private=private)


def read_manifest(path: str | Path) -> list[dict]:
    """Read and validate a JSONL manifest; ValueError names the line or record at fault."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such manifest (make one with `stutterscope prep ...`)")
    records = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not a JSON record ({e.msg}); the manifest is damaged, rebuild it") from e
    try:
        return validate_records(records)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from e


def resolve_audio(audio: str, root: str | Path) -> Path:
    p = Path(audio)
    return p if p.is_absolute() else Path(root) / p


def portable_audio_path(audio: str | Path, root: str | Path) -> str:
    """audio as stored in a manifest in folder root: relative (POSIX) when inside root, else absolute."""
    # Plain string work: this runs once per clip, and pathlib is slow at 28k clips.
    audio, root = os.path.abspath(audio), os.path.abspath(root)
    prefix = root.rstrip(os.sep) + os.sep
    if audio.startswith(prefix):
        return audio[len(prefix):].replace(os.sep, "/")
    return audio


def map_record_paths(rec: dict, fn: Callable[[str], str]) -> dict:
    """A copy of rec with fn applied to every file path it holds: its audio, its parts' audio and its
    frame-target .npz (a prep casa record's), which must all travel together when a manifest moves."""
    rec = dict(rec, audio=fn(rec["audio"]))
    if rec.get("parts"):
        rec["parts"] = [dict(p, audio=fn(p["audio"])) for p in rec["parts"]]
    if rec.get("frames"):
        rec["frames"] = dict(rec["frames"], file=fn(rec["frames"]["file"]))
    return rec


def rebase_record(rec: dict, old_root: str | Path, new_root: str | Path) -> dict:
    """A copy of rec whose paths are resolved from old_root and written for a manifest in new_root."""
    return map_record_paths(rec, lambda a: portable_audio_path(resolve_audio(a, old_root), new_root))


def combine_manifests(paths: Iterable[str | Path], out: str | Path) -> list[dict]:
    """Concatenate manifests into out, rewriting audio paths for out's folder; ids must stay unique."""
    new_root = manifest_root(out)
    combined: list[dict] = []
    origin: dict[str, Path] = {}
    for path in paths:
        path = Path(path)
        for rec in read_manifest(path):
            if rec["id"] in origin:
                raise ValueError(f"record id {rec['id']!r} is in both {origin[rec['id']]} and {path}; "
                                 "combine manifests of different corpora, or rebuild one with other ids")
            origin[rec["id"]] = path
            combined.append(rebase_record(rec, manifest_root(path), new_root))
    if not combined:
        raise ValueError("nothing to combine: give one or more non-empty manifests")
    write_manifest(combined, out)
    return combined


def _read_span(path: Path, offset: float, duration: float | None) -> np.ndarray:
    if offset <= 0:
        return load_audio(path, max_seconds=duration)
    start = int(round(offset * SAMPLE_RATE))
    n = None if duration is None else int(round(duration * SAMPLE_RATE))
    seek = _seek_span(path, start, n)
    if seek is not None:
        return seek
    # Not seekable by libsndfile (e.g. m4a through ffmpeg): decode from the start and skip.
    parts, seen = [], 0
    for block in iter_audio(path):
        lo, hi = max(start - seen, 0), len(block) if n is None else min(len(block), start + n - seen)
        if hi > lo:
            parts.append(block[lo:hi])
        seen += len(block)
        if n is not None and seen >= start + n:
            break
    if not parts:
        raise AudioDecodeError(f"{path}: holds no audio at {offset:.2f} s (the file is shorter)")
    return np.concatenate(parts)


def _seek_span(path: Path, start: int, n: int | None) -> np.ndarray | None:
    """Read samples [start, start+n) at SAMPLE_RATE by seeking with libsndfile; None if it cannot."""
    try:
        with sf.SoundFile(str(path)) as f:
            rate = f.samplerate
            src_start = int(start * rate / SAMPLE_RATE)
            if src_start >= f.frames:
                raise AudioDecodeError(f"{path}: holds no audio at {start / SAMPLE_RATE:.2f} s (the file is shorter)")
            f.seek(src_start)
            frames = -1 if n is None else int(math.ceil(n * rate / SAMPLE_RATE))
            block = f.read(frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError):
        return None
    audio = block.mean(axis=1, dtype=np.float32)  # (samples, channels) -> (samples,)
    if rate != SAMPLE_RATE:
        audio = soxr.resample(audio, rate, SAMPLE_RATE).astype(np.float32)
    return audio if n is None else audio[:n]


def load_record_audio(record: dict, root: str | Path) -> np.ndarray:
    """The record's audio, mono float32 at SAMPLE_RATE (samples,); joined samples are concatenated.

    What the file holds is returned as it is: a short clip stays short (the trainer pads).
    """
    spans = record.get("parts") or [record]
    audio = [_read_span(resolve_audio(s["audio"], root), float(s.get("offset", 0.0)), s.get("duration"))
             for s in spans]
    return np.concatenate(audio) if len(audio) > 1 else audio[0]
