"""`stutterscope info`, `assess` and `predict`: running a model file over recordings and clips."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

from ..encoder.inference_options import ENGINES, PRECISIONS, InferenceOptions
from ..measures.speakers import MEASURED as SPEAKERS_MEASURED
from ..measures.words import BACKENDS, TranscribeOptions
from .assess import SPEAKERS, SPEAKERS_OFF


def _add_model_options(p: argparse.ArgumentParser) -> None:
    d = InferenceOptions()
    p.add_argument("--model", type=Path, default=None, help="model file (.safetensors); default: the bundled model")
    p.add_argument("--device", default=d.device, help=f"auto (CUDA when present), cpu, cuda, cuda:N (default {d.device})")
    p.add_argument("--precision", default=d.precision, choices=PRECISIONS,
                   help="auto: on torch bf16 where the hardware runs it natively; on ct2 int8 where this model's int8 "
                        "moments were checked against fp32, else fp32. int8 runs on ct2 only, bf16 on torch only")
    p.add_argument("--engine", default=d.engine, choices=ENGINES,
                   help="what runs the model: ct2 (CTranslate2, no torch) or torch; auto: ct2 for frame models of "
                        "Whisper base's shape where CTranslate2 is installed, else torch")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"windows per forward pass (default {d.batch_size})")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="versions, device, Whisper weights and the default model")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("assess", help="assess recordings (files or folders) into summary/events CSV and JSON")
    p.add_argument("paths", nargs="+", type=Path, help="recordings, or folders searched recursively")
    p.add_argument("--out", type=Path, required=True, help="output folder (re-running resumes)")
    p.add_argument("--hop", type=float, default=InferenceOptions().hop_seconds,
                   help=f"seconds between the speech check's 3 s windows (the model's own windows are in the model "
                        f"file) (default {InferenceOptions().hop_seconds:g})")
    p.add_argument("--words", action="store_true",
                   help="also transcribe (offline Whisper base) and add syllables, SPM, %%SS and the three longest "
                        "to the outputs; <name>.exclude.csv or an 'exclude' tier in <name>.TextGrid marks stretches "
                        "that are not the client")
    p.add_argument("--language", default=TranscribeOptions.language,
                   help=f"Whisper language code for --words (default {TranscribeOptions.language}; 'auto' detects)")
    p.add_argument("--words-backend", default=TranscribeOptions.backend, choices=BACKENDS,
                   help=f"how --words transcribes (default {TranscribeOptions.backend})")
    p.add_argument("--speakers", default=SPEAKERS_OFF, choices=SPEAKERS,
                   help="auto: where a recording has no exclusion sidecar, find the voices and mark every voice but "
                        "the one with the most speech as not the client (a proposal: "
                        f"{SPEAKERS_MEASURED}; check it); a sidecar still wins (default {SPEAKERS_OFF})")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a Dask scheduler (tcp://host:8786): its workers analyse the recordings, this machine writes "
                        "the outputs; recordings must be on a path every worker sees (README 'Many machines'; "
                        "needs the 'cluster' extra)")
    _add_model_options(p)
    p.set_defaults(func=cmd_assess)

    p = sub.add_parser("predict", help="clip-level probabilities and decisions for clips of up to 30 s")
    p.add_argument("paths", nargs="+", type=Path, help="clips, or folders searched recursively")
    p.add_argument("--out", type=Path, default=None, help="CSV file (default: standard output)")
    _add_model_options(p)
    p.set_defaults(func=cmd_predict)


def _predictor(args, hop: float | None = None):
    from dataclasses import replace

    from ..encoder.bundle import load_bundle
    from .inference import Predictor

    bundle = load_bundle(args.model, build_model=False)  # the torch model is built only if the torch engine runs
    options = InferenceOptions(batch_size=args.batch_size, device=args.device, precision=args.precision,
                               engine=args.engine)
    if hop is not None:
        options = replace(options, hop_seconds=hop)
    return Predictor(bundle, options=options)


def _transcriber(args):
    from ..measures.words import Transcriber

    options = TranscribeOptions(backend=args.words_backend, language=None if args.language == "auto" else args.language)
    return Transcriber(options)


def _assess_on_cluster():
    try:
        from .assess_cluster import assess_on_cluster
    except ImportError as e:  # distributed is an extra: say how to get it
        raise RuntimeError(f"--scheduler needs Dask distributed ({e}); install it with "
                           "pip install 'stutterscope[cluster]'") from e
    return assess_on_cluster


def cmd_assess(args) -> int:
    from tqdm import tqdm

    from .assess import EVENTS_CSV, RESULTS_JSON, SUMMARY_CSV, assess_paths, collect_recordings
    from .outputs import check_output_folder

    if args.scheduler is not None and args.speakers != SPEAKERS_OFF:
        raise ValueError("--speakers auto runs on this machine only: leave out --scheduler, or --speakers")
    check_output_folder(args.out, args.paths, (SUMMARY_CSV, EVENTS_CSV, RESULTS_JSON))  # before any work
    predictor = _predictor(args, args.hop)
    transcriber = _transcriber(args) if args.words else None
    total = len(collect_recordings(args.paths))
    where = predictor.device if args.scheduler is None else f"the workers of {args.scheduler}"
    print(f"model {predictor.bundle.model_id} on {where} ({predictor.settings['engine']}, "
          f"{predictor.settings['precision']}); "
          f"{total} recording(s) -> {args.out}", file=sys.stderr)
    with tqdm(total=total, unit="rec", file=sys.stderr) as bar:
        def progress(done: int, _total: int, path: str) -> None:
            bar.set_postfix_str(Path(path).name[-30:])
            bar.update(done - bar.n)

        run = (partial(assess_paths, speakers=args.speakers) if args.scheduler is None
               else partial(_assess_on_cluster(), scheduler=args.scheduler))
        report = run(args.paths, args.out, predictor=predictor, progress=progress, transcriber=transcriber)
    for r in report.results:
        if r.status == "error":
            print(f"error: {r.error}", file=sys.stderr)
        elif r.warning:
            print(f"warning: {r.warning}", file=sys.stderr)
    print(f"{len(report.results)} recording(s): {len(report.results) - report.n_failed} done "
          f"({report.n_cached} from an earlier run), {report.n_failed} failed. Results in {args.out}",
          file=sys.stderr)
    return 1 if report.n_failed else 0


def cmd_predict(args) -> int:
    from tqdm import tqdm

    from ..fileio import atomic_write_text
    from .outputs import check_output_file, describe_os_error
    from .predict_clips import predict_rows, rows_csv

    if args.out is not None:
        check_output_file(args.out, args.paths, suffix=".csv")  # before any work: never an input, a .csv
    predictor = _predictor(args)
    fields, rows, failed = predict_rows(args.paths, predictor,
                                        progress=lambda found: tqdm(found, unit="clip", file=sys.stderr))
    for row in rows:
        for kind in ("error", "warning"):
            if row[kind]:
                print(f"{kind}: {row[kind]}", file=sys.stderr)
    text = rows_csv(fields, rows)
    if args.out is None:
        sys.stdout.write(text)
        return 1 if failed else 0
    try:
        atomic_write_text(args.out, text, private=True)
    except OSError as e:  # the rows are not lost: they go to standard output instead
        sys.stdout.write(text)
        print(f"stutterscope: error: {describe_os_error(e, args.out)}; the rows were written to standard "
              "output instead", file=sys.stderr)
        return 2
    return 1 if failed else 0


def _engine_info(path: Path) -> dict:
    """What `assess` runs a model on by default: the engine and its precision, resolved without running it."""
    from ..encoder.bundle import load_bundle, require_frame_head
    from ..encoder.ct2_engine import INT8_CHECKS, resolve_compute_type
    from ..encoder.inference_options import cpu_has_fast_bf16
    from .inference import resolve_engine

    bundle = load_bundle(path, build_model=False)
    require_frame_head(bundle)  # what assess would say: a model file it cannot run is no engine's
    options = InferenceOptions()
    engine = resolve_engine(options, bundle)
    if engine == "ct2":
        precision = resolve_compute_type(options.precision, bundle)
        check = INT8_CHECKS.get(bundle.model_id, (False, "int8 not checked for this model: auto runs float32"))[1]
        return {"engine": engine, "precision": precision, "int8_check": check}
    return {"engine": engine, "precision": "bfloat16 where the CPU has it natively" if cpu_has_fast_bf16()
            else "float32"}


def _cuda_devices() -> int | str:
    from ..encoder.ct2_engine import ct2_available

    if not ct2_available():
        return "unknown (CTranslate2 is not installed)"
    import ctranslate2

    return ctranslate2.get_cuda_device_count()


def cmd_info(args) -> int:
    import importlib.metadata
    import json
    import os
    import platform

    from .. import __version__
    from ..encoder.bundle import default_model_path, read_metadata
    from ..encoder.inference_options import cpu_has_fast_bf16

    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    info = {
        "stutterscope": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        # Versions from the package metadata: importing torch here would cost seconds, and it may be absent.
        "torch": version("torch"),
        "ctranslate2": version("ctranslate2"),
        "openai-whisper": version("openai-whisper"),
        "cuda_devices": _cuda_devices(),
        "cpu_threads": os.cpu_count(),
        "cpu_native_bf16": cpu_has_fast_bf16(),
    }
    from ..encoder.weights import weights_info

    info["whisper_weights"] = weights_info("base")  # never raises: says "error" when nothing is found
    path = default_model_path()
    if path.is_file():
        from ..encoder.bundle import file_sha256

        try:
            meta = read_metadata(path)
            info["default_model"] = {"path": str(path), "model_id": file_sha256(path),
                                     "thresholds": meta.get("thresholds"), "training": meta.get("training", {}),
                                     "inference": _engine_info(path)}
        except ValueError as e:  # a damaged or format-1 file (STUTTERSCOPE_MODEL): the rest is still worth seeing
            info["default_model"] = {"path": str(path), "error": str(e)}
    else:
        info["default_model"] = f"missing: {path}"
    print(json.dumps(info, indent=2, default=str))
    return 0
