"""Who is speaking: a recording split into speakers, and the stretches that are not the client.

Steps (docs/speakers.md has the method and its measurement):
  1. Voice activity per 20 ms frame (model.speech_activity's voiced frames); pauses shorter than
     BRIDGE_S are bridged, so a word's stop closures stay inside its speech.
  2. Speech is cut into segments at pauses of at least SEGMENT_PAUSE_S (people take turns at pauses), and
     each segment embedded over sliding windows (DiarizeOptions.window_s, hop_s) that never cross a pause, so
     a window holds one voice; a segment shorter than a window is repeated to fill one. The Embedder is by
     default the voice encoder (model.voice_encoder, numpy).
  3. The window embeddings, centred and L2-normed, are clustered into `speakers` groups by spherical k-means
     (numpy only: scipy and scikit-learn are not in the shipped build).
  4. Each speech frame takes the label of its segment's window whose centre is nearest; within a segment,
     label runs shorter than min_turn_s are smoothed away, and a segment shorter than 2 x window_s takes its
     majority label.
  5. Per speaker, its segments joined across pauses up to JOIN_GAP_S (the pause inside a turn is that
     speaker's). The client is the speaker with the most speech unless one is given; "not the client" is
     everyone else's stretches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .audio import SAMPLE_RATE, TOKEN_SAMPLES, TOKENS_PER_SECOND
from .errors import Cancelled
from .speech_activity import frame_features

Stretch = tuple[float, float]  # (start, end) seconds
Embedder = Callable[[np.ndarray], np.ndarray]  # (n, samples) windows of audio -> (n, dims) embeddings

BRIDGE_S = 0.1  # pauses shorter than this inside speech count as speech (stop closures, 5 frames)
SEGMENT_PAUSE_S = 0.25  # a pause at least this long may end a turn
JOIN_GAP_S = 1.0  # a speaker's pause up to this long, between two of their own segments, stays theirs
_BATCH = 128  # windows embedded at once: numpy's LSTM is ~2x faster per window at 128 than at 32


@dataclass(frozen=True)
class DiarizeOptions:
    speakers: int = 2  # how many voices to find (an interview: client and clinician)
    window_s: float = 1.6  # seconds of speech per embedding (the voice encoder's partial utterance)
    hop_s: float = 0.4  # seconds between two windows' starts
    min_turn_s: float = 0.6  # label runs shorter than this are smoothed away
    centre: bool = False  # centre the embeddings before clustering (Whisper features share a large common part)
    seed: int = 0  # k-means initialisation


@dataclass(frozen=True)
class Diarization:
    duration_s: float  # the recording's length
    stretches: dict[int, tuple[Stretch, ...]]  # speaker -> their stretches, in time order
    speech_s: dict[int, float]  # speaker -> seconds of their speech frames

    def client(self) -> int | None:
        """The speaker with the most speech (None when no one speaks)."""
        return max(self.speech_s, key=self.speech_s.__getitem__) if self.speech_s else None

    def not_client(self, client: int | None = None) -> list[Stretch]:
        """Every other speaker's stretches, merged, in time order: what the app marks "not the client"."""
        client = self.client() if client is None else client
        if client is not None and client not in self.stretches:
            raise ValueError(f"speaker {client} is not one of {sorted(self.stretches)}; pick one of those")
        others = sorted(s for k, v in self.stretches.items() if k != client for s in v)
        return _merge(others, gap=0.0)


def _merge(stretches: list[Stretch], *, gap: float) -> list[Stretch]:
    out: list[list[float]] = []
    for s, e in sorted(stretches):
        if out and s - out[-1][1] <= gap:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(a, b) for a, b in out]


def _runs(values: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, stop, value) of each run of equal values."""
    if len(values) == 0:
        return []
    edges = np.flatnonzero(np.diff(values)) + 1
    starts, stops = np.r_[0, edges], np.r_[edges, len(values)]
    return [(int(a), int(b), int(values[a])) for a, b in zip(starts, stops, strict=True)]


def speech_mask(audio: np.ndarray) -> np.ndarray:
    """(frames,) bool per 20 ms frame: voiced, with pauses shorter than BRIDGE_S bridged."""
    voiced = frame_features(audio).voiced.copy()
    bridge = round(BRIDGE_S * TOKENS_PER_SECOND)
    for a, b, v in _runs(voiced.astype(np.int8)):
        if not v and a > 0 and b < len(voiced) and b - a < bridge:
            voiced[a:b] = True
    return voiced


def window_starts(n_samples: int, window: int, hop: int) -> np.ndarray:
    """Window starts covering n_samples (the last one flush with the end); one window if it is shorter."""
    if n_samples <= window:
        return np.zeros(1, np.int64)
    starts = np.arange(0, n_samples - window + 1, hop)
    return starts if starts[-1] == n_samples - window else np.r_[starts, n_samples - window]


def voice_encoder_embedder() -> Embedder:
    """The default Embedder: Resemblyzer's voice encoder in numpy (model.voice_encoder)."""
    from .voice_encoder import load_voice_encoder

    return load_voice_encoder().embed


