"""`stutterscope train`, `evaluate` and `export`. Heavy modules are imported inside the handlers."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def _blocks(value: str) -> str:
    if value in ("head", "all") or value.isdigit():
        return value
    raise argparse.ArgumentTypeError(f"expected a number, 'head' or 'all', not {value!r}")


def register(subparsers) -> None:
    _register_train(subparsers)
    _register_evaluate(subparsers)
    _register_export(subparsers)


def _register_train(subparsers) -> None:
    from ..labels import POOLINGS
    from .options import SELECTIONS, TrainOptions  # light: a dataclass; every default below is read from it

    d = TrainOptions()
    p = subparsers.add_parser("train", help="fine-tune the classifier on a manifest (resumable; torchrun for DDP)")
    p.add_argument("--manifest", type=Path, required=True, action="append",
                   help="manifest (JSONL) with train and dev splits; repeat to train on several together "
                        "(e.g. clip votes and stitched runs with frame targets)")
    p.add_argument("--out", type=Path, required=True, help="run folder: checkpoints, logs, curves")
    p.add_argument("--train-blocks", type=_blocks, default=str(d.train_blocks),
                   help=f"final encoder blocks that train: a number, 'head' (0: head only) or 'all' (default {d.train_blocks})")
    p.add_argument("--context", choices=("trimmed", "padded"), default=d.context,
                   help=f"trimmed 3 s (150 tokens) or padded to 30 s (the paper's setup); default {d.context}")
    p.add_argument("--epochs", type=int, default=d.epochs,
                   help=f"at most this many (early stopping on dev macro F1); default {d.epochs}")
    p.add_argument("--patience", type=int, default=d.patience,
                   help=f"epochs without dev improvement before stopping (default {d.patience})")
    p.add_argument("--batch-size", type=int, default=d.batch_size,
                   help=f"clips per step, over all processes (default {d.batch_size})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"learning rate of the encoder blocks (default {d.lr})")
    p.add_argument("--head-lr", type=float, default=d.head_lr, help=f"learning rate of the head (default {d.head_lr})")
    p.add_argument("--lr-floor", type=float, default=d.lr_floor,
                   help=f"the cosine decay ends at this share of each learning rate (default {d.lr_floor})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"head initialisation, batch order, dropout (default {d.seed})")
    p.add_argument("--device", default=d.device, help="auto (CUDA when present), cpu, cuda, cuda:1, ...")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default=d.precision,
                   help="auto: bf16 autocast on GPU, fp32 on CPU")
    p.add_argument("--features", choices=("auto", "prefix", "mel"), default=d.features,
                   help="auto: frozen-prefix cache when blocks are frozen, else log-mel (full forward)")
    p.add_argument("--weights", default=d.weights, help=f"Whisper weights name, or an encoder .safetensors (default {d.weights})")
    p.add_argument("--cache-dir", default=d.cache_dir, help="feature caches (default: the user cache folder)")
    p.add_argument("--cache-compute", choices=("fp32", "bf16"), default=d.cache_compute, help="prefix cache precision")
    p.add_argument("--soft-targets", action="store_true", help="train on votes/3 instead of the >= 2 votes cut")
    p.add_argument("--no-class-weights", action="store_true", help="plain BCE, no weighting of rare types")
    p.add_argument("--pos-weight-cap", type=float, default=d.pos_weight_cap,
                   help=f"largest positive weight of a rare type (default {d.pos_weight_cap})")
    p.add_argument("--no-joined", action="store_true", help="leave out the joined multi-stuttered samples")
    p.add_argument("--feature-noise", type=float, default=d.feature_noise, help="prefix path: relative Gaussian noise")
    p.add_argument("--no-spec-augment", action="store_true", help="mel path: no frequency/time masking")
    p.add_argument("--freq-mask-bands", type=int, default=d.freq_mask_bands,
                   help=f"SpecAugment: mel bands per frequency mask, at most (default {d.freq_mask_bands})")
    p.add_argument("--time-mask-frames", type=int, default=d.time_mask_frames,
                   help=f"SpecAugment: frames per time mask, at most (default {d.time_mask_frames})")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--head", choices=("frame", "mean"), default=d.head,
                   help="frame: per-20-ms logits pooled into clip logits (default); mean: the first models' head")
    p.add_argument("--pooling", choices=POOLINGS, default=d.pooling,
                   help="frame head: frames -> clip by auto (softmax of the logits) or attention pooling")
    p.add_argument("--frame-loss-weight", type=float, default=d.frame_loss_weight,
                   help="weight of the frame loss on records with frame targets (0: clip votes only)")
    p.add_argument("--frame-channels", default=",".join(d.frame_channels),
                   help="comma-separated channels the frame targets supervise")
    p.add_argument("--no-frame-class-weights", action="store_true", help="plain frame BCE, no positive weights")
    p.add_argument("--no-clip-moment", action="store_true",
                   help="no clip loss on the pooled moment channel (target: any stuttering-like type)")
    p.add_argument("--frame-records-clip-loss", action="store_true",
                   help="clip loss also on records with frame targets where they carry clip labels")
    p.add_argument("--select-on", choices=SELECTIONS, default=d.select_on,
                   help="early stopping on dev clip macro F1, dev frame moment F1, or auto: their mean")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (on a busy machine 1 can be far faster than 2)")
    p.set_defaults(func=run_train)


def _register_evaluate(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="F1 metrics of a model file on a manifest split")
    p.add_argument("--model", type=Path, default=None, help="model file (default: the bundled model)")
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--split", default="test", help="manifest split to evaluate ('all' for every clip)")
    p.add_argument("--out", type=Path, default=Path("."), help="folder for the JSON and the PR-curve PNG")
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    p.add_argument("--moments", action="store_true",
                   help="score moments against the SLPs' annotations (a `prep casa` manifest) instead of clips")
    p.add_argument("--slps-only", action="store_true", help="with --moments: only the SLPs against each other")
    p.add_argument("--tune-decoding", action="store_true",
                   help="with --moments: also grid-search the decoding settings on this split (use dev)")
    p.add_argument("--cv", action="store_true",
                   help="score whole episodes (runs joined end to end) of a `prep casa` manifest, every split, "
                        "beside the two trivial floors and the SLPs' agreement, per severity band, with a paired "
                        "bootstrap over speakers; models come as cached frame probabilities (--probs)")
    p.add_argument("--probs", action="append", default=[], metavar="NAME=FILE[,FILE...]",
                   help="with --cv: a recipe's frame probabilities (benchmarks/frame_probs_cache.py .npz, one per "
                        "fold's model or one); repeat to compare recipes")
    p.add_argument("--decoding", type=json.loads, default=None,
                   help="with --cv: decode every source with these settings (JSON) instead of each file's own")
    p.add_argument("--resamples", type=int, default=2000, help="with --cv: bootstrap resamples (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="with --cv: the folds' and the bootstrap's seed (default 0)")
    # chat_words: CHAT text -> words, handed in by the CLI root (data_prep reads CHAT; model never imports it).
    p.set_defaults(func=run_evaluate, chat_words=None)


def _register_export(subparsers) -> None:
    p = subparsers.add_parser("export", help="write a run's best epoch as one model file")
    p.add_argument("run_dir", type=Path, help="the run folder of `stutterscope train`")
    p.add_argument("--out", type=Path, required=True, help="model file to write (.safetensors)")
    p.add_argument("--manifest", type=Path, default=None, help="for dev/test metrics (default: the run's)")
    p.add_argument("--test-split", default="test")
    p.add_argument("--json", type=Path, default=None, help="also write the metadata as readable JSON here")
    p.add_argument("--moments-manifest", type=Path, default=None,
                   help="frame models: `prep casa` records to tune the decoding on (dev) and score moments "
                        "(default: the run's own records with SLP moments)")
    p.set_defaults(func=run_export)


def options_from_args(args):
    from .options import TrainOptions

    return TrainOptions(
        weights=args.weights, train_blocks=_train_blocks(args.train_blocks, args.weights), context=args.context,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, head_lr=args.head_lr, lr_floor=args.lr_floor,
        patience=args.patience,
        seed=args.seed, device=args.device, precision=args.precision, features=args.features,
        cache_dir=args.cache_dir, cache_compute=args.cache_compute, soft_targets=args.soft_targets,
        class_weighting=not args.no_class_weights, pos_weight_cap=args.pos_weight_cap,
        include_joined=not args.no_joined, feature_noise=args.feature_noise, spec_augment=not args.no_spec_augment,
        freq_mask_bands=args.freq_mask_bands, time_mask_frames=args.time_mask_frames, progress=not args.no_progress,
        head=args.head, pooling=args.pooling, frame_loss_weight=args.frame_loss_weight,
        frame_channels=tuple(c.strip() for c in args.frame_channels.split(",") if c.strip()),
        frame_class_weighting=not args.no_frame_class_weights, clip_moment=not args.no_clip_moment,
        frame_records_clip_loss=args.frame_records_clip_loss, select_on=args.select_on)


def _train_blocks(value: str, weights: str) -> int:
    if value == "head":
        return 0
    if value == "all":
        from .model_init import load_encoder

        return load_encoder(weights)[0].n_audio_layer
    return int(value)


def run_train(args) -> int:
    import torch

    from .loop import train

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    opt = options_from_args(args)
    result = train(args.manifest, args.out, opt, resume=args.resume)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"trainable parameters: {result.n_trainable:,}")
        print(f"best dev macro F1 {result.best_score:.4f} at epoch {result.best_epoch} "
              f"({result.epochs_run} epochs); run folder: {result.run_dir}")
    return 0


def run_evaluate(args) -> int:
    if args.cv:
        return run_cv_evaluation(args)
    if args.probs or args.decoding is not None:
        raise ValueError("--probs and --decoding belong to --cv; add --cv")
    if args.moments or args.slps_only or args.tune_decoding:
        return run_moment_evaluation(args)
    from ..encoder.bundle import load_bundle
    from ..manifest import manifest_root, read_manifest
    from .data import hard_labels
    from .evaluation import evaluate_model, format_table, plot_pr_curves

    bundle = load_bundle(args.model)
    records = read_manifest(args.manifest)
    chosen = records if args.split == "all" else [r for r in records if r.get("split") == args.split]
    if not chosen:
        raise ValueError(f"no clips in split {args.split!r} of {args.manifest}; choose another --split")
    metrics, probs = evaluate_model(bundle.model, bundle.thresholds, chosen, manifest_root(args.manifest),
                                    compute=args.precision, progress=True)
    print(f"model {bundle.model_id}  split {args.split}  ({len(chosen)} clips)")
    print(format_table(metrics))
    args.out.mkdir(parents=True, exist_ok=True)
    result = {"model_id": bundle.model_id, "manifest": str(args.manifest), "split": args.split, **metrics}
    json_path = args.out / f"evaluation_{args.split}.json"
    json_path.write_text(json.dumps(result, indent=1))
    png = plot_pr_curves(hard_labels(chosen, bundle.config.labels), probs, bundle.config.labels,
                         args.out / f"pr_curves_{args.split}.png", thresholds=bundle.thresholds,
                         title=f"{args.split} ({len(chosen)} clips), model {bundle.short_id}")
    print(f"saved {json_path} and {png}")
    return 0


def run_moment_evaluation(args) -> int:
    from ..manifest import manifest_root, read_manifest
    from .moment_eval import evaluate_moments
    from .moment_scores import format_report

    records = [r for r in read_manifest(args.manifest) if r.get("moments") is not None
               and (args.split == "all" or r.get("split") == args.split)]
    if not records:
        raise ValueError(f"no records with SLP moments in split {args.split!r} of {args.manifest}; "
                         "give a `stutterscope prep casa` manifest and one of its splits")
    predictor = None
    if not args.slps_only:
        from ..encoder.bundle import load_bundle
        from ..pipeline.inference import InferenceOptions, Predictor

        # A model without a frame head is refused here, naming the file and the fix (model.encoder.bundle.require_frame_head).
        predictor = Predictor(load_bundle(args.model), options=InferenceOptions(precision=args.precision))
    scores = evaluate_moments(records, chat_words=args.chat_words, predictor=predictor,
                              root=manifest_root(args.manifest), tune=args.tune_decoding, progress=True)
    who = "SLPs only" if predictor is None else f"model {predictor.bundle.model_id}"
    print(f"{who}  split {args.split}  moments")
    print(format_report(scores))
    if "tuned" in scores:
        print(f"tuned decoding (mean F1 {scores['tuned']['mean_f1']:.3f}): {json.dumps(scores['tuned']['decoding'])}")
    args.out.mkdir(parents=True, exist_ok=True)
    json_path = args.out / f"moment_evaluation_{args.split}.json"
    json_path.write_text(json.dumps({"manifest": str(args.manifest), "split": args.split, **scores}, indent=1))
    print(f"saved {json_path}")
    return 0


def run_cv_evaluation(args) -> int:
    from ..audio.decode import TOKENS_PER_SECOND
    from ..fileio import atomic_write_text
    from ..jsonable import dumps
    from ..manifest import read_manifest
    from ..moments.decoding import MomentDecoding
    from .cv_report import evaluate_cv, format_markdown, read_frame_source
    from .moment_eval import syllable_counter

    if args.chat_words is None:
        raise ValueError("--cv counts CHAT syllables; run it from the stutterscope command (which reads CHAT)")
    decoding = MomentDecoding.from_dict(args.decoding) if args.decoding is not None else None
    sources = []
    for spec in args.probs:
        name, sep, files = spec.partition("=")
        if not sep or not name or not files:
            raise ValueError(f"--probs takes NAME=FILE[,FILE...], got {spec!r}")
        sources.append(read_frame_source(name, [Path(f) for f in files.split(",")], decoding=decoding))
    report = evaluate_cv(read_manifest(args.manifest), syllables_of=syllable_counter(args.chat_words),
                         sources=sources, frame_rate=TOKENS_PER_SECOND, resamples=args.resamples, seed=args.seed)
    table = format_markdown(report)
    args.out.mkdir(parents=True, exist_ok=True)
    # Written before printing: a closed pipe (`| head`) must not lose the files.
    atomic_write_text(args.out / "cv_evaluation.json", dumps({"manifest": str(args.manifest), **report}, indent=1))
    atomic_write_text(args.out / "cv_evaluation.md", table + "\n")
    print(table)
    print(f"saved {args.out / 'cv_evaluation.json'} and cv_evaluation.md")
    return 0


def run_export(args) -> int:
    from .evaluation import format_table
    from .export import export_run

    model_id, meta = export_run(args.run_dir, args.out, manifest=args.manifest, test_split=args.test_split,
                                json_copy=args.json, progress=True, moments_manifest=args.moments_manifest)
    for split, metrics in meta["training"]["metrics"].items():
        print(f"-- {split} --")
        print(format_table(metrics))
    if "decoding" in meta:
        from .moment_scores import format_report

        print(f"decoding (tuned on the dev split): {json.dumps(meta['decoding'])}")
        for split, scores in meta["training"].get("moment_metrics", {}).items():
            print(f"-- {split} moments --")
            print(format_report(scores))
    print(f"wrote {args.out} (model id {model_id})")
    return 0
