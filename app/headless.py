"""The analysis without a window: for a machine with no display, on a generated sample recording."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from model.jsonable import dumps

from .sample import make_sample

log = logging.getLogger(__name__)


def analyse_headless(*, model: str | None = None, recording: str | None = None, device: str = "auto",
                     hop_seconds: float | None = None) -> dict:
    """Analyse `recording` (None: a generated sample) and return the summary and events as a dict.

    hop_seconds: None takes the model run's default (model.encoder.inference_options.InferenceOptions).
    """
    from model.encoder.bundle import load_bundle
    from model.pipeline.analysis import analyse_recording
    from model.pipeline.inference import InferenceOptions, Predictor

    bundle = load_bundle(model, build_model=False)
    with tempfile.TemporaryDirectory(prefix="stutterscope-") as tmp:
        path = Path(recording) if recording else make_sample(Path(tmp) / "sample.wav")
        hop = {} if hop_seconds is None else {"hop_seconds": hop_seconds}
        predictor = Predictor(bundle, options=InferenceOptions(device=device, **hop))
        analysis = analyse_recording(path, predictor)
    return {"recording": str(recording or "generated sample"), **analysis.to_dict()}


def format_report(result: dict) -> str:
    s = result["summary"]
    lines = [f"recording: {result['recording']}", f"model: {result['model_id'][:12]}",
             f"duration: {s['duration']:.1f} s",
             f"stuttering-like disfluencies: {s['sld_count']} ({s['sld_per_minute']:.1f} per minute)",
             f"interjections: {s['interjection_count']} ({s['interjection_per_minute']:.1f} per minute)",
             "per type: " + ", ".join(f"{k} {v}" for k, v in s["counts"].items()),
             f"three longest SLD: {s['longest3']} (mean {s['longest3_mean']:.1f} s)"]
    lines += [f"  {'+'.join(m['types']):<13} {m['start']:7.2f}-{m['end']:7.2f} s  p={m['confidence']:.2f}"
              for m in result["moments"]]
    return "\n".join(lines)


def dump(result: dict) -> str:
    return dumps(result, indent=2)
