"""`stutterscope assess --scheduler`: recordings analysed on the workers of a Dask distributed cluster.

What runs where (README "Many machines"):
- The client (the machine running `assess`) does everything but the analysis, through model.pipeline.assess.assess_paths:
  it finds the recordings, holds the output folder's lock, reads and writes every resume entry (OUT/.done) and
  rebuilds the outputs after each result, in the order the recordings were found. Workers never write there.
- The model file travels to each worker once, inside a worker plugin (the scheduler also hands it to workers
  that join or restart during the run); the worker writes it into its own local directory, checks its SHA-256
  against the model id and loads it the first time it has a recording to analyse, then keeps it loaded.
- Recordings are not sent: a worker opens each at the path the client found it at, so they must be in a
  folder every worker sees at that same path (a network share mounted alike). A worker that does not see one
  gives that recording an error row saying so.
- A task that fails becomes that recording's error row. A worker that dies (killed, out of memory) loses
  nothing: the scheduler runs its recordings again elsewhere, up to `distributed.scheduler.allowed-failures`
  times (default 3) before that recording becomes an error row.

Needs the `cluster` extra (`pip install 'stutterscope[cluster]'`) on the client and on every worker, with
StutterScope itself (and, for --words, the Whisper weights) installed there.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from distributed import Client, WorkerPlugin, as_completed, get_worker

from ..encoder.inference_options import InferenceOptions
from .assess import ERROR, AssessReport, RecordingResult, analyse_one, assess_paths, result_settings
from .find_recordings import path_text
from .inference import Cancelled, Predictor

if TYPE_CHECKING:
    from ..measures.words import TranscribeOptions, Transcriber

CONNECT_TIMEOUT_S = 30  # the scheduler must answer within this, else a RuntimeError names it
OPTION_PRECISION = {"float32": "fp32", "bfloat16": "bf16", "int8": "int8"}  # Predictor.settings' -> --precision


class ModelOnWorker(WorkerPlugin):
    """The model file's bytes and how to run it; on a worker, the model loaded once for every recording.

    Pickled to the scheduler when registered, then to each worker (also those that join later); the state
    made in `setup` (the loaded model) never travels.
    """

    def __init__(self, model_id: str, data: bytes, options: InferenceOptions, settings: dict,
                 transcribe: TranscribeOptions | None):
        self.model_id, self.data, self.options = model_id, data, options
        self.settings, self.transcribe = settings, transcribe  # the client's: a worker must match them

    def setup(self, worker) -> None:
        self.path = Path(worker.local_directory) / f"stutterscope-{self.model_id}.safetensors"
        self.lock = threading.Lock()  # a worker with several threads loads the model once
        self.loaded: tuple[Predictor, Transcriber | None] | None = None

    def teardown(self, worker) -> None:
        self.loaded = None
        self.path.unlink(missing_ok=True)

    def models(self) -> tuple[Predictor, Transcriber | None]:
        with self.lock:
            if self.loaded is None:
                self.loaded = self._load()
            return self.loaded

    def _load(self) -> tuple[Predictor, Transcriber | None]:
        from ..encoder.bundle import load_bundle
        from ..fileio import atomic_write_bytes

        atomic_write_bytes(self.path, self.data, private=True)
        bundle = load_bundle(self.path, build_model=False)  # the engine loads torch only if it runs it
        if bundle.model_id != self.model_id:
            raise ValueError(f"the model file reached worker {get_worker().address} damaged (SHA-256 "
                             f"{bundle.model_id[:12]}, sent {self.model_id[:12]}); run again")
        predictor = Predictor(bundle, options=self.options)
        transcriber = None
        if self.transcribe is not None:
            from ..measures.words import Transcriber

            transcriber = Transcriber(self.transcribe)
        made = result_settings(predictor, transcriber)
        if made != self.settings:  # another library version or engine: its results would not be the client's
            raise ValueError(f"worker {get_worker().address} would analyse with other settings ({made}, not the "
                             f"client's {self.settings}); install the client's StutterScope version there")
        return predictor, transcriber


def analyse_on_worker(path: Path, plugin: str) -> tuple[RecordingResult, dict]:
    """Runs on a worker: one recording -> (result, windows) with the model the plugin named holds (the task)."""
    worker = get_worker()
    predictor, transcriber = worker.plugins[plugin].models()
    if not path.exists():  # the client found it: so this worker does not see the client's folder
        error = (f"{path_text(path)} is not on worker {worker.address} ({socket.gethostname()}): recordings must "
                 "be in a folder every worker sees at the same path")
        return RecordingResult(path_text(path), ERROR, error=error, model_id=predictor.bundle.model_id,
                               settings=predictor.settings), {}
    return analyse_one(path, predictor, transcriber=transcriber)


def model_plugin(predictor: Predictor, transcriber: Transcriber | None = None) -> ModelOnWorker:
    """What the workers need to analyse as `predictor` (and `transcriber`) would here: the model file's bytes,
    the options with the engine and precision this client resolved ("auto" could resolve otherwise on another
    machine), and the settings the results must carry."""
    data = predictor.bundle.path.read_bytes()
    made = predictor.settings
    options = replace(predictor.options, engine=made["engine"], precision=OPTION_PRECISION[made["precision"]])
    transcribe = None if transcriber is None else transcriber.options
    return ModelOnWorker(predictor.bundle.model_id, data, options, result_settings(predictor, transcriber), transcribe)


class ClusterAnalyser:
    """model.pipeline.assess.Analyser on a Dask client: the plugin is registered the first time there is something to
    analyse, under a name of its own (two runs on one cluster never collide), and removed by `close`."""

    def __init__(self, client: Client, plugin: ModelOnWorker, *, cancel: Callable[[], bool] | None = None):
        self.client, self.plugin, self.cancel = client, plugin, cancel
        self.name = ""  # the registered plugin's, once registered

    def __call__(self, todo: Iterator[tuple[int, Path]]) -> Iterator[tuple[int, RecordingResult, dict]]:
        paths = dict(todo)  # every resume entry is checked first: only recordings to analyse are sent
        if not paths:
            return
        self.name = f"stutterscope-{uuid.uuid4().hex}"
        self.client.register_plugin(self.plugin, name=self.name)
        futures = {self.client.submit(analyse_on_worker, path, self.name, pure=False): i for i, path in paths.items()}
        for future in as_completed(futures, loop=self.client.loop):
            if self.cancel is not None and self.cancel():
                self.client.cancel(list(futures))
                raise Cancelled("batch cancelled; finished recordings are kept")
            i = futures[future]
            if future.status == "finished":
                yield i, *future.result()
            else:
                yield i, self._failed(paths[i], future), {}

    def _failed(self, path: Path, future) -> RecordingResult:
        # "error": it raised, or its workers died allowed-failures times (KilledWorker); else cancelled or lost.
        why = repr(future.exception()) if future.status == "error" else f"the task was {future.status}"
        error = f"{path_text(path)}: the analysis failed on the cluster ({path_text(why)})"
        return RecordingResult(path_text(path), ERROR, error=error, model_id=self.plugin.model_id,
                               settings=self.plugin.settings)

    def close(self) -> None:
        if self.name:
            self.client.unregister_worker_plugin(self.name)  # workers free the model and delete its file


def connect(scheduler: str) -> Client:
    """A client of the Dask scheduler at `scheduler` (tcp://host:8786); RuntimeError naming it if unreachable."""
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise RuntimeError(f"no Dask scheduler answered at {scheduler} within {CONNECT_TIMEOUT_S} s ({e}); start one "
                           "with `dask scheduler` and workers with `dask worker <address>` (README 'Many "
                           "machines')") from e


def assess_on_cluster(paths: Iterable[str | Path], out_dir: str | Path, *, predictor: Predictor, scheduler: str,
                      progress: Callable[[int, int, str], None] | None = None,
                      cancel: Callable[[], bool] | None = None,
                      transcriber: Transcriber | None = None) -> AssessReport:
    """model.pipeline.assess.assess_paths with the recordings analysed on the workers of the Dask cluster at `scheduler`.

    predictor: the model loaded here too (its id and settings make the resume keys; its file is what the
    workers get). Same outputs, resume entries, error rows and lock as assess_paths, all written here;
    progress(done, total, path) as results arrive. Raises RuntimeError when the scheduler cannot be reached.
    """
    with connect(scheduler) as client:
        analyser = ClusterAnalyser(client, model_plugin(predictor, transcriber), cancel=cancel)
        try:
            return assess_paths(paths, out_dir, predictor=predictor, progress=progress, cancel=cancel,
                                transcriber=transcriber, analyser=analyser)
        finally:
            analyser.close()
