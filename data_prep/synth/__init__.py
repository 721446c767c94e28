"""The synthetic stutter corpus: espeak-ng speech, word by word, with the five disfluency types injected.

`add_arguments`/`run` serve `stutterscope prep synth`; `generate_corpus` is the Python API. The heavy
modules load on first use, so importing this package for the CLI stays cheap.
"""

from __future__ import annotations

from .command import add_arguments, run

__all__ = ["CorpusOptions", "CorpusSummary", "add_arguments", "generate_corpus", "run"]


def __getattr__(name: str):
    if name in ("CorpusOptions", "CorpusSummary", "generate_corpus"):
        from . import generate

        return getattr(generate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
