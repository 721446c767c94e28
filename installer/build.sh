#!/usr/bin/env bash
# Build the StutterScope desktop app with PyInstaller (Linux: a folder app, a .desktop entry and a
# tar.gz archive in dist/), then smoke-test the frozen executable. `make installer` runs this.
#
# The build has its own environment, build/venv, made from installer/requirements-build.txt:
# no torch (the app analyses with the CTranslate2 engine), torchaudio, training, test or CUDA packages. It is made once and reused;
# delete build/venv to remake it.
#
# Environment:
#   PYTHON                    interpreter for build/venv (default: python3.11, else python3)
#   STUTTERSCOPE_BUILD_MODEL  model file bundled as the default model
#                             (default: model/assets/default.safetensors; the build fails without one)
#   SKIP_SMOKE=1              build and package only
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/build/venv"
BPY="$VENV/bin/python"
STAMP="$VENV/.requirements-build.txt"
REQS="$ROOT/installer/requirements-build.txt"
DIST="$ROOT/dist"
APP_NAME="stutterscope"

log() { printf '[installer] %s\n' "$*" >&2; }
die() { printf '[installer] error: %s\n' "$*" >&2; exit 1; }

make_venv() {
    if [[ -x "$BPY" ]] && cmp -s "$REQS" "$STAMP"; then
        log "build environment up to date: $VENV"
        return
    fi
    local python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
    log "making the build environment $VENV with $python"
    [[ -x "$BPY" ]] || "$python" -m venv "$VENV"
    "$BPY" -m pip install -q --upgrade pip
    "$BPY" -m pip install -q -r "$REQS"
    # openai-whisper only for its mel filters file (the spec bundles no whisper code: it imports torch).
    "$BPY" -m pip install -q --no-deps "openai-whisper==20250625"
    # faster-whisper requires PyAV (104 MB with its FFmpeg) and onnxruntime (78 MB); the app gives it
    # audio it decoded itself and never runs its VAD, so neither is installed (installer/rthook_no_av.py).
    "$BPY" -m pip install -q --no-deps "faster-whisper==1.2.1"
    "$BPY" - <<'PY'
import importlib.util, sys
banned = ["torch", "torchaudio", "triton", "numba", "sklearn", "librosa", "matplotlib", "iterstrat", "pytest",
          "hypothesis", "av", "onnxruntime"]
present = [m for m in banned if importlib.util.find_spec(m) is not None]
if present:
    sys.exit(f"the build environment holds packages the app must not ship: {present}")
PY
    cp "$REQS" "$STAMP"
}

check_model() {
    local model="${STUTTERSCOPE_BUILD_MODEL:-$ROOT/model/assets/default.safetensors}"
    [[ -f "$model" ]] || die "no model to bundle: $model is missing. Train and export the default model \
(stutterscope export ... model/assets/default.safetensors), or set STUTTERSCOPE_BUILD_MODEL=<file>"
    export STUTTERSCOPE_BUILD_MODEL="$model"
    log "bundling model $model"
}

freeze() {
    log "running PyInstaller (several minutes)"
    "$BPY" -m PyInstaller --noconfirm --clean --log-level WARN \
        --workpath "$ROOT/build/pyinstaller" --distpath "$DIST" "$ROOT/installer/stutterscope.spec"
    [[ -x "$DIST/$APP_NAME/$APP_NAME" ]] || die "PyInstaller made no executable at $DIST/$APP_NAME/$APP_NAME"
}

package_linux() {
    local version
    version="$("$BPY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
    install -m 644 "$ROOT/installer/stutterscope.desktop" "$DIST/$APP_NAME/stutterscope.desktop"
    install -m 755 "$ROOT/installer/install-desktop-entry.sh" "$DIST/$APP_NAME/install-desktop-entry.sh"
    local archive="$DIST/$APP_NAME-$version-linux-x86_64.tar.gz"
    log "archiving $archive"
    tar -C "$DIST" -czf "$archive" "$APP_NAME"
    log "unpacked size: $(du -sh "$DIST/$APP_NAME" | cut -f1); archive: $(du -sh "$archive" | cut -f1)"
}

make_venv
check_model
freeze
if [[ "$(uname -s)" == Linux ]]; then
    package_linux
fi
if [[ "${SKIP_SMOKE:-0}" != 1 ]]; then
    bash "$ROOT/installer/smoke.sh" "$DIST/$APP_NAME/$APP_NAME"
fi
log "done: $DIST/$APP_NAME"
