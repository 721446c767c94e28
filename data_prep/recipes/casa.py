"""CASA recipe: speech-language pathologists' moment annotations on the FluencyBank clips -> a manifest of
continuous runs with frame-level targets (`stutterscope prep casa`).

CASA (Valente et al., Interspeech 2025) has three SLPs' onset/offset annotations of every stuttering moment
in the FluencyBank interviews, with LBDL core behaviours, and the CHAT transcripts with utterance times. Its
times are milliseconds in the same media as SEP-28k's Start/Stop samples, so a clip covers
[Start, Start + its samples) of the annotations' time base (checked: see ../shared/data/casa/README.md).

Runs. The clips of an episode overlap in runs of 2-4; overlapping clips hold the same samples. A run is a
maximal chain of clips each starting at or before the previous one's end; each clip contributes only the
samples past the run's end so far (offsets counted in samples), so the run is the episode's audio,
sample-exact, and never holds inserted silence: a gap starts a new run. A run is a manifest record with
`parts` (clip file, offset, duration), so `load_record_audio` returns it without any audio being written.
A clip shorter on disk than its Stop - Start ends where its samples end.

LBDL core behaviours -> our five types (model.labels.LABELS):
- P (prolongation: fixed posture with audible airflow) -> Prolongation; B (block: fixed posture, no airflow)
  -> Block: the same definitions as SEP-28k's.
- ISR (incomplete syllable repetition: a sound or part of a syllable) -> SoundRep, SEP-28k's "repeating a
  sound or syllable".
- MUR (multisyllabic unit repetition: "I went-I went", a multisyllabic word) -> WordRep, SEP-28k's
  "repeating a whole word" (phrases included).
- SR (syllable repetition) is either a whole one-syllable word said again ("can-can-can": WordRep in SEP-28k)
  or a syllable of a longer word ("po-po-potato": SoundRep). The annotation does not say which, and the
  utterance times are too coarse (some utterances are 0.2 s for a sentence, others 50 s) to find the word
  under the moment, so the PAR utterances the moment overlaps decide (sr_type): a part-word repetition (`↫`)
  there -> SoundRep; else a `[/]` repetition of a one-syllable word -> WordRep; else (the transcript marks
  neither, or no utterance overlaps) the moment is unresolved. Most transcripts mark few repetitions (063 has
  one `[/]` and 149 SR moments), so most SR moments are unresolved (824 of 1,250). They become WordRep
  (`sr_unresolved`; SoundRep or both on request), because that is what SEP-28k's own raters heard in the same
  audio: of the 98 clips whose SLP moments are all unresolved SRs, 37 have WordRep at >= 2 of 3 votes and 14
  SoundRep (the resolved "word" SRs: 15 and 5; ISR clips: 4 and 19; MUR clips: 12 and 0), and SEP-28k's types
  are the ones the model outputs. The counts per branch and episode, and this check, are in the meta file
  (`sr_branches`, `sr_branches_by_episode`, `lbdl_vs_clip_votes`); each moment says its branch (`"sr"`).
- Interjection: not a stuttering moment, so the SLPs did not annotate it; its frame channel is unsupervised
  (`frames.supervised` leaves it out) rather than zero, and a trainer must not read its zeros as "fluent".
A moment with no core behaviour ticked (only secondary behaviours or tension) counts as a moment, with no type.

Frames (model.moments.frame_targets): 50 per second, one per encoder token; a frame is marked when a moment covers at
least half of it. Channels: moment + the five types; per annotator A1-A3 (0/1) and soft (their share).
The interviewer's stretches (interviewer.csv and the INV utterances) are masked: CASA left them unannotated.

Splits are the FluencyBank recipe's own (same exclusions, seed and fractions: `prep fluencybank`'s code),
or taken from a FluencyBank manifest (`splits_from`), so no speaker crosses splits between the two manifests.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.audio.decode import SAMPLE_RATE
from model.fileio import atomic_path
from model.labels import LABELS
from model.manifest import portable_audio_path, read_manifest, validate_records, write_json, write_manifest
from model.moments.frame_targets import (
    ANNOTATORS,
    FRAME_CHANNELS,
    FRAME_RATE,
    MOMENT,
    frame_count,
    frame_marks,
    merge_intervals,
)

from ..chat import repeated_units, syllable_count
from ..corpus import MAX_VOTES, ClipRow, read_label_csv
from ..splits import SplitOptions, assign_splits, save_split_table, split_table
from .clip_votes import (
    RelabelOptions,
    _jsonable,
    _sha256,
    check_clip_audio,
    clip_id,
    exclusion_reason,
    labels_of,
    make_record,
)

log = logging.getLogger(__name__)

CORPUS = "casa"
LBDL_CORE = ("SR", "ISR", "MUR", "P", "B")  # core behaviours, as annotations.csv's columns
SECONDARY = ("V", "FG", "HM", "ME")  # secondary behaviours (verbal; facial, head, extremities from video)
CONSENSUS = "Gold"  # the SLPs' consensus, on two episodes only
# LBDL -> our type where it is one-to-one; SR is decided per moment (sr_type).
LBDL_TYPES = {"P": "Prolongation", "B": "Block", "ISR": "SoundRep", "MUR": "WordRep"}
SR_UNRESOLVED = ("WordRep", "SoundRep", "both")  # what an SR moment the transcript can't resolve may become
SUPERVISED = tuple(c for c in FRAME_CHANNELS if c != "Interjection")  # the SLPs did not annotate interjections
_MS = SAMPLE_RATE // 1000  # 16 samples per millisecond
_ANNOTATION_COLUMNS = ("EpId", "media_file", "annotator", "start", "end", *LBDL_CORE, *SECONDARY, "T")
_TRANSCRIPT_COLUMNS = ("EpId", "annotator", "start", "end", "label")
_INTERVIEWER_COLUMNS = ("EpId", "start", "end")


@dataclass(frozen=True)
class CasaOptions:
    relabel: RelabelOptions = RelabelOptions()  # clip votes -> the runs' clip labels; exclusions for the split
    split: SplitOptions = SplitOptions()  # prep fluencybank's defaults, so the episodes' splits agree
    splits_from: Path | None = None  # take each episode's split from this FluencyBank manifest instead
    show: str = "FluencyBank"  # the Show of the label CSV's rows that CASA annotated
    sr_unresolved: str = "WordRep"  # an SR moment whose utterances mark no repetition: WordRep, SoundRep, both

    def __post_init__(self):
        if self.sr_unresolved not in SR_UNRESOLVED:
            raise ValueError(f"sr_unresolved is {self.sr_unresolved!r}; choose one of {', '.join(SR_UNRESOLVED)}")


@dataclass(frozen=True)
class Moment:
    ep_id: str  # FluencyBank EpId, zero-padded as in the label CSV
    annotator: str  # A1, A2, A3, Gold (aggregations are not read)
    start: int  # samples in the episode
    end: int
    lbdl: tuple[str, ...]  # core behaviours ticked, in LBDL_CORE order
    secondary: tuple[str, ...]  # secondary behaviours ticked
    tension: int  # 0-3


@dataclass(frozen=True)
class Utterance:
    ep_id: str
    speaker: str  # PAR (the person who stutters) or INV (the interviewer)
    start: int  # samples in the episode
    end: int
    text: str  # raw CHAT


@dataclass(frozen=True)
class ClipSpan:
    row: ClipRow  # the label CSV's row
    path: Path  # the clip's audio file
    start: int  # samples in the episode (the CSV's Start)
    stop: int  # sample after its last one: Start + the samples the file holds


@dataclass
class Run:
    ep_id: str
    start: int  # samples in the episode
    stop: int
    clips: list[ClipSpan] = field(default_factory=list)  # every clip inside the run, in time order
    parts: list[tuple[ClipSpan, int, int]] = field(default_factory=list)  # (clip, offset, samples) in play order


@dataclass
class CasaResult:
    records: list[dict]  # the manifest's records
    meta: dict  # what <manifest>.meta.json holds
    table: dict  # runs and clip labels per split
    frames: dict[str, np.ndarray] = field(default_factory=dict)  # what <manifest stem>.frames.npz holds


# --- reading ------------------------------------------------------------------------------------------------

def _rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; give the CASA folder (--casa) with annotations.csv, "
                                "transcripts.csv and interviewer.csv")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; is this CASA's file?")
        return [(reader.line_num, row) for row in reader]


def _number(path: Path, line: int, row: dict, column: str) -> float:
    try:
        return float(row[column])
    except (TypeError, ValueError):
        raise ValueError(f"{path}:{line}: column {column} is {row[column]!r}, not a number; fix or delete the row") from None


def _span(path: Path, line: int, row: dict, scale: float) -> tuple[int, int]:
    start, end = (int(round(_number(path, line, row, c) * scale)) for c in ("start", "end"))
    if end < start or start < 0:
        raise ValueError(f"{path}:{line}: start {row['start']} .. end {row['end']} is not a time span; fix the row")
    return start, end


def read_moments(path: str | Path, *, annotators: tuple[str, ...] = (*ANNOTATORS, CONSENSUS)) -> list[Moment]:
    """CASA's annotations.csv -> the moments of the given annotators (times in samples)."""
    path = Path(path)
    moments = []
    for line, row in _rows(path, _ANNOTATION_COLUMNS):
        if row["annotator"] not in annotators:
            continue
        start, end = _span(path, line, row, _MS)
        flags = {c: _number(path, line, row, c) for c in (*LBDL_CORE, *SECONDARY)}
        moments.append(Moment(row["EpId"].strip(), row["annotator"], start, end,
                              tuple(c for c in LBDL_CORE if flags[c]), tuple(c for c in SECONDARY if flags[c]),
                              int(_number(path, line, row, "T"))))
    return moments


