"""The FluencyBank / SEP-28k recipes on a small generated corpus: labels, exclusions, skipped audio, meta."""

from __future__ import annotations

import json

import pytest

from data_prep.recipes.clip_votes import RecipeOptions, RelabelOptions, run_recipe
from model.manifest import manifest_root, read_manifest, resolve_audio


def _run(labels, clips, out, **kw):
    return run_recipe(labels, clips, out, options=RecipeOptions(corpus="fluencybank", **kw), progress=False)


def test_recipe_labels_votes_and_exclusions(mini_fluencybank, tmp_path):
    labels, clips = mini_fluencybank
    out = tmp_path / "out" / "manifest.jsonl"
    result = _run(labels, clips, out)
    records = {r["id"]: r for r in read_manifest(out)}
    assert len(records) == 30  # 36 clips, one in six has PoorAudioQuality 2
    assert result.meta["counts"]["excluded_by_rule"] == {"PoorAudioQuality>=2": 6}
    first = records["fluencybank/010/0"]
    assert first["labels"] == {"Prolongation": 0, "Block": 1, "SoundRep": 0, "WordRep": 0, "Interjection": 1}
    assert first["multi"] is True and first["votes"]["Interjection"] == 3
    assert first["soft"]["Block"] == pytest.approx(2 / 3)
    assert first["episode"] == first["speaker"] == "FluencyBank/010"
    assert records["fluencybank/010/2"]["labels"]["WordRep"] == 0  # 1 vote < 2
    assert first["duration"] == pytest.approx(0.5)
    assert resolve_audio(first["audio"], manifest_root(out)).is_file()  # clips outside out's folder: absolute
    meta = json.loads(out.with_name("manifest.jsonl.meta.json").read_text())
    assert meta["options"]["relabel"]["min_votes"] == 2 and meta["options"]["relabel"]["exclude_poor_audio"]
    assert {e["id"] for e in meta["excluded"]} == {f"fluencybank/{10 + e:03d}/4" for e in range(6)}
    assert out.with_name("manifest.jsonl.splits.md").read_text().startswith("| split |")


def test_min_votes_and_no_exclusions(mini_fluencybank, tmp_path):
    labels, clips = mini_fluencybank
    relabel = RelabelOptions(min_votes=1).without_exclusions()
    result = _run(labels, clips, tmp_path / "m.jsonl", relabel=relabel)
    assert result.meta["counts"]["clips"] == 36
    assert result.meta["counts"]["positives"]["WordRep"] == 12  # 1 vote now counts
    with pytest.raises(ValueError, match="min_votes is 4"):
        RelabelOptions(min_votes=4)


def test_missing_empty_and_undecodable_audio_are_reported(mini_fluencybank, tmp_path):
    labels, clips = mini_fluencybank
    folder = clips / "FluencyBank" / "011"
    (folder / "FluencyBank_011_0.flac").unlink()
    (folder / "FluencyBank_011_1.flac").write_bytes(b"")
    (folder / "FluencyBank_011_2.flac").write_bytes(b"not audio at all" * 10)
    result = _run(labels, clips, tmp_path / "m.jsonl")
    reasons = {s["id"]: s["reason"] for s in result.skipped}
    assert set(reasons) == {"fluencybank/011/0", "fluencybank/011/1", "fluencybank/011/2"}
    assert reasons["fluencybank/011/0"].startswith("missing")
    assert "empty" in reasons["fluencybank/011/1"]
    assert reasons["fluencybank/011/2"].startswith("unreadable")
    assert result.meta["counts"]["skipped"] == 3 and len(result.records) == 27
    assert result.meta["skipped"] == result.skipped


def test_bad_csv_writes_nothing(mini_fluencybank, tmp_path, kit):
    _, clips = mini_fluencybank
    rows = kit.fluency_rows(2)
    rows[3][7] = "two"
    labels = kit.write_label_csv(tmp_path / "bad.csv", rows)
    out = tmp_path / "out" / "m.jsonl"
    with pytest.raises(ValueError, match="Prolongation is 'two'"):
        _run(labels, clips, out)
    assert not out.exists() and not out.with_name("m.jsonl.meta.json").exists()


def test_no_clips_left_is_an_error(kit, tmp_path):
    labels = kit.write_label_csv(tmp_path / "l.csv", kit.fluency_rows(2))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no clip is left"):
        _run(labels, tmp_path / "empty", tmp_path / "m.jsonl")
    with pytest.raises(ValueError, match="--labels-only"):
        _run(labels, None, tmp_path / "m.jsonl")


def test_sep28k_ids_and_extended_speakers(tmp_path, kit):
    rows = [kit.vote_row("HeStutters", str(e), c, c * 8000, {"Block": 2}) for e in range(4) for c in range(3)]
    labels = kit.write_label_csv(tmp_path / "sep.csv", rows)
    extended = tmp_path / "ext.csv"
    lines = ["Show,EpId,ClipId,speaker,SEP28k-E,SEP28k-T,SEP28k-D"]
    lines += [f"HeStutters,{e},{c},{'Host' if c == 0 else f'guest{e}'},{['train', 'dev', 'test', 'train'][e]},"
              "test,dev" for e in range(4) for c in range(3)]
    extended.write_text("\n".join(lines) + "\n")
    options = RecipeOptions(corpus="sep28k", labels_only=True, extended_csv=extended, split_column="SEP28k-E")
    result = run_recipe(labels, None, tmp_path / "m.jsonl", options=options, progress=False)
    by_id = {r["id"]: r for r in result.records}
    assert by_id["sep28k/HeStutters/1/0"]["speaker"] == "Host"
    assert by_id["sep28k/HeStutters/1/2"]["speaker"] == "guest1"
    assert by_id["sep28k/HeStutters/1/2"]["split"] == "dev"
    assert by_id["sep28k/HeStutters/2/1"]["audio"] == "HeStutters/2/HeStutters_2_1.wav"


@pytest.mark.shared_data
def test_real_fluencybank_clips(shared_data, tmp_path):
    clips = shared_data / "fluencybank" / "clips"
    if not clips.is_dir():
        pytest.skip("no FluencyBank clips in the shared data")
    result = _run(shared_data / "sep28k" / "fluencybank_labels.csv", clips, tmp_path / "m.jsonl",
                  relabel=RelabelOptions().without_exclusions())
    assert result.meta["counts"]["clips"] == 2_561
    assert result.table["total"]["episodes"] == 22
    splits_of = {}
    for r in result.records:
        splits_of.setdefault(r["episode"], set()).add(r["split"])
    assert all(len(s) == 1 for s in splits_of.values())
