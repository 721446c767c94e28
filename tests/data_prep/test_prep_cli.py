"""`stutterscope prep ...` through data_prep.cli.register: recipes, extract, split, combine."""

from __future__ import annotations

import json

import pytest

from model.manifest import read_manifest


def test_fluencybank_recipe_prints_table_and_skips(prep, mini_fluencybank, tmp_path, capsys):
    labels, clips = mini_fluencybank
    (clips / "FluencyBank" / "012" / "FluencyBank_012_1.flac").write_bytes(b"")
    out = tmp_path / "fb" / "manifest.jsonl"
    assert prep("fluencybank", "--labels", labels, "--clips", clips, "--out", out, "--no-progress",
                "--no-exclusions", "--exclude-music", "--min-votes", "3", "--joins", "1", "--seed", "4") == 0
    text = capsys.readouterr().out
    assert "| train |" in text and "fluencybank/012/1: unreadable" in text
    meta = json.loads(out.with_name("manifest.jsonl.meta.json").read_text())
    relabel = meta["options"]["relabel"]
    assert relabel["min_votes"] == 3 and relabel["exclude_music"] and not relabel["exclude_poor_audio"]
    assert meta["counts"]["clips"] == 35 and meta["counts"]["joined"] > 0
    assert json.loads(out.with_name("manifest.jsonl.splits.json").read_text())["total"]["clips"] == 35
    records = read_manifest(out)
    assert {r["labels"]["Block"] for r in records if "parts" not in r} == {0}  # Block has at most 2 votes


def test_labels_only_without_clips(prep, kit, tmp_path, capsys):
    labels = kit.write_label_csv(tmp_path / "l.csv", kit.fluency_rows(3))
    assert prep("sep28k", "--labels", labels, "--labels-only", "--out", tmp_path / "m.jsonl", "--no-progress",
                "--fractions", "0.34,0.33,0.33") == 0
    assert "15 clips" in capsys.readouterr().out  # 3 x 6, less 3 excluded for poor audio
    with pytest.raises(SystemExit):
        prep("sep28k", "--labels", labels, "--out", tmp_path / "m.jsonl", "--fractions", "0.7,0.3")


def test_split_and_combine(prep, mini_fluencybank, tmp_path):
    labels, clips = mini_fluencybank
    first = tmp_path / "a" / "m.jsonl"
    prep("fluencybank", "--labels", labels, "--clips", clips, "--out", first, "--no-progress", "--joins", "1")
    moved = tmp_path / "b" / "c" / "m.jsonl"
    assert prep("split", first, "--out", moved, "--seed", "9", "--by", "episode") == 0
    records = read_manifest(moved)
    assert not any("parts" in r for r in records)  # joined samples are rebuilt only when asked
    assert all(r["audio"].startswith("/") or (moved.parent / r["audio"]).is_file() for r in records)
    assert moved.with_name("m.jsonl.splits.md").is_file()
    out = tmp_path / "all.jsonl"
    with pytest.raises(ValueError, match="is in both"):
        prep("combine", first, moved, "--out", out)
    assert prep("combine", first, "--out", out) == 0
    assert len(read_manifest(out)) == len(read_manifest(first))


def test_extract_command(prep, kit, tmp_path, capsys):
    import soundfile as sf

    labels = kit.write_label_csv(tmp_path / "l.csv", [kit.vote_row("S", "1", 0, 0, {}),
                                                      kit.vote_row("S", "2", 0, 0, {})])
    (tmp_path / "ep" / "S").mkdir(parents=True)
    sf.write(tmp_path / "ep" / "S" / "1.wav", kit.tone(1.0, 200), 16_000)
    status = prep("extract", "--labels", labels, "--episodes", tmp_path / "ep", "--out", tmp_path / "clips",
                  "--no-progress")
    assert status == 1  # a missing episode is reported, and the exit status says so
    assert "episodes not found: 1" in capsys.readouterr().out
    assert (tmp_path / "clips" / "S" / "1" / "S_1_0.wav").is_file()
    assert json.loads((tmp_path / "clips" / "extract_report.json").read_text())["missing_episodes"] == ["S/2"]


def test_delegated_steps_are_registered(prep):
    # synth and cache belong to other modules; without them the step says so instead of failing to parse.
    for step in ("synth", "cache"):
        with pytest.raises(SystemExit):
            prep(step, "--help")


def test_bad_input_through_stutterscope_is_a_message_not_a_traceback(kit, tmp_path, capsys):
    from app.cli import main

    rows = kit.fluency_rows(1)
    rows[1] = rows[1][:5]
    labels = kit.write_label_csv(tmp_path / "l.csv", rows)
    out = tmp_path / "m.jsonl"
    assert main(["prep", "fluencybank", "--labels", str(labels), "--clips", str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "l.csv:3: wrong number of fields" in err and "Traceback" not in err
    assert not out.exists()
