"""Two seeds' MLP heads as ONE shipped frame head (issue 24 item 5): the folded head computes the seeds' mean
logit, in torch and in numpy, inside a model file that loads and runs."""

import dataclasses

import numpy as np
import pytest
import torch

from model.encoder.bundle import load_bundle, save_bundle
from model.encoder.classifier import ClassifierConfig
from model.encoder.ct2_engine import NumpyFrameHead
from model.encoder.frame_head import FrameHead
from model.training.cv_train import HeadRecipe, Item, train_head_fixed
from model.training.frozen_head import fold_seeds, frozen_classifier, logit_mean
from model.training.heads import make_head


def _seeds(width: int, hidden: int, n: int = 2) -> list[torch.nn.Module]:
    """n MLP heads whose LayerNorm affine is far from the identity (so folding it in is really tested)."""
    heads = []
    for seed in range(n):
        torch.manual_seed(seed)
        h = make_head("mlp", width=width, hidden=hidden, n_channels=6).eval()
        with torch.no_grad():
            h.net[0].weight.uniform_(0.3, 2.0)
            h.net[0].bias.normal_(0.0, 0.5)
        heads.append(h)
    return heads


def test_the_folded_head_gives_the_seeds_mean_logit_in_torch_and_numpy():
    heads = _seeds(64, 16)
    x = torch.randn(2, 120, 64) * 2 + 0.5
    with torch.no_grad():
        want = torch.stack([h(x) for h in heads]).mean(0)  # (batch, frames, channels) logits
    folded = fold_seeds([h.state_dict() for h in heads])
    head = FrameHead(64, 32, 6, dropout=0.1, pooling="auto", norm=True).eval()
    head.load_state_dict({**folded, "alpha": torch.ones(6)})
    with torch.no_grad():
        got = head(x)[0]
    assert torch.abs(got - want).max() < 1e-4
    numpy = NumpyFrameHead({f"head.{k}": v.numpy() for k, v in head.state_dict().items()}, "test", norm=True)
    assert np.abs(numpy.probs(x.numpy()) - torch.sigmoid(want).numpy()).max() < 1e-5


def test_logit_mean_is_what_the_folded_head_outputs():
    heads = _seeds(64, 16)
    x = torch.randn(1, 80, 64)
    with torch.no_grad():
        probs = [{"r": torch.sigmoid(h(x))[0].numpy()} for h in heads]
        want = torch.sigmoid(torch.stack([h(x) for h in heads]).mean(0))[0].numpy()
    assert np.abs(logit_mean(probs)["r"] - want).max() < 1e-5
    # Not the probabilities' mean: that is what the cross-validation compared it with.
    assert np.abs((probs[0]["r"] + probs[1]["r"]) / 2 - want).max() > 1e-3


def test_a_model_file_with_the_folded_head_round_trips(tiny_config, tiny_model, tmp_path):
    heads = _seeds(tiny_config.dims.n_audio_state, 16)
    config = dataclasses.replace(tiny_config, head="frame", head_norm=True, head_hidden=32, train_blocks=0)
    encoder = {k: v.clone() for k, v in tiny_model.encoder.state_dict().items()}
    model = frozen_classifier([h.state_dict() for h in heads], encoder, config)
    path = tmp_path / "frozen.safetensors"
    save_bundle(model, path, thresholds=dict.fromkeys(config.labels, 0.5))
    bundle = load_bundle(path)
    assert bundle.config.head_norm and bundle.config.to_dict()["head_norm"] is True
    assert "head_norm" not in tiny_config.to_dict()  # off: left out, old files' metadata unchanged
    assert ClassifierConfig.from_dict(tiny_config.to_dict()).head_norm is False
    mel = torch.randn(1, 80, 400)
    with torch.no_grad():
        x = model.encode(mel)  # (1, tokens, width): the encoder as given, then the heads
        want = torch.stack([h(x) for h in heads]).mean(0)
        got = bundle.model.forward_frames(mel)[0]
    assert torch.abs(got - want).max() < 1e-3  # fp16-stored encoder
    with pytest.raises(ValueError, match="head_hidden must be 32"):
        frozen_classifier([h.state_dict() for h in heads], encoder, dataclasses.replace(config, head_hidden=64))
    with pytest.raises(ValueError, match="head_norm on"):
        frozen_classifier([h.state_dict() for h in heads], encoder, dataclasses.replace(config, head_norm=False))


def test_a_head_trained_for_fixed_epochs_has_no_dev_set_and_is_seeded():
    rng = np.random.default_rng(0)
    items = []
    for i in range(4):
        y = np.zeros((300, 6), np.float32)
        y[100:160, 0] = 1.0
        x = rng.normal(0, 1, (300, 16)).astype(np.float16)
        x[:, 0] += 5 * y[:, 0]
        items.append(Item(f"r{i}", x, y, np.ones_like(y)))
    recipe = HeadRecipe(head="mlp", hidden=16, epochs=3, crop_frames=100, batch=8, lr=1e-2)
    model, history = train_head_fixed(recipe, items, seed=0)
    again, _ = train_head_fixed(recipe, items, seed=0)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    x = torch.from_numpy(items[0].x.astype(np.float32))[None]
    with torch.no_grad():
        p = torch.sigmoid(model(x))[0, :, 0].numpy()
        assert torch.equal(model(x), again(x))
    assert p[100:160].mean() > 0.5 > p[:100].mean()