def annotated_episodes(path: str | Path) -> set[str]:
    """EpIds that annotations.csv covers (any annotator): an SLP who marked nothing there still annotated it."""
    return {row["EpId"].strip() for _, row in _rows(Path(path), _ANNOTATION_COLUMNS)}


def read_utterances(path: str | Path) -> list[Utterance]:
    """CASA's transcripts.csv -> CHAT utterances with times in samples."""
    path = Path(path)
    out = []
    for line, row in _rows(path, _TRANSCRIPT_COLUMNS):
        if row["annotator"] not in ("PAR", "INV"):
            raise ValueError(f"{path}:{line}: speaker {row['annotator']!r}; expected PAR or INV")
        out.append(Utterance(row["EpId"].strip(), row["annotator"], *_span(path, line, row, _MS), row["label"]))
    return out


def read_interviewer(path: str | Path) -> dict[str, list[tuple[int, int]]]:
    """CASA's interviewer.csv (seconds) -> EpId -> the interviewer's stretches in samples."""
    path = Path(path)
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for line, row in _rows(path, _INTERVIEWER_COLUMNS):
        out[row["EpId"].strip()].append(_span(path, line, row, SAMPLE_RATE))
    return out


def check_media(moments_csv: Path, episodes_csv: Path) -> None:
    """ValueError unless each annotated EpId's media file is the one SEP-28k's episode CSV names for it."""
    media = {}
    with episodes_csv.open(newline="", encoding="utf-8-sig") as f:
        for row in csv.reader(f, skipinitialspace=True):
            if len(row) >= 3:
                media[row[1].strip()] = row[2].strip().rsplit("/", 1)[-1].rsplit(".", 1)[0]
    for line, row in _rows(moments_csv, _ANNOTATION_COLUMNS):
        want = media.get(row["EpId"].strip())
        if want is not None and want != row["media_file"]:
            raise ValueError(f"{moments_csv}:{line}: EpId {row['EpId']} is media {row['media_file']!r} here but "
                             f"{want!r} in {episodes_csv}; the time bases would not match")


