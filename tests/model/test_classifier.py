import pytest
import torch

from model.encoder.classifier import ClassifierConfig, StutterClassifier, tokens_for_frames


def test_default_trainable_parameters_match_the_paper():
    # Whisper base, last block + ln_post + head: the paper's "3.29M".
    model = StutterClassifier(ClassifierConfig())
    assert model.n_trainable() == 3_285_509
    assert model.set_trainable(0) == 512 * 256 + 256 + 256 * 5 + 5  # head only


def test_trimmed_context_gives_tokens_for_the_input_length(tiny_model):
    mel = torch.randn(2, 80, 300)
    assert tiny_model.embed(mel).shape == (2, 150, 64)
    assert tokens_for_frames(301) == 151


def test_padded_context_sees_30_s_but_pools_only_the_input(tiny_config):
    torch.manual_seed(0)
    padded = StutterClassifier(ClassifierConfig(**{**tiny_config.__dict__, "context": "padded"})).eval()
    mel = torch.randn(1, 80, 300)
    assert padded.embed(mel).shape[1] == 1500
    with torch.no_grad():
        logits = padded(mel)
    assert logits.shape == (1, 5)


def test_prefix_then_suffix_equals_full_forward(tiny_model):
    mel = torch.randn(3, 80, 300)
    with torch.no_grad():
        full = tiny_model(mel)
        split = tiny_model.forward_from_prefix(tiny_model.encode_prefix(mel))
    torch.testing.assert_close(full, split)


def test_masked_pooling_ignores_tokens_past_the_input(tiny_model):
    head = tiny_model.head.eval()
    x = torch.randn(2, 150, 64)
    garbage = torch.cat([x, 1e3 * torch.randn(2, 50, 64)], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(head(garbage, torch.tensor([150, 150])), head(x))
        assert not torch.allclose(head(garbage), head(x))


@pytest.mark.parametrize("bad", [{"context": "half"}, {"train_blocks": 7}])
def test_bad_config_is_refused(bad):
    with pytest.raises(ValueError):
        ClassifierConfig(**bad)
