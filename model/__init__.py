"""StutterScope's model, by concern: audio/, moments/, encoder/, measures/, pipeline/; training/ never ships.

Each sub-package imports only those below it (pipeline -> measures -> encoder -> moments -> audio; an
import-linter contract); the small modules every one shares (errors, labels, folders, ...) sit here.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stutterscope")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