# --- runs ---------------------------------------------------------------------------------------------------

def stitch_runs(clips: list[ClipSpan]) -> list[Run]:
    """Chain overlapping or touching clips of each episode into runs; each clip adds the samples past the run's end."""
    runs: list[Run] = []
    by_episode: dict[str, list[ClipSpan]] = defaultdict(list)
    for clip in clips:
        by_episode[clip.row.ep_id].append(clip)
    for ep_id in sorted(by_episode):
        run: Run | None = None
        for clip in sorted(by_episode[ep_id], key=lambda c: (c.start, c.stop, c.row.clip_id)):
            if run is None or clip.start > run.stop:  # a gap: never fill it, start a new run
                run = Run(ep_id, clip.start, clip.start)
                runs.append(run)
            run.clips.append(clip)
            if clip.stop > run.stop:
                run.parts.append((clip, run.stop - clip.start, clip.stop - run.stop))
                run.stop = clip.stop
    return runs


def clip_spans(rows: list[ClipRow], found: dict[str, tuple[Path, float]], corpus: str) -> list[ClipSpan]:
    """The rows with audio as spans of the episode; a clip shorter on disk ends where its samples end."""
    spans = []
    for row in rows:
        got = found.get(clip_id(corpus, row))
        if got is not None:
            held = int(round(got[1] * SAMPLE_RATE))
            spans.append(ClipSpan(row, got[0], row.start, row.start + min(held, row.stop - row.start)))
    return spans


# --- types --------------------------------------------------------------------------------------------------

def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_end > b_start and a_start < b_end or (a_start == a_end and b_start <= a_start <= b_end)


