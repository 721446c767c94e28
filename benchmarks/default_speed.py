"""Inference speed of two model files on one recording, in one run: the moment path (what `assess` runs) in
fresh processes, the models alternated so that both see the same machine load; medians and their ratio.

Run: `.venv/bin/python benchmarks/default_speed.py --models OLD.safetensors NEW.safetensors --audio REC.wav`
(issue 24 item 5: the previous default, from git, against the new one). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child(model_path: str, audio: str, engine: str, precision: str) -> None:
    """The moment path on the recording in this (fresh) process; prints one JSON line."""
    from model.encoder.bundle import load_bundle
    from model.pipeline.inference import InferenceOptions, Predictor

    predictor = Predictor(load_bundle(model_path, build_model=False),
                          options=InferenceOptions(precision=precision, device="cpu", engine=engine))
    t0 = time.perf_counter()
    _, moments = predictor.predict_moments(audio)
    wall = time.perf_counter() - t0
    status = Path("/proc/self/status").read_text().splitlines()
    rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    print("RESULT", json.dumps({"wall_s": wall, "rss_kib": rss, "moments": sum(m.kind == "stuttering" for m in moments),
                                "engine": predictor.settings["engine"], "precision": predictor.settings["precision"]}))


def run_path(model: Path, audio: Path, engine: str, precision: str) -> dict:
    """`child` in a fresh process (its own peak RSS; model loading is not timed)."""
    proc = subprocess.run([sys.executable, __file__, "--child", str(model), str(audio), engine, precision], cwd=ROOT,
                          capture_output=True, text=True, check=False, env={**os.environ, "TQDM_DISABLE": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"{model} failed: {proc.stderr[-2000:]}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def cpu_name() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "?")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--models", nargs=2, type=Path, help="two model files (A, B)")
    ap.add_argument("--audio", type=Path, help="the recording")
    ap.add_argument("--engine", default="ct2", choices=("ct2", "torch"))
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--repeats", type=int, default=5, help="fresh processes per model; the median is reported")
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if not args.models or not args.audio:
        ap.error("give --models A B and --audio")
    seconds = sf.info(str(args.audio)).duration
    walls: dict[str, list[float]] = {str(m): [] for m in args.models}
    rss: dict[str, list[int]] = {str(m): [] for m in args.models}
    loads = [os.getloadavg()[0]]
    moments: dict[str, int] = {}
    for _ in range(args.repeats):
        for m in args.models:  # alternated: A, B, A, B ...
            r = run_path(m, args.audio, args.engine, args.precision)
            walls[str(m)].append(r["wall_s"])
            rss[str(m)].append(r["rss_kib"])
            moments[str(m)] = r["moments"]
            loads.append(os.getloadavg()[0])
    a, b = (statistics.median(walls[str(m)]) for m in args.models)
    print(json.dumps({
        "cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
        "audio_seconds": round(seconds, 1), "engine": args.engine, "precision": args.precision,
        "repeats": args.repeats, "load_average_1min": [round(x, 2) for x in loads],
        "models": {str(m): {"median_wall_s": round(statistics.median(walls[str(m)]), 2),
                            "real_time_factor": round(statistics.median(walls[str(m)]) / seconds, 4),
                            "walls_s": [round(w, 2) for w in walls[str(m)]],
                            "peak_rss_mib": round(max(rss[str(m)]) / 1024), "moments": moments[str(m)]}
                   for m in args.models},
        "b_over_a": round(b / a, 3)}, indent=1))


if __name__ == "__main__":
    main()
