"""Who is speaking: what was tried beyond the first version, on the 22 CASA episodes' cached voice embeddings.

Every variant starts from benchmarks/speakers_casa.py's cached windows (run that first: it embeds each episode
once with the voice encoder and keeps the windows in its cache, never in the repo) and ends in model.measures.speakers'
own steps from window labels to stretches (frame labels, smoothing, joins), scored as speakers_casa scores them:
frames of 20 ms inside the runs against interviewer.csv, "not the client" pooled over the episodes.

Variants (docs/speakers.md says why each was tried):
  - nearest centre (the first version, switch_cost 0) and the resegmentation (model.measures.speakers.resegment) at
    several switch costs;
  - the switch cost chosen leave-one-episode-out (each episode scored with the cost that is best, by pooled F1,
    on the other 21), alone and together with the context and least share (which shows what choosing more
    settings on 21 episodes costs the 22nd);
  - a second-voice check: the second voice's "segment purity" (share of its windows in segments where it holds
    the majority: a real interviewer speaks whole turns, a stray sound is scattered in the client's), per
    episode, and the check that keeps one voice below a purity threshold;
  - segment-level clustering (each pause-bounded segment's mean clustered);
  - two-pass: a shrunk LDA direction fitted to the first labels, every window re-assigned by it;
  - PCA-whitened linkage and a tied-covariance two-Gaussian mixture (PLDA-like scoring);
  - pitch (numpy autocorrelation, median log F0 per window) appended to the embedding, or scored in the
    resegmentation as a per-voice Gaussian;
  - the ceiling of the tree: per episode, the linkage node (as "the other voice", then nearest centre) that
    scores best against the reference: what any rule that picks among the tree's groups could reach.

Run: `nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/speakers_variants.py --manifest <prep casa manifest>`
Needs the shared data (never committed).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import speakers_casa as casa  # noqa: E402
from benchmarks.casa_words import GAP_S, MANIFEST, episode_runs, stitch_episode  # noqa: E402
from model.audio.decode import SAMPLE_RATE, TOKEN_SAMPLES, TOKENS_PER_SECOND  # noqa: E402
from model.jsonable import dumps  # noqa: E402
from model.measures import speakers  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SWITCH_COSTS = (0.0, 0.1, 0.2, 0.3, 0.5)
F0_FRAME, F0_HOP = 640, 320  # 40 ms frames every 20 ms at SAMPLE_RATE
log = logging.getLogger("speakers_variants")


# -- episodes ------------------------------------------------------------------------------------------


def load_episodes(manifest: Path, cache: Path, *, pitch: bool) -> list[dict]:
    """Per episode: its cached windows, the scored frames, the reference frames and, with pitch, the median
    log F0 of each window (NaN where under 5 voiced frames)."""
    interviewer, out = casa.interviewer_per_run(casa.INTERVIEWER_CSV), []
    for (split, episode), recs in episode_runs(manifest, ["train", "dev", "test"]).items():
        offsets, pos = [], 0.0
        for rec in recs:  # stitch_episode's layout: each run then GAP_S of silence
            offsets.append((pos, rec["duration"]))
            pos += rec["duration"] + GAP_S
        path = cache / f"{episode.replace('/', '_')}.voice.{speakers.DiarizeOptions().window_s}-{speakers.DiarizeOptions().hop_s}.npz"
        if not path.exists():
            raise ValueError(f"no cached windows for {episode}: run benchmarks/speakers_casa.py --embedders voice first")
        windows, _ = casa.cached_windows(path, None)
        n = len(windows.speech)
        e = {"episode": episode, "split": split, "windows": windows,
             "scored": casa.frame_mask([(s, s + d) for s, d in offsets], n),
             "reference": casa.frame_mask(casa.run_stretches(recs, offsets, interviewer), n),
             "segment": np.array([p[0] for p in windows.plan])}
        if pitch:
            e["pitch"] = window_pitch(stitch_episode(recs, manifest.parent)[0], windows.plan)
        out.append(e)
    return out


def f0_track(audio: np.ndarray, *, fmin: float = 60.0, fmax: float = 400.0) -> tuple[np.ndarray, np.ndarray]:
    """(frames,) F0 in Hz and the normalised autocorrelation peak (voicing) per 40 ms frame every 20 ms."""
    n = (len(audio) - F0_FRAME) // F0_HOP + 1
    frames = audio[np.arange(F0_FRAME)[None, :] + F0_HOP * np.arange(n)[:, None]] * np.hanning(F0_FRAME)
    frames = frames - frames.mean(axis=1, keepdims=True)  # (n, F0_FRAME)
    ac = np.fft.irfft(np.abs(np.fft.rfft(frames, 2 * F0_FRAME, axis=1)) ** 2, axis=1)[:, :F0_FRAME]
    ac = ac / np.maximum(ac[:, :1], 1e-12)
    lo, hi = int(SAMPLE_RATE / fmax), int(SAMPLE_RATE / fmin)
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    return SAMPLE_RATE / lag, ac[np.arange(n), lag]


def window_pitch(audio: np.ndarray, plan, *, voicing: float = 0.5) -> np.ndarray:
    f0, peak = f0_track(audio.astype(np.float64))
    out = np.full(len(plan), np.nan)
    for i, (_, a, b) in enumerate(plan):
        fa, fb = a // F0_HOP, max(a // F0_HOP + 1, (b - F0_FRAME) // F0_HOP)
        voiced = peak[fa:fb] > voicing
        if voiced.sum() >= 5:
            out[i] = np.median(np.log(f0[fa:fb][voiced]))
    return out


# -- scoring -------------------------------------------------------------------------------------------


def diarization(windows, groups: np.ndarray, k: int = 2) -> speakers.Diarization:
    """model.measures.speakers.assign's steps after the window labels, on the given labels."""
    o = speakers.DiarizeOptions()
    labels = speakers.frame_labels(windows.plan, groups, windows.segments, len(windows.speech))
    timeline = speakers.timeline_labels(windows.speech, labels, windows.segments,
                               min_turn=round(o.min_turn_s * TOKENS_PER_SECOND),
                               short=round(2 * o.window_s * TOKENS_PER_SECOND))
    c = np.bincount(timeline[timeline >= 0], minlength=k)
    return speakers.Diarization(windows.duration_s, speakers.stretches_from_labels(timeline, k),
                       {j: float(v) / TOKENS_PER_SECOND for j, v in enumerate(c) if v > 0})


