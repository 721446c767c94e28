"""Batch assessment of recordings: summaries, events, resume, and error rows.

Each finished recording is written at once to `OUT/.done/<key>.json` (atomically); the combined
`summary.csv`, `events.csv` and `results.json` are rebuilt from those after every recording. A
crash or Ctrl-C therefore loses at most the recording in progress, and a re-run skips every
recording already done with the same model id, settings and file (size and modification time).
Shared by `stutterscope assess` and the app's batch view.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import analyse_recording
from .audio import is_audio_file
from .fileio import atomic_write_text
from .inference import Cancelled, Predictor
from .labels import LABELS, NON_SLD_LABELS
from .moments import INTERJECTION, STUTTERING

log = logging.getLogger(__name__)

SUMMARY_CSV = "summary.csv"
EVENTS_CSV = "events.csv"
RESULTS_JSON = "results.json"
DONE_DIR = ".done"


@dataclass
class RecordingResult:
    path: str
    status: str  # "ok", "error", or "cached" (done by an earlier run)
    error: str = ""
    model_id: str = ""
    settings: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)  # model.events.Event dicts (a frame model: one per moment)
    moments: list[dict] = field(default_factory=list)  # a frame model's model.moments.Moment dicts

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "cached")


@dataclass
class AssessReport:
    results: list[RecordingResult]
    out_dir: Path

    @property
    def n_failed(self) -> int:
        return sum(r.status == "error" for r in self.results)

    @property
    def n_cached(self) -> int:
        return sum(r.status == "cached" for r in self.results)


def collect_recordings(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, and audio files found recursively in folders, in a stable order.

    A missing path is kept so that it becomes an error row rather than vanishing.
    """
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(f for f in p.rglob("*") if f.is_file() and is_audio_file(f)
                                and not any(part.startswith(".") for part in f.relative_to(p).parts)))
        else:
            found.append(p)
    seen: set[Path] = set()
    unique = []
    for f in found:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _file_key(path: Path, model_id: str, settings: dict) -> str:
    """Identifies one recording analysed one way; changes when the file, model or settings change."""
    try:
        st = path.stat()
        stamp = f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        stamp = "missing"
    raw = json.dumps([str(path.resolve()), stamp, model_id, settings], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def analyse_one(path: Path, predictor: Predictor, *, thresholds: dict[str, float] | None = None,
                cancel: Callable[[], bool] | None = None) -> tuple[RecordingResult, dict]:
    """One recording -> (result, per-window probabilities as a dict). Decoding errors become error results."""
    try:
        analysis = analyse_recording(path, predictor, thresholds=thresholds or None, cancel=cancel)
    except ValueError as e:  # AudioDecodeError and other bad-input errors name the file
        log.warning("skipped %s: %s", path, e)
        return RecordingResult(str(path), "error", error=str(e), model_id=predictor.bundle.model_id,
                               settings=predictor.settings), {}
    preds = analysis.predictions
    if analysis.moment_summary is not None:
        # Frame models: 50 probabilities a second would make the resume file huge; the moments are kept.
        windows = {"frame_rate": preds.frames.frame_rate, "channels": list(preds.frames.channels)}
        summary = {**analysis.summary.to_dict(), "moments": analysis.moment_summary.to_dict()}
        moments = [m.to_dict() for m in analysis.moments]
    else:
        windows = {"starts": preds.starts.round(3).tolist(), "probs": preds.probs.round(4).tolist(),
                   "labels": list(preds.labels)}
        summary, moments = analysis.summary.to_dict(), []
    return RecordingResult(str(path), "ok", model_id=analysis.model_id, settings=predictor.settings,
                           summary=summary, events=[e.to_dict() for e in analysis.events], moments=moments), windows


def assess_paths(paths: Iterable[str | Path], out_dir: str | Path, *, predictor: Predictor,
                 progress: Callable[[int, int, str], None] | None = None,
                 cancel: Callable[[], bool] | None = None) -> AssessReport:
    """Assess recordings into out_dir, resuming finished ones. progress(done, total, path) after each."""
    out_dir = Path(out_dir)
    done_dir = out_dir / DONE_DIR
    done_dir.mkdir(parents=True, exist_ok=True)
    recordings = collect_recordings(paths)
    model_id, settings = predictor.bundle.model_id, predictor.settings
    results: list[RecordingResult] = []
    for i, path in enumerate(recordings):
        if cancel is not None and cancel():
            raise Cancelled("batch cancelled; finished recordings are kept")
        key_file = done_dir / f"{_file_key(path, model_id, settings)}.json"
        if key_file.is_file():
            stored = json.loads(key_file.read_text(encoding="utf-8"))
            result = RecordingResult(**{**stored["result"], "status": "cached"})
        else:
            result, windows = analyse_one(path, predictor, cancel=cancel)
            if result.ok:
                payload = {"result": result.__dict__, "windows": windows}
                atomic_write_text(key_file, json.dumps(payload))
        results.append(result)
        write_outputs(results, out_dir)
        if progress is not None:
            progress(i + 1, len(recordings), str(path))
    write_outputs(results, out_dir)
    return AssessReport(results, out_dir)


SUMMARY_FIELDS = (["path", "status", "error", "duration_s", "windows"]
                  + [f"n_{label}" for label in LABELS] + [f"per_min_{label}" for label in LABELS]
                  + ["sld_count", "sld_per_min", "sld_window_share", "interjection_count", "interjection_per_min",
                     "longest3_mean_s", "events_from", "moments", "interjections", "longest3_moments_mean_s",
                     "model_id", "hop_seconds", "precision"])
# One row per stuttering moment or interjection (a frame model), or per window run (an older model file).
EVENT_FIELDS = ["path", "onset_s", "offset_s", "duration_s", "confidence", "types", "kind", "model_id"]


def _summary_row(r: RecordingResult) -> dict:
    s = r.summary
    row = {"path": r.path, "status": r.status, "error": r.error, "model_id": r.model_id,
           "hop_seconds": r.settings.get("hop_seconds", ""), "precision": r.settings.get("precision", "")}
    if s:
        row.update({"duration_s": s["duration"], "windows": s["windows"], "sld_count": s["sld_count"],
                    "sld_per_min": s["sld_per_minute"], "sld_window_share": s["sld_window_share"],
                    "interjection_count": s["interjection_count"],
                    "interjection_per_min": s["interjection_per_minute"], "longest3_mean_s": s["longest3_mean"]})
        for label in LABELS:
            row[f"n_{label}"] = s["counts"].get(label, 0)
            row[f"per_min_{label}"] = s["per_minute"].get(label, 0.0)
        m = s.get("moments")
        row["events_from"] = "moments" if m else "window runs"
        if m:
            row.update({"moments": m["moments"], "interjections": m["interjections"],
                        "longest3_moments_mean_s": m["longest3_mean"]})
    return row


def _event_rows(r: RecordingResult) -> Iterable[dict]:
    """events.csv rows: a frame model's moments, or an older model's window runs in the same columns."""
    if r.moments:
        for m in r.moments:
            yield {"path": r.path, "onset_s": m["start"], "offset_s": m["end"], "duration_s": m["duration"],
                   "confidence": m["confidence"], "types": "+".join(m["types"]), "kind": m["kind"],
                   "model_id": r.model_id}
        return
    for e in r.events:
        yield {"path": r.path, "onset_s": e["start"], "offset_s": e["end"], "duration_s": e["duration"],
               "confidence": round(e["confidence"], 4), "types": e["label"],
               "kind": INTERJECTION if e["label"] in NON_SLD_LABELS else STUTTERING, "model_id": r.model_id}


def _csv_text(fields: list[str], rows: Iterable[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_outputs(results: list[RecordingResult], out_dir: Path) -> None:
    """summary.csv, events.csv and results.json for the results so far, each written atomically."""
    atomic_write_text(out_dir / SUMMARY_CSV, _csv_text(SUMMARY_FIELDS, map(_summary_row, results)))
    event_rows = (row for r in results for row in _event_rows(r))
    atomic_write_text(out_dir / EVENTS_CSV, _csv_text(EVENT_FIELDS, event_rows))
    atomic_write_text(out_dir / RESULTS_JSON, json.dumps([r.__dict__ for r in results], indent=1))
