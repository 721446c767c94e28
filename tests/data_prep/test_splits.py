"""Group-exclusive, stratified, deterministic splits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_prep.splits import SplitOptions, assign_group_splits, assign_splits, format_split_table, split_table
from model.labels import LABELS


def _records(n_groups: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    records = []
    for g in range(n_groups):
        rates = rng.uniform(0.02, 0.4, size=len(LABELS))
        for c in range(int(rng.integers(20, 120))):
            labels = {name: int(rng.random() < r) for name, r in zip(LABELS, rates, strict=True)}
            records.append({"id": f"x/{g}/{c}", "episode": f"S/{g}", "speaker": f"S/{g}", "labels": labels,
                            "multi": sum(labels.values()) >= 2})
    return records


def test_groups_are_exclusive_and_balanced():
    records = _records(120)
    split_of = assign_splits(records, options=SplitOptions(seed=3))
    groups: dict[str, set] = {}
    for r in records:
        groups.setdefault(r["episode"], set()).add(split_of[r["id"]])
    assert all(len(s) == 1 for s in groups.values())
    table = split_table([dict(r, split=split_of[r["id"]]) for r in records])
    total = table["total"]
    for split, share in zip(("train", "dev", "test"), (0.7, 0.15, 0.15), strict=True):
        assert table[split]["clips"] / total["clips"] == pytest.approx(share, abs=0.02)
        for name in LABELS:
            assert table[split]["positives"][name] / total["positives"][name] == pytest.approx(share, abs=0.04)
    assert "| train |" in format_split_table(table)


def test_deterministic_by_seed():
    records = _records(40)
    a = assign_splits(records, options=SplitOptions(seed=1))
    assert a == assign_splits(list(reversed(records)), options=SplitOptions(seed=1))
    assert a != assign_splits(records, options=SplitOptions(seed=2))


def test_few_groups_fill_every_split_and_zero_shares_stay_empty():
    records = _records(5)
    assert set(assign_splits(records).values()) == {"train", "dev", "test"}
    split_of = assign_splits(records, options=SplitOptions(fractions=(0.8, 0.2, 0.0)))
    assert set(split_of.values()) == {"train", "dev"}


@pytest.mark.parametrize("fractions", [(0.7, 0.2, 0.2), (0.5, 0.5), (1.2, -0.1, -0.1)])
def test_bad_fractions(fractions):
    with pytest.raises(ValueError, match="fractions"):
        SplitOptions(fractions=fractions)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), min_size=len(LABELS) + 1, max_size=len(LABELS) + 1),
                min_size=3, max_size=30), st.integers(0, 2**31))
def test_every_group_gets_exactly_one_split(profiles, seed):
    groups = {f"g{i}": np.array([p[0] + 1, *p[1:]], float) for i, p in enumerate(profiles)}
    split_of = assign_group_splits(groups, options=SplitOptions(seed=seed, restarts=4))
    assert set(split_of) == set(groups)
    assert set(split_of.values()) == {"train", "dev", "test"}
