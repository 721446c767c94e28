"""Clinician-reviewed sessions -> a training manifest, for retraining with SEP-28k / FluencyBank.

Each reviewed session's recording is cut into 3 s windows (hop 1.5 s by default). A window is labelled
with a type when an event of that type that the review keeps (accepted, retyped, adjusted or added: not
rejected) overlaps it by at least `min_overlap` seconds, or by half the event's length for events
shorter than 2 x min_overlap (so a short event inside a window counts). A rejected event labels nothing:
its windows become negatives for that type, which is the correction the model most needs.

Model events the clinician made no decision on are neither confirmed nor refuted: by default the windows
they touch are left out (`unreviewed="skip"`); `unreviewed="trust"` labels them as the model did.
Sessions that were never reviewed, or whose recording is missing, are skipped and reported.

Records follow docs/architecture.md: `votes` are 3 (the clinician's yes) or 0, `soft` is 1.0 or 0.0,
`speaker` and `episode` are "clinic/<patient code>" so that splits stay speaker-exclusive, `corpus` is
"clinic", `source` is "clinician", `split` is "train" unless chosen otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from model.audio.decode import WINDOW_SECONDS
from model.labels import LABELS
from model.manifest import SPLITS, write_manifest
from model.moments.decoding import Moment

log = logging.getLogger(__name__)

CORPUS = "clinic"
SOURCE = "clinician"
YES_VOTES = 3  # a clinician's decision counts as all three annotators agreeing
_EPS = 1e-6  # seconds: float slack when a last window ends exactly at the recording's end


@dataclass(frozen=True)
class CorrectionOptions:
    window_seconds: float = WINDOW_SECONDS  # the model's unit of decision: 3 s
    hop_seconds: float = 1.5  # step between windows (half a window: each moment is seen twice)
    min_overlap: float = 0.5  # seconds of an event inside a window for the window to carry its type
    unreviewed: str = "skip"  # model events without a decision: "skip" their windows, or "trust" them
    split: str = "train"  # the split every record gets

    def __post_init__(self) -> None:
        if self.window_seconds <= 0 or self.hop_seconds <= 0:
            raise ValueError("window_seconds and hop_seconds must be > 0 (e.g. 3.0 and 1.5)")
        if self.min_overlap <= 0:
            raise ValueError("min_overlap must be > 0 seconds (e.g. 0.5)")
        if self.unreviewed not in ("skip", "trust"):
            raise ValueError(f"unreviewed={self.unreviewed!r}: use 'skip' or 'trust'")
        if self.split not in SPLITS:
            raise ValueError(f"split={self.split!r}: use one of {', '.join(SPLITS)}")


@dataclass
class CorrectionsExport:
    records: list[dict] = field(default_factory=list)
    sessions_used: list[int] = field(default_factory=list)
    sessions_skipped: list[tuple[int, str]] = field(default_factory=list)  # (session id, why)
    windows_skipped: int = 0  # windows touching undecided model events (unreviewed="skip")


def _overlap(event: Moment, start: float, end: float) -> float:
    return max(0.0, min(event.end, end) - max(event.start, start))


def _marks(event: Moment, start: float, end: float, min_overlap: float) -> bool:
    needed = min(min_overlap, 0.5 * event.duration)
    return _overlap(event, start, end) >= max(needed, _EPS)


def window_starts(duration: float, options: CorrectionOptions) -> list[float]:
    n = int((duration - options.window_seconds + _EPS) // options.hop_seconds) + 1
    return [round(i * options.hop_seconds, 3) for i in range(max(n, 0))]


def session_records(session, patient_code: str, *, options: CorrectionOptions) -> tuple[list[dict], int]:
    """Manifest records of one reviewed session, and how many windows were left out as undecided."""
    from app.records.course import kept_and_undecided

    kept, undecided = kept_and_undecided(session)
    if options.unreviewed == "trust":
        kept, undecided = kept + undecided, []
    speaker = f"{CORPUS}/{patient_code}"
    records, skipped = [], 0
    for i, start in enumerate(window_starts(session.duration, options)):
        end = start + options.window_seconds
        if any(_marks(e, start, end, options.min_overlap) for e in undecided):
            skipped += 1
            continue
        labels = {label: int(any(e.label == label and _marks(e, start, end, options.min_overlap) for e in kept))
                  for label in LABELS}
        records.append({
            "id": f"{speaker}/{session.id}/{i}", "corpus": CORPUS, "audio": str(Path(session.recording).resolve()),
            "offset": start, "duration": options.window_seconds, "labels": labels,
            "votes": {label: YES_VOTES * v for label, v in labels.items()},
            "soft": {label: float(v) for label, v in labels.items()},
            "episode": speaker, "speaker": speaker, "split": options.split, "multi": sum(labels.values()) >= 2,
            "source": SOURCE})
    return records, skipped


def collect_corrections(db, *, options: CorrectionOptions | None = None,
                        patient_ids: list[int] | None = None) -> CorrectionsExport:
    """Records from every reviewed session in the records database `db` (or only those of patient_ids)."""
    from app.records.patients import list_patients
    from app.records.sessions import list_sessions

    options = options or CorrectionOptions()
    out = CorrectionsExport()
    for patient in list_patients(db):
        if patient_ids is not None and patient.id not in patient_ids:
            continue
        for session in list_sessions(db, patient.id):
            why = _unusable(session, options)
            if why:
                out.sessions_skipped.append((session.id, why))
                continue
            records, skipped = session_records(session, patient.code, options=options)
            out.records += records
            out.windows_skipped += skipped
            out.sessions_used.append(session.id)
    return out


def _unusable(session, options: CorrectionOptions) -> str:
    if not session.reviewed:
        return "not reviewed by a clinician"
    if not Path(session.recording).is_file():
        return f"recording {session.recording} is missing (moved or deleted?)"
    if session.duration < options.window_seconds:
        return f"shorter than one {options.window_seconds:g} s window"
    return ""


def export_corrections(db, out: str | Path, *, options: CorrectionOptions | None = None,
                       patient_ids: list[int] | None = None) -> CorrectionsExport:
    """Write the reviewed sessions of `db` as a validated JSONL manifest at `out` (atomically)."""
    result = collect_corrections(db, options=options, patient_ids=patient_ids)
    if not result.records:
        why = "; ".join(f"session {sid}: {reason}" for sid, reason in result.sessions_skipped[:5])
        raise ValueError("no reviewed session gave training windows: review sessions in the app first"
                         + (f" ({why})" if why else ""))
    write_manifest(result.records, out, private=True)  # windows of patients' recordings: owner-only
    for sid, reason in result.sessions_skipped:
        log.warning("session %d left out: %s", sid, reason)
    log.info("wrote %d windows from %d sessions to %s (%d windows left out as undecided)", len(result.records),
             len(result.sessions_used), out, result.windows_skipped)
    return result


# -- command line: `stutterscope prep corrections` (registered by data_prep.cli) ------------------------


def add_arguments(p) -> None:
    p.add_argument("--out", type=Path, required=True, help="the manifest to write (JSONL)")
    p.add_argument("--database", type=Path, default=None, help="records database (default: the app's own)")
    p.add_argument("--hop", type=float, default=1.5, help="seconds between 3 s windows (default 1.5)")
    p.add_argument("--min-overlap", type=float, default=0.5, help="seconds of an event a window needs (0.5)")
    p.add_argument("--trust-unreviewed", action="store_true",
                   help="label windows of undecided model events as the model did (default: leave them out)")
    p.add_argument("--split", choices=SPLITS, default="train", help="split of every record (default train)")


def run(args) -> int:
    from app.records.db import open_database

    options = CorrectionOptions(hop_seconds=args.hop, min_overlap=args.min_overlap, split=args.split,
                                unreviewed="trust" if args.trust_unreviewed else "skip")
    with open_database(args.database) as db:
        result = export_corrections(db, args.out, options=options)
    print(f"{len(result.records)} windows from {len(result.sessions_used)} reviewed sessions -> {args.out}"
          f" ({len(result.sessions_skipped)} sessions left out, {result.windows_skipped} undecided windows)")
    return 0