def cluster(embeddings: np.ndarray, k: int, *, centre: bool = False, seed: int = 0,
            iterations: int = 50) -> np.ndarray:
    """(n, dims) -> (n,) labels 0..k-1: spherical k-means on L2-normed rows (centred first if `centre`: for
    features that share a large common part, such as Whisper's), k-means++ seeding, the best of 5 starts by
    mean cosine to the centres."""
    if k < 1:
        raise ValueError(f"speakers must be at least 1, got {k}")
    x = embeddings - embeddings.mean(axis=0) if centre else embeddings.astype(np.float64)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    if len(x) <= k:
        return np.arange(len(x))
    rng = np.random.default_rng(seed)
    best, best_score = np.zeros(len(x), np.int64), -np.inf
    for _ in range(5):
        centres = [x[rng.integers(len(x))]]
        for _ in range(1, k):
            far = np.maximum(0.0, 1 - np.max(x @ np.array(centres).T, axis=1))  # cosine distance to the nearest centre
            centres.append(x[rng.choice(len(x), p=far / far.sum()) if far.sum() > 0 else rng.integers(len(x))])
        c = np.array(centres)
        for _ in range(iterations):
            labels = np.argmax(x @ c.T, axis=1)
            new = np.array([x[labels == j].sum(axis=0) if np.any(labels == j) else c[j] for j in range(k)])
            new /= np.maximum(np.linalg.norm(new, axis=1, keepdims=True), 1e-12)
            if np.allclose(new, c):
                break
            c = new
        score = float(np.mean(np.max(x @ c.T, axis=1)))
        if score > best_score:
            best, best_score = np.argmax(x @ c.T, axis=1), score
    return best


def window_plan(segs: list[tuple[int, int]], window: int, hop: int) -> list[tuple[int, int, int]]:
    """(segment index, start sample, stop sample) of each window: slid inside each segment, or the whole
    segment (stop - start < window: repeated to a window's length when embedded)."""
    plan = []
    for i, (a, b) in enumerate(segs):
        a, b = a * TOKEN_SAMPLES, b * TOKEN_SAMPLES
        plan += [(i, a + int(s), min(b, a + int(s) + window)) for s in window_starts(b - a, window, hop)]
    return plan


def frame_labels(plan: list[tuple[int, int, int]], window_labels: np.ndarray,
                 segs: list[tuple[int, int]], n_frames: int) -> np.ndarray:
    """(n_frames,) per frame of a segment: the label of its segment's window whose centre is nearest (a turn
    change is off by at most half a hop); -1 outside segments."""
    out = np.full(n_frames, -1, np.int64)
    plan_arr = np.array(plan)  # (windows, 3)
    centres = (plan_arr[:, 1] + plan_arr[:, 2]) / 2 / TOKEN_SAMPLES  # in frames
    for i, (a, b) in enumerate(segs):
        mine = np.flatnonzero(plan_arr[:, 0] == i)
        frames = np.arange(a, b) + 0.5
        nearest = np.argmin(np.abs(frames[:, None] - centres[mine][None, :]), axis=1)
        out[a:b] = window_labels[mine][nearest]
    return out


def smooth(labels: np.ndarray, width: int) -> np.ndarray:
    """Runs shorter than `width` frames take the label of the longer neighbour, shortest runs first."""
    labels = labels.copy()
    while True:
        runs = _runs(labels)
        short = [r for r in runs if r[1] - r[0] < width]
        if len(runs) < 2 or not short:
            return labels
        a, b, _ = min(short, key=lambda r: r[1] - r[0])
        i = next(j for j, r in enumerate(runs) if r[0] == a)
        neighbours = [runs[j] for j in (i - 1, i + 1) if 0 <= j < len(runs)]
        labels[a:b] = max(neighbours, key=lambda r: r[1] - r[0])[2]


