"""Drafts of reviews not yet saved as a session: written at every change, offered again after a crash.

No Qt. One JSON file per recording in `<data dir>/drafts/` (owner-only, written atomically), holding
what rebuilds the review on the same recording with the same model: the recording's path and
identity (size and modification time), the model id and the review's decisions
(`ReviewSession.to_dict()`), the words and not-the-client stretches (app.clinical.ClinicalData.to_dict()),
and the stored session the review continues, if any. A draft is removed
when its review is saved as a session, or when the clinician declines it. A damaged draft (not JSON, or
a field of the wrong type) is never used, deleted or overwritten: it is set aside as `<name>.kept` and the
window says what is wrong with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from model.jsonable import dumps
from model.moments.decoding import Moment

from .records.clinical_json import check_clinical

log = logging.getLogger(__name__)

DRAFTS_FOLDER = "drafts"  # inside the records' data folder
_PRIVATE = 0o600  # a draft names a recording and a patient's session: owner read/write only


@dataclass(frozen=True)
class Draft:
    recording: str  # absolute path of the recording
    recording_id: str  # "size:mtime_ns" of the recording when the draft was written
    model_id: str  # SHA-256 of the model file whose events the decisions concern
    review: dict  # ReviewSession.to_dict(): thresholds, decisions, pinned events
    session_id: int | None = None  # the stored session this review continues; None: a new analysis
    saved: str = ""  # ISO timestamp (local time) of the last write
    clinical: dict = field(default_factory=dict)  # words and not-the-client stretches ({}: none)

    @property
    def decisions(self) -> int:
        return len(self.review.get("reviewed", []))

    @property
    def name(self) -> str:
        return Path(self.recording).name


class DamagedDraft(ValueError):
    """A draft file that cannot be used; it has been set aside, unchanged, at `kept`."""

    def __init__(self, path: Path, kept: Path, reason: str, recording: str | None):
        self.path, self.kept, self.reason, self.recording = path, kept, reason, recording
        about = f"of {Path(recording).name} " if recording else ""
        super().__init__(f"The draft {about}could not be used: {reason}. Its decisions are not restored; the file "
                         f"is kept unchanged as {kept}.")


def _check_events(value: object, what: str) -> None:
    if not isinstance(value, list):
        raise ValueError(f"its {what} are a {type(value).__name__}, not a list")
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise ValueError(f"its {what} entry {i} is a {type(item).__name__}, not a moment")
        try:
            Moment.from_dict(item)  # any stored form: a moment's dict, or an event's from before moments were the unit
        except (KeyError, TypeError, ValueError) as e:  # Moment.from_dict's own errors for a malformed dict
            raise ValueError(f"its {what} entry {i} is not a moment ({type(e).__name__}: {e})") from e


def _check_review(review: object) -> None:
    """The shape ReviewSession.load reads: thresholds by type, pinned and reviewed events."""
    if not isinstance(review, Mapping):
        raise ValueError(f"its review is a {type(review).__name__}, not an object of decisions")
    thresholds = review.get("thresholds", {})
    if not isinstance(thresholds, Mapping) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in thresholds.values()):
        raise ValueError(f"its review's thresholds are {thresholds!r}, not numbers by type")
    for key in ("pinned", "reviewed"):
        _check_events(review.get(key, []), f"review's {key} events")


_TEXT_FIELDS = ("recording", "recording_id", "model_id", "saved")


def draft_from_dict(data: object) -> Draft:
    """A Draft from a draft file's JSON, every field checked; ValueError naming what is wrong."""
    if not isinstance(data, Mapping):
        raise ValueError(f"it holds a {type(data).__name__}, not a draft object")
    unknown = set(data) - {f.name for f in fields(Draft)}
    missing = {"recording", "model_id", "review"} - set(data)
    if unknown or missing:
        raise ValueError(f"unknown fields {sorted(unknown)}, missing fields {sorted(missing)}")
    for key in _TEXT_FIELDS:
        if not isinstance(data.get(key, ""), str):
            raise ValueError(f"its {key} is {data[key]!r}, not text")
    if not data["recording"]:
        raise ValueError("it names no recording")
    session_id = data.get("session_id")
    if session_id is not None and (isinstance(session_id, bool) or not isinstance(session_id, int)):
        raise ValueError(f"its session id is {session_id!r}, not a number")
    _check_review(data["review"])
    try:
        check_clinical(data.get("clinical", {}))
    except ValueError as e:
        raise ValueError(f"its words and excluded stretches are damaged: {e}") from e
    return Draft(**data)


def _recording_named(data: object) -> str | None:
    """The recording a damaged draft names, when that much of it is readable."""
    recording = data.get("recording") if isinstance(data, Mapping) else None
    return recording if isinstance(recording, str) and recording else None


def recording_id(path: str | Path) -> str:
    """Identity of a recording file: changes when the file is replaced or edited."""
    st = Path(path).stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


class DraftStore:
    """The drafts folder: one draft per recording."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def path_for(self, recording: str | Path) -> Path:
        key = hashlib.sha256(str(Path(recording).resolve()).encode("utf-8")).hexdigest()[:20]
        return self.folder / f"{key}.json"

    def save(self, draft: Draft) -> Path:
        """Write the draft atomically (a kill mid-write leaves the previous draft whole)."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        draft = Draft(**{**asdict(draft), "saved": dt.datetime.now().isoformat(timespec="seconds")})
        path = self.path_for(draft.recording)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, _PRIVATE)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(dumps(asdict(draft)))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def load(self, recording: str | Path) -> Draft | None:
        """The recording's draft; None without one. DamagedDraft (a ValueError) when it cannot be used:
        the file is then set aside, unchanged, so that the next draft written does not replace it."""
        path = self.path_for(recording)
        if not path.is_file():
            return None
        return self._read_or_keep(path)

    def discard(self, recording: str | Path) -> None:
        self.path_for(recording).unlink(missing_ok=True)

    def all(self) -> list[Draft]:
        """Every readable draft, the most recent first (damaged ones are skipped and left as they are)."""
        return self.scan(keep_damaged=False)[0]

    def scan(self, *, keep_damaged: bool = True) -> tuple[list[Draft], list[DamagedDraft]]:
        """Every readable draft, the most recent first, and the damaged ones (set aside when keep_damaged)."""
        drafts, damaged = [], []
        for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                drafts.append(self._read_or_keep(path) if keep_damaged else draft_from_dict(_json(path)))
            except DamagedDraft as e:
                damaged.append(e)
            except (OSError, ValueError) as e:
                log.warning("draft %s could not be read: %s", path, e)
        return sorted(drafts, key=lambda d: d.saved, reverse=True), damaged

    def keep(self, path: Path) -> Path:
        """Set a draft file aside, unchanged, under a name no draft is written to (never over an earlier one)."""
        kept, n = path.with_name(f"{path.name}.kept"), 1
        while kept.exists():
            kept, n = path.with_name(f"{path.name}.{n}.kept"), n + 1
        path.replace(kept)
        return kept

    def _read_or_keep(self, path: Path) -> Draft:
        data = None
        try:
            data = _json(path)
            return draft_from_dict(data)
        except (OSError, ValueError) as e:
            log.warning("draft %s could not be used: %s", path, e)
            raise DamagedDraft(path, self.keep(path), str(e), _recording_named(data)) from e


def _json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:  # a ValueError too, but say it plainly
        raise ValueError(f"it is not text ({e.reason})") from e
    except json.JSONDecodeError as e:
        raise ValueError(f"it is not JSON ({e})") from e
