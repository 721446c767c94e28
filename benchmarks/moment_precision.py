"""bf16 against fp32: the default model's moments on a `prep casa` split, each precision scored against the SLPs.

Runs the model file over the split's records once in fp32 and once in bf16 (model.training.moment_eval), decodes
both with the file's settings, and reports moment F1 (any overlap and 0.5 s onset collar, counts summed over
records) of bf16 against fp32 (fp32 as reference), plus each precision's mean F1 against the three SLPs.

Writes only scores (no audio, no moments) to --out. Run:
`PYTHONPATH=$PWD .venv/bin/python benchmarks/moment_precision.py --manifest runs/casa/manifest.jsonl`
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.audio.decode import TOKENS_PER_SECOND  # noqa: E402
from model.encoder.bundle import default_model_path, load_bundle  # noqa: E402
from model.manifest import manifest_root, read_manifest  # noqa: E402
from model.pipeline.inference import InferenceOptions, Predictor  # noqa: E402
from model.training.moment_eval import decode_records, predict_records  # noqa: E402
from model.training.moment_scores import (  # noqa: E402
    MatchCounts,
    collar_counts,
    estimate_spans,
    overlap_counts,
    score_moments,
)

log = logging.getLogger(__name__)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, required=True, help="a `prep casa` manifest")
    ap.add_argument("--split", default="test", help="manifest split (default test)")
    ap.add_argument("--model", type=Path, default=None, help="model file (default: the bundled model)")
    ap.add_argument("--out", type=Path, default=Path("runs/frames/precision_moments"), help="folder for the JSON")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    records = [r for r in read_manifest(args.manifest) if r.get("moments") is not None and r.get("split") == args.split]
    if not records:
        raise ValueError(f"no records with SLP moments in split {args.split!r} of {args.manifest}; give a `prep casa` manifest")
    root = manifest_root(args.manifest)
    bundle = load_bundle(args.model or default_model_path())
    out: dict = {"model_id": bundle.model_id, "split": args.split, "records": len(records),
                 "load_average_at_start": os.getloadavg()[0], "precisions": {}}
    estimates = {}
    for precision in ("fp32", "bf16"):
        predictor = Predictor(bundle, options=InferenceOptions(precision=precision, device="cpu"))
        t0 = time.perf_counter()
        probs = predict_records(predictor, records, root)
        wall = time.perf_counter() - t0
        estimates[precision] = decode_records(records, probs, channels=bundle.config.channels,
                                              decoding=predictor.decoding, frame_rate=TOKENS_PER_SECOND)
        scores = score_moments(records, estimates=estimates[precision])
        out["precisions"][precision] = {"wall_s": round(wall, 1), "vs_slps": scores["model"]["mean_over_slps"],
                                        "slps_among_themselves": scores["slp_agreement"]["mean_over_pairs"]}
        log.info("%s: %.1f s, vs SLPs %s", precision, wall, scores["model"]["mean_over_slps"])
    overlap, collar = MatchCounts(), MatchCounts()
    for r in records:
        ref, est = estimate_spans(estimates["fp32"][r["id"]]), estimate_spans(estimates["bf16"][r["id"]])
        overlap, collar = overlap + overlap_counts(ref, est), collar + collar_counts(ref, est)
    out["bf16_vs_fp32"] = {"any_overlap": overlap.to_dict(), "onset_collar": collar.to_dict()}
    out["load_average_at_end"] = os.getloadavg()[0]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"moment_precision_{args.split}.json"
    path.write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
