"""Issue 23: hostile exclusion sidecars. Each is refused with a ValueError naming the file and the row or
interval to fix (praatio's errors, and its silent misreadings, become ours), and in a batch each costs only
its own recording: an error row, the batch goes on, exit status 1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hostile_helpers import is_root, run_cli, tone_speechlike, write_wav

from model.measures.exclusions import read_exclusions


def _long(intervals, *, tier="exclude", kind="IntervalTier", size=None, header=('ooTextFile', 'TextGrid'),
          n_tiers=1, xmax="10"):
    """A long-format TextGrid whose values are written exactly as given (so they may be anything)."""
    items = "\n".join(f"        intervals [{i}]:\n            xmin = {a}\n            xmax = {b}\n"
                      f'            text = "{t}"' for i, (a, b, t) in enumerate(intervals, start=1))
    return (f'File type = "{header[0]}"\nObject class = "{header[1]}"\n\nxmin = 0\nxmax = {xmax}\n'
            f"tiers? <exists>\nsize = {n_tiers}\nitem []:\n    item [1]:\n        class = \"{kind}\"\n"
            f'        name = "{tier}"\n        xmin = 0\n        xmax = {xmax}\n'
            f"        intervals: size = {len(intervals) if size is None else size}\n{items}\n")


def _short(intervals):
    body = "\n".join(f'{a}\n{b}\n"{t}"' for a, b, t in intervals)
    return (f'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n10\n<exists>\n1\n"IntervalTier"\n'
            f'"exclude"\n0\n10\n{len(intervals)}\n{body}\n')


def _two_exclude_tiers():
    one = _long([(1, 2, "x")])
    tier = one[one.index("    item [1]:"):].replace("item [1]", "item [2]")
    return one.replace("size = 1\nitem", "size = 2\nitem") + tier


GOOD = (0, 1, "")
BAD_TEXTGRIDS = {  # name: (file text or bytes, what the message must say)
    "reversed": (_long([GOOD, (1, 2, ""), (5.2, 4.1, "x")]), r"interval 3 \(5\.2-4\.1 s\): its end comes before"),
    "negative-start": (_long([(-1, 2, "x")]), r"interval 1 \(-1-2 s\): it starts before 0 s"),
    "negative-both": (_long([(-3, -2, "x")]), "it starts before 0 s"),
    "nan-start": (_long([("nan", 2, "x")]), r"interval 1 \(nan-2 s\): its times must be numbers"),
    "nan-end": (_long([(1, "NaN", "x")]), "its times must be numbers"),
    "inf-end": (_long([(1, "inf", "x")]), "its times must be numbers"),
    "minus-inf-start": (_long([("-inf", 1, "x")]), "its times must be numbers"),
    "overflowing-exponent": (_long([(1, "1e400", "x")]), "its times must be numbers"),
    "overlap": (_long([(1, 3, "a"), (2, 4, "b")]), r"interval 2 \(2-4 s\): it overlaps interval 1 \(1-3 s\)"),
    "contained": (_long([(1, 5, "a"), (2, 3, "b")]), "it overlaps interval 1"),
    "overlap-unlabelled": (_long([(0, 3, ""), (2, 4, "b")]), "it overlaps interval 1"),
    "zero-length": (_long([(2, 2, "x")]), "it has no length"),
    "reversed-short-format": (_short([(0, 1, ""), (3, 2, "x")]), "interval 2 .*its end comes before"),
    "reversed-utf16": (_long([(4, 3, "ünterviewer")]).encode("utf-16"), "its end comes before"),
    "two-exclude-tiers": (_two_exclude_tiers(), "2 tiers are named 'exclude'"),
    "point-tier": (_long([], kind="TextTier"), "point tier"),
    "unknown-tier-class": (_long([(1, 2, "x")], kind="FooTier"), "not an interval or point tier"),
    "cut-short": (_long([(1, 2, "x")], size=3), "ends before .*cut short"),
    "text-for-a-time": (_long([('"one"', 2, "x")]), "not a number"),
    "negative-size": (_long([(1, 2, "x")], size=-1), "not a count"),
    "fractional-size": (_long([(1, 2, "x")], size=1.5), "not a count"),
    "more-tiers-declared": (_long([(1, 2, "x")], n_tiers=2), "ends before"),
    "another-praat-object": (_long([(1, 2, "x")], header=("ooTextFile", "Pitch 1")), "not a TextGrid"),
    "binary-textgrid": (b"ooBinaryFile\x08TextGrid" + bytes(range(40)), "binary TextGrid"),
    "not-utf8": (b"File type = \"ooTextFile\"\n\xff\xfe\xfd garbage", "not a text TextGrid"),
    "empty-file": ("", "ends before"),
    "random-text": ("hello, this is a shopping list\n", "ends before|not a TextGrid"),
    "missing-tiers-flag": (_long([(1, 2, "x")]).replace("<exists>", ""), "not a TextGrid Praat can write"),
}


def test_praatios_silent_misreadings_are_not_ours(tmp_path):
    # praatio reads `xmin = -1` as 1 and cannot read 2.5e0: the strict reader gets both right.
    (tmp_path / "rec.TextGrid").write_text(_long([(0, 1, ""), (1, "2.5e0", "interviewer"), ("2.5e0", 10, "")]))
    assert read_exclusions(tmp_path / "rec.wav").stretches == ((1.0, 2.5),)


BAD_CSVS = {  # name: (file text or bytes, what the message must say)
    "nan": ("start_s,end_s\nnan,2\n", r"row 2: start_s is nan"),
    "inf": ("start_s,end_s\n1,inf\n", r"row 2: end_s is inf"),
    "overflow": ("start_s,end_s\n1,1e400\n", "end_s is inf"),
    "negative": ("start_s,end_s\n-1,2\n", "start_s is -1.0"),
    "reversed": ("start_s,end_s\n5,4\n", "row 2: end_s 4.0 is not after start_s 5.0"),
    "zero-length": ("start_s,end_s\n0,1\n3,3\n", "row 3: end_s 3.0 is not after"),
    "words": ("start_s,end_s\nstart,end\n", "not a number of seconds"),
    "formula": ("start_s,end_s\n=1+1,2\n", "not a number of seconds"),
    "decimal-comma": ('start_s,end_s\n"1,5",2\n', "'1,5', not a number"),
    "clock-time": ("start_s,end_s\n00:01:05,00:01:09\n", "not a number of seconds"),
    "empty-cell": ("start_s,end_s\n1,\n", "end_s is ''"),
    "missing-end-column": ("start_s,stop\n1,2\n", "no column end_s"),
    "no-header": ("1,2\n3,4\n", "no column start_s, end_s"),
    "empty-file": ("", "no column start_s, end_s"),
    "semicolons": ("start_s;end_s\n1;2\n", "no column"),
    "not-utf8": (b"start_s,end_s\n\xff\xfe1,2\n", "not a text CSV file"),
    "utf16": ("start_s,end_s\n1,2\n".encode("utf-16"), "not a text CSV file"),
    "nul-byte": (b"start_s,end_s\n1,\x002\n", "not a number"),
    "huge-field": ('start_s,end_s\n"' + "9" * 200_000 + '",2\n', "not a CSV file of stretches"),
    "open-quote": ('start_s,end_s\n"1,2\n', "not a number"),
}


SIDECARS = {".TextGrid": BAD_TEXTGRIDS, ".exclude.csv": BAD_CSVS}


@pytest.mark.parametrize("suffix, name", [(suffix, name) for suffix, table in SIDECARS.items() for name in table])
def test_a_bad_sidecar_is_refused_naming_its_row_or_interval(tmp_path, suffix, name):
    content, message = SIDECARS[suffix][name]
    (tmp_path / f"rec{suffix}").write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ValueError, match=message) as caught:
        read_exclusions(tmp_path / "rec.wav")
    assert f"rec{suffix}" in str(caught.value)


def _folder(path):
    path.mkdir()


def _broken_link(path):
    path.symlink_to(path.with_name("gone"))


def _looping_link(path):
    path.symlink_to(path)


def _unreadable(path):
    if is_root():
        pytest.skip("root reads any file")
    path.write_text("start_s,end_s\n1,2\n")
    path.chmod(0)


def _read_fails(path):
    # A regular file whose every read fails (EIO), even for root: where chmod 000 cannot stop root reading.
    if not Path("/proc/self/mem").is_file():
        pytest.skip("no /proc/self/mem here")
    path.symlink_to("/proc/self/mem")


@pytest.mark.parametrize("suffix", [".exclude.csv", ".TextGrid"])
@pytest.mark.parametrize("make", [_folder, _broken_link, _looping_link, _unreadable, _read_fails])
def test_a_sidecar_that_is_not_a_readable_file_is_an_error_not_nothing(tmp_path, suffix, make):
    make(tmp_path / f"rec{suffix}")
    with pytest.raises(ValueError, match=rf"rec{suffix}: (has a sidecar's name but is not a file|cannot be read)"):
        read_exclusions(tmp_path / "rec.wav")


@pytest.fixture(scope="module")
def words_args(tmp_path_factory):
    from model.encoder.weights import weights_info

    if "error" in str(weights_info("base")).lower():
        pytest.skip("no Whisper base weights here")
    return ["--words", "--precision", "fp32"]


@pytest.mark.whisper_weights
def test_a_batch_with_bad_sidecars_gives_each_its_row_and_goes_on(tmp_path, frame_bundle_path, words_args, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    bad = ["reversed", "nan-start", "overlap", "cut-short"]
    for name in bad:
        write_wav(folder / f"{name}.wav", tone_speechlike(2.0))
        (folder / f"{name}.TextGrid").write_text(BAD_TEXTGRIDS[name][0])
    write_wav(folder / "csv-folder.wav", tone_speechlike(2.0))
    (folder / "csv-folder.exclude.csv").mkdir()
    write_wav(folder / "zz-good.wav", tone_speechlike(2.0))
    out = tmp_path / "out"
    for _ in range(2):  # and again: the same rows, never praatio's traceback
        assert run_cli("assess", folder, "--out", out, "--model", frame_bundle_path, *words_args) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 5, err
        assert any("reversed.TextGrid: tier 'exclude', interval 3 (5.2-4.1 s): its end comes before its start"
                   in line for line in errors)
    import csv

    rows = {os.path.basename(r["path"]): r for r in csv.DictReader((out / "summary.csv").open())}
    assert rows["zz-good.wav"]["status"] in ("ok", "too-little-speech", "cached")
    assert all(rows[f"{name}.wav"]["status"] == "error" for name in bad)
    shutil.rmtree(out)