def score(e: dict, groups: np.ndarray) -> dict[str, int]:
    d = diarization(e["windows"], groups)
    return casa.counts(casa.frame_mask(d.not_client(), len(e["windows"].speech)), e["reference"], e["scored"])


def pooled(cs: list[dict]) -> dict:
    return casa.precision_recall({k: sum(c[k] for c in cs) for k in ("tp", "fp", "fn")})


def f1(cs: list[dict]) -> float:
    p = pooled(cs)
    return 0.0 if not p["precision"] or not p["recall"] else 2 * p["precision"] * p["recall"] / (p["precision"] + p["recall"])


def summary(name: str, episodes: list[dict], cs: list[dict], command_args: str) -> dict:
    per = [casa.precision_recall(c) for c in cs]
    with_inter = [q for q, e in zip(per, episodes, strict=True) if e["reference"][e["scored"]].any()]
    p = pooled(cs)
    return {"variant": name, **p, "f1": f1(cs),
            "precision_range": [min(q["precision"] or 0.0 for q in with_inter), max(q["precision"] or 0.0 for q in with_inter)],
            "recall_range": [min(q["recall"] for q in with_inter), max(q["recall"] for q in with_inter)],
            "episodes_meeting_aim": sum((q["precision"] or 0) >= 0.85 and q["recall"] >= 0.85 for q in with_inter),
            "episodes_with_interviewer": len(with_inter),
            "false_s_without_interviewer": {e["episode"]: c["fp"] / TOKENS_PER_SECOND for e, c in zip(episodes, cs, strict=True)
                                            if not e["reference"][e["scored"]].any()},
            "per_episode": {e["episode"]: q for e, q in zip(episodes, per, strict=True)}, "args": command_args}


