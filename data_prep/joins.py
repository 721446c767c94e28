"""Joined multi-stuttered samples: 2-3 clips of one episode played back to back (6-9 s).

Few clips carry two or more types, so joining clips of the same speaker gives the model more samples where
several disfluencies co-occur. Labels are the union of the parts', votes and soft targets the maximum.
Parts come from one episode, one speaker and one split: a joined sample never mixes splits. Off by default.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from model.labels import LABELS


def _group(records: list[dict], splits: tuple[str, ...]) -> dict[tuple[str, str, str], list[dict]]:
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for rec in records:
        if "parts" not in rec and rec["split"] in splits:
            groups[(rec["split"], rec["episode"], rec["speaker"])].append(rec)
    return groups


def join_records(parts: list[dict]) -> dict:
    """One record made of parts (in play order): union of labels, max of votes and soft targets."""
    first = parts[0]
    labels = {name: max(p["labels"][name] for p in parts) for name in LABELS}
    vote_names = sorted({v for p in parts for v in p["votes"]})
    rec = {
        "id": f"join/{first['id']}+{len(parts)}",
        "corpus": first["corpus"],
        "audio": first["audio"],
        "offset": first["offset"],
        "duration": round(sum(p["duration"] for p in parts), 6),
        "labels": labels,
        "votes": {v: max(p["votes"].get(v, 0) for p in parts) for v in vote_names},
        "episode": first["episode"],
        "speaker": first["speaker"],
        "split": first["split"],
        "multi": sum(labels.values()) >= 2,
        "parts": [{"audio": p["audio"], "offset": p["offset"], "duration": p["duration"]} for p in parts],
        "source": "join",
    }
    if all("soft" in p for p in parts):
        rec["soft"] = {name: max(p["soft"][name] for p in parts) for name in LABELS}
    return rec


def _draw(first: dict, pool: list[dict], rng: np.random.Generator, *, min_parts: int, max_parts: int,
          max_seconds: float) -> list[dict] | None:
    others = [r for r in pool if r is not first]
    k = int(rng.integers(min_parts, max_parts + 1))
    if len(others) < min_parts - 1:
        return None
    rest = [others[i] for i in rng.choice(len(others), size=min(k - 1, len(others)), replace=False)]
    # The drawn clip leads (it names the sample); the rest follow in the episode's order.
    picked = [first] + sorted(rest, key=lambda r: (r.get("episode_start", 0.0), r["id"]))
    while len(picked) > min_parts and sum(p["duration"] for p in picked) > max_seconds:
        picked.pop()
    if sum(p["duration"] for p in picked) > max_seconds + 1e-6:
        return None
    return picked


def build_joined_samples(records: list[dict], *, seed: int, n_per_episode: int | None = None,
                         fraction: float | None = None, min_parts: int = 2, max_parts: int = 3,
                         max_seconds: float = 9.0, splits: tuple[str, ...] = ("train",)) -> list[dict]:
    """New joined records (records are not changed): n_per_episode per episode, or fraction of its clips.

    Parts are drawn from the episode's disfluent clips where it has enough, else from all its clips.
    Each joined sample starts from a different clip, so ids (`join/<first-id>+<parts>`) are unique.
    """
    if (n_per_episode is None) == (fraction is None):
        raise ValueError("give exactly one of n_per_episode or fraction")
    if not 2 <= min_parts <= max_parts:
        raise ValueError(f"min_parts={min_parts}, max_parts={max_parts}: need 2 <= min_parts <= max_parts")
    if (n_per_episode is not None and n_per_episode < 0) or (fraction is not None and not 0 <= fraction <= 1):
        raise ValueError("n_per_episode must be >= 0 and fraction within 0..1")
    rng = np.random.default_rng(seed)
    joined = []
    for key in sorted(groups := _group(records, splits)):
        clips = sorted(groups[key], key=lambda r: r["id"])
        disfluent = [r for r in clips if any(r["labels"].values())]
        pool = disfluent if len(disfluent) >= min_parts else clips
        n = n_per_episode if n_per_episode is not None else round(fraction * len(clips))
        n = min(n, len(pool))
        for i in rng.choice(len(pool), size=n, replace=False) if n else []:
            parts = _draw(pool[i], pool, rng, min_parts=min_parts, max_parts=max_parts, max_seconds=max_seconds)
            if parts is not None:
                joined.append(join_records(parts))
    return joined
