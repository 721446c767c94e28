"""Training speed: one epoch from the frozen-prefix cache vs. a full forward pass, vs. the paper's setup.

Measured in one run on the same clips (the first --clips of a manifest's train split), each way doing
what one optimiser step of last-block training needs (forward, backward, AdamW step):
  prefix cache   the cached output of the 5 frozen blocks -> last block + head   (what `train` does)
  full forward   log-mel -> all 6 blocks (frozen ones without gradients) -> head, 3 s trimmed context
  paper setup    the same, padded to 30 s (1,500 tokens), as in the paper
Log-mel is computed beforehand for the two full-forward ways, so decoding is not counted against them.
Seconds per epoch are per-clip times scaled to the train split's size. The one-off cost of building
the cache is reported too. Usage:
    python benchmarks/training.py --manifest M [--clips 32] [--precision bf16] [--threads 1] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch


def _clips(manifest: Path, n: int) -> tuple[list[dict], int, Path]:
    from model.manifest import manifest_root, read_manifest

    train = [r for r in read_manifest(manifest) if r["split"] == "train" and not r.get("parts")]
    if len(train) < n:
        raise ValueError(f"{manifest} has {len(train)} plain train clips; ask for --clips {len(train)} or fewer")
    return train[:n], len(train), manifest_root(manifest)


def _step_timer(model, batches, forward, precision: str) -> float:
    """Seconds per clip of forward + backward + AdamW over the batches (after one warm-up batch)."""
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    model.train()
    clips, seconds = 0, 0.0
    for i, batch in enumerate(batches):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = forward(batch).float().mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i > 0:  # the first batch pays for allocations and kernel selection
            seconds += time.perf_counter() - t0
            clips += batch.shape[0]
    return seconds / clips


def measure(manifest: Path, *, n_clips: int, batch_size: int, precision: str) -> dict:
    from model.manifest import load_record_audio
    from model.training.caches import CacheKey, clip_mel, prefix_features
    from model.training.model_init import build_model

    records, n_train, root = _clips(manifest, n_clips)
    mels = torch.stack([clip_mel(load_record_audio(r, root), CacheKey(kind="mel"))[0] for r in records])
    batches = list(torch.split(mels, batch_size))  # (batch, 80, 300) each
    results = {"clips": n_clips, "train_clips": n_train, "batch_size": batch_size, "precision": precision,
               "threads": torch.get_num_threads()}
    trimmed, _ = build_model("base", train_blocks=1, context="trimmed")
    t0 = time.perf_counter()
    cached = [prefix_features(trimmed, b, compute=precision) for b in batches]
    results["cache_build_s_per_clip"] = (time.perf_counter() - t0) / n_clips
    results["prefix_cache"] = _step_timer(trimmed, cached, lambda x: trimmed.forward_from_prefix(x), precision)
    results["full_forward"] = _step_timer(trimmed, batches, lambda m: trimmed(m), precision)
    padded, _ = build_model("base", train_blocks=1, context="padded")
    results["paper_padded_30s"] = _step_timer(padded, batches, lambda m: padded(m), precision)
    return results


def table(r: dict) -> str:
    n = r["train_clips"]
    base = r["prefix_cache"]
    rows = [("prefix cache (ours)", r["prefix_cache"]), ("full forward, 3 s trimmed", r["full_forward"]),
            ("full forward, 30 s padded (paper)", r["paper_padded_30s"])]
    lines = [f"Last-block training, {r['clips']} FluencyBank clips, batch {r['batch_size']}, {r['precision']}, "
             f"{r['threads']} thread(s); epoch = {n:,} train clips",
             "", "| way | ms per clip | s per epoch | prefix cache is faster by |", "|---|---:|---:|---:|"]
    for name, s in rows:
        lines.append(f"| {name} | {s * 1e3:.1f} | {s * n:.0f} | {s / base:.1f}x |")
    lines.append(f"\nOne-off cache build: {r['cache_build_s_per_clip'] * 1e3:.1f} ms per clip "
                 f"({r['cache_build_s_per_clip'] * n:.0f} s for the train split).")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="bf16")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy 2-core box)")
    parser.add_argument("--out", type=Path, default=None, help="also save the numbers as JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = measure(args.manifest, n_clips=args.clips, batch_size=args.batch_size, precision=args.precision)
    print(table(results))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
