"""`assess` in one process against `assess --scheduler` on a LocalCluster of N worker processes, same recordings.

Generates recordings (espeak-ng sentences, pauses and noise; none of the project's data), then times, each
into a fresh output folder, with the default model and default options: `assess_paths` in this process,
and `assess_on_cluster` on `LocalCluster(n_workers=N, threads_per_worker=1)` on loopback (the cluster is
started before the clock starts, as a lab's is; the clock includes sending the model and each worker
loading it, and the first result's time says how long that took). Prints and writes benchmarks/results/assess_cluster.json: wall seconds, real-time factor
(wall seconds per audio second), audio seconds per wall second per worker, and the load average before
and after, since the machine may be shared.

Run: `.venv/bin/python benchmarks/assess_cluster.py` (`--recordings 8 --seconds 45 --workers 2`).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.encoder.bundle import load_bundle  # noqa: E402
from model.jsonable import dumps  # noqa: E402
from model.pipeline.assess import assess_paths  # noqa: E402
from model.pipeline.assess_cluster import assess_on_cluster  # noqa: E402
from model.pipeline.inference import Predictor  # noqa: E402

SENTENCES = ["Well I I I went to the the store and um bought some bread.",
             "So we we walked home, and then, uh, the d-d-dog ran away from us.",
             "My name is, is, is Sam and I like to to to read books about trains."]


def make_recordings(folder: Path, n: int, seconds: float) -> float:
    """n recordings of about `seconds` each: sentences with pauses over low noise; returns the audio seconds."""
    rng, total = np.random.default_rng(0), 0.0
    spoken = []
    for i, text in enumerate(SENTENCES):
        path = folder / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), text], check=True, capture_output=True)
        spoken.append(sf.read(path))
    for k in range(n):
        parts, length = [], 0
        rate = spoken[0][1]
        while length < seconds * rate:
            audio, _ = spoken[rng.integers(len(spoken))]
            pause = np.zeros(int(rng.uniform(0.3, 1.5) * rate))
            parts += [audio * rng.uniform(0.3, 0.9), pause]
            length += len(audio) + len(pause)
        audio = np.concatenate(parts)
        sf.write(folder / "in" / f"r{k:02d}.wav", audio + rng.normal(0, 0.002, len(audio)), rate)
        total += len(audio) / rate
    return total


def _steady(arrived: list[tuple[float, str]], durations: dict[str, float]) -> float:
    """Audio seconds per wall second from the first result to the last: the rate once the workers have loaded
    the model (the first result waits for that)."""
    audio = sum(durations[path] for _, path in arrived[1:])
    return audio / max(arrived[-1][0] - arrived[0][0], 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recordings", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=45.0, help="length of each recording")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "in").mkdir()
        audio_s = make_recordings(folder, args.recordings, args.seconds)
        predictor = Predictor(load_bundle(build_model=False))
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        local = assess_paths([folder / "in"], folder / "one", predictor=predictor)
        one_s = time.perf_counter() - t0
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            arrived: list[tuple[float, str]] = []  # (seconds since the start, recording) as results come back
            t0 = time.perf_counter()
            many = assess_on_cluster([folder / "in"], folder / "many", predictor=predictor,
                                     scheduler=cluster.scheduler_address,
                                     progress=lambda i, n, path: arrived.append((time.perf_counter() - t0, path)))
            many_s = time.perf_counter() - t0
        durations = {r.path: r.summary["duration"] for r in many.results}
        same = all((folder / "one" / n).read_text() == (folder / "many" / n).read_text()
                   for n in ("summary.csv", "events.csv"))
    result = {
        "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
        "settings": predictor.settings, "recordings": args.recordings, "audio_s": round(audio_s, 1),
        "one_process": {"wall_s": round(one_s, 2), "rtf": round(one_s / audio_s, 4)},
        f"cluster_{args.workers}_workers": {"wall_s": round(many_s, 2), "rtf": round(many_s / audio_s, 4),
                                            "audio_s_per_s_per_worker": round(audio_s / many_s / args.workers, 2),
                                            "first_result_s": round(arrived[0][0], 2),
                                            "after_the_first_audio_s_per_s": round(_steady(arrived, durations), 2)},
        "one_process_audio_s_per_s": round(audio_s / one_s, 2),
        "outputs_equal": same, "statuses": sorted({r.status for r in local.results + many.results}),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "command": "python benchmarks/assess_cluster.py " + " ".join(sys.argv[1:]),
    }
    out = ROOT / "benchmarks" / "results" / "assess_cluster.json"
    out.write_text(dumps(result, indent=1) + "\n")
    print(dumps(result, indent=1))


if __name__ == "__main__":
    main()
