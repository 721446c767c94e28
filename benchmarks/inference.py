"""Inference speed and memory, our way against the naive way, in one run.

1. Encoder windows per second: context trimmed to 3 s (150 tokens) vs padded to 30 s (1,500 tokens,
   the paper's setup), in fp32 and bf16 autocast, on Whisper-base-sized weights.
2. `assess` real-time factor on a 10-minute recording at hop 1 s (processing seconds per audio second).
3. Peak RSS of `assess` on a 2-hour recording (streamed), in a fresh process.

Writes benchmarks/results/inference.json and .md. Run: `.venv/bin/python benchmarks/inference.py`
(`--quick` shortens everything for a smoke run). Timings on a shared 2-core machine are noisy: each
speed is the median of several repeats, and the comparison is a ratio within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.audio import SAMPLE_RATE, WINDOW_SAMPLES  # noqa: E402
from model.bundle import default_model_path, save_bundle  # noqa: E402
from model.classifier import ClassifierConfig, StutterClassifier  # noqa: E402
from model.labels import LABELS  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def speech_like(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Voiced bursts with pauses: enough like speech for timing; never real recordings."""
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = (np.sin(2 * np.pi * 1.7 * t) > -0.2).astype(np.float32)
    return (0.1 * voiced * envelope + 0.003 * rng.standard_normal(n)).astype(np.float32)


def write_long_wav(path: Path, seconds: float) -> None:
    """Written a minute at a time, so making the 2-hour file doesn't need 2 hours of RAM either."""
    rng = np.random.default_rng(0)
    minute = speech_like(60.0, rng)
    with sf.SoundFile(str(path), "w", SAMPLE_RATE, 1, subtype="PCM_16") as f:
        left = int(seconds * SAMPLE_RATE)
        while left > 0:
            f.write(minute[: min(left, len(minute))])
            left -= len(minute)


def bench_encoder(model: StutterClassifier, *, batch: int, repeats: int) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    mel_3s = torch.from_numpy(rng.standard_normal((batch, 80, 300)).astype(np.float32))
    for context in ("trimmed", "padded"):
        model.config = ClassifierConfig(**{**model.config.__dict__, "context": context})
        for dtype in (torch.float32, torch.bfloat16):
            times = []
            with torch.no_grad(), torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32):
                model(mel_3s)  # warm-up
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    model(mel_3s)
                    times.append(time.perf_counter() - t0)
            ms = 1000 * statistics.median(times) / batch
            rows.append({"context": context, "dtype": str(dtype).removeprefix("torch."), "ms_per_window": round(ms, 2),
                         "windows_per_s": round(1000 / ms, 1)})
            print(rows[-1], flush=True)
    model.config = ClassifierConfig(**{**model.config.__dict__, "context": "trimmed"})
    return rows


