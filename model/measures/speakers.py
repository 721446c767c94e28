"""Who is speaking: a recording split into speakers, and the stretches that are not the client.

Steps (docs/speakers.md has the method and its measurement):
  1. Voice activity per 20 ms frame (model.audio.speech_activity's voiced frames); pauses shorter than
     BRIDGE_S are bridged, so a word's stop closures stay inside its speech.
  2. Speech is cut into segments at pauses of at least SEGMENT_PAUSE_S (people take turns at pauses), and
     each segment embedded over sliding windows (DiarizeOptions.window_s, hop_s) that never cross a pause, so
     a window holds one voice; a segment shorter than a window is repeated to fill one. The Embedder is by
     default the voice encoder (model.measures.voice_encoder, numpy).
  3. Each window's embedding is averaged with its neighbours in the same segment (DiarizeOptions.context),
     then the windows are grouped by average-linkage agglomeration on cosine distance (numpy only: scipy and
     scikit-learn are not in the shipped build), cut at the coarsest level where `speakers` groups each hold
     at least min_share of the windows; every window goes to the nearest of those groups. k-means was tried
     first and cut the client's voice in two whenever the clinician spoke little (docs/speakers.md).
  4. Resegmentation: the windows, in time order, are labelled again by a Viterbi pass over the voices (an HMM
     whose states are the voices): a window scores its cosine with each voice's centre, and a change of voice
     between two windows costs switch_cost, so a turn changes only where the following windows, together,
     lean to the other voice by more than that (turns last seconds; a lone window that leans the other way
     is the noise of a 1.6 s view). switch_cost 0 is the nearest centre per window.
  5. Each speech frame takes the label of its segment's window whose centre is nearest; within a segment,
     label runs shorter than min_turn_s are smoothed away, and a segment shorter than 2 x window_s takes its
     majority label.
  6. Per speaker, its segments joined across pauses up to JOIN_GAP_S (the pause inside a turn is that
     speaker's). The client is the speaker with the most speech unless one is given; "not the client" is
     everyone else's stretches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..audio.decode import SAMPLE_RATE, TOKEN_SAMPLES, TOKENS_PER_SECOND, iter_audio
from ..audio.speech_activity import frame_features
from ..errors import Cancelled
from .clinical import merge_stretches

Stretch = tuple[float, float]  # (start, end) seconds
Embedder = Callable[[np.ndarray], np.ndarray]  # (n, samples) windows of audio -> (n, dims) embeddings

BRIDGE_S = 0.1  # pauses shorter than this inside speech count as speech (stop closures, 5 frames)
SEGMENT_PAUSE_S = 0.25  # a pause at least this long may end a turn
JOIN_GAP_S = 1.0  # a speaker's pause up to this long, between two of their own segments, stays theirs
MEASURED = "about 0.78 precision, 0.74 recall on CASA"  # docs/speakers.md: what every proposal says of itself
_MAX_LINKAGE = 600  # rows the linkage runs on (its distance matrix is 600 x 600); more are grouped first
_MAX_LEVELS = 40  # finest level searched for k groups of min_share each
_BATCH = 128  # windows embedded at once: numpy's LSTM is ~2x faster per window at 128 than at 32


@dataclass(frozen=True)
class DiarizeOptions:
    speakers: int = 2  # how many voices to find (an interview: client and clinician)
    window_s: float = 1.6  # seconds of speech per embedding (the voice encoder's partial utterance)
    hop_s: float = 0.4  # seconds between two windows' starts
    min_turn_s: float = 0.6  # label runs shorter than this are smoothed away
    centre: bool = False  # centre the embeddings before clustering (Whisper features share a large common part)
    context: int = 1  # each window's embedding averaged with this many neighbours each side in its segment
    min_share: float = 0.03  # the least share of the speech windows a speaker holds (fewer: a stray sound)
    switch_cost: float = 0.2  # cosine a change of voice must be worth in the resegmentation (0: none)
    seed: int = 0  # initialisation of the grouping that long recordings get before the linkage


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
        return merge_stretches(others)


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
    """The default Embedder: Resemblyzer's voice encoder in numpy (model.measures.voice_encoder)."""
    from .voice_encoder import load_voice_encoder

    return load_voice_encoder().embed


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def neighbour_mean(x: np.ndarray, segment: np.ndarray, context: int) -> np.ndarray:
    """(n, dims): each row averaged with up to `context` rows each side that share its segment (one voice
    speaks a segment more often than not; a 1.6 s window alone is a noisy view of it)."""
    total, count = x.astype(np.float64).copy(), np.ones(len(x))
    for shift in range(1, context + 1):
        same = segment[shift:] == segment[:-shift]  # (n - shift,) pairs in one segment
        total[shift:][same] += x[:-shift][same]
        total[:-shift][same] += x[shift:][same]
        count[shift:][same] += 1
        count[:-shift][same] += 1
    return total / count[:, None]


