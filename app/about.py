"""The About box's text: the app's version, the model file in use, and what the output is for."""

from __future__ import annotations

from html import escape
from pathlib import Path

from model import __version__
from model.intended_use import DISCLAIMER

__all__ = ["DISCLAIMER", "about_html"]


def about_html(model_path: Path) -> str:
    from model.encoder.bundle import file_sha256, read_metadata

    lines = [f"<h3>StutterScope {escape(__version__)}</h3>"]
    if model_path.is_file():
        try:
            meta = read_metadata(model_path)
        except ValueError as e:
            lines.append(f"<p>Model file {escape(str(model_path))}: <b>unreadable</b> ({escape(str(e))})</p>")
        else:
            training = meta.get("training", {})
            lines.append(f"<p>Model <code>{file_sha256(model_path)[:12]}</code> ({escape(model_path.name)}), "
                         f"made by StutterScope {escape(str(meta.get('app_version', '?')))}.<br>"
                         f"Trained on: {escape(str(training.get('data', 'not recorded')))}</p>")
    else:
        lines.append(f"<p>No model file at {escape(str(model_path))}.</p>")
    lines.append(f"<p>{DISCLAIMER}</p>")
    lines.append("<p>Built on OpenAI Whisper (MIT). The default model was trained on FluencyBank "
                 "(TalkBank, research use only) with labels from SEP-28k (CC BY-NC 4.0).</p>")
    return "\n".join(lines)
