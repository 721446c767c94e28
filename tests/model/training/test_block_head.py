"""Issue 24 item 2: a frame head on top of Whisper's fine-tuned last block, in the cross-validation.

The block heads read the features before the last block (model.training.frozen_features with train_blocks=1):
run on those, their block and ln_post must give exactly what the whole encoder gives, and training must move the
block at its own learning rate. Batches for them are never padded: attention has no padding mask.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.training.cv_train import HeadRecipe, Item, _batch, _start, train_head
from model.training.heads import BlockHead, make_block_head
from model.training.model_init import build_model


def test_the_block_on_prefix_features_is_the_whole_encoder(tiny_en):
    model, _ = build_model(tiny_en, train_blocks=1, context="trimmed", head="frame")
    head = make_block_head("block-mlp", weights=tiny_en, hidden=16, n_channels=6).eval()
    mel = torch.randn(2, 80, 300)
    with torch.no_grad():
        x = model.eval().encode_prefix(mel)
        for block in head.blocks:
            x = block(x)
        assert torch.allclose(head.ln_post(x), model.encode(mel), atol=1e-5)
        assert head(model.encode_prefix(mel)).shape == (2, 150, 6)


def test_a_block_head_is_named_block_and_a_head():
    with pytest.raises(ValueError, match="block-mlp"):
        make_block_head("mlp", hidden=16, n_channels=6)


def _items(width: int, lengths: list[int]) -> list[Item]:
    rng = np.random.default_rng(0)
    out = []
    for i, n in enumerate(lengths):
        y = np.zeros((n, 6), np.float32)
        y[n // 3: n // 2, :2] = 1.0  # a marked stretch, so the dev AUC is defined
        out.append(Item(f"r{i}", rng.normal(size=(n, width)).astype(np.float16), y, np.ones((n, 6), np.float32)))
    return out


def test_block_head_batches_are_never_padded():
    items = _items(8, [20, 35, 50, 200, 7])
    recipe = HeadRecipe(head="block-mlp", crop_frames=40, batch=6)
    rng = np.random.default_rng(1)
    for _ in range(50):
        x, _, w = _batch(items, rng, recipe)
        assert x.shape[1] <= 40
        assert bool((w > 0).all()), "a padded frame in a block head's batch"
        assert bool((x.abs().sum(-1) > 0).all())
    # the frame heads keep their fixed-length, padded crops
    x, _, w = _batch(items, np.random.default_rng(1), HeadRecipe(head="mlp", crop_frames=40, batch=6))
    assert x.shape[1] == 40


def test_training_moves_the_block_at_its_own_learning_rate(tiny_en):
    width = build_model(tiny_en, train_blocks=1, context="trimmed", head="frame")[0].config.dims.n_audio_state
    items = _items(width, [60, 80, 100, 120])
    recipe = HeadRecipe(head="block-mlp", hidden=16, epochs=1, crop_frames=50, batch=4, lr=1e-3, encoder_lr=1e-5,
                        encoder_weights=tiny_en)
    model, opt, *_ = _start(recipe, items, seed=0)
    assert isinstance(model, BlockHead)
    assert [g["lr"] for g in opt.param_groups] == [1e-5, 1e-3]
    before = [p.detach().clone() for p in model.encoder_parameters()]
    trained, history = train_head(recipe, items[:3], items[3:], seed=0)
    assert len(history) == 1 and 0.0 <= history[0]["dev_auc"] <= 1.0
    moved = [float((p.detach() - b).abs().max()) for p, b in zip(trained.encoder_parameters(), before, strict=True)]
    assert max(moved) > 0, "the block did not train"
