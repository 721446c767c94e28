"""`stutterscope`: one command, with subcommands registered by each package (the root of every front end).

Each package's CLI module exposes `register(subparsers)` and imports nothing heavy at import time:
handlers import what they need, so `stutterscope --help` is instant and the GUI never loads training code.
"""

from __future__ import annotations

import argparse
import logging
import sys

from model import __version__
from model.intended_use import INTENDED_USE


def _registrars():
    # Imported here so that a package's CLI is loaded only when the command line is built.
    from data_prep import cli as prep_cli
    from model.pipeline import inference_cli
    from model.training import cli as training_cli

    from . import gui_cli
    from .records import corrections

    def register_prep(sub) -> None:
        # The prep step that reads the app's records is registered here: data_prep never imports app.
        steps = prep_cli.register(sub)
        prep_cli.add_delegated(steps, "corrections", corrections,
                               "reviewed sessions in the app's records -> training manifest")

    def register_training(sub) -> None:
        training_cli.register(sub)
        # Moment evaluation counts the syllables of CHAT transcripts, which data_prep reads: handed in here.
        sub.choices["evaluate"].set_defaults(chat_words=_chat_words)

    return [inference_cli.register, register_training, register_prep, gui_cli.register]


def _chat_words(text: str, **options) -> list[str]:
    from data_prep.chat import chat_words

    return chat_words(text, **options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stutterscope",
        description=f"Find and measure stuttering in recorded speech ({INTENDED_USE}).",
    )
    parser.add_argument("--version", action="version", version=f"stutterscope {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in _registrars():
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # faster-whisper says "Processing audio with duration ..." for every piece: noise on a bar
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except ModuleNotFoundError as e:
        if (e.name or "").partition(".")[0] not in ("torch", "whisper"):
            raise
        # Training, export and the torch engine need torch; an installation without it (the desktop build's
        # environment) says so in one line.
        print(f"stutterscope: error: `stutterscope {args.command}` needs torch, which cannot be imported here ({e}); "
              "install it: pip install 'torch>=2.13,<2.15' openai-whisper", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished work is kept; re-run the same command to resume", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        # Bad input or an outside failure: say what and how to fix it, without a traceback.
        from model.pipeline.find_recordings import path_text

        logging.getLogger("stutterscope").debug("error", exc_info=True)
        print(f"stutterscope: error: {path_text(str(e))}", file=sys.stderr)
        return 2
    except OSError as e:  # a full disk, no permission, a folder where a file should be: one line, exit 2
        from model.pipeline.find_recordings import path_text
        from model.pipeline.outputs import describe_os_error

        logging.getLogger("stutterscope").debug("error", exc_info=True)
        print(f"stutterscope: error: {path_text(describe_os_error(e))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
