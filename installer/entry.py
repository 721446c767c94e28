"""The frozen app's entry point.

PyInstaller runs its script as `__main__`, outside any package; app.launch uses relative imports, so
it is imported here as the package module it is (what `python -m app.launch` does in a source tree).
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen Windows/macOS app re-runs itself for any child process
    from app.launch import main

    sys.exit(main())