# -- the variants: each (episode) -> window labels -------------------------------------------------------


def pooled_x(e: dict, context: int) -> np.ndarray:
    return speakers._unit(speakers.neighbour_mean(e["windows"].embeddings, e["segment"], context))


def first_groups(e: dict, context: int = 1, min_share: float = 0.03) -> np.ndarray:
    key = ("groups", context, min_share)
    if key not in e:  # the linkage is the slow part: once per episode and setting
        e[key] = speakers.cluster(pooled_x(e, context), 2, min_share=min_share)
    return e[key]


def linkage_resegmented(switch_cost: float, context: int = 1, min_share: float = 0.03):
    return lambda e: speakers.resegment(pooled_x(e, context), first_groups(e, context, min_share), switch_cost)


def purity(groups: np.ndarray, segment: np.ndarray) -> float:
    """Share of the second voice's windows that lie in segments where it holds the majority."""
    mine = segment[groups == 1]
    return float(np.mean([np.mean(groups[segment == s] == 1) >= 0.5 for s in mine])) if len(mine) else 1.0


def purity_checked(threshold: float, switch_cost: float = 0.2):
    def run(e):
        g = first_groups(e)
        return np.zeros_like(g) if g.max() and purity(g, e["segment"]) < threshold else \
            speakers.resegment(pooled_x(e, 1), g, switch_cost)
    return run


def segment_level(switch_cost: float, min_share: float = 0.03):
    """The segments' mean embeddings clustered (weighted by their windows), every window to the nearer centre."""
    def run(e):
        x, seg = pooled_x(e, 0), e["segment"]
        m = seg.max() + 1
        means, sizes = speakers._unit(np.array([x[seg == s].sum(axis=0) for s in range(m)])), np.bincount(seg, minlength=m)
        micro = speakers.micro_clusters(means, 600)
        g = speakers._unit(np.array([(means[micro == q] * sizes[micro == q, None]).sum(axis=0) for q in range(micro.max() + 1)]))
        w = np.array([sizes[micro == q].sum() for q in range(micro.max() + 1)])
        for level in reversed(speakers.average_linkage(g, w, keep=40)):
            per = np.bincount(level, weights=w, minlength=len(g))
            top = np.argsort(per)[::-1][:2]
            if len(top) == 2 and per[top[-1]] >= min_share * len(x):
                break
        else:
            return np.zeros(len(x), np.int64)
        centres = speakers._unit(np.array([x[level[micro[seg]] == t].sum(axis=0) for t in top]))
        return speakers.resegment(x, np.argmax(x @ centres.T, axis=1), switch_cost)
    return run


def lda_two_pass(shrink: float = 0.3, iterations: int = 5):
    """A shrunk LDA direction fitted to the current labels, every window re-assigned by it (prior: the groups'
    sizes), repeated until the labels settle."""
    def run(e):
        x, g = pooled_x(e, 1), first_groups(e).copy()
        for _ in range(iterations):
            a, b = x[g == 0], x[g == 1]
            if len(a) < 2 or len(b) < 2:
                break
            s = (np.cov(a.T) * (len(a) - 1) + np.cov(b.T) * (len(b) - 1)) / len(x)
            s = s + shrink * np.trace(s) / len(s) * np.eye(len(s))
            w = np.linalg.solve(s, b.mean(axis=0) - a.mean(axis=0))
            ma, mb = (a @ w).mean(), (b @ w).mean()
            threshold = (ma + mb) / 2 + np.log(len(a) / len(b)) * (w @ s @ w) / (mb - ma)
            new = (x @ w > threshold).astype(np.int64)
            if np.array_equal(new, g):
                break
            g = new
        return g
    return run


def pca(x: np.ndarray, dims: int, whiten: bool) -> np.ndarray:
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    z = centred @ vt[:dims].T  # (n, dims)
    return z / (s[:dims] / np.sqrt(len(x))) if whiten else z


def pca_linkage(dims: int, whiten: bool = True):
    return lambda e: speakers.cluster(pca(pooled_x(e, 1), dims, whiten), 2, min_share=0.03)


