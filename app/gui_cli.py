"""`stutterscope gui`: registered by app/cli.py; imports nothing heavy until it runs."""

from __future__ import annotations


def register(subparsers) -> None:
    from .qt.launch import add_gui_options

    parser = subparsers.add_parser("gui", help="start the desktop app",
                                   description="Start the StutterScope desktop app (headless without a display).")
    add_gui_options(parser)
    parser.add_argument("recording", nargs="?", help="a recording to open")
    parser.set_defaults(func=_gui, self_test=False, headless=False)


def _gui(args) -> int:
    from .qt.launch import NO_DISPLAY, has_display, run_gui, run_headless

    if has_display():
        return run_gui(args)
    print(NO_DISPLAY, flush=True)
    return run_headless(args)
