"""Inference speed and memory: the window path against the moment path, in one run on one recording.

1. Encoder windows per second: context trimmed to 3 s (150 tokens) vs padded to 30 s (1,500 tokens,
   the paper's setup), in fp32 and bf16 autocast, on Whisper-base-sized weights.
2. On the same generated recording (2 hours by default), each in a fresh process, in fp32 and bf16:
   the window path (3 s windows at a 1 s hop, clip probabilities -> window runs; every second encoded
   three times) and the moment path (frame windows with a small overlap, each second encoded about
   once, overlap-added -> moments): real-time factor (analysis seconds per audio second) and the
   process's peak RSS; and how far bf16 moves each path's output from fp32.
3. The moment path on each engine (issue 25), same recording, same run: torch (the old path) beside
   CTranslate2 float32 and int8 (`--engines`), the median of `--repeats` fresh processes each, quiet or
   with `--busy N` processes spinning on the cores meanwhile (a clinician's laptop with other programs open).

Writes benchmarks/results/inference.json and .md. Run: `.venv/bin/python benchmarks/inference.py`
(`--quick`: a 2-minute recording; `--seconds N` another length). Timings on a shared 2-core machine are
noisy: the encoder rows are medians of repeats, and the load average is written beside the results.
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
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.audio.decode import SAMPLE_RATE  # noqa: E402
from model.encoder.bundle import default_model_path, read_metadata, save_bundle  # noqa: E402
from model.labels import LABELS  # noqa: E402
from model.moments.frame_inference import FrameWindows  # noqa: E402

if TYPE_CHECKING:
    from model.encoder.classifier import StutterClassifier

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
    import torch

    from model.encoder.classifier import ClassifierConfig

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


# What `stutterscope export` writes into frame model files (model/training/export.py): 10 s windows 8 s apart.
EXPORTED_WINDOWS = FrameWindows()


def frame_model_for_timing(tmp: Path, windows: FrameWindows = EXPORTED_WINDOWS) -> tuple[Path, str]:
    """The model file the moment path runs: the default model if it has a frame head; otherwise Whisper base's
    real encoder with a randomly initialised frame head (speed does not depend on the head's weights)."""
    default = default_model_path()
    if default.is_file() and read_metadata(default)["config"].get("head") == "frame":
        return default, "the default model (frame head)"
    import torch

    from model.encoder.classifier import ClassifierConfig, StutterClassifier
    from model.encoder.weights import load_encoder_state

    dims, state, src = load_encoder_state("base")
    torch.manual_seed(0)
    model = StutterClassifier(ClassifierConfig(dims=dims, head="frame")).eval()
    model.load_whisper_encoder(state)
    path = tmp / "frames-random-head.safetensors"
    save_bundle(model, path, thresholds=dict.fromkeys(LABELS, 0.5),
                metadata={"frames": windows.to_dict(), "training": {"data": "none: timing only"}})
    return path, f"Whisper base encoder ({src.source}) + a random frame head (no trained frame model yet)"


def child(kind: str, model_path: str, audio: str, engine: str, precision: str, out_npz: str) -> None:
    """One path on one recording, in this (fresh) process; prints one JSON line."""
    from model.encoder.bundle import load_bundle
    from model.pipeline.inference import InferenceOptions, Predictor

    options = InferenceOptions(precision=precision, device="cpu", engine=engine)
    predictor = Predictor(load_bundle(model_path, build_model=False), options=options)
    if kind != "moments":  # the 3 s window path left the product with the window head (issue 23)
        raise ValueError(f"only the moments path runs now, not {kind!r}")
    t0 = time.perf_counter()
    frames, moments = predictor.predict_moments(audio)
    n = sum(m.kind == "stuttering" for m in moments)
    probs, encoded = frames.probs, frames.n_windows * frames.windows.window_seconds
    extra = {"window_s": frames.windows.window_seconds, "hop_s": frames.windows.hop_seconds}
    np.savez(out_npz + ".moments.npz", spans=np.asarray([(m.start, m.end) for m in moments
                                                          if m.kind == "stuttering"]).reshape(-1, 2))
    wall = time.perf_counter() - t0
    np.save(out_npz, probs)
    status = Path("/proc/self/status").read_text().splitlines()
    rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    print("RESULT", json.dumps({"wall_s": wall, "rss_kib": rss, "events": n, "encoded_s": encoded,
                                "engine": predictor.settings["engine"], "precision": predictor.settings["precision"],
                                "torch_loaded": "torch" in sys.modules, **extra}))


def run_path(kind: str, model_path: Path, audio: Path, precision: str, out: Path, engine: str = "torch") -> dict:
    """Run `child` in a fresh process: its own peak RSS (VmHWM; ru_maxrss would count this parent too)."""
    proc = subprocess.run([sys.executable, __file__, "--child", kind, str(model_path), str(audio), engine, precision,
                           str(out)],
                          cwd=ROOT, capture_output=True, text=True, check=False, env={**os.environ, "TQDM_DISABLE": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"{kind}/{precision} failed: {proc.stderr[-2000:]}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def agreement(kind: str, a: Path, b: Path, thresholds: dict[str, float]) -> dict:
    """How far bf16 moves the output from fp32 on the same recording."""
    pa, pb = np.load(a), np.load(b)
    out = {"max_abs_prob_diff": round(float(np.abs(pa - pb).max()), 4)}
    if kind == "windows":
        cut = np.asarray([thresholds[label] for label in LABELS], np.float32)
        out["window_decisions_agree"] = round(float(((pa >= cut) == (pb >= cut)).mean()), 5)
    else:
        from model.training.moment_scores import overlap_counts

        sa = [tuple(x) for x in np.load(str(a) + ".moments.npz")["spans"]]
        sb = [tuple(x) for x in np.load(str(b) + ".moments.npz")["spans"]]
        out["moment_f1_bf16_vs_fp32"] = round(overlap_counts(sa, sb).f1, 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 2-minute recording and few repeats (smoke run)")
    ap.add_argument("--seconds", type=float, default=7200.0, help="length of the generated recording (default 2 h)")
    ap.add_argument("--paths", nargs="*", choices=("moments",), default=["moments"],
                    help="the torch moments path (default; none: only the --engines rows)")
    ap.add_argument("--precisions", nargs="+", choices=("fp32", "bf16"), default=["fp32", "bf16"],
                    help="which precisions to run (default both)")
    ap.add_argument("--frame-window", type=float, nargs=2, metavar=("WINDOW", "HOP"),
                    default=(EXPORTED_WINDOWS.window_seconds, EXPORTED_WINDOWS.hop_seconds),
                    help="frame windows of the stand-in frame model (default: what export writes, 10 s / 8 s)")
    ap.add_argument("--name", default="inference", help="results file name in benchmarks/results/")
    ap.add_argument("--engines", nargs="+", default=[], metavar="ENGINE:PRECISION",
                    help="moment path on these engines, e.g. torch:fp32 ct2:fp32 ct2:int8 (section 3; default none)")
    ap.add_argument("--repeats", type=int, default=3, help="fresh processes per engine row; the median is shown")
    ap.add_argument("--busy", type=int, default=0, help="also time the engine rows with N spinning processes")
    ap.add_argument("--skip-encoder", action="store_true", help="leave out section 1 (torch encoder windows)")
    ap.add_argument("--child", nargs=6, metavar=("PATH", "MODEL", "AUDIO", "ENGINE", "PRECISION", "OUT"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)  # before torch is imported: the ct2 engine's process never loads it
        return
    import torch

    from model.encoder.classifier import ClassifierConfig, StutterClassifier

    torch.manual_seed(0)
    model = StutterClassifier(ClassifierConfig()).eval()  # Whisper-base sized; speed doesn't depend on weights
    results: dict = {"machine": {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
                                 "torch": torch.__version__, "load_average_at_start": os.getloadavg()[0]},
                     "date": time.strftime("%Y-%m-%d")}
    if not args.skip_encoder:
        results["encoder"] = bench_encoder(model, batch=8, repeats=3 if args.quick else 7)
        by = {(r["context"], r["dtype"]): r["ms_per_window"] for r in results["encoder"]}
        results["trimmed_vs_padded_speedup"] = {d: round(by[("padded", d)] / by[("trimmed", d)], 1)
                                                for d in ("float32", "bfloat16")}

    seconds = 120.0 if args.quick else args.seconds
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        window_model = default_model_path()
        if not window_model.is_file():
            window_model = tmp / "base.safetensors"
            save_bundle(model, window_model, thresholds=dict.fromkeys(LABELS, 0.5))
        frame_model, frame_model_note = frame_model_for_timing(tmp, FrameWindows(*args.frame_window))
        audio = tmp / "recording.wav"
        write_long_wav(audio, seconds)
        results["recording"] = {"seconds": seconds, "file_mb": round(audio.stat().st_size / 1e6),
                                "whole_file_float32_mb": round(seconds * SAMPLE_RATE * 4 / 1e6)}
        results["frame_model"] = frame_model_note
        results["paths"] = []
        for kind, path in (("windows", window_model), ("moments", frame_model)):
            if kind not in args.paths:
                continue
            for precision in args.precisions:
                r = run_path(kind, path, audio, precision, tmp / f"{kind}-{precision}.npy", engine="torch")
                row = {"path": kind, "precision": precision, "wall_s": round(r["wall_s"], 1),
                       "real_time_factor": round(r["wall_s"] / seconds, 4), "peak_rss_mb": round(r["rss_kib"] / 1024),
                       "encoded_per_audio_second": round(r["encoded_s"] / seconds, 2), "events": r["events"],
                       **({"window_s": r["window_s"], "hop_s": r["hop_s"]} if kind == "moments" else {"window_s": 3.0, "hop_s": 1.0})}
                results["paths"].append(row)
                print(row, flush=True)
            if len(args.precisions) < 2:
                continue
            thresholds = dict.fromkeys(LABELS, 0.5) if kind == "moments" else read_metadata(window_model)["thresholds"]
            results[f"{kind}_bf16_vs_fp32"] = agreement(kind, tmp / f"{kind}-fp32.npy", tmp / f"{kind}-bf16.npy",
                                                        thresholds)
        results["engines"] = engine_rows(args, frame_model, audio, seconds, tmp)
        results["machine"]["load_average_at_end"] = os.getloadavg()[0]
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"{args.name}-quick" if args.quick else args.name
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2))
    (RESULTS / f"{name}.md").write_text(to_markdown(results))
    print(to_markdown(results))


def _busy(n: int) -> list[subprocess.Popen]:
    """n processes that keep a core each busy until killed."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def engine_rows(args, model_path: Path, audio: Path, seconds: float, tmp: Path) -> list[dict]:
    """Section 3: the moment path per engine, quiet then busy; medians of fresh processes; moments against the first."""
    from model.training.moment_scores import overlap_counts

    rows = []
    for busy in sorted({0, args.busy}):
        spinners = _busy(busy)
        try:
            for spec in args.engines:
                engine, precision = spec.split(":")
                out = tmp / f"engine-{engine}-{precision}.npy"
                runs = [run_path("moments", model_path, audio, precision, out, engine=engine)
                        for _ in range(args.repeats)]
                wall = statistics.median(r["wall_s"] for r in runs)
                spans = [tuple(x) for x in np.load(str(out) + ".moments.npz")["spans"]]
                rows.append({"engine": runs[0]["engine"], "precision": runs[0]["precision"], "busy_processes": busy,
                             "load_average": round(os.getloadavg()[0], 1), "median_wall_s": round(wall, 1),
                             "real_time_factor": round(wall / seconds, 4),
                             "peak_rss_mb": round(max(r["rss_kib"] for r in runs) / 1024),
                             "torch_loaded": runs[0]["torch_loaded"], "moments": len(spans), "spans": spans})
                print({k: v for k, v in rows[-1].items() if k != "spans"}, flush=True)
        finally:
            for p in spinners:
                p.kill()
                p.wait()
    first = rows[0]["spans"] if rows else []
    for row in rows:  # decisions against the first engine's, quiet
        row["moment_f1_vs_first"] = round(overlap_counts(first, row.pop("spans")).f1, 4)
    return rows


def _engine_markdown(r: dict) -> list[str]:
    if not r.get("engines"):
        return []
    lines = ["", "Moment path per engine, same recording, same run (median of fresh processes; busy: processes "
             "spinning on the cores meanwhile, on top of whatever else the machine ran):", "",
             "| engine | precision | busy | load average | median wall s | real-time factor | peak RSS MiB | "
             "torch loaded | moments | moment F1 vs first row |", "|---|---|---|---|---|---|---|---|---|---|"]
    for e in r["engines"]:
        lines.append(f"| {e['engine']} | {e['precision']} | {e['busy_processes']} | {e['load_average']} | "
                     f"{e['median_wall_s']} | {e['real_time_factor']} | {e['peak_rss_mb']} | {e['torch_loaded']} | "
                     f"{e['moments']} | {e['moment_f1_vs_first']} |")
    return lines


def to_markdown(r: dict) -> str:
    lines = [f"Inference benchmark, {r['date']}, {r['machine']['threads']} threads, torch {r['machine']['torch']}", "",
             "| encoder input | dtype | ms / window | windows / s |", "|---|---|---|---|"]
    for e in r.get("encoder", []):
        ctx = "3 s, trimmed (150 tokens)" if e["context"] == "trimmed" else "padded to 30 s (1,500 tokens)"
        lines.append(f"| {ctx} | {e['dtype']} | {e['ms_per_window']} | {e['windows_per_s']} |")
    rec = r["recording"]
    if "trimmed_vs_padded_speedup" in r:
        s = r["trimmed_vs_padded_speedup"]
        lines += ["", f"Trimmed vs padded: {s['float32']}x faster in fp32, {s['bfloat16']}x in bf16."]
    lines += ["",
              f"Both paths on the same generated {rec['seconds'] / 3600:.2f}-hour recording ({rec['file_mb']} MB WAV; "
              f"{rec['whole_file_float32_mb']} MB if decoded whole), each in a fresh process; load average "
              f"{r['machine']['load_average_at_start']:.1f} at the start, {r['machine']['load_average_at_end']:.1f} at the end.",
              f"Moment path model: {r['frame_model']}.", "",
              "| path | windows | precision | encoded per audio second | wall s | real-time factor | peak RSS MiB |",
              "|---|---|---|---|---|---|---|"]
    for a in r["paths"]:
        what = "3 s windows, 1 s hop -> window runs" if a["path"] == "windows" else "frames, overlap-added -> moments"
        lines.append(f"| {what} | {a['window_s']:g} s / hop {a['hop_s']:g} s | {a['precision']} | "
                     f"{a['encoded_per_audio_second']} | {a['wall_s']} | {a['real_time_factor']} | {a['peak_rss_mb']} |")
    if "windows_bf16_vs_fp32" in r:
        w = r["windows_bf16_vs_fp32"]
        lines += ["", f"bf16 against fp32, window path: decisions agree on {w['window_decisions_agree']:.2%} of "
                  f"window x type (max |dp| {w['max_abs_prob_diff']})."]
    if "moments_bf16_vs_fp32" in r:
        m = r["moments_bf16_vs_fp32"]
        lines += ["", f"bf16 against fp32, moment path: moment F1 {m['moment_f1_bf16_vs_fp32']} "
                  f"(max |dp| {m['max_abs_prob_diff']})."]
    return "\n".join(lines + _engine_markdown(r)) + "\n"


if __name__ == "__main__":
    main()
