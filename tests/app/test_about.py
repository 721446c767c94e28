from app.about import DISCLAIMER, about_html
from model import __version__
from model.encoder.bundle import load_bundle


def test_about_names_version_model_and_disclaimer(frame_bundle_path, tmp_path):
    html = about_html(frame_bundle_path)
    assert f"StutterScope {__version__}" in html
    assert load_bundle(frame_bundle_path).short_id in html
    assert DISCLAIMER in html
    assert "No model file" in about_html(tmp_path / "missing.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    assert "unreadable" in about_html(tmp_path / "bad.safetensors")
