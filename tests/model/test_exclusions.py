"""Sidecars that mark stretches which are not the client: CSV and a TextGrid tier; clear errors for bad ones."""

from __future__ import annotations

import pytest
from praatio import textgrid

from model.measures.exclusions import read_exclude_csv, read_exclusions, sidecar_paths


def _grid(path, tiers):
    tg = textgrid.Textgrid()
    for tier in tiers:
        tg.addTier(tier)
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)


def test_sidecar_paths(tmp_path):
    csv_path, grid_path = sidecar_paths(tmp_path / "session 1.flac")
    assert csv_path.name == "session 1.exclude.csv" and grid_path.name == "session 1.TextGrid"


def test_no_sidecar_excludes_nothing(tmp_path):
    got = read_exclusions(tmp_path / "a.wav")
    assert got.stretches == () and got.sources == () and got.seconds == 0


def test_csv_sidecar(tmp_path):
    (tmp_path / "a.exclude.csv").write_text("start_s,end_s,who\n12.5,14,mother\n\n1,2.25,interviewer\n3,4,x\n")
    got = read_exclusions(tmp_path / "a.wav")
    assert got.stretches == ((1.0, 2.25), (3.0, 4.0), (12.5, 14.0))
    assert got.seconds == pytest.approx(3.75)
    assert got.sources == (tmp_path / "a.exclude.csv",)


def test_textgrid_tier_and_both_sidecars_join(tmp_path):
    _grid(tmp_path / "a.TextGrid", [
        textgrid.IntervalTier("words", [(0.0, 1.0, "hello")], 0, 20),
        textgrid.IntervalTier("exclude", [(5.0, 7.0, "interviewer"), (8.0, 9.0, "parent")], 0, 20)])
    (tmp_path / "a.exclude.csv").write_text("start_s,end_s\n6.5,7.5\n")
    got = read_exclusions(tmp_path / "a.wav", duration=8.5)
    # 5-7 and 6.5-7.5 merge; 8-9 is clipped to the recording's 8.5 s
    assert got.stretches == ((5.0, 7.5), (8.0, 8.5))
    assert len(got.sources) == 2


def test_textgrid_without_the_tier_excludes_nothing(tmp_path):
    _grid(tmp_path / "a.TextGrid", [textgrid.IntervalTier("words", [(0.0, 1.0, "hello")], 0, 2)])
    assert read_exclusions(tmp_path / "a.wav").stretches == ()


def test_point_tier_is_an_error(tmp_path):
    _grid(tmp_path / "a.TextGrid", [textgrid.PointTier("exclude", [(1.0, "x")], 0, 2)])
    with pytest.raises(ValueError, match="point tier"):
        read_exclusions(tmp_path / "a.wav")


def test_broken_textgrid_is_an_error(tmp_path):
    (tmp_path / "a.TextGrid").write_text("File type = \"ooTextFile\"\nnonsense\n")
    with pytest.raises(ValueError, match="not a TextGrid"):
        read_exclusions(tmp_path / "a.wav")


@pytest.mark.parametrize(("text", "message"), [
    ("start,end\n1,2\n", "no column start_s, end_s"),
    ("start_s,end_s\n1,abc\n", r"row 2: end_s is 'abc', not a number"),
    ("start_s,end_s\n1,2\n3,3\n", "row 3: end_s 3.0 is not after start_s 3.0"),
    ("start_s,end_s\n-1,2\n", "give seconds from the start"),
    ("start_s,end_s\n1\n", "row 2: end_s is '', not a number"),
])
def test_bad_csv_says_what_to_fix(tmp_path, text, message):
    path = tmp_path / "a.exclude.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_exclude_csv(path)


@pytest.mark.parametrize("fmt", ["long_textgrid", "short_textgrid"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_textgrids_as_praatio_and_praat_write_them_are_read_exactly(tmp_path, fmt, encoding):
    # The strict reader (model.measures.praat_text) replaces praatio's: every text form Praat writes must still read,
    # UTF-16 included (Praat's choice when a label is not ASCII), quotes and other tiers too.
    tg = textgrid.Textgrid()
    for tier in (textgrid.IntervalTier("words", [(0.0, 1.0, 'she said ""hi""')], 0, 20),
                 textgrid.PointTier("beats", [(1.5, "x")], 0, 20),
                 textgrid.IntervalTier("exclude", [(5.0, 7.25, "Mütter"), (8.0, 9.0, "parent")], 0, 20)):
        tg.addTier(tier)
    tg.save(str(tmp_path / "made.TextGrid"), format=fmt, includeBlankSpaces=True)
    text = (tmp_path / "made.TextGrid").read_text(encoding="utf-8")
    (tmp_path / "a.TextGrid").write_text(text, encoding=encoding)
    assert read_exclusions(tmp_path / "a.wav").stretches == ((5.0, 7.25), (8.0, 9.0))


def test_a_textgrid_without_tiers_excludes_nothing(tmp_path):
    (tmp_path / "a.TextGrid").write_text('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\n'
                                         "xmax = 1\ntiers? <absent>\n")
    assert read_exclusions(tmp_path / "a.wav").stretches == ()