def micro_clusters(x: np.ndarray, n: int, *, seed: int = 0, iterations: int = 10) -> np.ndarray:
    """(len(x),) labels of at most n spherical k-means groups of unit rows x: bounds the linkage's memory."""
    if len(x) <= n:
        return np.arange(len(x))
    centres = x[np.random.default_rng(seed).choice(len(x), n, replace=False)]
    for _ in range(iterations):
        labels = np.argmax(x @ centres.T, axis=1)
        centres = _unit(np.array([x[labels == j].sum(axis=0) if np.any(labels == j) else centres[j]
                                  for j in range(n)]))
    return np.unique(np.argmax(x @ centres.T, axis=1), return_inverse=True)[1]


def average_linkage(x: np.ndarray, weights: np.ndarray, *, keep: int) -> list[np.ndarray]:
    """Average-linkage agglomeration of unit rows x (cosine distance; rows weighted by `weights`).

    Returns the labels (len(x),) at every level from `keep` clusters down to 1, coarsest last.
    """
    d = 1 - x @ x.T  # (m, m) cosine distances, updated by Lance-Williams as clusters merge
    np.fill_diagonal(d, np.inf)
    size = weights.astype(np.float64).copy()
    labels = np.arange(len(x))
    levels = []
    for count in range(len(x), 0, -1):
        if count <= keep:
            levels.append(labels.copy())
        if count == 1:
            break
        i, j = np.unravel_index(np.argmin(d), d.shape)
        merged = (size[i] * d[i] + size[j] * d[j]) / (size[i] + size[j])
        d[i], d[:, i] = merged, merged
        d[i, i] = np.inf
        d[j], d[:, j] = np.inf, np.inf
        size[i] += size[j]
        labels[labels == j] = i
    return levels


def cluster(embeddings: np.ndarray, k: int, *, centre: bool = False, min_share: float = 0.03,
            seed: int = 0) -> np.ndarray:
    """(n, dims) -> (n,) labels 0..k-1 (0 the largest group), k or fewer of them.

    Average-linkage agglomeration on cosine distance (k-means splits a dominant voice in two), cut at the
    coarsest level where k groups each hold at least min_share of the rows (smaller ones are strays: a
    cough, a laugh); every row then goes to the nearest of those groups' centres. With no such level,
    everything is one voice. Rows are L2-normed, after centring if `centre` (Whisper features share a
    large common part).
    """
    if k < 1:
        raise ValueError(f"speakers must be at least 1, got {k}")
    x = _unit(embeddings - embeddings.mean(axis=0) if centre else embeddings.astype(np.float64))
    micro = micro_clusters(x, _MAX_LINKAGE, seed=seed)  # (n,) -> group; identity when n is small
    m = micro.max() + 1
    groups = _unit(np.array([x[micro == g].sum(axis=0) for g in range(m)]))
    sizes = np.bincount(micro, minlength=m)
    for level in reversed(average_linkage(groups, sizes, keep=_MAX_LEVELS)):  # coarsest first
        per = np.bincount(level, weights=sizes, minlength=m)
        top = np.argsort(per)[::-1][:k]
        if len(top) == k and per[top[-1]] >= min_share * len(x):
            break
    else:
        return np.zeros(len(x), np.int64)
    centres = _unit(np.array([x[level[micro] == t].sum(axis=0) for t in top]))
    return np.argmax(x @ centres.T, axis=1)


def resegment(x: np.ndarray, labels: np.ndarray, switch_cost: float) -> np.ndarray:
    """(n,) labels of the rows x (n, dims), in time order, by a Viterbi pass: a row scores its cosine with each
    label's centre (the mean of its rows), a change of label between two rows costs switch_cost."""
    k = int(labels.max()) + 1
    if k < 2 or switch_cost <= 0:
        return labels
    x = _unit(x.astype(np.float64))
    return viterbi(x @ _unit(np.array([x[labels == j].sum(axis=0) for j in range(k)])).T, switch_cost)


def viterbi(score_of: np.ndarray, switch_cost: float) -> np.ndarray:
    """(n,) the label path through score_of (n, labels) with the highest total score, each change of label
    costing switch_cost."""
    n, k = score_of.shape
    penalty = switch_cost * (1 - np.eye(k))  # (from, to)
    back, total = np.zeros((n, k), np.int64), score_of[0].copy()
    for i in range(1, n):
        step = total[:, None] - penalty  # (from, to)
        back[i] = np.argmax(step, axis=0)
        total = step[back[i], np.arange(k)] + score_of[i]
    path = np.zeros(n, np.int64)
    path[-1] = np.argmax(total)
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


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
        out[j] = tuple(merge_stretches(runs, gap=JOIN_GAP_S))
    for j in range(k):  # a join must not swallow another speaker's speech
        out[j] = tuple(p for s, e in out[j] for p in _cut(s, e, timeline, j))
    return out


