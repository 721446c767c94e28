"""The frozen app's entry point.

PyInstaller runs its script as `__main__`, outside any package; app.qt.launch uses relative imports, so
it is imported here as the package module it is (what `python -m app.qt.launch` does in a source tree).

`--words-check RECORDING...` (installer/smoke.sh) transcribes recordings with the bundled words model
and prints one JSON line per recording: its words with times and syllables, so the smoke test sees the
frozen faster-whisper, CTranslate2, Whisper base model and CMU dictionary work together.
"""

import multiprocessing
import sys

WORDS_CHECK = "--words-check"


def words_check(paths: list[str]) -> int:
    """Print {"words_check": path, "words": [{start, end, text, probability, syllables}, ...]} per recording."""
    import json

    from model.measures.syllables import word_syllables
    from model.measures.words import Transcriber

    transcriber = Transcriber()
    for path in paths:
        words = [{**w.to_dict(), "syllables": word_syllables(w.text)} for w in transcriber.transcribe_file(path)]
        print(json.dumps({"words_check": path, "words": words}), flush=True)
    return 0


if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen Windows/macOS app re-runs itself for any child process
    if sys.argv[1:2] == [WORDS_CHECK]:
        sys.exit(words_check(sys.argv[2:]))
    from app.qt.launch import main

    sys.exit(main())
