"""Drafts of reviews not yet saved as a session: written at every change, offered again after a crash.

No Qt. One JSON file per recording in `<data dir>/drafts/` (owner-only, written atomically), holding
what rebuilds the review on the same recording with the same model: the recording's path and
identity (size and modification time), the model id and the review's decisions
(`ReviewSession.to_dict()`), the words and not-the-client stretches (app.clinical.ClinicalData.to_dict()),
and the stored session the review continues, if any. A draft is removed
when its review is saved as a session, or when the clinician declines it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from model.jsonable import dumps

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
        return self._read(self.path_for(recording))

    def discard(self, recording: str | Path) -> None:
        self.path_for(recording).unlink(missing_ok=True)

    def all(self) -> list[Draft]:
        """Every readable draft, the most recent first."""
        if not self.folder.is_dir():
            return []
        drafts = [d for d in (self._read(p) for p in self.folder.glob("*.json")) if d is not None]
        return sorted(drafts, key=lambda d: d.saved, reverse=True)

    @staticmethod
    def _read(path: Path) -> Draft | None:
        if not path.is_file():
            return None
        try:
            return Draft(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as e:  # a damaged draft is reported and left for inspection
            log.warning("draft %s could not be read: %s", path, e)
            return None
