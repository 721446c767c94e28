"""Reading the official label CSVs: separators, zero-padded EpIds, vote counts, malformed input."""

from __future__ import annotations

import pytest

from data_prep.corpus import KEY_COLUMNS, VOTE_COLUMNS, read_label_csv
from data_prep.recipes.clip_votes import RecipeOptions, RelabelOptions, run_recipe


def test_reads_official_format(tmp_path, kit):
    rows = read_label_csv(kit.write_label_csv(tmp_path / "l.csv", kit.fluency_rows(2)))
    assert len(rows) == 12
    first = rows[0]
    assert (first.show, first.ep_id, first.clip_id) == ("FluencyBank", "010", "0")  # padding kept
    assert first.votes["Block"] == 2 and first.votes["Interjection"] == 3
    assert first.stem == "FluencyBank_010_0" and first.episode == "FluencyBank/010"


@pytest.mark.parametrize(("bad", "message"), [
    (lambda r: r.__setitem__(8, "x"), "column Block is 'x'"),
    (lambda r: r.__setitem__(8, 4), "column Block is 4, outside 0..3"),
    (lambda r: r.__setitem__(4, r[3]), "column Stop"),
    (lambda r: r.pop(), "wrong number of fields"),
    (lambda r: r.__setitem__(1, ""), "column EpId"),
])
def test_malformed_row_names_line_and_column(tmp_path, kit, bad, message):
    rows = kit.fluency_rows(1)
    bad(rows[2])
    with pytest.raises(ValueError, match=message) as e:
        read_label_csv(kit.write_label_csv(tmp_path / "l.csv", rows))
    assert ":4:" in str(e.value)  # header + 2 rows before it


def test_missing_column_and_empty_file(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text(",".join(c for c in KEY_COLUMNS + VOTE_COLUMNS if c != "Music") + "\n")
    with pytest.raises(ValueError, match="missing column.*Music"):
        read_label_csv(path)
    path.write_text("")
    with pytest.raises(ValueError, match="empty"):
        read_label_csv(path)
    with pytest.raises(FileNotFoundError):
        read_label_csv(tmp_path / "nope.csv")


def test_duplicate_clip(tmp_path, kit):
    rows = kit.fluency_rows(1)
    with pytest.raises(ValueError, match="already appears on line 2"):
        read_label_csv(kit.write_label_csv(tmp_path / "l.csv", rows + rows[:1]))


@pytest.mark.shared_data
def test_real_sep28k_counts(shared_data, tmp_path):
    options = RecipeOptions(corpus="sep28k", labels_only=True,
                            relabel=RelabelOptions(min_votes=2).without_exclusions())
    result = run_recipe(shared_data / "sep28k" / "SEP-28k_labels.csv", None, tmp_path / "m.jsonl",
                        options=options, progress=False)
    counts = result.meta["counts"]
    assert counts["rows"] == counts["clips"] == 28_177
    assert counts["positives"] == {"Prolongation": 2_812, "Block": 3_370, "SoundRep": 2_342, "WordRep": 2_770,
                                   "Interjection": 5_973}
    assert counts["multi"] == 3_009
    assert result.table["total"]["episodes"] == 385
