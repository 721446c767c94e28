"""Batch assessment of recordings: summaries, events, resume, and error rows.

Each finished recording is written at once to `OUT/.done/<key>.json` (atomically); the combined
`summary.csv`, `events.csv` and `results.json` are rebuilt after every recording. A crash or
Ctrl-C therefore loses at most the recording in progress, and a re-run skips every recording
already done with the same model id, settings and file (size and modification time).
Shared by `stutterscope assess` and the app's batch view.

What a hostile run must not break (issue 12; tests/hostile checks each):
- every path given or found gets a row (model.pipeline.find_recordings), and the batch goes on;
- results accumulate: rows of earlier runs into the same folder are kept (a recording assessed again
  replaces its own row), so the outputs never hold fewer rows than before; a damaged results.json is
  refused, never overwritten;
- a damaged resume entry, or one of the wrong shape, is analysed again and the row says so; rows are
  checked as the outputs will render them (issue 23);
- a bad exclusion sidecar (model.measures.exclusions) is that recording's error row, naming the file and interval;
- with `speakers="auto"` a recording without a sidecar gets its not-the-client stretches from model.measures.speakers
  (a proposal: the row's warning says to check them); a sidecar still wins, and the row says so;
- one run at a time per folder (model.pipeline.run_lock); temporaries of a killed run are removed at the next;
- a truncated file is `ok-truncated`, a recording with too little speech is flagged, not scored;
- all files owner-only (they name recordings, often after the patient), CSV cells spreadsheet-safe.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..audio.decode import audio_info
from ..audio.speech_activity import TOO_LITTLE_SPEECH, too_little_speech_warning
from ..fileio import atomic_write_text, remove_stale_temporaries
from ..jsonable import dumps, jsonable
from ..labels import LABELS, NON_SLD_LABELS, SLD_LABELS
from ..measures.exclusions import read_exclusions, sidecar_paths
from ..measures.speakers import MEASURED, diarize_file
from ..moments.decoding import INTERJECTION, STUTTERING
from .analysis import analyse_recording, with_excluded
from .find_recordings import find_recordings, path_text
from .inference import Cancelled, Predictor
from .outputs import OutputError, safe_cell
from .run_lock import folder_lock

if TYPE_CHECKING:
    from ..measures.words import Transcriber

log = logging.getLogger(__name__)

SUMMARY_CSV = "summary.csv"
EVENTS_CSV = "events.csv"
RESULTS_JSON = "results.json"
DONE_DIR = ".done"
OK, OK_TRUNCATED, CACHED, ERROR = "ok", "ok-truncated", "cached", "error"
NOT_SCORED = TOO_LITTLE_SPEECH.replace(" ", "-")  # "too-little-speech": flagged, no measures
SPEAKERS_OFF, SPEAKERS_AUTO = "off", "auto"  # `assess --speakers`: where not-the-client stretches may come from
SPEAKERS = (SPEAKERS_OFF, SPEAKERS_AUTO)
# Where a row's not-the-client stretches came from (RecordingResult.excluded_source).
FROM_SIDECAR, FROM_SPEAKERS, FROM_NOWHERE = "sidecar", "speakers-auto", "none"
SIDECAR_WINS = "the exclusion sidecar was used, not the speakers found automatically (--speakers auto)"
SPEAKERS_PROPOSED = f"not-the-client stretches found automatically (--speakers auto; {MEASURED}): a proposal, check them"


@dataclass
class RecordingResult:
    path: str  # as given or found, as text (a name that is not UTF-8 keeps its bytes as \xNN)
    status: str  # "ok", "ok-truncated", "too-little-speech" (not scored), "error", "cached" (an earlier run)
    error: str = ""
    model_id: str = ""
    settings: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)  # model.measures.summary.Event dicts (a frame model: one per moment)
    moments: list[dict] = field(default_factory=list)  # a frame model's model.moments.decoding.Moment dicts
    warning: str = ""  # said, not failed: truncated file, too little speech, damaged resume entry redone
    measures: dict = field(default_factory=dict)  # model.measures.clinical.Measures.to_dict(), with --words
    words: list[dict] = field(default_factory=list)  # model.measures.words.Word.to_dict() each, with --words
    excluded: list[list[float]] = field(default_factory=list)  # not-the-client stretches (--words, --speakers auto)
    excluded_source: str = FROM_NOWHERE  # where `excluded` came from: FROM_SIDECAR, FROM_SPEAKERS or FROM_NOWHERE

    @property
    def ok(self) -> bool:
        return self.status in (OK, OK_TRUNCATED, CACHED)


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

    Paths with a problem (missing, unreadable folder, broken link) are kept so that they become error
    rows rather than vanish; `model.pipeline.find_recordings.find_recordings` says what the problem is.
    """
    return [f.path for f in find_recordings(paths)]