def tied_gmm(dims: int, iterations: int = 20):
    """Two Gaussians with one shared covariance (the PLDA-like model) on PCA-whitened windows, EM from the
    linkage's labels, each window to the likelier."""
    def run(e):
        z = pca(pooled_x(e, 1), dims, True)
        g = speakers.cluster(z, 2, min_share=0.03)
        if g.max() == 0:
            return g
        r = np.stack([g == 0, g == 1], axis=1).astype(np.float64)  # (n, 2) responsibilities
        for _ in range(iterations):
            nk = r.sum(axis=0) + 1e-9
            mu = (r.T @ z) / nk[:, None]
            cov = sum(((z - mu[k]) * r[:, k:k + 1]).T @ (z - mu[k]) for k in range(2)) / len(z) + 1e-6 * np.eye(dims)
            inv = np.linalg.inv(cov)
            ll = np.stack([-0.5 * np.einsum("ij,jk,ik->i", z - mu[k], inv, z - mu[k]) + np.log(nk[k] / nk.sum())
                           for k in range(2)], axis=1)
            r = np.exp(ll - ll.max(axis=1, keepdims=True))
            r /= r.sum(axis=1, keepdims=True)
        return np.argmax(r, axis=1)
    return run


def pitch_filled(e: dict, context: int = 1) -> np.ndarray:
    p = e["pitch"]
    p = np.where(np.isnan(p), np.nanmedian(p), p) - np.nanmedian(p)
    return speakers.neighbour_mean(p[:, None], e["segment"], context)[:, 0]


def pitch_in_linkage(weight: float):
    return lambda e: speakers.cluster(np.c_[pooled_x(e, 1), weight * pitch_filled(e)], 2, min_share=0.03)


def pitch_in_resegmentation(weight: float, switch_cost: float = 0.2):
    """The resegmentation's score plus weight x each voice's Gaussian log likelihood of the window's log F0
    (relative to the likelier voice; 0 where the window has no pitch)."""
    def run(e):
        x, g, p = pooled_x(e, 1), first_groups(e), e["pitch"]
        if g.max() == 0:
            return g
        mu = [np.nanmedian(p[g == k]) for k in range(2)]
        sd = [max(0.1, float(np.nanstd(p[g == k]))) for k in range(2)]
        lp = np.stack([-0.5 * ((p - mu[k]) / sd[k]) ** 2 - np.log(sd[k]) for k in range(2)], axis=1)
        extra = np.nan_to_num(lp - np.nanmax(lp, axis=1, keepdims=True), nan=0.0)  # (n, 2)
        return speakers.viterbi(x @ speakers._unit(np.array([x[g == k].sum(axis=0) for k in range(2)])).T + weight * extra, switch_cost)
    return run


def tree_ceiling(e: dict) -> dict[str, int]:
    """The best-scoring linkage node (as the other voice, then nearest centre, then resegmented), by F1
    against the reference: a ceiling for rules that choose among the tree's groups."""
    x = pooled_x(e, 1)
    micro = speakers.micro_clusters(x, 600)
    g = speakers._unit(np.array([x[micro == q].sum(axis=0) for q in range(micro.max() + 1)]))
    best, seen = None, set()
    for level in speakers.average_linkage(g, np.bincount(micro), keep=40):
        for t in np.unique(level):
            members = level[micro] == t
            if not 0.02 <= members.mean() <= 0.5 or members.tobytes() in seen:
                continue
            seen.add(members.tobytes())
            centres = speakers._unit(np.array([x[~members].sum(axis=0), x[members].sum(axis=0)]))
            c = score(e, speakers.resegment(x, np.argmax(x @ centres.T, axis=1), speakers.DiarizeOptions().switch_cost))
            value = 2 * c["tp"] / max(1, 2 * c["tp"] + c["fp"] + c["fn"]) - (c["fp"] if not c["tp"] + c["fn"] else 0)
            if best is None or value > best[0]:
                best = (value, c)
    return best[1] if best else score(e, np.zeros(len(x), np.int64))


# -- leave one episode out -------------------------------------------------------------------------------