def sr_type(moment: Moment, utterances: list[Utterance], *,
            unresolved: str = "WordRep") -> tuple[tuple[str, ...], str]:
    """(types, branch) of a syllable repetition from the PAR utterances it overlaps (see the module docstring).

    Branches: "word" (a one-syllable [/] repetition, no part-word repetition) -> WordRep; "part-word" (a ↫
    repetition) -> SoundRep; "default" (neither marked) and "no-utterance" (no PAR utterance overlaps) are
    unresolved and take `unresolved`: WordRep (the default: see the module docstring), SoundRep, or both.
    """
    if unresolved not in SR_UNRESOLVED:
        raise ValueError(f"unresolved is {unresolved!r}; choose one of {', '.join(SR_UNRESOLVED)}")
    texts = [u.text for u in utterances
             if u.speaker == "PAR" and _overlaps(u.start, u.end, moment.start, moment.end)]
    if texts and any("↫" in t for t in texts):
        return ("SoundRep",), "part-word"
    if any(len(unit) == 1 and syllable_count(unit[0]) == 1 for t in texts for unit in repeated_units(t)):
        return ("WordRep",), "word"
    kinds = ("SoundRep", "WordRep") if unresolved == "both" else (unresolved,)
    return kinds, "default" if texts else "no-utterance"


def moment_types(moment: Moment, utterances: list[Utterance], *,
                 unresolved: str = "WordRep") -> tuple[list[str], str | None]:
    """Our types for a moment (in LABELS order) and the SR branch taken (None without SR)."""
    types = {LBDL_TYPES[c] for c in moment.lbdl if c in LBDL_TYPES}
    branch = None
    if "SR" in moment.lbdl:
        kinds, branch = sr_type(moment, utterances, unresolved=unresolved)
        types.update(kinds)
    return [t for t in LABELS if t in types], branch


# --- records ------------------------------------------------------------------------------------------------

def _sec(samples: int) -> float:
    return round(samples / SAMPLE_RATE, 6)


def _clip_record_fields(run: Run, options: CasaOptions) -> dict:
    """Labels, votes and soft targets of the run from its clips' SEP-28k votes: union / max, as joined samples."""
    rows = [c.row for c in run.clips]
    labels = {name: max(labels_of(r, options.relabel)[name] for r in rows) for name in LABELS}
    votes = {v: max(r.votes[v] for r in rows) for v in rows[0].votes}
    return {"labels": labels, "votes": votes, "multi": sum(labels.values()) >= 2,
            "soft": {name: round(votes[name] / MAX_VOTES, 6) for name in LABELS}}


def _run_frames(run: Run, moments: list[tuple[Moment, list[str], str | None]], exclude: list[tuple[int, int]],
                has_gold: bool) -> dict[str, np.ndarray]:
    n = frame_count(run.stop - run.start)
    per = np.zeros((len(ANNOTATORS), len(FRAME_CHANNELS), n), np.uint8)  # (annotator, channel, frame)
    gold = np.zeros((len(FRAME_CHANNELS), n), np.uint8)
    for a, name in enumerate((*ANNOTATORS, CONSENSUS)):
        target = gold if name == CONSENSUS else per[a]
        mine = [(m.start - run.start, m.end - run.start, types) for m, types, _ in moments if m.annotator == name]
        for c, channel in enumerate(FRAME_CHANNELS):
            spans = [(s, e) for s, e, types in mine if channel == MOMENT or channel in types]
            target[c] = frame_marks(spans, n)
    mask = 1 - frame_marks([(s - run.start, e - run.start) for s, e in exclude], n)
    out = {"soft": per.mean(axis=0).astype(np.float32), "annotators": per, "mask": mask.astype(np.uint8),
           "supervised": np.array([c in SUPERVISED for c in FRAME_CHANNELS], np.uint8)}
    if has_gold:
        out["gold"] = gold
    return out


def _moment_entry(m: Moment, types: list[str], branch: str | None, run: Run) -> dict:
    start, end = max(m.start, run.start), min(m.end, run.stop)
    entry = {"annotator": m.annotator, "start": _sec(start - run.start), "end": _sec(end - run.start),
             "types": types, "lbdl": list(m.lbdl), "secondary": list(m.secondary), "tension": m.tension}
    if branch is not None:
        entry["sr"] = branch  # how its SR was typed (sr_type's branches)
    if (start, end) != (m.start, m.end):
        entry["cut"] = True  # the moment reaches past the run's audio
    return entry


