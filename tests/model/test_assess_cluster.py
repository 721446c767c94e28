"""`assess --scheduler`: recordings analysed by the workers of a real Dask cluster (2 worker processes on
loopback), the outputs written by the client equal to a run in one process, nothing lost when a worker dies."""

import argparse
import json
import os
import signal
import threading
import time

import numpy as np
import pytest
import soundfile as sf

distributed = pytest.importorskip("distributed", reason="the 'cluster' extra (make test installs it)")

from model.audio.decode import SAMPLE_RATE  # noqa: E402
from model.encoder.bundle import load_bundle  # noqa: E402
from model.pipeline import inference_cli  # noqa: E402 - after the skip: these import distributed
from model.pipeline.assess import DONE_DIR, EVENTS_CSV, RESULTS_JSON, SUMMARY_CSV, assess_paths  # noqa: E402
from model.pipeline.assess_cluster import (  # noqa: E402
    ClusterAnalyser,
    ModelOnWorker,
    analyse_on_worker,
    assess_on_cluster,
    model_plugin,
)
from model.pipeline.inference import InferenceOptions, Predictor  # noqa: E402

# A hung cluster fails the test instead of holding the suite. Slow: starting 2 worker processes and loading the
# model in each takes 40-65 s for the file on the shared 2-core machine (load 10-14).
pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]
OUTPUTS = (SUMMARY_CSV, EVENTS_CSV, RESULTS_JSON)


@pytest.fixture(scope="module")
def cluster():
    """2 worker processes of 1 thread each, as `dask worker --nworkers 2 --nthreads 1` starts them; loopback only."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as c, distributed.Client(c, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        yield c, client


@pytest.fixture()
def predictor(frame_bundle_path):
    return Predictor(load_bundle(frame_bundle_path), options=InferenceOptions(precision="fp32"))


@pytest.fixture()
def batch(tmp_path, speak):
    """10 generated recordings of 4-8 s (speech at several levels, over noise), one silent, one not audio."""
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    sentences = ["Well I I I went to the the store and um bought some bread.",
                 "So we we walked home, and then, uh, the d-d-dog ran away."]
    for s, text in enumerate(sentences):
        audio, rate = sf.read(speak(text, f"s{s}.wav"))
        for i in range(4):
            noisy = np.concatenate([audio, audio[: len(audio) // (i + 1)]]) * (0.3 + 0.15 * i)
            sf.write(folder / f"r{s}{i}.wav", noisy + rng.normal(0, 0.002, len(noisy)), rate)
    sf.write(folder / "silence.flac", np.zeros(3 * SAMPLE_RATE), SAMPLE_RATE)
    (folder / "not_audio.wav").write_text("this is not audio")
    return folder


def _outputs(out) -> dict:
    """The three outputs, as text, and the resume entries by name: what must match a run in one process."""
    files = {name: (out / name).read_text() for name in OUTPUTS}
    files.update({p.name: json.loads(p.read_text()) for p in (out / DONE_DIR).iterdir()})
    return files


def cli(*argv) -> int:
    parser = argparse.ArgumentParser()
    inference_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


def test_assess_on_a_cluster_writes_what_one_process_writes_and_resumes(cluster, frame_bundle_path, predictor,
                                                                        batch, tmp_path):
    c, client = cluster
    missing = tmp_path / "gone.wav"  # found by the client as a problem: an error row, never sent
    one, many = tmp_path / "one", tmp_path / "many"
    local = assess_paths([batch, missing], one, predictor=predictor)
    status = cli("assess", batch, missing, "--out", many, "--model", frame_bundle_path, "--precision", "fp32",
                 "--scheduler", c.scheduler_address)
    assert status == 1  # the two bad inputs
    statuses = [r.status for r in local.results]
    assert statuses.count("ok") == 8 and statuses.count("error") == 2 and "too-little-speech" in statuses
    assert any(r.moments for r in local.results)  # the comparison covers moments, not only empty rows
    assert _outputs(many) == _outputs(one)

    done = []
    again = assess_on_cluster([batch, missing], many, predictor=predictor, scheduler=c.scheduler_address,
                              progress=lambda i, n, path: done.append(i))
    assert [r.status for r in again.results] == [s if s == "error" else "cached" for s in statuses]
    assert done == list(range(1, len(statuses) + 1))
    plugins = client.run(lambda dask_worker: [n for n in dask_worker.plugins if n.startswith("stutterscope")])
    assert plugins == {addr: [] for addr in plugins}  # each run removes its model from the workers


def _kill_a_busy_worker(client, killed: list, stop: threading.Event) -> None:
    """Kills the first worker seen analysing a recording (SIGKILL, as the OOM killer would); says which."""
    pids = client.run(os.getpid)
    while not stop.is_set():
        busy = [(addr, keys) for addr, keys in client.processing().items() if keys]
        if busy:
            (addr, keys), *_ = busy
            os.kill(pids[addr], signal.SIGKILL)
            killed.append((pids[addr], keys))
            return
        time.sleep(0.01)


def test_a_worker_killed_mid_batch_loses_nothing(cluster, predictor, batch, tmp_path):
    c, client = cluster
    reference = tmp_path / "one"
    assess_paths([batch], reference, predictor=predictor)
    killed, stop = [], threading.Event()
    killer = threading.Thread(target=_kill_a_busy_worker, args=(client, killed, stop), daemon=True)
    killer.start()
    try:
        report = assess_on_cluster([batch], tmp_path / "many", predictor=predictor, scheduler=c.scheduler_address)
    finally:
        stop.set()
        killer.join(10)
    (pid, in_hand), = killed
    assert in_hand, "the worker was killed while it held recordings"
    assert all(r.status != "error" or r.path.endswith("not_audio.wav") for r in report.results), report.results
    assert _outputs(tmp_path / "many") == _outputs(reference)
    client.wait_for_workers(2, timeout=60)  # the nanny started another in its place: the next test has two
    assert pid not in client.run(os.getpid).values()


def test_a_failing_task_is_that_recordings_error_row_and_a_worker_without_the_path_says_so(cluster, predictor,
                                                                                          batch, tmp_path):
    c, client = cluster
    good = model_plugin(predictor)
    # A worker whose StutterScope would analyse another way: the task fails there, and each row says why.
    other = ModelOnWorker(good.model_id, good.data, good.options, {**good.settings, "hop_seconds": 0.5}, None)
    analyser = ClusterAnalyser(client, other)
    try:
        report = assess_paths([batch / "r00.wav", batch / "r01.wav"], tmp_path / "out", predictor=predictor,
                              analyser=analyser)
    finally:
        analyser.close()
    assert [r.status for r in report.results] == ["error", "error"]
    assert all("other settings" in r.error and "install the client's StutterScope" in r.error for r in report.results)
    assert not list((tmp_path / "out" / DONE_DIR).iterdir())  # nothing to resume from a failure

    # Recordings are read where the client found them: a worker that does not see that path says so.
    client.register_plugin(good, name="stutterscope-test")
    try:
        result, _ = client.submit(analyse_on_worker, tmp_path / "elsewhere.wav", "stutterscope-test").result()
    finally:
        client.unregister_worker_plugin("stutterscope-test")
    assert result.status == "error" and "every worker sees at the same path" in result.error