def leave_one_out(episodes: list[dict], table: dict[str, list[dict]]) -> tuple[list[dict], list[str]]:
    """Each episode scored with the setting whose pooled F1 is best on the other episodes."""
    out, chosen = [], []
    for i in range(len(episodes)):
        best = max(table, key=lambda k: f1([c for j, c in enumerate(table[k]) if j != i]))
        out.append(table[best][i])
        chosen.append(best)
    return out, chosen


def variants(pitch: bool) -> list[tuple[str, str, Callable]]:
    """(name, settings for the table, episode -> window labels)."""
    out = [(f"linkage, then resegmentation at switch cost {c}" if c else "linkage, nearest centre (first version)",
            f"switch_cost={c}", linkage_resegmented(c)) for c in SWITCH_COSTS]
    out += [(f"second-voice check: one voice if segment purity < {t}", f"min_purity={t}", purity_checked(t))
            for t in (0.52, 0.55, 0.6)]
    out += [("segment-level clustering", "switch_cost=0", segment_level(0.0)),
            ("segment-level clustering, resegmented", "switch_cost=0.2", segment_level(0.2)),
            ("two-pass: shrunk LDA re-assignment", "shrink=0.3", lda_two_pass()),
            ("PCA-whitened linkage", "dims=10", pca_linkage(10)),
            ("PCA linkage (not whitened)", "dims=10", pca_linkage(10, whiten=False)),
            ("tied-covariance 2-Gaussian mixture on PCA", "dims=5", tied_gmm(5))]
    if pitch:
        out += [(f"pitch appended to the embedding, weight {w}", f"weight={w}", pitch_in_linkage(w)) for w in (0.3, 1.0)]
        out += [(f"pitch in the resegmentation, weight {w}", f"weight={w}, switch_cost=0.2", pitch_in_resegmentation(w))
                for w in (0.05, 0.1)]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    ap.add_argument("--cache", type=Path, default=casa.CACHE)
    ap.add_argument("--no-pitch", action="store_true", help="leave out the pitch variants (they decode the audio)")
    ap.add_argument("--results", default="speakers_variants")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    load_start, t0 = os.getloadavg(), time.perf_counter()
    episodes = load_episodes(args.manifest, args.cache, pitch=not args.no_pitch)
    rows, table = [], {}
    for name, settings, run in variants(not args.no_pitch):
        cs = [score(e, run(e)) for e in episodes]
        rows.append(summary(name, episodes, cs, settings))
        log.info("%s: P %.3f R %.3f", name, rows[-1]["precision"], rows[-1]["recall"])
        if settings.startswith("switch_cost=") and name.startswith("linkage"):
            table[settings] = cs
    loo, chosen = leave_one_out(episodes, table)
    rows.append(summary("switch cost chosen leave-one-episode-out", episodes, loo, " ".join(sorted(set(chosen)))))
    wide = {f"context={c} min_share={m} switch_cost={s}": [score(e, linkage_resegmented(s, c, m)(e)) for e in episodes]
            for c in (1, 2) for m in (0.03, 0.05) for s in SWITCH_COSTS}
    loo, chosen = leave_one_out(episodes, wide)
    rows.append(summary("context, least share and switch cost chosen leave-one-episode-out", episodes, loo,
                        "; ".join(sorted(set(chosen)))))
    rows.append(summary("ceiling: the best linkage node per episode, chosen with the reference", episodes,
                        [tree_ceiling(e) for e in episodes], "(uses the answers)"))
    cost = []  # the resegmentation's own time over all 22 episodes (their linkage cached above), median of 5
    for _ in range(5):
        t1 = time.perf_counter()
        for e in episodes:
            speakers.resegment(pooled_x(e, 1), first_groups(e), speakers.DiarizeOptions().switch_cost)
        cost.append(time.perf_counter() - t1)
    purities = {e["episode"]: purity(first_groups(e), e["segment"]) if first_groups(e).max() else None for e in episodes}
    described = {e["episode"]: describe(e) for e in episodes}
    report = {"machine": casa._machine(), "load_start": [round(x, 1) for x in load_start],
              "load_end": [round(x, 1) for x in os.getloadavg()], "seconds": time.perf_counter() - t0,
              "resegmentation_s": float(np.median(cost)), "windows": sum(len(e["segment"]) for e in episodes),
              "audio_s": sum(e["windows"].duration_s for e in episodes),
              "command": "python benchmarks/speakers_variants.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "variants": rows, "segment_purity": purities,
              "episodes": described}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.results}.json").write_text(dumps(report, indent=1))
    (RESULTS / f"{args.results}.md").write_text(markdown(report, episodes))
    print(markdown(report, episodes))
    return 0