def _chat_entry(u: Utterance, run: Run) -> dict:
    inside = min(u.end, run.stop) - max(u.start, run.start)
    share = 1.0 if u.end == u.start else max(inside, 0) / (u.end - u.start)
    return {"start": _sec(u.start - run.start), "end": _sec(u.end - run.start), "speaker": u.speaker,
            "text": u.text, "inside": round(min(share, 1.0), 6)}


def run_record(run: Run, *, index: int, split: str, root: Path, frames_file: str, options: CasaOptions,
               moments: list[tuple[Moment, list[str], str | None]], utterances: list[Utterance],
               exclude: list[tuple[int, int]], excluded_clips: dict[str, str]) -> dict:
    """The manifest record of one run (frames in the npz under its id)."""
    rec_id = f"{CORPUS}/{options.show}/{run.ep_id}/run{index:02d}"
    episode = f"{options.show}/{run.ep_id}"
    parts = [{"audio": portable_audio_path(c.path, root), "offset": off / SAMPLE_RATE, "duration": n / SAMPLE_RATE}
             for c, off, n in run.parts]
    duration = (run.stop - run.start) / SAMPLE_RATE
    rec = {"id": rec_id, "corpus": CORPUS, "audio": parts[0]["audio"], "offset": parts[0]["offset"],
           "duration": duration, **_clip_record_fields(run, options), "episode": episode, "speaker": episode,
           "split": split, "episode_start": _sec(run.start), "source": CORPUS}
    if len(parts) > 1:
        rec["parts"] = parts
    rec["clips"] = []
    for c in run.clips:
        cid = clip_id("fluencybank", c.row)
        entry = {"id": cid, "start": _sec(c.start - run.start), "end": _sec(c.stop - run.start)}
        if cid in excluded_clips:
            entry["excluded"] = excluded_clips[cid]  # left out of `prep fluencybank`'s manifest, and why
        rec["clips"].append(entry)
    rec["frames"] = {"file": frames_file, "key": rec_id, "rate": FRAME_RATE, "count": frame_count(run.stop - run.start),
                     "channels": list(FRAME_CHANNELS), "supervised": list(SUPERVISED)}
    rec["moments"] = [_moment_entry(m, types, branch, run)
                      for m, types, branch in sorted(moments, key=lambda mt: (mt[0].start, mt[0].end, mt[0].annotator))]
    rec["exclude"] = [[_sec(max(s, run.start) - run.start), _sec(min(e, run.stop) - run.start)] for s, e in exclude]
    rec["chat"] = [_chat_entry(u, run) for u in utterances]
    return rec


# --- splits -------------------------------------------------------------------------------------------------

def fluencybank_splits(rows: list[ClipRow], found: dict[str, tuple[Path, float]], *,
                       options: CasaOptions) -> dict[str, str]:
    """Episode -> split exactly as `prep fluencybank` makes them (same rows, exclusions, audio, seed)."""
    records = [make_record(row, corpus="fluencybank", audio=str(found[cid][0]), duration=found[cid][1],
                           options=options.relabel)
               for row in rows
               if not exclusion_reason(row, options.relabel) and (cid := clip_id("fluencybank", row)) in found]
    split_of = assign_splits(records, options=options.split)
    return {rec["episode"]: split_of[rec["id"]] for rec in records}


def splits_from_manifest(path: Path) -> dict[str, str]:
    """Episode -> split of an existing manifest; ValueError if an episode sits in two splits."""
    out: dict[str, str] = {}
    for rec in read_manifest(path):
        if out.setdefault(rec["episode"], rec["split"]) != rec["split"]:
            raise ValueError(f"{path}: episode {rec['episode']} is in both {out[rec['episode']]} and {rec['split']}; "
                             "give a manifest with episode-exclusive splits")
    return out


# --- the recipe ---------------------------------------------------------------------------------------------

def frames_path(output: Path) -> Path:
    """manifest.jsonl -> manifest.frames.npz beside it (the name up to its first dot, + .frames.npz)."""
    return output.with_name(output.name.split(".", 1)[0] + ".frames.npz")


