"""`stutterscope evaluate --moments`: a model's moments on `prep casa` records, scored against the SLPs.

Each record (a stitched run of FluencyBank clips, 5-60 s) is analysed as a recording of its own, with
the model file's windows and decoding settings, and decoded with its interviewer stretches excluded
(nobody annotated there). Syllables for the per-episode measures come from the CHAT transcript: the
final production of the person who stutters, without fillers (what was retraced by [/] or [//], and
&-um / &-uh, are not counted), which is also what an automatic transcript of the speech holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..manifest import load_record_audio
from ..measures.syllables import count_syllables
from ..moments.decoding import Moment, MomentDecoding, decode_moments
from .moment_scores import score_moments, tune_decoding

log = logging.getLogger(__name__)

ChatWords = Callable[..., list[str]]  # data_prep.chat.chat_words(text, *, retraced, fillers) -> words


def syllable_counter(chat_words: ChatWords) -> Callable[[str], float]:
    """chat text -> syllables of its final production without fillers (model.measures.syllables, CMU dictionary)."""

    def syllables_of(text: str) -> float:
        return float(count_syllables(chat_words(text, retraced=False, fillers=False)))

    return syllables_of


def record_exclusions(record: Mapping) -> tuple[tuple[float, float], ...]:
    return tuple((float(a), float(b)) for a, b in record.get("exclude", ()))


def predict_records(predictor, records: Sequence[Mapping], root: str | Path, *, progress: bool = False,
                    ) -> dict[str, np.ndarray]:
    """record id -> (frames, channels) overlap-added frame probabilities of the record's audio."""
    from tqdm import tqdm

    out = {}
    for r in tqdm(records, desc="moments", unit="record", disable=not progress):
        audio = load_record_audio(dict(r), root)
        out[r["id"]] = predictor.predict_frames_blocks(iter([audio])).probs
    return out


def decode_records(records: Sequence[Mapping], frame_probs: Mapping[str, np.ndarray], *, channels: tuple[str, ...],
                   decoding: MomentDecoding, frame_rate: float) -> dict[str, list[Moment]]:
    """record id -> moments decoded from its frame probabilities, its interviewer stretches excluded."""
    return {r["id"]: decode_moments(frame_probs[r["id"]], frame_rate=frame_rate, options=decoding, channels=channels,
                                    exclude=record_exclusions(r)) for r in records}


def evaluate_moments(records: Sequence[Mapping], *, chat_words: ChatWords | None = None, predictor=None,
                     root: str | Path | None = None, decoding: MomentDecoding | None = None, tune: bool = False,
                     progress: bool = False) -> dict:
    """Scores (model.training.moment_scores.score_moments) of a Predictor's moments on records with SLP moments.

    predictor: a model.pipeline.inference.Predictor with a frame head; None scores the SLPs among themselves only.
    root: the manifest's folder (relative audio paths). decoding: instead of the model file's settings.
    tune: also grid-search the decoding on these records (tune on dev, never on test); the best settings and
    their F1 are added under "tuned".
    """
    syllables_of = syllable_counter(chat_words) if chat_words is not None else None
    if predictor is None:
        return score_moments(records, syllables_of=syllables_of)
    from ..audio.decode import TOKENS_PER_SECOND

    probs = predict_records(predictor, records, root or ".", progress=progress)
    decoding = decoding or predictor.decoding
    channels = predictor.bundle.config.channels
    estimates = decode_records(records, probs, channels=channels, decoding=decoding, frame_rate=TOKENS_PER_SECOND)
    scores = score_moments(records, syllables_of=syllables_of, estimates=estimates)
    scores["decoding"] = decoding.to_dict()
    scores["model_id"] = predictor.bundle.model_id
    if tune:
        best, f1, rows = tune_decoding(records, probs, frame_rate=TOKENS_PER_SECOND, channels=channels, base=decoding)
        scores["tuned"] = {"decoding": best.to_dict(), "mean_f1": f1, "grid": rows}
    return scores