def describe(e: dict) -> dict:
    """What separates the voices in one episode: the linkage's two centres' cosine, and (with pitch) the median
    F0 of the windows the reference gives each voice (most of the window's frames)."""
    g, x = first_groups(e), pooled_x(e, 1)
    centres = speakers._unit(np.array([x[g == k].sum(axis=0) for k in range(int(g.max()) + 1)]))
    out = {"centre_cosine": float(centres[0] @ centres[1]) if len(centres) == 2 else None}
    if "pitch" in e:
        w = e["windows"]
        inter = np.array([e["reference"][a // TOKEN_SAMPLES:b // TOKEN_SAMPLES].mean() > 0.5 for _, a, b in w.plan])
        out["f0_client_hz"] = float(np.exp(np.nanmedian(e["pitch"][~inter])))
        out["f0_interviewer_hz"] = float(np.exp(np.nanmedian(e["pitch"][inter]))) if inter.any() else None
    return out


def markdown(report: dict, episodes: list[dict]) -> str:
    lines = ["# Who is speaking: variants on the 22 CASA episodes' cached voice embeddings", "",
             f"Machine: {report['machine']}; load average at start {report['load_start']}, at end {report['load_end']}; "
             f"{report['seconds']:.0f} s in all. Command: `{report['command']}`.", "",
             f"The resegmentation (switch cost {speakers.DiarizeOptions().switch_cost}) itself: {report['resegmentation_s']:.2f} s "
             f"for the {report['windows']} windows of {report['audio_s']:.0f} s of audio (median of 5).", "",
             "Frames of 20 ms inside the runs against interviewer.csv; P and R of \"not the client\" pooled over the "
             "22 episodes; the ranges and the count meeting the aim (both >= 0.85) over the 20 episodes with an "
             "interviewer; false seconds on the two episodes without one.", "",
             "| variant | settings | P | R | P per episode | R per episode | episodes at aim | false s (no interviewer) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["variants"]:
        fs = ", ".join(f"{k.split('/')[-1]}: {v:.0f}" for k, v in r["false_s_without_interviewer"].items())
        lines.append(f"| {r['variant']} | {r['args']} | {r['precision']:.3f} | {r['recall']:.3f} | "
                     f"{r['precision_range'][0]:.2f}-{r['precision_range'][1]:.2f} | "
                     f"{r['recall_range'][0]:.2f}-{r['recall_range'][1]:.2f} | "
                     f"{r['episodes_meeting_aim']}/{r['episodes_with_interviewer']} | {fs} |")
    lines += ["", "Segment purity of the linkage's second voice (the second-voice check's statistic; episodes "
              "without an interviewer marked *):", "",
              ", ".join(f"{k.split('/')[-1]}{'*' if not e['reference'][e['scored']].any() else ''} "
                        f"{'-' if v is None else f'{v:.2f}'}"
                        for (k, v), e in zip(report["segment_purity"].items(), episodes, strict=True)), "",
              "Per episode: the linkage's two centres' cosine, and the median F0 of the client's and the interviewer's "
              "windows (by the reference):", "", "| episode | centre cosine | F0 client Hz | F0 interviewer Hz |",
              "|---|---|---|---|"]
    for k, d in report["episodes"].items():
        cos = "-" if d["centre_cosine"] is None else f"{d['centre_cosine']:.2f}"
        f0 = [("-" if d.get(f) is None else f"{d[f]:.0f}") for f in ("f0_client_hz", "f0_interviewer_hz")]
        lines.append(f"| {k.split('/')[-1]} | {cos} | {f0[0]} | {f0[1]} |")
    lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
