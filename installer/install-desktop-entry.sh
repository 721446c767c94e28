#!/usr/bin/env bash
# Add StutterScope to the desktop's application menu for this user (no root needed).
# Run it from the unpacked folder: ./install-desktop-entry.sh   (undo: --remove)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
APPS="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
TARGET="$APPS/stutterscope.desktop"
if [[ "${1:-}" == "--remove" ]]; then
    rm -f "$TARGET"
    echo "removed $TARGET"
    exit 0
fi
[[ -x "$HERE/stutterscope" ]] || { echo "error: run this from the unpacked stutterscope folder" >&2; exit 1; }
mkdir -p "$APPS"
sed -e "s|^Exec=.*|Exec=\"$HERE/stutterscope\" %f|" -e "s|^TryExec=.*|TryExec=$HERE/stutterscope|" \
    "$HERE/stutterscope.desktop" >"$TARGET"
chmod 644 "$TARGET"
command -v update-desktop-database >/dev/null && update-desktop-database "$APPS" 2>/dev/null || true
echo "installed $TARGET"