def run_assess(model_path: Path, audio: Path, out: Path, precision: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of `stutterscope assess` in a fresh process.

    Peak RSS is the child's VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the
    forking parent (this benchmark, which holds a model and torch), so it would count the parent too.
    """
    code = ("import argparse, time; from model import inference_cli; p = argparse.ArgumentParser(); "
            "inference_cli.register(p.add_subparsers()); t = time.perf_counter(); "
            f"a = p.parse_args(['assess', {str(audio)!r}, '--out', {str(out)!r}, '--model', {str(model_path)!r}, "
            f"'--precision', {precision!r}]); a.func(a); "
            "print('WALL', time.perf_counter()-t); "
            "print('RSS', next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "TQDM_DISABLE": "1"})
    values = dict(line.split() for line in proc.stdout.splitlines() if line.startswith(("WALL", "RSS")))
    return float(values["WALL"]), int(values["RSS"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short recordings and few repeats (smoke run)")
    args = ap.parse_args()
    torch.manual_seed(0)
    model = StutterClassifier(ClassifierConfig()).eval()  # Whisper-base sized; speed doesn't depend on weights
    results: dict = {"machine": {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
                                 "torch": torch.__version__}, "date": time.strftime("%Y-%m-%d")}
    results["encoder"] = bench_encoder(model, batch=8, repeats=3 if args.quick else 7)
    by = {(r["context"], r["dtype"]): r["ms_per_window"] for r in results["encoder"]}
    results["trimmed_vs_padded_speedup"] = {d: round(by[("padded", d)] / by[("trimmed", d)], 1) for d in ("float32", "bfloat16")}

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_path = default_model_path()
        if not model_path.is_file():
            model_path = tmp / "base.safetensors"
            save_bundle(model, model_path, thresholds=dict.fromkeys(LABELS, 0.5))
        ten = tmp / "ten_minutes.wav"
        ten_s = 60.0 if args.quick else 600.0
        write_long_wav(ten, ten_s)
        results["assess"] = []
        for precision in ("fp32", "bf16"):
            runs = [run_assess(model_path, ten, tmp / f"out-{precision}-{i}", precision)[0] for i in range(1 if args.quick else 3)]
            wall = statistics.median(runs)
            results["assess"].append({"recording_s": ten_s, "precision": precision, "hop_s": 1.0,
                                      "wall_s": round(wall, 1), "real_time_factor": round(wall / ten_s, 4)})
            print(results["assess"][-1], flush=True)
        ten.unlink()
        long = tmp / "two_hours.wav"
        long_s = 600.0 if args.quick else 7200.0
        write_long_wav(long, long_s)
        # Peak RSS varies from run to run (allocator behaviour): report every run and the median.
        runs = [run_assess(model_path, long, tmp / f"out-long-{i}", "auto") for i in range(1 if args.quick else 3)]
        results["long_recording"] = {"recording_s": long_s, "file_mb": round(long.stat().st_size / 1e6),
                                     "wall_s": round(statistics.median(w for w, _ in runs), 1),
                                     "peak_rss_mb": round(statistics.median(r for _, r in runs) / 1024),
                                     "peak_rss_mb_runs": [round(r / 1024) for _, r in runs],
                                     "naive_whole_file_float32_mb": round(long_s * SAMPLE_RATE * 4 / 1e6)}
        print(results["long_recording"], flush=True)
    assert WINDOW_SAMPLES == 3 * SAMPLE_RATE
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "inference-quick" if args.quick else "inference"
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2))
    (RESULTS / f"{name}.md").write_text(to_markdown(results))
    print(to_markdown(results))


def to_markdown(r: dict) -> str:
    lines = [f"Inference benchmark, {r['date']}, {r['machine']['threads']} threads, torch {r['machine']['torch']}", "",
             "| encoder input | dtype | ms / window | windows / s |", "|---|---|---|---|"]
    for e in r["encoder"]:
        ctx = "3 s, trimmed (150 tokens)" if e["context"] == "trimmed" else "padded to 30 s (1,500 tokens)"
        lines.append(f"| {ctx} | {e['dtype']} | {e['ms_per_window']} | {e['windows_per_s']} |")
    s = r["trimmed_vs_padded_speedup"]
    lines += ["", f"Trimmed vs padded: {s['float32']}x faster in fp32, {s['bfloat16']}x in bf16.", "",
              "| assess | precision | wall s | real-time factor |", "|---|---|---|---|"]
    for a in r["assess"]:
        lines.append(f"| {a['recording_s'] / 60:.0f}-min recording, hop {a['hop_s']} s | {a['precision']} | "
                     f"{a['wall_s']} | {a['real_time_factor']} |")
    lr = r["long_recording"]
    lines += ["", f"{lr['recording_s'] / 3600:.1f}-hour recording ({lr['file_mb']} MB WAV): peak RSS "
              f"{lr['peak_rss_mb']} MiB (median of runs: {lr['peak_rss_mb_runs']}), {lr['wall_s']} s "
              "(the decoded audio alone would be "
              f"{lr['naive_whole_file_float32_mb']} MB as float32)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