def _cut(start: float, end: float, timeline: np.ndarray, j: int) -> list[Stretch]:
    a, b = round(start * TOKENS_PER_SECOND), round(end * TOKENS_PER_SECOND)
    mine = (timeline[a:b] == j) | (timeline[a:b] == -1)
    return [((a + s) / TOKENS_PER_SECOND, (a + e) / TOKENS_PER_SECOND) for s, e, v in _runs(mine.astype(np.int8))
            if v and np.any(timeline[a + s:a + e] == j)]


@dataclass(frozen=True)
class SpeechWindows:
    """What the embedding step found: enough to cluster again (another speaker count) without re-embedding."""
    duration_s: float  # the recording's length
    speech: np.ndarray  # (frames,) bool per 20 ms: speech (pauses under BRIDGE_S bridged)
    segments: list[tuple[int, int]]  # (start, stop) frames of speech between pauses
    plan: list[tuple[int, int, int]]  # (segment, start sample, stop sample) per window
    embeddings: np.ndarray  # (windows, dims)


def embed_speech(audio_16k: np.ndarray, *, options: DiarizeOptions | None = None, embedder: Embedder | None = None,
                 cancel: Callable[[], bool] | None = None,
                 progress: Callable[[float], None] | None = None) -> SpeechWindows:
    """Steps 1-2 of the module doc on a recording (samples,) at SAMPLE_RATE. progress gets 0..1."""
    options = options or DiarizeOptions()
    audio = np.asarray(audio_16k, np.float32)
    if audio.ndim != 1:
        raise ValueError(f"audio must be mono (samples,), got shape {audio.shape}; mix the channels down first")
    speech = speech_mask(audio)
    segs = segments(speech)
    window = round(options.window_s * SAMPLE_RATE)
    plan = window_plan(segs, window, round(options.hop_s * SAMPLE_RATE))
    embeddings = (_embed_all(embedder or voice_encoder_embedder(), audio, plan, window, cancel, progress)
                  if plan else np.zeros((0, 1), np.float32))
    return SpeechWindows(len(audio) / SAMPLE_RATE, speech, segs, plan, embeddings)


def assign(windows: SpeechWindows, *, options: DiarizeOptions | None = None) -> Diarization:
    """Steps 3-6 of the module doc: the windows clustered, labels smoothed, stretches per speaker."""
    options = options or DiarizeOptions()
    if not windows.plan:
        return Diarization(windows.duration_s, {j: () for j in range(options.speakers)}, {})
    k = min(options.speakers, len(windows.plan))
    pooled = neighbour_mean(windows.embeddings, np.array([p[0] for p in windows.plan]), options.context)
    groups = cluster(pooled, k, centre=options.centre, min_share=options.min_share, seed=options.seed)
    groups = resegment(pooled - pooled.mean(axis=0) if options.centre else pooled, groups, options.switch_cost)
    labels = frame_labels(windows.plan, groups, windows.segments, len(windows.speech))
    timeline = timeline_labels(windows.speech, labels, windows.segments,
                               min_turn=round(options.min_turn_s * TOKENS_PER_SECOND),
                               short=round(2 * options.window_s * TOKENS_PER_SECOND))
    counts = np.bincount(timeline[timeline >= 0], minlength=options.speakers)
    return Diarization(windows.duration_s, stretches_from_labels(timeline, options.speakers),
                       {j: float(c) / TOKENS_PER_SECOND for j, c in enumerate(counts) if c > 0})


def diarize(audio_16k: np.ndarray, *, options: DiarizeOptions | None = None, embedder: Embedder | None = None,
            cancel: Callable[[], bool] | None = None,
            progress: Callable[[float], None] | None = None) -> Diarization:
    """Split a recording (samples,) at SAMPLE_RATE into speakers (module doc). progress gets 0..1."""
    windows = embed_speech(audio_16k, options=options, embedder=embedder, cancel=cancel, progress=progress)
    return assign(windows, options=options)


def diarize_file(path, *, options: DiarizeOptions | None = None, cancel: Callable[[], bool] | None = None,
                 progress: Callable[[float], None] | None = None) -> Diarization:
    """`diarize` on an audio file model.audio.decode decodes (cancel is polled while it is decoded, too).

    The analysis streams its audio and keeps none, so a caller after it (assess, the app) decodes the file
    once more here: seconds for an hour of audio, against model.measures.speakers' 5.5 % of real time."""
    audio = np.concatenate([np.zeros(0, np.float32), *iter_audio(path, cancel=cancel)])
    return diarize(audio, options=options, cancel=cancel, progress=progress)


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
