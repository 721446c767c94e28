"""The frame head: shapes, masking, pooling invariances, trainable counts, old configs still load."""

import pytest
import torch

from model.encoder.classifier import ClassifierConfig, StutterClassifier
from model.encoder.frame_head import FrameHead, masked_softmax_pool


def _frame_config(tiny_config, **kw):
    return ClassifierConfig(**{**tiny_config.__dict__, "head": "frame", **kw})


@pytest.fixture(scope="module", params=["auto", "attention"])
def frame_model(request, tiny_config):
    torch.manual_seed(0)
    return StutterClassifier(_frame_config(tiny_config, pooling=request.param)).eval()


def test_forward_frames_shapes_and_channels(frame_model):
    mel = torch.randn(2, 80, 500)  # 5 s
    with torch.no_grad():
        frames, clip = frame_model.forward_frames(mel, torch.tensor([500, 320]))
        plain = frame_model(mel, torch.tensor([500, 320]))
    assert frames.shape == (2, 250, 6)  # one token per 20 ms; moment + 5 types
    assert clip.shape == (2, 5)
    assert frame_model.config.channels == ("moment", "Prolongation", "Block", "SoundRep", "WordRep", "Interjection")
    torch.testing.assert_close(plain, clip)


def test_prefix_path_equals_full_forward(frame_model):
    mel = torch.randn(3, 80, 300)
    with torch.no_grad():
        full = frame_model.forward_frames(mel)
        split = frame_model.forward_frames_from_prefix(frame_model.encode_prefix(mel))
    torch.testing.assert_close(full[0], split[0])
    torch.testing.assert_close(full[1], split[1])


def test_pooling_ignores_tokens_past_the_valid_count(frame_model):
    head = frame_model.head
    x = torch.randn(2, 150, 64)
    garbage = torch.cat([x, 1e3 * torch.randn(2, 50, 64)], dim=1)
    with torch.no_grad():
        frames, pooled = head(garbage, torch.tensor([150, 150]))
        torch.testing.assert_close(pooled, head(x)[1])
        torch.testing.assert_close(frames[:, :150], head(x)[0])  # frame logits are per token: padding cannot leak
        assert not torch.allclose(head(garbage)[1], head(x)[1])


def test_pooling_is_invariant_to_token_order_and_bounded_by_the_frames(frame_model):
    head = frame_model.head
    x = torch.randn(1, 120, 64)
    perm = torch.randperm(120)
    with torch.no_grad():
        frames, pooled = head(x)
        torch.testing.assert_close(head(x[:, perm])[1], pooled)
    # A softmax-weighted mean of a channel's frame logits lies between their min and max.
    assert torch.all(pooled <= frames.max(dim=1).values + 1e-5)
    assert torch.all(pooled >= frames.min(dim=1).values - 1e-5)


def test_auto_pool_sharpness_spans_mean_to_max():
    values = torch.tensor([[[0.0], [0.0], [0.0], [4.0]]])  # (1, 4 tokens, 1 channel): one short event
    mean = masked_softmax_pool(0.0 * values, values, None)
    sharp = masked_softmax_pool(50.0 * values, values, None)
    assert float(mean) == pytest.approx(1.0)  # alpha 0: the mean dilutes the event
    assert float(sharp) == pytest.approx(4.0, abs=1e-4)  # large alpha: the max finds it


def test_a_fully_masked_row_pools_to_zero_not_nan():
    values = torch.randn(2, 5, 3)
    mask = torch.tensor([[True] * 5, [False] * 5])
    pooled = masked_softmax_pool(values, values, mask)
    assert torch.isfinite(pooled).all()
    assert torch.all(pooled[1] == 0)


def test_pooling_gradients_reach_only_valid_frames():
    head = FrameHead(8, 4, 3, dropout=0.0, pooling="auto")
    x = torch.randn(1, 10, 8, requires_grad=True)
    _, pooled = head(x, torch.tensor([6]))
    pooled.sum().backward()
    assert x.grad[0, 6:].abs().sum() == 0
    assert x.grad[0, :6].abs().sum() > 0


def test_trainable_counts_default_last_block():
    mean = StutterClassifier(ClassifierConfig())
    frame = StutterClassifier(ClassifierConfig(head="frame"))
    attention = StutterClassifier(ClassifierConfig(head="frame", pooling="attention"))
    head_mean = 512 * 256 + 256 + 256 * 5 + 5
    head_frame = 512 * 256 + 256 + 256 * 6 + 6 + 6  # + per-channel sharpness
    assert mean.n_trainable() == 3_285_509
    assert frame.n_trainable() == 3_285_509 - head_mean + head_frame  # last block + ln_post still train
    assert attention.n_trainable() == frame.n_trainable() - 6 + 256 * 6 + 6
    assert frame.set_trainable(0) == head_frame


def test_mean_head_has_no_frames_and_old_configs_load_as_mean(tiny_model, tiny_config):
    with pytest.raises(ValueError, match="frame head"):
        tiny_model.forward_frames(torch.randn(1, 80, 300))
    old = tiny_config.to_dict()
    del old["head"], old["pooling"]  # what format-1 model files hold
    restored = ClassifierConfig.from_dict(old)
    assert restored.head == "mean"
    assert StutterClassifier(restored).state_dict().keys() == tiny_model.state_dict().keys()


@pytest.mark.parametrize("bad", [{"head": "max"}, {"pooling": "mean"}])
def test_bad_head_options_are_refused(bad):
    with pytest.raises(ValueError):
        ClassifierConfig(**bad)
