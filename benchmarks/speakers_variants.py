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
  - pitch (median log F0 of each window's voiced frames) appended to the embedding, or scored in the
    resegmentation as a per-voice Gaussian (and, as a ceiling, with the Gaussians fitted to the answers); by
    three trackers: a plain numpy autocorrelation (the first try), model.audio.pitch (Praat's method and
    defaults: voicing and octave costs, a Viterbi path) and Praat's own (praat-parselmouth, the dev extra);
    each weight also chosen leave-one-episode-out. And what pitch could add at best, per episode: each
    voice's median F0 and spread by the reference, the AUC of a window's log F0 for telling the voices
    apart, against the AUC of the embedding given the true voices and of the two together;
  - the ceiling of the tree: per episode, the linkage node (as "the other voice", then nearest centre) that
    scores best against the reference: what any rule that picks among the tree's groups could reach.

Run: `nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/speakers_variants.py --manifest <prep casa manifest>`
Needs the shared data (never committed) and, for the pitch variants, praat-parselmouth (the dev extra).
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
from model.audio.pitch import PitchOptions, pitch_track  # noqa: E402
from model.jsonable import dumps  # noqa: E402
from model.measures import speakers  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SWITCH_COSTS = (0.0, 0.1, 0.2, 0.3, 0.5)
F0_FRAME, F0_HOP = 640, 320  # 40 ms frames every 20 ms at SAMPLE_RATE
MIN_VOICED_S = 0.1  # a window's pitch needs this much voiced speech (the first try's 5 frames of 20 ms)
# the first try's plain tracker; model.audio.pitch; Praat's own (praat-parselmouth, the dev extra) as the check
TRACKERS = ("autocorrelation", "praat", "parselmouth")
APPEND_WEIGHTS = (0.3, 0.5, 1.0)
RESEGMENT_WEIGHTS = (0.02, 0.05, 0.1, 0.2)
log = logging.getLogger("speakers_variants")


# -- episodes ------------------------------------------------------------------------------------------


def load_episodes(manifest: Path, cache: Path, *, pitch: bool) -> list[dict]:
    """Per episode: its cached windows, the scored frames, the reference frames and, with pitch, the median
    log F0 of each window by each tracker (e["pitch"][tracker]; NaN where under MIN_VOICED_S is voiced)."""
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
            audio = stitch_episode(recs, manifest.parent)[0]
            e["pitch"], e["pitch_s"] = {}, {}
            for tracker, track in zip(TRACKERS, (window_pitch, praat_window_pitch, parselmouth_window_pitch), strict=True):
                t0 = time.perf_counter()
                e["pitch"][tracker] = track(audio, windows)
                e["pitch_s"][tracker] = time.perf_counter() - t0
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


def window_pitch(audio: np.ndarray, windows, *, voicing: float = 0.5) -> np.ndarray:
    f0, peak = f0_track(audio.astype(np.float64))
    out = np.full(len(windows.plan), np.nan)
    for i, (_, a, b) in enumerate(windows.plan):
        fa, fb = a // F0_HOP, max(a // F0_HOP + 1, (b - F0_FRAME) // F0_HOP)
        voiced = peak[fa:fb] > voicing
        if voiced.sum() >= 5:
            out[i] = np.median(np.log(f0[fa:fb][voiced]))
    return out


def praat_window_pitch(audio: np.ndarray, windows) -> np.ndarray:
    """(windows,) median log F0 of each window's voiced frames by model.audio.pitch (Praat's defaults), run
    per speech segment (so quiet frames are judged against the segment's peak, as Praat judges them
    against the sound's); NaN where under MIN_VOICED_S of the window is voiced."""
    half = round(PitchOptions().window_seconds / 2 * SAMPLE_RATE)  # frames centred up to the segment's edges
    times, f0 = [], []
    for a, b in windows.segments:
        lo = max(a * TOKEN_SAMPLES - half, 0)
        track = pitch_track(audio[lo:b * TOKEN_SAMPLES + half], SAMPLE_RATE, start=lo / SAMPLE_RATE)
        times.append(track.times)
        f0.append(track.f0_hz)
    return window_medians(np.concatenate(times), np.concatenate(f0), windows.plan)


def window_medians(times: np.ndarray, f0_hz: np.ndarray, plan) -> np.ndarray:
    """(windows,) median log F0 of the voiced frames (f0_hz not NaN, frames centred at `times` seconds, every
    10 ms) inside each window of the plan; NaN where under MIN_VOICED_S of them are voiced."""
    out, centre = np.full(len(plan), np.nan), times * SAMPLE_RATE  # frame centres in samples
    voiced = ~np.isnan(f0_hz)
    for w, (_, a, b) in enumerate(plan):
        inside = voiced & (centre >= a) & (centre < b)
        if inside.sum() * PitchOptions().hop_seconds >= MIN_VOICED_S - 1e-9:
            out[w] = np.median(np.log(f0_hz[inside]))
    return out


def parselmouth_window_pitch(audio: np.ndarray, windows) -> np.ndarray:
    """praat_window_pitch's medians from Praat's own tracker (praat-parselmouth's To Pitch (ac), the same
    defaults), run over the whole stitched episode as Praat would."""
    try:
        import parselmouth
    except ImportError as e:
        raise RuntimeError("the pitch variants compare with Praat's own tracker: install the dev extra "
                           "(praat-parselmouth), or pass --no-pitch") from e
    o = PitchOptions()
    pitch = parselmouth.Sound(audio.astype(np.float64), SAMPLE_RATE).to_pitch_ac(
        time_step=o.hop_seconds, pitch_floor=o.floor_hz, pitch_ceiling=o.ceiling_hz)
    f0 = pitch.selected_array["frequency"]  # (frames,) Hz, 0 where unvoiced
    return window_medians(pitch.xs(), np.where(f0 > 0, f0, np.nan), windows.plan)


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


def pitch_filled(e: dict, tracker: str, context: int = 1) -> np.ndarray:
    p = e["pitch"][tracker]
    p = np.where(np.isnan(p), np.nanmedian(p), p) - np.nanmedian(p)
    return speakers.neighbour_mean(p[:, None], e["segment"], context)[:, 0]


def pitch_in_linkage(weight: float, tracker: str, switch_cost: float = 0.0):
    """Log F0 (centred on the episode's median, NaN filled with it, averaged as the embeddings are) x weight
    appended to each window's embedding, then the linkage; resegmented on the same rows when switch_cost."""
    def run(e):
        x, key = np.c_[pooled_x(e, 1), weight * pitch_filled(e, tracker)], ("pitch groups", tracker, weight)  # (n, dims + 1)
        if key not in e:  # the linkage, once per episode and setting
            e[key] = speakers.cluster(x, 2, min_share=0.03)
        return speakers.resegment(x, e[key], switch_cost)
    return run


def pitch_in_resegmentation(weight: float, tracker: str, switch_cost: float = 0.2, *, answers: bool = False):
    """The resegmentation's score plus weight x each voice's Gaussian log likelihood of the window's log F0
    (relative to the likelier voice; 0 where the window has no pitch). The Gaussians are fitted to the
    linkage's two groups, or with `answers` (a ceiling) to the reference's client (the larger group) and
    interviewer windows."""
    def run(e):
        x, g, p = pooled_x(e, 1), first_groups(e), e["pitch"][tracker]
        if g.max() == 0:
            return g
        fit = g
        if answers:
            inter = interviewer_windows(e)
            if not inter.any():  # no interviewer: no pitch term
                return speakers.resegment(x, g, switch_cost)
            fit = inter.astype(np.int64)
        mu = [np.nanmedian(p[fit == k]) for k in range(2)]
        sd = [max(0.1, float(np.nanstd(p[fit == k]))) for k in range(2)]
        lp = np.stack([-0.5 * ((p - mu[k]) / sd[k]) ** 2 - np.log(sd[k]) for k in range(2)], axis=1)
        extra = np.nan_to_num(lp - np.nanmax(lp, axis=1, keepdims=True), nan=0.0)  # (n, 2)
        return speakers.viterbi(x @ speakers._unit(np.array([x[g == k].sum(axis=0) for k in range(2)])).T + weight * extra, switch_cost)
    return run


def interviewer_windows(e: dict) -> np.ndarray:
    """(windows,) bool: most of the window's frames are the interviewer's by the reference."""
    return np.array([e["reference"][a // TOKEN_SAMPLES:b // TOKEN_SAMPLES].mean() > 0.5 for _, a, b in e["windows"].plan])


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
        for tracker in TRACKERS:
            out += [(f"pitch ({tracker}) appended to the embedding, then resegmented", f"weight={w} switch_cost=0.2",
                     pitch_in_linkage(w, tracker, 0.2)) for w in APPEND_WEIGHTS]
            out += [(f"pitch ({tracker}) in the resegmentation", f"weight={w} switch_cost=0.2",
                     pitch_in_resegmentation(w, tracker)) for w in RESEGMENT_WEIGHTS]
            out += [(f"ceiling: pitch ({tracker}) in the resegmentation, Gaussians fitted to the answers",
                     f"weight={w} switch_cost=0.2", pitch_in_resegmentation(w, tracker, answers=True))
                    for w in RESEGMENT_WEIGHTS]
    return out


def pitch_chosen(episodes: list[dict], baseline: list[dict]) -> list[tuple[str, list[dict], list[str]]]:
    """Each pitch use with its weight chosen leave-one-episode-out from 0 (no pitch: the shipped steps) and
    the weights tried; and the switch cost chosen together with the resegmentation's pitch weight (against the
    switch cost chosen alone). (name, counts per episode, the setting each fold chose)."""
    out = []
    for tracker in TRACKERS:
        for use, weights, make in (("appended to the embedding", APPEND_WEIGHTS, lambda w, t: pitch_in_linkage(w, t, 0.2)),
                                   ("in the resegmentation", RESEGMENT_WEIGHTS, pitch_in_resegmentation)):
            table = {"weight=0": baseline} | {f"weight={w}": [score(e, make(w, tracker)(e)) for e in episodes]
                                               for w in weights}
            out.append((f"pitch ({tracker}) {use}, weight chosen leave-one-episode-out (0 = none)",
                        *leave_one_out(episodes, table)))
        table = {f"switch_cost={c} weight={w}": [score(e, pitch_in_resegmentation(w, tracker, c)(e)) for e in episodes]
                 for c in SWITCH_COSTS[1:] for w in (0.0, *RESEGMENT_WEIGHTS)}
        out.append((f"switch cost and pitch ({tracker}) weight in the resegmentation chosen leave-one-episode-out",
                    *leave_one_out(episodes, table)))
    return out


def jackknife_difference(a: list[dict], b: list[dict]) -> dict[str, float]:
    """Pooled P and R of a minus b, and the jackknife standard error of each difference over episodes (how much
    the difference moves with which episodes are in the set)."""
    out = {}
    for key in ("precision", "recall"):
        full = pooled(a)[key] - pooled(b)[key]
        drops = np.array([pooled(a[:i] + a[i + 1:])[key] - pooled(b[:i] + b[i + 1:])[key] for i in range(len(a))])
        out[key] = full
        out[f"{key}_se"] = float(np.sqrt((len(a) - 1) / len(a) * np.sum((drops - drops.mean()) ** 2)))
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
    switch_loo = loo
    differences = {}
    if not args.no_pitch:
        for name, cs, chosen in pitch_chosen(episodes, table["switch_cost=0.2"]):
            rows.append(summary(name, episodes, cs, "; ".join(f"{k} ({chosen.count(k)})" for k in sorted(set(chosen)))))
            against = switch_loo if name.startswith("switch cost") else table["switch_cost=0.2"]
            differences[name] = jackknife_difference(cs, against)
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
              "command": "python benchmarks/speakers_variants.py " + " ".join(
                  f"<{Path(a).name}>" if os.path.isabs(a) else a for a in (argv if argv is not None else sys.argv[1:])),
              "pitch_s": {t: sum(e["pitch_s"][t] for e in episodes) for t in TRACKERS} if not args.no_pitch else None,
              "agreement": None if args.no_pitch else {t: agreement(episodes, t, "parselmouth") for t in TRACKERS[:2]},
              "variants": rows, "differences": differences, "segment_purity": purities,
              "episodes": described}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.results}.json").write_text(dumps(report, indent=1))
    (RESULTS / f"{args.results}.md").write_text(markdown(report, episodes))
    print(markdown(report, episodes))
    return 0


def agreement(episodes: list[dict], tracker: str, against: str) -> dict[str, float]:
    """How often two trackers' window medians agree: the share of windows that both give a pitch, and of
    those, the share within 10 % of each other (|log ratio| < 0.1) and the share an octave apart (0.5-0.9)."""
    a, b = (np.concatenate([e["pitch"][t] for e in episodes]) for t in (tracker, against))
    both = ~np.isnan(a) & ~np.isnan(b)
    d = np.abs(a[both] - b[both])
    return {"both": float(both.mean()), "within_10pct": float(np.mean(d < 0.1)),
            "octave": float(np.mean((d > np.log(2) - 0.2) & (d < np.log(2) + 0.2)))}


def describe(e: dict) -> dict:
    """What separates the voices in one episode: the linkage's two centres' cosine, and (with pitch) the median
    F0 of the windows the reference gives each voice (most of the window's frames)."""
    g, x = first_groups(e), pooled_x(e, 1)
    centres = speakers._unit(np.array([x[g == k].sum(axis=0) for k in range(int(g.max()) + 1)]))
    out = {"centre_cosine": float(centres[0] @ centres[1]) if len(centres) == 2 else None}
    if "pitch" in e:
        inter = interviewer_windows(e)
        if inter.any():  # the embedding's own evidence, given the true voices: cosine to one true centre less the other's
            true = speakers._unit(np.array([x[inter].sum(axis=0), x[~inter].sum(axis=0)]))
            lean = x @ true[0] - x @ true[1]  # (windows,)
            out["embedding_auc"] = auc(lean[inter], lean[~inter])
        for tracker, p in e["pitch"].items():
            has = ~np.isnan(p)
            c, i = p[has & ~inter], p[has & inter]
            out[tracker] = {"f0_client_hz": float(np.exp(np.median(c))),
                            "f0_interviewer_hz": float(np.exp(np.median(i))) if len(i) else None,
                            "sd_client": float(np.std(c)), "sd_interviewer": float(np.std(i)) if len(i) else None,
                            "auc": auc(i, c) if len(i) else None, "with_pitch": float(has.mean()),
                            "auc_with_embedding": combined_auc(lean, np.where(has, p, np.nanmedian(p)), inter)
                            if inter.any() else None}
    return out


def combined_auc(lean: np.ndarray, pitch: np.ndarray, inter: np.ndarray) -> float:
    """AUC of the best straight line through (embedding lean, log F0) for telling the interviewer's windows
    from the client's: Fisher's discriminant fitted to the answers and scored on the same windows, so an
    upper bound on what pitch adds to the embedding in one episode."""
    z = np.c_[lean, pitch]  # (windows, 2)
    a, b = z[inter], z[~inter]
    within = np.cov(a.T) * (len(a) - 1) + np.cov(b.T) * (len(b) - 1)  # (2, 2)
    score = z @ np.linalg.solve(within + 1e-12 * np.eye(2), a.mean(axis=0) - b.mean(axis=0))
    return auc(score[inter], score[~inter])


def auc(a: np.ndarray, b: np.ndarray) -> float:
    """How well one value tells a from b, either way round: the chance that a random a and a random b are
    ordered as the larger group's median says (0.5: not at all, 1: always)."""
    ranks = np.argsort(np.argsort(np.r_[a, b])) + 1.0  # ties are rare in medians of float F0
    u = (ranks[:len(a)].sum() - len(a) * (len(a) + 1) / 2) / (len(a) * len(b))
    return float(max(u, 1 - u))


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
              "Per episode: the linkage's two centres' cosine; by each pitch tracker (" + " / ".join(TRACKERS) + "), the "
              "median F0 of the client's and the interviewer's windows (by the reference), the spread (SD of log F0) "
              "of each voice's windows, and the AUC of a window's log F0 for telling the two voices apart "
              "(0.5: not at all); the share of windows with a pitch. Then, given the true voices, the AUC of the "
              "embedding's lean (cosine with the interviewer's true centre less the client's), and of the best "
              "straight-line mix of that lean and log F0 (Fisher's discriminant fitted to the answers, in-sample): "
              "the most pitch could add.", "",
              "| episode | centre cosine | F0 client Hz | F0 interviewer Hz | SD client | SD interviewer | AUC pitch | "
              "with pitch | AUC embedding | AUC embedding + pitch |", "|---|---|---|---|---|---|---|---|---|---|"]
    for k, d in report["episodes"].items():
        cos = "-" if d["centre_cosine"] is None else f"{d['centre_cosine']:.2f}"
        cells = [" / ".join("-" if d.get(t, {}).get(f) is None else fmt.format(d[t][f]) for t in TRACKERS)
                 for f, fmt in (("f0_client_hz", "{:.0f}"), ("f0_interviewer_hz", "{:.0f}"), ("sd_client", "{:.2f}"),
                                ("sd_interviewer", "{:.2f}"), ("auc", "{:.2f}"), ("with_pitch", "{:.2f}"))]
        cells.append("-" if d.get("embedding_auc") is None else f"{d['embedding_auc']:.3f}")
        cells.append(" / ".join("-" if d.get(t, {}).get("auc_with_embedding") is None
                                else f"{d[t]['auc_with_embedding']:.3f}" for t in TRACKERS))
        lines.append(f"| {k.split('/')[-1]} | {cos} | " + " | ".join(cells) + " |")
    with_inter = [d for d in report["episodes"].values() if d.get("embedding_auc") is not None]
    if with_inter:
        lines += ["", "Medians over the episodes with an interviewer: AUC pitch "
                  + " / ".join(f"{np.median([d[t]['auc'] for d in with_inter]):.3f}" for t in TRACKERS)
                  + f"; AUC embedding {np.median([d['embedding_auc'] for d in with_inter]):.3f}; embedding + pitch "
                  + " / ".join(f"{np.median([d[t]['auc_with_embedding'] for d in with_inter]):.3f}" for t in TRACKERS)
                  + "."]
    if report.get("pitch_s"):
        lines += ["", "Pitch of every window, seconds for all 22 episodes: "
                  + ", ".join(f"{t} {v:.1f}" for t, v in report["pitch_s"].items()) + "."]
        lines += ["", "Window medians against Praat's own (parselmouth), all windows of the 22 episodes: "
                  + "; ".join(f"{t}: both voiced {a['both']:.3f}, within 10 % {a['within_10pct']:.3f}, an octave "
                              f"apart {a['octave']:.3f}" for t, a in report["agreement"].items()) + "."]
    if report.get("differences"):
        lines += ["", "Leave-one-episode-out figures against the shipped steps (switch cost 0.2; the joint choice against "
                  "the switch cost chosen alone): difference in pooled P and R, and its jackknife standard error over "
                  "episodes (how far one episode more or less moves it):", "",
                  "| variant | P difference | R difference |", "|---|---|---|"]
        for name, d in report["differences"].items():
            lines.append(f"| {name} | {d['precision']:+.3f} (SE {d['precision_se']:.3f}) | "
                         f"{d['recall']:+.3f} (SE {d['recall_se']:.3f}) |")
    lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
