"""Issue 24 items 2-4: interjection targets from a hand-made Timestamped row, nested decoding choice, per-type
precision and interjection counts worked out by hand, and a head trained on frozen-feature-shaped arrays.

Frames are 20 ms (50 per second), so frame i covers [i / 50, (i + 1) / 50) seconds of a record.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.moments.decoding import INTERJECTION, Moment
from model.training.cv_decoding import decoding_grid, nested_choice
from model.training.cv_train import HeadRecipe, Item, frame_auc, predict, train_head
from model.training.interjection_targets import (
    episode_name,
    interjection_frames,
    read_filled_pauses,
    record_filled_pauses,
)
from model.training.joined_scores import AGREEMENT, EPISODE_FLOOR, RUN_FLOOR, JoinedEpisode, Spot
from model.training.recipe_scores import (
    f1_of,
    interjection_counts,
    joined_pauses,
    score_rows,
    type_precision,
    type_precision_counts,
)

WORDS = """EpId,segid,start,end,word,fp,rp,rv,pw
10,24fc_000,10.500,10.900,um,1,0,0,0
10,24fc_000,10.900,11.300,i,0,0,0,0
10,24fc_000,12.900,13.500,uh,1,0,0,0
10,24fc_001,20.000,20.400,um,1,0,0,0
132,ab_000,10.600,10.800,uh,1,0,0,0
"""


@pytest.fixture
def words(tmp_path: Path) -> Path:
    path = tmp_path / "words.csv"
    path.write_text(WORDS)
    return path


def test_interjection_targets_from_a_hand_made_timestamped_row(words):
    pauses = read_filled_pauses(words)
    # Filled pauses only (fp = 1), keyed by the manifest's episode name; "i" (fp 0) is not one.
    assert pauses == {"FluencyBank/010": [(10.5, 10.9), (12.9, 13.5), (20.0, 20.4)],
                      "FluencyBank/132": [(10.6, 10.8)]}
    # A run of episode 010 from 10.0 to 13.0 s of the media: "um" at 0.5-0.9 s of the run, "uh" cut at its end
    # (2.9-3.0 s); the one at 20.0 s and episode 132's are outside it.
    run = {"id": "casa/FluencyBank/010/run01", "episode": "FluencyBank/010", "episode_start": 10.0, "duration": 3.0}
    assert record_filled_pauses(run, pauses) == [(0.5, pytest.approx(0.9)), (pytest.approx(2.9), 3.0)]
    marks = interjection_frames(run, pauses)
    assert marks.shape == (150,)
    assert np.flatnonzero(marks).tolist() == [*range(25, 45), *range(145, 150)]


def test_timestamped_episode_ids_and_bad_files(tmp_path):
    assert episode_name("10") == "FluencyBank/010" and episode_name("985") == "FluencyBank/985"
    with pytest.raises(ValueError, match="not a FluencyBank episode"):
        episode_name("x1")
    bad = tmp_path / "words.csv"
    bad.write_text("EpId,start,end,word\n10,1,2,um\n")
    with pytest.raises(ValueError, match=r"no column\(s\) \['fp'\]"):
        read_filled_pauses(bad)


def test_nested_choice_never_looks_at_the_held_out_fold():
    # 3 episodes in folds 0, 1, 2; 2 grid points; 1 SLP. Grid point 1 is perfect on episode 0 (fold 0) and bad on
    # the others; grid point 0 the reverse. Fold 0 must pick 0 (the others' best), folds 1 and 2 pick by the
    # two others: episode 0 (tp 10 of 10 under point 1) outweighs the other's 1-of-2 difference.
    counts = np.zeros((3, 2, 1, 3))
    counts[0, 0, 0], counts[0, 1, 0] = (0, 10, 10), (10, 10, 10)
    counts[1, 0, 0], counts[1, 1, 0] = (2, 2, 2), (1, 2, 2)
    counts[2, 0, 0], counts[2, 1, 0] = (2, 2, 2), (1, 2, 2)
    assert nested_choice(counts, [0, 1, 2]) == {0: 0, 1: 1, 2: 1}


def test_decoding_grid_holds_the_split_only_where_asked():
    plain, split = decoding_grid(), decoding_grid((0.0, 0.25))
    assert len(split) == 2 * len(plain) and {d.split_depth for d in plain} == {0.0}
    assert all(d.offset <= d.onset for d in split) and {d.split_depth for d in split} == {0.0, 0.25}


def _episode(references: dict[str, tuple[Spot, ...]], runs=((0.0, 10.0),), run_ids=("r1",)) -> JoinedEpisode:
    return JoinedEpisode(episode="FluencyBank/001", run_ids=run_ids, runs=runs, exclude=(), references=references,
                         syllables=100.0)


def test_type_precision_counts_by_hand():
    # Each SLP marks one moment at 1-2 s. Decoded: a Block at 1.5-2.5 (matches), a Block at 5-6 (false),
    # a SoundRep at 8-9 (false). Block precision 1/2, SoundRep 0/1, the other types have no moments (None).
    slp = (Spot(1.0, 2.0, frozenset({"Block"})),)
    j = _episode({"A1": slp, "A2": slp, "A3": slp})
    decoded = [Moment(1.5, 2.5, 0.9, ("Block",)), Moment(5.0, 6.0, 0.8, ("Block",)),
               Moment(8.0, 9.0, 0.7, ("SoundRep",)), Moment(3.0, 3.5, 0.9, ("Interjection",), INTERJECTION)]
    counts = type_precision_counts(j, decoded)
    assert counts.shape == (3, 4, 2) and counts[0, 1].tolist() == [1, 2] and counts[0, 2].tolist() == [0, 1]
    assert type_precision([counts]) == {"Prolongation": None, "Block": 0.5, "SoundRep": 0.0, "WordRep": None}


def test_interjections_against_filled_pauses_in_joined_time(words):
    # Two runs of episode 010 joined: 10-13 s of the media, then 19-21 s at 3.0 s of the joined recording.
    pauses = read_filled_pauses(words)
    recs = {"r1": {"id": "r1", "episode": "FluencyBank/010", "episode_start": 10.0, "duration": 3.0},
            "r2": {"id": "r2", "episode": "FluencyBank/010", "episode_start": 19.0, "duration": 2.0}}
    j = _episode({}, runs=((0.0, 3.0), (3.0, 5.0)), run_ids=("r1", "r2"))
    ref = joined_pauses(j, recs, pauses)
    assert ref == [(0.5, pytest.approx(0.9)), (pytest.approx(2.9), 3.0), (4.0, pytest.approx(4.4))]
    decoded = [Moment(0.6, 0.8, 0.9, ("Interjection",), INTERJECTION), Moment(4.1, 4.2, 0.9, ("Interjection",),
                                                                              INTERJECTION),
               Moment(1.5, 1.7, 0.9, ("Interjection",), INTERJECTION), Moment(2.9, 3.0, 0.9, ("Block",))]
    counts = interjection_counts(j, decoded, ref)
    assert counts == (2, 3, 3)  # the Block at 2.9 s is not an interjection
    assert f1_of([counts]) == pytest.approx(4 / 6)


def _items(n: int, rng: np.random.Generator) -> list[Item]:
    """Runs of 300 frames whose feature 0 is 5 standard deviations higher exactly where the moment is marked."""
    items = []
    for i in range(n):
        y = np.zeros((300, 6), np.float32)
        y[100:160, 0] = 1.0
        x = rng.normal(0, 1, (300, 16)).astype(np.float16)
        x[:, 0] += 5 * y[:, 0]
        items.append(Item(f"r{i}", x, y, np.ones_like(y)))
    return items


@pytest.mark.parametrize("head", ["mlp", "gru", "conv"])
def test_a_head_learns_the_frames_and_is_seeded(head):
    rng = np.random.default_rng(0)
    train, dev = _items(6, rng), _items(2, rng)
    recipe = HeadRecipe(head=head, hidden=16, epochs=3, crop_frames=100, batch=8, lr=1e-2)
    model, history = train_head(recipe, train, dev, seed=0)
    assert len(history) == 3 and frame_auc(predict(model, dev), dev) > 0.9
    again, _ = train_head(recipe, train, dev, seed=0)
    assert np.array_equal(predict(model, dev)["r0"], predict(again, dev)["r0"])


def test_score_rows_score_moments_beside_the_floors_and_the_agreement():
    # SLPs: A1 and A2 mark 1-2 s, A3 marks 1-2 s and 6-7 s. The recipe's two moments (1.5-2.5, 8-9) match one
    # moment of each SLP: 1 pair per SLP, 2 decoded moments.
    one = (Spot(1.0, 2.0, frozenset({"Block"})),)
    j = _episode({"A1": one, "A2": one, "A3": (*one, Spot(6.0, 7.0, frozenset({"SoundRep"})))})
    decoded = [Moment(1.5, 2.5, 0.9, ("Block",)), Moment(8.0, 9.0, 0.9, ("WordRep",))]
    (row,) = score_rows([j], {"recipe": {j.episode: decoded}})
    assert {"recipe", RUN_FLOOR, EPISODE_FLOOR, AGREEMENT} <= set(row.scores)
    assert [(p.tp, p.n_ref, p.n_est) for p in row.scores["recipe"].pairs] == [(1, 1, 2), (1, 1, 2), (1, 2, 2)]
    assert row.scores["recipe"].per100 == 2.0  # 2 moments in 100 syllables


REPEATS = """EpId,segid,start,end,word,fp,rp,rv,pw
10,a,10.000,10.200,b,0,1,0,1
10,a,10.200,10.500,but,0,1,0,0
10,a,10.500,10.900,but,0,0,0,0
10,a,11.000,11.300,go,0,0,1,0
"""


def test_repetition_flags_become_soundrep_and_wordrep_frame_targets(tmp_path):
    from model.training.cv_train import make_item
    from model.training.interjection_targets import read_repetitions

    words = tmp_path / "words.csv"
    words.write_text(REPEATS)
    reps = read_repetitions(words)
    # rp with pw: a sound repetition; rp alone: a word repetition; the plain "but" and the revision are neither.
    assert reps == {"SoundRep": {"FluencyBank/010": [(10.0, 10.2)]}, "WordRep": {"FluencyBank/010": [(10.2, 10.5)]}}
    # A 3 s run from 10.0 s whose SLPs marked SoundRep at a third on frames 0-19; the interviewer over 100-149.
    soft = np.zeros((6, 150), np.float32)
    soft[3, :20] = 1 / 3
    mask = np.ones(150, np.uint8)
    mask[100:] = 0
    np.savez(tmp_path / "frames.npz", **{"r/soft": soft, "r/annotators": np.zeros((3, 6, 150), np.uint8),
                                         "r/mask": mask, "r/supervised": np.array([1, 1, 1, 1, 1, 0], np.uint8)})
    run = {"id": "r", "episode": "FluencyBank/010", "episode_start": 10.0, "duration": 3.0,
           "frames": {"file": "frames.npz", "key": "r"}}
    plain = make_item(run, np.zeros((150, 16), np.float16), tmp_path, None)
    item = make_item(run, np.zeros((150, 16), np.float16), tmp_path, None, reps)
    assert np.array_equal(plain.y[:, 3], soft[3]) and not plain.y[:, 4].any()
    assert np.allclose(item.y[:10, 3], 1.0) and np.allclose(item.y[10:20, 3], 1 / 3)  # the flag on top of the SLPs
    assert np.flatnonzero(item.y[:, 4]).tolist() == list(range(10, 25))  # 10.2-10.5 s
    assert np.array_equal(item.w[:, 3], mask) and np.array_equal(item.w[:, 4], mask)
    assert np.array_equal(item.y[:, [0, 1, 2, 5]], plain.y[:, [0, 1, 2, 5]])  # the other channels untouched