def prepare_casa(*, casa_dir: str | Path, clips_dir: str | Path, labels_csv: str | Path,
                 episodes_csv: str | Path | None = None, output: str | Path,
                 options: CasaOptions = CasaOptions(), progress: bool = False) -> CasaResult:
    """Join CASA's annotations to the FluencyBank clips and write runs with frame targets.

    casa_dir: annotations.csv, transcripts.csv, interviewer.csv. clips_dir: the FluencyBank clip folder.
    labels_csv: SEP-28k's fluencybank_labels.csv (clip times and votes). episodes_csv: fluencybank_episodes.csv,
    to check that each EpId's media is CASA's (optional). output: the manifest (JSONL); the frame arrays
    (<name>.frames.npz), <manifest>.meta.json and the split tables are written beside it.
    Returns the records, meta, split table and frame arrays. Everything is validated before anything is written.
    """
    casa_dir, clips_dir, labels_csv, output = Path(casa_dir), Path(clips_dir), Path(labels_csv), Path(output)
    moments_csv = casa_dir / "annotations.csv"
    if episodes_csv is not None:
        check_media(moments_csv, Path(episodes_csv))
    moments = read_moments(moments_csv)
    utterances = read_utterances(casa_dir / "transcripts.csv")
    interviewer = read_interviewer(casa_dir / "interviewer.csv")
    annotated = annotated_episodes(moments_csv)
    rows = [r for r in read_label_csv(labels_csv) if r.show == options.show]
    found, skipped = check_clip_audio(rows, clips_dir, corpus="fluencybank", progress=progress)
    split_of = (splits_from_manifest(options.splits_from) if options.splits_from is not None
                else fluencybank_splits(rows, found, options=options))
    excluded_clips = {clip_id("fluencybank", r): reason for r in rows
                      if (reason := exclusion_reason(r, options.relabel))}
    runs = stitch_runs(clip_spans([r for r in rows if r.ep_id in annotated], found, "fluencybank"))
    if not runs:
        raise ValueError(f"no clip of an annotated episode has audio in {clips_dir}; check --clips and --labels")

    by_ep = _by_episode(moments, utterances, interviewer)
    branches: dict[str, Counter] = defaultdict(Counter)  # EpId -> SR branch -> SLP moments
    typed: dict[Moment, tuple[list[str], str | None]] = {}
    for ep_id, (ep_moments, ep_utts, _) in by_ep.items():
        for m in ep_moments:
            typed[m] = moment_types(m, ep_utts, unresolved=options.sr_unresolved)
            if typed[m][1] is not None and m.annotator in ANNOTATORS:
                branches[ep_id][typed[m][1]] += 1
    records, arrays, unsplit, index = [], {}, Counter(), Counter()
    root, frames_file = output.resolve().parent, frames_path(output)
    for run in runs:
        episode = f"{options.show}/{run.ep_id}"
        if episode not in split_of:
            unsplit[episode] += 1
            continue
        ep_moments, ep_utts, ep_exclude = by_ep[run.ep_id]
        mine = [(m, *typed[m]) for m in ep_moments if _overlaps(m.start, m.end, run.start, run.stop)]
        utts = [u for u in ep_utts if _overlaps(u.start, u.end, run.start, run.stop)]
        excl = [(s, e) for s, e in ep_exclude if _overlaps(s, e, run.start, run.stop)]
        index[run.ep_id] += 1
        rec = run_record(run, index=index[run.ep_id], split=split_of[episode], root=root,
                         frames_file=frames_file.name, options=options, moments=mine, utterances=utts,
                         exclude=excl, excluded_clips=excluded_clips)
        records.append(rec)
        frames = _run_frames(run, mine, excl, has_gold=any(m.annotator == CONSENSUS for m in ep_moments))
        arrays.update({f"{rec['id']}/{k}": v for k, v in frames.items()})
    validate_records(records)
    for rec in records:
        if arrays[f"{rec['id']}/mask"].shape[0] != rec["frames"]["count"]:
            raise AssertionError(f"{rec['id']}: frame arrays and frame count disagree")
    table = split_table(records)
    meta = _meta(casa_dir, clips_dir, labels_csv, episodes_csv, options, rows, skipped, runs, records, arrays,
                 moments, branches, unsplit, split_of)
    with atomic_path(frames_file) as tmp, tmp.open("wb") as f:
        np.savez_compressed(f, **arrays)
    write_manifest(records, output)
    write_json(output.with_name(output.name + ".meta.json"), meta)
    save_split_table(table, output)
    log.info("prep casa: %d runs from %d clips, %.2f h; %d runs of episodes without a split left out",
             len(records), meta["counts"]["clips_in_runs"], meta["counts"]["splits"]["total"]["seconds"] / 3600,
             sum(unsplit.values()))
    return CasaResult(records, meta, table, arrays)