def segments(speech: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) frames of each stretch of speech between pauses of at least SEGMENT_PAUSE_S."""
    pause = round(SEGMENT_PAUSE_S * TOKENS_PER_SECOND)
    out: list[tuple[int, int]] = []
    for a, b, v in _runs(speech.astype(np.int8)):
        if not v:
            continue
        if out and a - out[-1][1] < pause:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def timeline_labels(speech: np.ndarray, labels: np.ndarray, segs: list[tuple[int, int]], *,
                    min_turn: int, short: int) -> np.ndarray:
    """(frames,) label per frame, -1 outside speech: within each segment its speech frames' labels smoothed
    over min_turn frames, or, in a segment shorter than `short` frames, their majority."""
    out = np.where(speech, labels, -1)
    for a, b in segs:
        inside = out[a:b] >= 0
        seg = out[a:b][inside]
        out[a:b][inside] = np.bincount(seg).argmax() if b - a < short else smooth(seg, min_turn)
    return out


def stretches_from_labels(timeline: np.ndarray, k: int) -> dict[int, tuple[Stretch, ...]]:
    """Speaker -> their stretches: runs of their label, joined across pauses up to JOIN_GAP_S."""
    sec = 1 / TOKENS_PER_SECOND
    out = {}
    for j in range(k):
        runs = [(a * sec, b * sec) for a, b, v in _runs(timeline) if v == j]
        out[j] = tuple(_merge(runs, gap=JOIN_GAP_S))
    for j in range(k):  # a join must not swallow another speaker's speech
        out[j] = tuple(p for s, e in out[j] for p in _cut(s, e, timeline, j))
    return out


def _cut(start: float, end: float, timeline: np.ndarray, j: int) -> list[Stretch]:
    a, b = round(start * TOKENS_PER_SECOND), round(end * TOKENS_PER_SECOND)
    mine = (timeline[a:b] == j) | (timeline[a:b] == -1)
    return [((a + s) / TOKENS_PER_SECOND, (a + e) / TOKENS_PER_SECOND) for s, e, v in _runs(mine.astype(np.int8))
            if v and np.any(timeline[a + s:a + e] == j)]


def diarize(audio_16k: np.ndarray, *, options: DiarizeOptions | None = None, embedder: Embedder | None = None,
            cancel: Callable[[], bool] | None = None,
            progress: Callable[[float], None] | None = None) -> Diarization:
    """Split a recording (samples,) at SAMPLE_RATE into speakers (module doc). progress gets 0..1."""
    options = options or DiarizeOptions()
    audio = np.asarray(audio_16k, np.float32)
    if audio.ndim != 1:
        raise ValueError(f"audio must be mono (samples,), got shape {audio.shape}; mix the channels down first")
    speech = speech_mask(audio)
    segs = segments(speech)
    if not segs:
        return Diarization(len(audio) / SAMPLE_RATE, {j: () for j in range(options.speakers)}, {})
    window = round(options.window_s * SAMPLE_RATE)
    plan = window_plan(segs, window, round(options.hop_s * SAMPLE_RATE))
    embeddings = _embed_all(embedder or voice_encoder_embedder(), audio, plan, window, cancel, progress)
    k = min(options.speakers, len(plan))
    labels = frame_labels(plan, cluster(embeddings, k, centre=options.centre, seed=options.seed), segs, len(speech))
    timeline = timeline_labels(speech, labels, segs, min_turn=round(options.min_turn_s * TOKENS_PER_SECOND),
                               short=round(2 * options.window_s * TOKENS_PER_SECOND))
    counts = np.bincount(timeline[timeline >= 0], minlength=options.speakers)
    return Diarization(len(audio) / SAMPLE_RATE, stretches_from_labels(timeline, options.speakers),
                       {j: float(c) / TOKENS_PER_SECOND for j, c in enumerate(counts) if c > 0})


def _embed_all(embedder: Embedder, audio: np.ndarray, plan: list[tuple[int, int, int]], window: int,
               cancel: Callable[[], bool] | None, progress: Callable[[float], None] | None) -> np.ndarray:
    parts = []
    for i in range(0, len(plan), _BATCH):
        if cancel is not None and cancel():
            raise Cancelled()
        batch = np.stack([np.resize(audio[a:b], window) for _, a, b in plan[i:i + _BATCH]])  # (n, window)
        parts.append(embedder(batch))
        if progress is not None:
            progress(min(1.0, (i + _BATCH) / len(plan)))
    return np.concatenate(parts)
