"""StutterScope's model: audio, Whisper weights, classifier, model file, inference, events, training."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stutterscope")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
