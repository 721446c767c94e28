"""What `make run` starts: the window where there is a display, else the same analysis headless.

    python -m app.qt.launch [--model PATH] [--self-test] [--headless] [recording]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

log = logging.getLogger("stutterscope.launch")
STARTUP_PROBE_ENV = "STUTTERSCOPE_STARTUP_PROBE"  # benchmarks/startup.py: a file for the time the window shows

NO_DISPLAY = ("No display found ($DISPLAY and $WAYLAND_DISPLAY are unset), so the window cannot open. "
              "Running the same analysis headless on a generated sample recording instead.\n"
              "(To see the app: run on a desktop, over `ssh -X`, or under `xvfb-run`.)")


def has_display(env=os.environ) -> bool:
    """A window can open: an X or Wayland display, or Qt told to draw off-screen."""
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return True
    if env.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc", "eglfs", "linuxfb"):
        return True
    return sys.platform in ("win32", "darwin")  # these always have their own window system


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stutterscope-app", description="Start the StutterScope desktop app.")
    add_gui_options(parser)
    parser.add_argument("--self-test", action="store_true", help="check the installation and exit")
    parser.add_argument("--headless", action="store_true", help="analyse and print the summary, without a window")
    parser.add_argument("recording", nargs="?", help="a recording to open (headless: to analyse)")
    return parser


def add_gui_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model file (.safetensors); default: the bundled model")
    parser.add_argument("--hop", type=float, default=None,  # None: the saved setting, or the model run's default
                        help="seconds between the 3 s analysis windows (default: the app's setting; headless: "
                             "`stutterscope assess`'s)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None, help="compute device")


def run_headless(args) -> int:
    from ..headless import analyse_headless, format_report

    try:
        result = analyse_headless(model=args.model, recording=args.recording, device=args.device or "auto",
                                  hop_seconds=args.hop)
    except ValueError as e:
        print(f"stutterscope: error: {e}", file=sys.stderr)
        return 2
    print(format_report(result))
    return 0


def run_gui(args) -> int:
    from dataclasses import replace

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from ..fault_trace import fault_message, start_fault_trace
    from .binding_check import binding_problem
    from .logging_setup import install_excepthook, setup_logging
    from .main_window import MainWindow, start_recovery_check
    from .settings import APP_NAME, ORGANIZATION, load_settings, log_dir, open_store
    from .widgets.crash_dialog import show_crash_dialog
    from .workers import collect_garbage_on_gui_thread

    log_path = setup_logging()
    # Kept open while the app runs: an abort writes every thread's stack there; the next start reports it.
    _trace, earlier_fault = start_fault_trace(log_dir())
    # Qt 6 scales for high-DPI screens by itself; pass fractional factors through instead of rounding them.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APP_NAME)
    gc_timer = collect_garbage_on_gui_thread()  # noqa: F841 (kept alive while the app runs)
    install_excepthook(show_crash_dialog)
    store = open_store()
    settings = load_settings(store)
    overrides = {k: v for k, v in (("model_path", args.model), ("hop_seconds", args.hop), ("device", args.device))
                 if v is not None}
    settings = replace(settings, **overrides)
    window = MainWindow(settings, store=store)
    window.resize(1400, 900)
    window.show()
    log.info("StutterScope started; log: %s", log_path)
    problem = binding_problem()
    if problem:
        log.warning("%s", problem)
        window.show_message("warning", problem)
    if earlier_fault is not None:
        window.show_message("warning", fault_message(earlier_fault))
    if args.recording:
        window.open_file(args.recording)
    probe = os.environ.get(STARTUP_PROBE_ENV)
    if probe:  # benchmarks/startup.py: say when the window is up (before the preload starts), then quit
        QTimer.singleShot(0, lambda: _report_startup(probe, app))
    start_recovery_check(window)
    QTimer.singleShot(0, window.controller.preload)  # torch and the model: after the window is up
    return app.exec()


def _report_startup(probe: str, app) -> None:
    import json
    import time

    with open(probe, "w", encoding="utf-8") as f:
        json.dump({"time": time.time(), "torch": "torch" in sys.modules}, f)
    app.quit()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.self_test:
        from . import selftest  # the installer's module, loaded only when asked for

        return int(selftest.run() or 0)
    if args.headless:
        return run_headless(args)
    if not has_display():
        print(NO_DISPLAY, flush=True)
        return run_headless(args)
    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