def _by_episode(moments: list[Moment], utterances: list[Utterance],
                interviewer: dict[str, list[tuple[int, int]]]) -> dict[str, tuple[list, list, list]]:
    """EpId -> (moments, utterances, interviewer stretches merged with the INV utterances)."""
    out: dict[str, tuple[list, list, list]] = defaultdict(lambda: ([], [], []))
    for m in moments:
        out[m.ep_id][0].append(m)
    for u in utterances:
        out[u.ep_id][1].append(u)
    for ep_id in set(out) | set(interviewer):
        inv = [(u.start, u.end) for u in out[ep_id][1] if u.speaker == "INV"]
        out[ep_id][2].extend(merge_intervals([*interviewer.get(ep_id, []), *inv]))
    return out


# --- meta and counts ----------------------------------------------------------------------------------------

def frame_agreement(arrays: dict[str, np.ndarray], records: list[dict], channel: str = MOMENT) -> dict[str, dict]:
    """Pairwise frame-level F1 and Cohen's kappa between the SLPs on one channel, over unmasked frames."""
    c = FRAME_CHANNELS.index(channel)
    marks = np.concatenate([arrays[f"{r['id']}/annotators"][:, c, :][:, arrays[f"{r['id']}/mask"] == 1]
                            for r in records], axis=1)  # (annotators, frames)
    out = {}
    for i in range(len(ANNOTATORS)):
        for j in range(i + 1, len(ANNOTATORS)):
            a, b = marks[i].astype(bool), marks[j].astype(bool)
            tp, fp, fn = int((a & b).sum()), int((~a & b).sum()), int((a & ~b).sum())
            observed = float((a == b).mean())
            chance = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
            out[f"{ANNOTATORS[i]}-{ANNOTATORS[j]}"] = {
                "f1": round(2 * tp / max(2 * tp + fp + fn, 1), 4),
                "kappa": round((observed - chance) / (1 - chance), 4) if chance < 1 else 1.0}
    return out


def _counts(records: list[dict], arrays: dict[str, np.ndarray], moments: list[Moment],
            branches: dict[str, Counter]) -> dict:
    per_split: dict[str, dict] = {}
    for split in ("train", "dev", "test", "total"):
        recs = [r for r in records if split == "total" or r["split"] == split]
        frames = sum(r["frames"]["count"] for r in recs)
        unmasked = sum(int(arrays[f"{r['id']}/mask"].sum()) for r in recs)
        marked = {a: {ch: int(sum(arrays[f"{r['id']}/annotators"][i, c].sum() for r in recs))
                      for c, ch in enumerate(FRAME_CHANNELS) if ch in SUPERVISED}
                  for i, a in enumerate(ANNOTATORS)}
        per_split[split] = {
            "runs": len(recs), "episodes": len({r["episode"] for r in recs}),
            "seconds": round(sum(r["duration"] for r in recs), 2), "frames": frames, "unmasked_frames": unmasked,
            "moments": dict(Counter(m["annotator"] for r in recs for m in r["moments"])),
            "frames_marked": marked,
        }
    return {"splits": per_split,
            "moments_read": dict(Counter(m.annotator for m in moments)),
            "sr_branches": dict(sum(branches.values(), Counter())),
            "sr_branches_by_episode": {ep: dict(c) for ep, c in sorted(branches.items())},
            "types": dict(Counter(t for r in records for m in r["moments"] if m["annotator"] in ANNOTATORS
                                  for t in m["types"] or ["(none)"]))}


def _moment_kind(m: dict) -> str | None:
    if len(m["lbdl"]) != 1:
        return None
    if m["lbdl"] == ["SR"]:
        return "SR:" + ("unresolved" if m["sr"] in ("default", "no-utterance") else m["sr"])
    return m["lbdl"][0]


def lbdl_vote_check(records: list[dict], votes_of: dict[str, dict[str, int]], *, min_votes: int = 2) -> dict:
    """What SEP-28k's raters called the clips whose SLP moments are all of one kind: evidence for the mapping.

    A kind is a moment's single LBDL code, SR split by its branch (SR:word, SR:part-word, SR:unresolved); a clip
    counts for a kind when every A1-A3 moment overlapping it is of that kind. Per kind: the clips, and those
    with at least min_votes of 3 SEP-28k votes for each of the four stuttering types.
    """
    out: dict[str, Counter] = defaultdict(Counter)
    for rec in records:
        for clip in rec["clips"]:
            kinds = {_moment_kind(m) for m in rec["moments"]
                     if m["annotator"] in ANNOTATORS and m["end"] > clip["start"] and m["start"] < clip["end"]}
            if len(kinds) != 1 or None in kinds:
                continue
            tally = out[kinds.pop()]
            tally["clips"] += 1
            for name in ("Prolongation", "Block", "SoundRep", "WordRep"):
                tally[name] += votes_of[clip["id"]][name] >= min_votes
    return {kind: dict(c) for kind, c in sorted(out.items())}