def _stamp(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}"


def _file_key(path: Path, model_id: str, settings: dict) -> str:
    """Identifies one recording analysed one way; changes when the file, model or settings change.

    With words or `speakers: auto`, the exclusion sidecars decide the measures too: adding, editing or
    removing one (a clinician marking the interviewer after a first run) analyses the recording again.
    """
    stamps = [_stamp(path)]
    if "words" in settings or settings.get("speakers") == SPEAKERS_AUTO:
        stamps += [_stamp(p) for p in sidecar_paths(path)]
    raw = json.dumps([str(path.resolve()), *stamps, model_id, settings], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def not_client_stretches(path: Path, *, speakers: str = SPEAKERS_OFF, words: bool = False,
                         cancel: Callable[[], bool] | None = None) -> tuple[tuple[tuple[float, float], ...], str, str]:
    """A recording's not-the-client stretches -> (stretches, where from, warning); a bad sidecar is a ValueError.

    The sidecars are read with words or speakers "auto" (without either, assess leaves nothing out, as
    before). With "auto" and no sidecar, model.measures.speakers proposes them: every voice but the one with the
    most speech (model.measures.speakers.diarize_file: the file is decoded once more, as the analysis keeps no audio).
    """
    if speakers not in SPEAKERS:
        raise ValueError(f"speakers {speakers!r}: use one of {', '.join(SPEAKERS)}")
    if speakers == SPEAKERS_OFF and not words:
        return (), FROM_NOWHERE, ""
    sidecar = read_exclusions(path)
    if sidecar.sources:
        return sidecar.stretches, FROM_SIDECAR, SIDECAR_WINS if speakers == SPEAKERS_AUTO else ""
    if speakers == SPEAKERS_OFF:
        return (), FROM_NOWHERE, ""
    return tuple(diarize_file(path, cancel=cancel).not_client()), FROM_SPEAKERS, SPEAKERS_PROPOSED


def analyse_one(path: Path, predictor: Predictor, *, thresholds: dict[str, float] | None = None,
                cancel: Callable[[], bool] | None = None, transcriber: Transcriber | None = None,
                speakers: str = SPEAKERS_OFF) -> tuple[RecordingResult, dict]:
    """One recording -> (result, the frame layout as a dict). Decoding errors become error results.

    With a transcriber, the words and clinical measures too, over the client's speech: the stretches in
    the recording's exclusion sidecars (model.measures.exclusions) are left out; a bad sidecar is an error result.
    speakers "auto": stretches proposed by model.measures.speakers where there is no sidecar (not_client_stretches),
    left out of the counts with or without words.
    """
    name = path_text(path)
    settings = result_settings(predictor, transcriber, speakers)
    try:
        info = audio_info(path, cancel=cancel)
        excluded, source, said = not_client_stretches(path, speakers=speakers, words=transcriber is not None,
                                                      cancel=cancel)
        analysis = analyse_recording(path, predictor, thresholds=thresholds or None, cancel=cancel,
                                     transcriber=transcriber, excluded=excluded)
        if transcriber is None and source != FROM_NOWHERE:
            analysis = with_excluded(analysis, excluded)
    except ValueError as e:  # AudioDecodeError and other bad-input errors name the file
        log.warning("skipped %s: %s", name, path_text(str(e)))
        return RecordingResult(name, ERROR, error=path_text(str(e)), model_id=predictor.bundle.model_id,
                               settings=predictor.settings), {}
    preds = analysis.predictions
    # 50 probabilities a second would make the resume file huge: the moments are kept, not the frames.
    windows = {"frame_rate": preds.frames.frame_rate, "channels": list(preds.frames.channels)}
    summary = {**analysis.summary.to_dict(), "moments": analysis.moment_summary.to_dict()}
    moments = [m.to_dict() for m in analysis.moments]
    warning = path_text(info.truncation_warning())
    if preds.too_little_speech:
        # Silence or noise: the model's labels would mean nothing there, so no measures are given at all.
        why = too_little_speech_warning(name, preds.speech_seconds)
        return RecordingResult(name, NOT_SCORED, model_id=preds.model_id, settings=settings,
                               summary={"duration": round(preds.duration, 3)}, warning=_join(warning, why)), windows
    extra = {} if analysis.measures is None else {
        "measures": analysis.measures.to_dict(), "words": [w.to_dict() for w in analysis.words]}
    return RecordingResult(name, OK_TRUNCATED if info.truncated else OK, model_id=analysis.model_id,
                           settings=settings, summary=summary, events=[e.to_dict() for e in analysis.events],
                           moments=moments, warning=_join(warning, said),
                           excluded=[list(x) for x in analysis.excluded], excluded_source=source, **extra), windows


def result_settings(predictor: Predictor, transcriber: Transcriber | None, speakers: str = SPEAKERS_OFF) -> dict:
    """What decides a recording's result: the model's settings, how words are made when they are, and
    `speakers` when it is "auto" (off adds nothing, so results made before the setting existed still resume)."""
    settings = predictor.settings if transcriber is None else {**predictor.settings, "words": transcriber.settings}
    return settings if speakers == SPEAKERS_OFF else {**settings, "speakers": speakers}


_TEXT_FIELDS = ("path", "status", "error", "model_id", "warning", "excluded_source")
_DICT_FIELDS = ("settings", "summary", "measures")
_LIST_FIELDS = ("events", "moments", "words", "excluded")


def _result_from(stored: object) -> RecordingResult:
    """A stored result row -> RecordingResult, checked to the last field the outputs read; ValueError if not.

    Valid JSON of the wrong shape (a hand edit, another program's file) must not reach write_outputs, where
    a missing key would stop every later run: so the row is rendered here, as the outputs will render it.
    """
    if not isinstance(stored, dict):
        raise ValueError(f"a result is a JSON {type(stored).__name__}, not an object")
    try:
        result = RecordingResult(**stored)
    except TypeError as e:  # unknown or missing fields
        raise ValueError(f"not a result row ({e})") from None
    for names, kind in ((_TEXT_FIELDS, str), (_DICT_FIELDS, dict), (_LIST_FIELDS, list)):
        bad = [n for n in names if not isinstance(getattr(result, n), kind)]
        if bad:
            raise ValueError(f"{', '.join(bad)} of the wrong type (not {kind.__name__})")
    try:
        _summary_row(result)
        list(_event_rows(result))
        list(_stored_event_rows(result))  # the events are in results.json even where the moments are the rows
        jsonable(result.__dict__, where="the result")
    except (KeyError, TypeError, AttributeError, IndexError) as e:
        raise ValueError(f"incomplete ({type(e).__name__}: {e})") from None
    return result


def _read_done(key_file: Path, path: Path) -> tuple[RecordingResult | None, str]:
    """A finished recording's resume entry -> (result, ""), or (None, why) when it is missing or damaged."""
    if not key_file.exists():
        return None, ""
    try:
        stored = json.loads(key_file.read_text(encoding="utf-8"))
        if not isinstance(stored, dict) or "result" not in stored:
            raise ValueError("no result in it")
        result = _result_from(stored["result"])
        if result.path != path_text(path) or result.status not in (OK, OK_TRUNCATED, NOT_SCORED):
            raise ValueError(f"it holds a {result.status!r} result for {result.path}")
    except (OSError, ValueError) as e:  # empty, cut short or edited: a power cut's leftovers, or a hand edit
        why = f"the resume entry {key_file} was damaged ({type(e).__name__}: {e}); {path_text(path)} was analysed again"
        log.warning("%s", why)
        return None, why
    result.status = CACHED
    return result, ""


def _read_previous(out_dir: Path) -> list[RecordingResult]:
    """The rows earlier runs left in out_dir (they are kept); refuses a damaged results.json rather than lose it."""
    path = out_dir / RESULTS_JSON
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(rows, list):
            raise ValueError(f"a JSON {type(rows).__name__}, not a list of rows")
        return [_result_from(row) for row in rows]
    except (OSError, ValueError) as e:
        raise OutputError(f"{path} is damaged ({e}); it holds the results of earlier runs, so it is not overwritten: "
                          "move it away (or choose another --out) and run again") from e


def _merged(previous: list[RecordingResult], current: list[RecordingResult]) -> list[RecordingResult]:
    """Earlier rows with this run's replacing their own recording's; a new error never hides a finished result."""
    rows = {r.path: r for r in previous}
    for r in current:
        old = rows.get(r.path)
        if r.status == ERROR and old is not None and old.ok:
            rows[r.path] = RecordingResult(**{**old.__dict__, "warning": _join(
                old.warning, f"this run failed ({r.error}); the result shown is from an earlier run")})
        else:
            rows[r.path] = r
    return list(rows.values())


# How recordings are analysed once their resume entries are checked: gets (index, path) pairs (lazily: the
# default analyses each as it comes, in order), yields (index, result, windows) in any order. Runs in the
# client: whatever it sends elsewhere (model.pipeline.assess_cluster), only assess_paths writes into the folder.
Analyser = Callable[[Iterator[tuple[int, Path]]], Iterator[tuple[int, RecordingResult, dict]]]


def assess_paths(paths: Iterable[str | Path], out_dir: str | Path, *, predictor: Predictor,
                 progress: Callable[[int, int, str], None] | None = None,
                 cancel: Callable[[], bool] | None = None, transcriber: Transcriber | None = None,
                 analyser: Analyser | None = None, speakers: str = SPEAKERS_OFF) -> AssessReport:
    """Assess recordings into out_dir, resuming finished ones. progress(done, total, path) after each.

    transcriber (model.measures.words.Transcriber): also words and clinical measures (`assess --words`).
    analyser: where the recordings to analyse go (default: `predictor` in this process, one after another;
    model.pipeline.assess_cluster: the workers of a Dask cluster); the resume entries, outputs and lock stay here.
    speakers: "auto" proposes the not-the-client stretches where a recording has no sidecar (analyse_one);
    only with the default analyser (a ValueError otherwise: the workers do not run model.measures.speakers yet).
    Returns this run's results, in the order found; the files in out_dir also keep earlier runs' rows.
    Raises run_lock.FolderBusyError when another run is writing into out_dir, OutputError when its
    results.json is damaged.
    """
    out_dir = Path(out_dir)
    done_dir = out_dir / DONE_DIR
    if speakers not in SPEAKERS or (analyser is not None and speakers != SPEAKERS_OFF):
        raise ValueError(f"speakers {speakers!r}: use one of {', '.join(SPEAKERS)}; 'auto' runs on this machine "
                         "only (not with a cluster's workers)")
    if analyser is None:
        def analyser(todo: Iterator[tuple[int, Path]]) -> Iterator[tuple[int, RecordingResult, dict]]:
            return ((i, *analyse_one(path, predictor, cancel=cancel, transcriber=transcriber, speakers=speakers))
                    for i, path in todo)
    with folder_lock(out_dir):
        done_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in (out_dir, done_dir):
            remove_stale_temporaries(folder)
        previous = _read_previous(out_dir)
        found = find_recordings(paths)
        model_id, settings = predictor.bundle.model_id, result_settings(predictor, transcriber, speakers)
        results: dict[int, RecordingResult] = {}
        waiting: dict[int, _Pending] = {}

        def record(i: int, result: RecordingResult) -> None:
            results[i] = result
            write_outputs(_merged(previous, [results[k] for k in sorted(results)]), out_dir)
            if progress is not None:
                progress(len(results), len(found), path_text(found[i].path))

        def todo() -> Iterator[tuple[int, Path]]:
            for i, item in enumerate(found):
                if cancel is not None and cancel():
                    raise Cancelled("batch cancelled; finished recordings are kept")
                job = _prepare(item, done_dir, model_id, settings)
                if isinstance(job, RecordingResult):
                    record(i, job)
                else:
                    waiting[i] = job
                    yield i, item.path

        for i, result, windows in analyser(todo()):
            record(i, _finish(waiting.pop(i), result, windows))
        write_outputs(_merged(previous, [results[k] for k in sorted(results)]), out_dir)
    return AssessReport([results[k] for k in sorted(results)], out_dir)


@dataclass(frozen=True)
class _Pending:
    """A recording to analyse: where its resume entry goes, and why an earlier one was not used."""

    key_file: Path
    damaged: str = ""


def _prepare(item, done_dir: Path, model_id: str, settings: dict) -> RecordingResult | _Pending:
    """A recording found -> its row when it needs no analysis (a problem, or done before), else what to analyse."""
    if item.problem:
        return RecordingResult(path_text(item.path), ERROR, error=item.problem, model_id=model_id, settings=settings)
    key_file = done_dir / f"{_file_key(item.path, model_id, settings)}.json"
    cached, damaged = _read_done(key_file, item.path)
    return cached if cached is not None else _Pending(key_file, damaged)


def _finish(job: _Pending, result: RecordingResult, windows: dict) -> RecordingResult:
    """An analysed recording's row; its resume entry written first (atomically), unless it failed."""
    result.warning = _join(result.warning, job.damaged)
    if result.status != ERROR:
        atomic_write_text(job.key_file, dumps({"result": result.__dict__, "windows": windows}), private=True)
    return result


# With --words (model.measures.clinical); longest3_mean_s above is then the measures' (moments merged across types).
MEASURE_FIELDS = ("syllables", "verbatim_syllables", "words", "speaking_time_s", "spm", "wpm", "pct_ss",
                  *(f"pct_ss_{t}" for t in SLD_LABELS), "interjections_per_100_syllables", "longest_s",
                  "excluded_s", "enough_speech")
# Where the not-the-client stretches came from (FROM_SIDECAR, FROM_SPEAKERS, FROM_NOWHERE), after the measures.
SOURCE_FIELD = "excluded_source"
SUMMARY_FIELDS = (["path", "status", "error", "warning", "duration_s"]
                  + [f"n_{label}" for label in LABELS] + [f"per_min_{label}" for label in LABELS]
                  + ["sld_count", "sld_per_min", "sld_time_share", "interjection_count", "interjection_per_min",
                     "longest3_mean_s", "events_from", "moments", "interjections", "longest3_moments_mean_s",
                     "model_id", "hop_seconds", "precision"]
                  + list(MEASURE_FIELDS) + [SOURCE_FIELD])
# One row per stuttering moment or interjection (a frame model), or per window run (an older model file).
EVENT_FIELDS = ["path", "onset_s", "offset_s", "duration_s", "confidence", "types", "kind", "model_id"]


def _summary_row(r: RecordingResult) -> dict:
    s = r.summary
    row = {"path": r.path, "status": r.status, "error": r.error, "warning": r.warning, "model_id": r.model_id,
           "hop_seconds": r.settings.get("hop_seconds", ""), "precision": r.settings.get("precision", ""),
           "duration_s": s.get("duration", ""), SOURCE_FIELD: r.excluded_source}
    if "sld_count" in s:  # scored (a recording with too little speech has its duration only)
        # A row kept from a window model's run (before issue 23) has no time share: its cell stays empty.
        row.update({"duration_s": s["duration"], "sld_count": s["sld_count"],
                    "sld_per_min": s["sld_per_minute"], "sld_time_share": s.get("sld_time_share", ""),
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
    if r.excluded and "excluded_s" in s:  # without words the counts leave the stretches out too
        row["excluded_s"] = s["excluded_s"]
    if r.measures:
        row.update({k: r.measures[k] for k in MEASURE_FIELDS})
        row["longest3_mean_s"] = r.measures["longest3_mean_s"]
    return row


def _event_rows(r: RecordingResult) -> Iterable[dict]:
    """events.csv rows: the moments, or for a row kept from a window model's run (before issue 23) its
    window runs in the same columns."""
    if r.moments:
        for m in r.moments:
            yield {"path": r.path, "onset_s": m["start"], "offset_s": m["end"], "duration_s": m["duration"],
                   "confidence": m["confidence"], "types": "+".join(m["types"]), "kind": m["kind"],
                   "model_id": r.model_id}
        return
    yield from _stored_event_rows(r)


def _stored_event_rows(r: RecordingResult) -> Iterable[dict]:
    """The result's events in events.csv's columns (its rows for a window model's run)."""
    for e in r.events:
        yield {"path": r.path, "onset_s": e["start"], "offset_s": e["end"], "duration_s": e["duration"],
               "confidence": round(e["confidence"], 4), "types": e["label"],
               "kind": INTERJECTION if e["label"] in NON_SLD_LABELS else STUTTERING, "model_id": r.model_id}


def _csv_text(fields: list[str], rows: Iterable[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def write_outputs(results: list[RecordingResult], out_dir: Path) -> None:
    """summary.csv, events.csv and results.json for the results so far, each written atomically, owner-only."""
    atomic_write_text(out_dir / SUMMARY_CSV, _csv_text(SUMMARY_FIELDS, map(_summary_row, results)), private=True)
    event_rows = (row for r in results for row in _event_rows(r))
    atomic_write_text(out_dir / EVENTS_CSV, _csv_text(EVENT_FIELDS, event_rows), private=True)
    atomic_write_text(out_dir / RESULTS_JSON, dumps([r.__dict__ for r in results], indent=1), private=True)
