"""Training, never shipped with the desktop app: caches -> loop -> checkpoints -> export, with evaluation.

Read in this order: `options` (what decides a run), `caches` (features computed once per clip), `data`
(clip sets and batches), `model_init` (the starting model), `loop` (one run), `checkpoints` (what RUN_DIR
holds), `thresholds` and `evaluation` (tuning and metrics), `model_card` and `export` (the model file),
`distributed` (torchrun), `cli` (`stutterscope train`, `evaluate`, `export`).
"""