def _meta(casa_dir: Path, clips_dir: Path, labels_csv: Path, episodes_csv, options: CasaOptions, rows, skipped,
          runs, records, arrays, moments, branches, unsplit, split_of) -> dict:
    from model import __version__

    counts = _counts(records, arrays, moments, branches)
    counts.update({"label_rows": len(rows), "clips_skipped": len(skipped),
                   "clips_in_runs": sum(len(r["clips"]) for r in records),
                   "runs_without_split": dict(unsplit)})
    return {
        "corpus": CORPUS,
        "casa_dir": str(casa_dir.resolve()),
        "inputs_sha256": {p.name: _sha256(p) for p in (casa_dir / "annotations.csv", casa_dir / "transcripts.csv",
                                                        casa_dir / "interviewer.csv", labels_csv)},
        "labels_csv": str(labels_csv.resolve()),
        "episodes_csv": None if episodes_csv is None else str(Path(episodes_csv).resolve()),
        "clips_dir": str(clips_dir.resolve()),
        "options": _jsonable(dataclasses.asdict(options)),
        "frame_rule": {"rate": FRAME_RATE, "mark_fraction": 0.5, "channels": list(FRAME_CHANNELS),
                       "supervised": list(SUPERVISED)},
        "episode_splits": dict(sorted(split_of.items())),
        "counts": counts,
        "agreement_moment_frames": frame_agreement(arrays, records),
        "lbdl_vs_clip_votes": lbdl_vote_check(records, {clip_id("fluencybank", r): r.votes for r in rows},
                                              min_votes=options.relabel.min_votes),
        "skipped": skipped,
        "stutterscope_version": __version__,
    }


# --- CLI ----------------------------------------------------------------------------------------------------

def add_arguments(p) -> None:
    p.add_argument("--casa", type=Path, required=True, help="CASA folder: annotations.csv, transcripts.csv, "
                                                            "interviewer.csv")
    p.add_argument("--clips", type=Path, required=True, help="FluencyBank clip folder: FluencyBank/{EpId}/...")
    p.add_argument("--labels", type=Path, required=True, help="SEP-28k's fluencybank_labels.csv (clip times, votes)")
    p.add_argument("--episodes", type=Path, help="fluencybank_episodes.csv: check each EpId's media is CASA's")
    p.add_argument("--out", type=Path, required=True, help="manifest to write (JSONL); <name>.frames.npz, "
                                                           ".meta.json and split tables go beside it")
    p.add_argument("--splits-from", type=Path, help="take the episodes' splits from this FluencyBank manifest "
                                                    "(default: compute them as `prep fluencybank` does)")
    p.add_argument("--seed", type=int, default=SplitOptions().seed,
                   help=f"seed of the FluencyBank split (default {SplitOptions().seed}, as prep fluencybank)")
    p.add_argument("--sr-unresolved", choices=SR_UNRESOLVED, default=CasaOptions().sr_unresolved,
                   help="type of an SR moment whose transcript marks no repetition "
                        f"(default {CasaOptions().sr_unresolved})")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args) -> int:
    options = CasaOptions(split=SplitOptions(seed=args.seed), splits_from=args.splits_from,
                          sr_unresolved=args.sr_unresolved)
    result = prepare_casa(casa_dir=args.casa, clips_dir=args.clips, labels_csv=args.labels,
                          episodes_csv=args.episodes, output=args.out, options=options,
                          progress=not args.no_progress)
    counts = result.meta["counts"]
    for split, row in counts["splits"].items():
        print(f"{split}: {row['runs']:,} runs, {row['seconds'] / 3600:.2f} h, {row['episodes']} episodes; moments "
              + ", ".join(f"{a} {n:,}" for a, n in sorted(row["moments"].items())))
    print("SR branches: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts["sr_branches"].items())))
    print("frame agreement (moment): " + ", ".join(f"{k} F1 {v['f1']:.3f} kappa {v['kappa']:.3f}"
                                                    for k, v in result.meta["agreement_moment_frames"].items()))
    print("SEP-28k clip labels where every SLP moment is one kind (clips: P/B/SoundRep/WordRep): " + "; ".join(
        f"{kind} {c['clips']}: {c['Prolongation']}/{c['Block']}/{c['SoundRep']}/{c['WordRep']}"
        for kind, c in result.meta["lbdl_vs_clip_votes"].items()))
    print(f"wrote {args.out} (+ {frames_path(args.out).name}, .meta.json, .splits.json, .splits.md)")
    return 0
