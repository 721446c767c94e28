"""Speaker/episode-exclusive train/dev/test splits, balanced over the five types.

Whole groups (episodes, or SEP-28k-E speakers) go to one split, so no voice is heard in two splits.
Each group's profile is its clip count and its positives per type; a seeded greedy pass places groups one
by one where they bring the splits' totals closest to the target fractions (squared relative error over
clips and every type). Several passes in seeded random orders are tried and the best balanced one kept.
iterative-stratification's stratifiers split single samples with 0/1 labels, not groups with counts,
so it is not used here; the greedy pass is the group-level analogue of its rule (fill the neediest split).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.fileio import atomic_write_text
from model.labels import LABELS
from model.manifest import SPLITS, write_json

_CLIP_WEIGHT = 2.0  # how much the clip count matters against each single type's positives
_EMPTY_SPLIT_PENALTY = 1e6  # a split with a share but no group is never the best pass


@dataclass(frozen=True)
class SplitOptions:
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)  # train, dev, test shares of clips and positives
    seed: int = 0  # the same seed and records give the same split
    restarts: int = 32  # greedy passes in seeded random orders; the best balanced one is kept

    def __post_init__(self):
        if len(self.fractions) != len(SPLITS) or any(f < 0 for f in self.fractions):
            raise ValueError(f"fractions {self.fractions}: give three shares >= 0 for {', '.join(SPLITS)}")
        if abs(sum(self.fractions) - 1.0) > 1e-6:
            raise ValueError(f"fractions {self.fractions} sum to {sum(self.fractions):g}; make them sum to 1")
        if self.restarts < 1:
            raise ValueError(f"restarts is {self.restarts}; give 1 or more")


def group_profiles(records: list[dict], group_of: Callable[[dict], str]) -> dict[str, np.ndarray]:
    """group -> [clips, positives per type] (len(LABELS) + 1,)."""
    profiles: dict[str, np.ndarray] = {}
    for rec in records:
        vec = profiles.setdefault(group_of(rec), np.zeros(len(LABELS) + 1))
        vec[0] += 1
        vec[1:] += [rec["labels"][name] for name in LABELS]
    return profiles


def _greedy_pass(order: list[str], profiles: dict[str, np.ndarray], targets: np.ndarray,
                 scale: np.ndarray) -> tuple[float, dict[str, int]]:
    # targets: (splits, dims), the ideal totals; scale: (dims,), weight / total^2 per dimension.
    filled = np.zeros_like(targets)
    placed: dict[str, int] = {}
    for i, group in enumerate(order):
        left = len(order) - i  # groups still to place, this one included
        g = profiles[group]
        before = ((filled - targets) ** 2 * scale).sum(axis=1)  # (splits,)
        after = ((filled + g - targets) ** 2 * scale).sum(axis=1)
        gain = after - before
        gain[targets[:, 0] == 0] = np.inf  # a split with a zero share takes nothing
        empty = (filled[:, 0] == 0) & (targets[:, 0] > 0)
        if 0 < empty.sum() >= left:
            gain[~empty] = np.inf  # just enough groups left to give every split one
        best = int(np.argmin(gain))
        filled[best] += g
        placed[group] = best
    cost = float(((filled - targets) ** 2 * scale).sum())
    used = set(placed.values())
    cost += _EMPTY_SPLIT_PENALTY * sum(1 for s in range(len(targets)) if targets[s, 0] > 0 and s not in used)
    return cost, placed


def assign_group_splits(profiles: dict[str, np.ndarray], *, options: SplitOptions = SplitOptions()) -> dict[str, str]:
    """group -> split name, balancing clips and positives per type across splits."""
    groups = sorted(profiles)
    totals = np.sum([profiles[g] for g in groups], axis=0)  # (dims,)
    targets = np.outer(options.fractions, totals)  # (splits, dims)
    weights = np.ones_like(totals)
    weights[0] = _CLIP_WEIGHT
    scale = weights / np.maximum(totals, 1) ** 2
    rng = np.random.default_rng(options.seed)
    best: tuple[float, dict[str, int]] | None = None
    for _ in range(options.restarts):
        # Big groups first packs best; the random jitter makes each pass (and each seed) a different order.
        jitter = rng.uniform(0.5, 1.5, size=len(groups))
        order = [groups[i] for i in np.argsort(-np.array([profiles[g][0] for g in groups]) * jitter, kind="stable")]
        result = _greedy_pass(order, profiles, targets, scale)
        if best is None or result[0] < best[0]:
            best = result
    assert best is not None
    return {group: SPLITS[s] for group, s in best[1].items()}


def group_key(by: str) -> Callable[[dict], str]:
    if by not in ("episode", "speaker"):
        raise ValueError(f"cannot group by {by!r}; choose episode or speaker")
    return lambda rec: rec[by]


def assign_splits(records: list[dict], *, options: SplitOptions = SplitOptions(), by: str = "speaker") -> dict[str, str]:
    """record id -> split; whole groups (by speaker, which is the episode where no speaker is known) stay together."""
    key = group_key(by)
    group_split = assign_group_splits(group_profiles(records, key), options=options)
    return {rec["id"]: group_split[key(rec)] for rec in records}


def split_table(records: list[dict]) -> dict:
    """Clips, groups, positives per type and multi-stuttered clips per split (joined samples counted apart)."""
    table = {}
    for split in (*SPLITS, "total"):
        recs = [r for r in records if split == "total" or r["split"] == split]
        clips = [r for r in recs if "parts" not in r]
        table[split] = {
            "clips": len(clips),
            "episodes": len({r["episode"] for r in clips}),
            "speakers": len({r["speaker"] for r in clips}),
            "positives": {name: sum(r["labels"][name] for r in clips) for name in LABELS},
            "multi": sum(r["multi"] for r in clips),
            "joined": len(recs) - len(clips),
        }
    return table


def format_split_table(table: dict) -> str:
    """A markdown table of split_table's numbers, each with its share of the total."""
    total = table["total"]
    head = ["split", "clips", "episodes", "speakers", *LABELS, "multi", "joined"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def cell(n: int, of: int) -> str:
        return f"{n:,} ({100 * n / of:.0f}%)" if of else f"{n:,}"

    for split, row in table.items():
        cells = [split, cell(row["clips"], total["clips"]), str(row["episodes"]), str(row["speakers"])]
        cells += [cell(row["positives"][name], total["positives"][name]) for name in LABELS]
        cells += [cell(row["multi"], total["multi"]), str(row["joined"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def split_table_paths(manifest: str | Path) -> tuple[Path, Path]:
    manifest = Path(manifest)
    return manifest.with_name(manifest.name + ".splits.json"), manifest.with_name(manifest.name + ".splits.md")


def save_split_table(table: dict, manifest: str | Path) -> tuple[Path, Path]:
    """Write the table as JSON and markdown next to the manifest."""
    json_path, md_path = split_table_paths(manifest)
    write_json(json_path, table)
    atomic_write_text(md_path, format_split_table(table))
    return json_path, md_path
