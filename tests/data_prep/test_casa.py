"""prep casa: sample-exact stitching of overlapping clips, frame targets, LBDL mapping, CHAT words, splits."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import soundfile as sf

from data_prep.chat import chat_tokens, chat_words, repeated_units, syllable_count
from data_prep.corpus import VOTE_COLUMNS
from data_prep.recipes.casa import (
    CasaOptions,
    Moment,
    Utterance,
    moment_types,
    prepare_casa,
    sr_type,
)
from data_prep.recipes.clip_votes import RecipeOptions, run_recipe
from model.audio.decode import SAMPLE_RATE, WINDOW_SAMPLES, WINDOW_TOKENS
from model.manifest import load_record_audio, read_manifest, validate_record, write_manifest
from model.moments.frame_targets import (
    FRAME_CHANNELS,
    SAMPLES_PER_FRAME,
    frame_count,
    frame_marks,
    load_frame_targets,
)

F = SAMPLES_PER_FRAME  # 320 samples per frame
MS = SAMPLE_RATE // 1000  # samples per millisecond

DEFAULT_TRAIN = ["010", "017", "063", "087", "089", "093", "097", "098", "118", "121", "178", "219", "230", "985"]
DEFAULT_DEV = ["019", "046", "147", "218"]
DEFAULT_TEST = ["096", "109", "132", "179"]


# --- frame grid ---------------------------------------------------------------------------------------------

def test_frame_grid_is_the_encoders():
    assert F * 50 == SAMPLE_RATE and frame_count(WINDOW_SAMPLES) == WINDOW_TOKENS == 150
    assert frame_count(F * 10 + F // 2) == 11 and frame_count(F * 10 + F // 2 - 1) == 10  # half a frame or more


def test_frame_marks_on_and_between_boundaries():
    n = 6
    assert frame_marks([(F, 2 * F)], n).tolist() == [0, 1, 0, 0, 0, 0]  # exactly one frame
    assert frame_marks([(F + F // 2, 3 * F)], n).tolist() == [0, 1, 1, 0, 0, 0]  # onset half-way: frame 1 marked
    assert frame_marks([(F + F // 2 + 1, 3 * F)], n).tolist() == [0, 0, 1, 0, 0, 0]  # just past half-way: not
    assert frame_marks([(3 * F, 4 * F + F // 2)], n).tolist() == [0, 0, 0, 1, 1, 0]  # offset half-way: marked
    assert frame_marks([(3 * F, 4 * F + F // 2 - 1)], n).tolist() == [0, 0, 0, 1, 0, 0]
    assert frame_marks([(10, 100)], n).tolist() == [0] * 6  # a sliver marks nothing
    # Two moments each under half of a frame, together over half: the union decides.
    assert frame_marks([(0, 100), (100, 200)], n).tolist() == [1, 0, 0, 0, 0, 0]
    assert frame_marks([(-F, F // 2), (5 * F + F // 2, 9 * F)], n).tolist() == [1, 0, 0, 0, 0, 1]  # clipped


# --- CHAT ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "said", "final"), [
    ("and [/] and my [/] my [/] my first round .", "and and my my my first round", "and my first round"),
    ("<what would you> [//] what would your advice be ?", "what would you what would your advice be",
     "what would your advice be"),
    ("&-um &-uh for what I've read +...", "um uh for what I've read", "um uh for what I've read"),
    ("I spose [: suppose] is kind (be)cause I ↫r↫really s:tuttering .", "I spose is kind cause I really stuttering",
     None),
    ("a_lot_of s@l xxx &=laughs &+prof 0is (.) ≠I said the ↫na↫national s^tuttering .",
     "a lot of s I said the national stuttering", None),
    ("where do I begin [=! laughing] ?", "where do I begin", None),
    ("I &+ho [/] I started ↫t-t-t↫talking", "I I started talking", "I I started talking"),
    ("<he &~so> [//] he is", "he he is", "he is"),
    ("B;FG;1", "", None),
])
def test_chat_words_hand_checked(text, said, final):
    assert chat_words(text) == said.split()
    if final is not None:
        assert chat_words(text, retraced=False) == final.split()


def test_chat_fillers_are_flagged_and_can_be_left_out():
    tokens = chat_tokens("&-um I &-you_know went")
    assert [(t.word, t.filler) for t in tokens] == [("um", True), ("I", False), ("you", True), ("know", True),
                                                     ("went", False)]
    assert chat_words("&-um I &-you_know went", fillers=False) == ["I", "went"]


def test_repeated_units_and_syllables():
    assert repeated_units("I [/] I [/] I want <I went> [/] I went gains [/] gains") == [
        ["I"], ["I"], ["I", "went"], ["gains"]]
    assert repeated_units("<what would you> [//] what") == []
    counts = {w: syllable_count(w) for w in ("I", "and", "the", "my", "so", "don't", "didn't", "talked",
                                             "wanted", "makes", "changes", "because", "little", "stuttering", "going")}
    assert counts == {"I": 1, "and": 1, "the": 1, "my": 1, "so": 1, "don't": 1, "didn't": 2, "talked": 1,
                      "wanted": 2, "makes": 1, "changes": 2, "because": 2, "little": 2, "stuttering": 3, "going": 2}


# --- LBDL -> types ------------------------------------------------------------------------------------------

def _moment(lbdl, start=1000 * MS, end=2000 * MS, annotator="A1"):
    return Moment("010", annotator, start, end, tuple(lbdl), (), 0)


def _utt(text, start=0, end=5000 * MS, speaker="PAR"):
    return Utterance("010", speaker, start, end, text)


def test_sr_splits_by_whole_word_repetition():
    m = _moment(["SR"])
    assert sr_type(m, [_utt("and [/] and I went")]) == (("WordRep",), "word")
    assert sr_type(m, [_utt("the ↫p↫potato [/] potato")]) == (("SoundRep",), "part-word")
    # Unresolved: WordRep by default, as SEP-28k's raters mostly heard them.
    assert sr_type(m, [_utt("going [/] going there")]) == (("WordRep",), "default")  # two syllables: not "word"
    assert sr_type(m, [_utt("I [/] I", start=3000 * MS)]) == (("WordRep",), "no-utterance")  # does not overlap
    assert sr_type(m, [_utt("I [/] I", speaker="INV")], unresolved="SoundRep") == (("SoundRep",), "no-utterance")
    # Unresolved moments take the option; resolved ones don't.
    assert sr_type(m, [_utt("so there")], unresolved="both") == (("SoundRep", "WordRep"), "default")
    assert sr_type(m, [], unresolved="SoundRep") == (("SoundRep",), "no-utterance")
    assert sr_type(m, [_utt("I [/] I")], unresolved="both") == (("WordRep",), "word")
    with pytest.raises(ValueError, match="choose one of"):
        CasaOptions(sr_unresolved="Block")


def test_lbdl_mapping():
    utts = [_utt("and [/] and")]
    assert moment_types(_moment(["P"]), utts) == (["Prolongation"], None)
    assert moment_types(_moment(["B", "ISR"]), utts) == (["Block", "SoundRep"], None)
    assert moment_types(_moment(["MUR"]), utts) == (["WordRep"], None)
    assert moment_types(_moment(["SR", "P"]), utts) == (["Prolongation", "WordRep"], "word")
    assert moment_types(_moment([]), utts) == ([], None)  # a moment with only secondary behaviours


# --- a generated corpus: one signal, clips cut from it, CASA files ------------------------------------------

EPISODES = ["010", "011", "012", "013", "014", "015"]
SIGNAL_SECONDS = 30


def _signal(ep_index: int) -> np.ndarray:
    rng = np.random.default_rng(ep_index)
    return rng.integers(-20000, 20000, size=SIGNAL_SECONDS * SAMPLE_RATE, dtype=np.int16)  # (samples,)


# (clip id, start sample, stop sample): clips 0-2 overlap or touch (one run), 3 is alone after a gap,
# 4 lies inside 3, 5 is 3 s in the CSV but shorter on disk, 6 starts after 5's real end (a gap: a new run).
CLIPS = [(0, 16_000, 64_000), (1, 40_000, 88_000), (2, 88_000, 136_000), (3, 200_000, 248_000),
         (4, 210_000, 230_000), (5, 300_000, 348_000), (6, 340_000, 388_000)]
SHORT_ON_DISK = {5: 30_000}  # clip 5's file holds only 30,000 samples


def _write_corpus(tmp_path, votes_of=lambda ep, clip: {}):
    rows, clips = [], tmp_path / "clips"
    for e, ep in enumerate(EPISODES):
        signal = _signal(e)
        folder = clips / "FluencyBank" / ep
        folder.mkdir(parents=True)
        for clip, start, stop in CLIPS:
            stop_disk = start + SHORT_ON_DISK.get(clip, stop - start)
            sf.write(folder / f"FluencyBank_{ep}_{clip}.flac", signal[start:stop_disk], SAMPLE_RATE, subtype="PCM_16")
            votes = votes_of(ep, clip)
            rows.append(", ".join(map(str, ["FluencyBank", ep, clip, start, stop] +
                                      [votes.get(c, 0) for c in VOTE_COLUMNS])))
    labels = tmp_path / "fluencybank_labels.csv"
    labels.write_text(",".join(["Show", "EpId", "ClipId", "Start", "Stop", *VOTE_COLUMNS]) + "\n"
                      + "\n".join(rows) + "\n")
    return labels, clips


def _write_casa(folder, moments, utterances=(), interviewer=()):
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "annotations.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["EpId", "media_file", "split", "annotator", "item", "start", "end", "SR", "ISR", "MUR", "P", "B",
                    "V", "FG", "HM", "ME", "T"])
        for ep, annotator, start_ms, end_ms, lbdl in moments:
            w.writerow([ep, "m" + ep, "train", annotator, f"m{ep}-({start_ms}, {end_ms})", start_ms, end_ms,
                        *[int(c in lbdl) for c in ("SR", "ISR", "MUR", "P", "B")], 0, 0, 0, 0, 1])
        for ep in EPISODES:  # CASA's automatic aggregations are in the file but never read
            w.writerow([ep, "m" + ep, "train", "bau", "x", 0, 99_000, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    with (folder / "transcripts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["EpId", "media_file", "annotator", "start", "end", "label"])
        for ep, speaker, start_ms, end_ms, text in utterances:
            w.writerow([ep, "m" + ep, speaker, start_ms, end_ms, text])
    with (folder / "interviewer.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["EpId", "media_file", "start", "end"])
        for ep, start_s, end_s in interviewer:
            w.writerow([ep, "m" + ep, start_s, end_s])
    return folder


def _votes(ep, clip):  # a few positives so the FluencyBank split has something to balance
    return {"Block": 2 * (clip % 2), "Interjection": 3 * (int(ep) % 2), "SoundRep": 2 * (clip == 3),
            "DifficultToUnderstand": 2 * (clip == 2 and ep == "011")}


@pytest.fixture()
def corpus(tmp_path):
    labels, clips = _write_corpus(tmp_path, _votes)
    # Run 1 of episode 010 starts at sample 16,000 (1.0 s). Times in ms in the episode.
    moments = [
        ("010", "A1", 1000 + 20, 1000 + 40, ["P"]),  # frame 1 exactly: [320, 640) samples into the run
        ("010", "A2", 1000 + 30, 1000 + 60, ["B"]),  # onset half-way into frame 1, offset at the end of frame 2
        ("010", "A3", 1000 + 31, 1000 + 60, ["SR"]),  # onset just past half-way: frame 1 not marked
        ("010", "Gold", 1000 + 20, 1000 + 60, ["P"]),
        ("010", "A1", 1000 + 2000, 1000 + 2100, ["SR"]),  # overlaps the "and [/] and" utterance: WordRep
        ("010", "A1", 12_000, 12_500, ["B"]),  # ends where run 2 (12.5-15.5 s) starts: in no run
        ("010", "A2", 14_000, 16_000, ["MUR"]),  # reaches past run 2's end (15.5 s): cut
        ("011", "A1", 1500, 1600, ["ISR"]),
    ]
    utterances = [("010", "PAR", 2900, 3200, "and [/] and I went"), ("010", "INV", 5000, 5200, "okay ."),
                  ("010", "PAR", 13_000, 20_000, "&-um gains [/] gains")]
    interviewer = [("010", 4.0, 4.5)]
    casa = _write_casa(tmp_path / "casa", moments, utterances, interviewer)
    return casa, clips, labels


def _prepare(corpus, out, **kw):
    casa, clips, labels = corpus
    return prepare_casa(casa_dir=casa, clips_dir=clips, labels_csv=labels, output=out, **kw)


def test_runs_are_the_original_samples_sample_exact(corpus, tmp_path):
    result = _prepare(corpus, tmp_path / "out" / "manifest.jsonl")
    runs = [r for r in result.records if r["episode"] == "FluencyBank/010"]
    assert [r["id"] for r in runs] == [f"casa/FluencyBank/010/run0{i}" for i in (1, 2, 3, 4)]
    signal = _signal(0).astype(np.float32) / 32768  # what libsndfile returns for 16-bit PCM
    expected = [(16_000, 136_000, 3), (200_000, 248_000, 2), (300_000, 330_000, 1), (340_000, 388_000, 1)]
    root = tmp_path / "out"
    for rec, (start, stop, n_clips) in zip(runs, expected, strict=True):
        audio = load_record_audio(rec, root)
        assert np.array_equal(audio, signal[start:stop])  # every sample, no silence inserted
        assert round(rec["duration"] * SAMPLE_RATE) == stop - start and rec["episode_start"] == start / SAMPLE_RATE
        assert len(rec["clips"]) == n_clips
    assert len(runs[0]["parts"]) == 3 and "parts" not in runs[2]  # a one-clip run is the clip itself
    assert [(p["offset"], p["duration"]) for p in runs[0]["parts"]] == [(0.0, 3.0), (1.5, 1.5), (0.0, 3.0)]


def test_parts_of_any_sample_count_load_whole(tmp_path):
    # n / SAMPLE_RATE * SAMPLE_RATE lands just below n for n = 1001 (and 2,956 other counts below 500k).
    samples = _signal(9)[:5_000]
    sf.write(tmp_path / "a.flac", samples, SAMPLE_RATE, subtype="PCM_16")
    parts = [{"audio": "a.flac", "offset": 0.0, "duration": 1001 / SAMPLE_RATE},
             {"audio": "a.flac", "offset": 1001 / SAMPLE_RATE, "duration": 1003 / SAMPLE_RATE}]
    audio = load_record_audio({"audio": "a.flac", "offset": 0.0, "duration": 2004 / SAMPLE_RATE, "parts": parts},
                              tmp_path)
    assert np.array_equal(audio, samples[:2004].astype(np.float32) / 32768)


def test_frame_targets_from_hand_made_annotation(corpus, tmp_path):
    out = tmp_path / "manifest.jsonl"
    result = _prepare(corpus, out)
    rec = next(r for r in read_manifest(out) if r["id"] == "casa/FluencyBank/010/run01")
    t = load_frame_targets(rec, tmp_path)
    n = frame_count(120_000)
    assert rec["frames"]["count"] == n == 375 and t["annotators"].shape == (3, 6, n) and t["soft"].shape == (6, n)
    moment, prol, block, sound, word, interj = range(6)
    assert list(FRAME_CHANNELS) == ["moment", "Prolongation", "Block", "SoundRep", "WordRep", "Interjection"]
    a1, a2, a3 = t["annotators"]
    assert np.flatnonzero(a1[prol]).tolist() == [1]
    assert np.flatnonzero(a2[block]).tolist() == [1, 2]
    assert np.flatnonzero(a3[word]).tolist() == [2]  # SR, no utterance under it: unresolved; frame 1 < half
    assert not a3[sound].any()
    assert np.flatnonzero(a1[word]).tolist() == list(range(100, 105))  # 2.0-2.1 s: the "and [/] and" utterance
    assert np.flatnonzero(a1[moment]).tolist() == [1, *range(100, 105)]
    assert np.allclose(t["soft"][moment, :4], [0, 2 / 3, 2 / 3, 0])
    assert np.flatnonzero(t["gold"][prol]).tolist() == [1, 2]
    assert t["supervised"].tolist() == [1, 1, 1, 1, 1, 0] and rec["frames"]["supervised"] == list(FRAME_CHANNELS[:5])
    assert not t["annotators"][:, interj].any()
    # Interviewer: interviewer.csv 4.0-4.5 s and the INV utterance 5.0-5.2 s, run-relative 3.0-3.5 and 4.0-4.2.
    assert np.flatnonzero(t["mask"] == 0).tolist() == [*range(150, 175), *range(200, 210)]
    assert rec["exclude"] == [[3.0, 3.5], [4.0, 4.2]]
    assert {(m["annotator"], m["start"], m["end"]) for m in rec["moments"]} >= {("A1", 0.02, 0.04), ("A2", 0.03, 0.06)}
    sr = next(m for m in rec["moments"] if m["annotator"] == "A1" and m["lbdl"] == ["SR"])
    assert sr["types"] == ["WordRep"] and sr["start"] == 2.0 and sr["sr"] == "word"
    chat = {u["text"]: u for u in rec["chat"]}
    assert chat["and [/] and I went"]["inside"] == 1.0 and chat["okay ."]["speaker"] == "INV"
    # Run 2 (12.5-15.5 s): the MUR moment 14-16 s is cut at the run's end, the utterance 13-20 s is 2.5/7 inside.
    run2 = next(r for r in result.records if r["id"] == "casa/FluencyBank/010/run02")
    mur = next(m for m in run2["moments"] if m["lbdl"] == ["MUR"])
    assert (mur["start"], mur["end"], mur.get("cut"), mur["types"]) == (1.5, 3.0, True, ["WordRep"])
    assert run2["chat"][0]["inside"] == pytest.approx(2.5 / 7, abs=1e-6)
    assert result.meta["counts"]["sr_branches"] == {"word": 1, "no-utterance": 1}
    # SEP-28k's clip labels under clips whose SLP moments are all one kind (run 1's clip 0 has mixed kinds).
    zero = {"Prolongation": 0, "Block": 0, "SoundRep": 0, "WordRep": 0}
    assert result.meta["lbdl_vs_clip_votes"] == {"ISR": {"clips": 1, **zero},
                                                 "MUR": {"clips": 2, **zero, "Block": 1, "SoundRep": 1},
                                                 "SR:word": {"clips": 1, **zero, "Block": 1}}


def test_run_labels_come_from_the_clip_votes(corpus, tmp_path):
    result = _prepare(corpus, tmp_path / "m.jsonl")
    run1 = next(r for r in result.records if r["id"] == "casa/FluencyBank/011/run01")
    # Clip 1 has Block 2 votes; episode 011 is odd: Interjection 3 votes on every clip.
    assert run1["labels"] == {"Prolongation": 0, "Block": 1, "SoundRep": 0, "WordRep": 0, "Interjection": 1}
    assert run1["votes"]["Block"] == 2 and run1["multi"] is True
    assert [c.get("excluded") for c in run1["clips"]] == [None, None, "DifficultToUnderstand>=2"]


def test_splits_equal_prep_fluencybank_and_splits_from(corpus, tmp_path):
    casa, clips, labels = corpus
    fb = run_recipe(labels, clips, tmp_path / "fb" / "manifest.jsonl", options=RecipeOptions(corpus="fluencybank"),
                    progress=False)
    fb_split = {r["episode"]: r["split"] for r in fb.records}
    assert set(fb_split.values()) == {"train", "dev", "test"}
    computed = _prepare(corpus, tmp_path / "a" / "m.jsonl")
    assert {r["episode"]: r["split"] for r in computed.records} == fb_split
    assert computed.meta["episode_splits"] == fb_split
    # A different split in the given manifest is followed.
    moved = [dict(r, split="test" if r["episode"] == "FluencyBank/010" else r["split"]) for r in fb.records]
    write_manifest(moved, tmp_path / "fb" / "moved.jsonl")
    taken = _prepare(corpus, tmp_path / "b" / "m.jsonl",
                     options=CasaOptions(splits_from=tmp_path / "fb" / "moved.jsonl"))
    assert {r["split"] for r in taken.records if r["episode"] == "FluencyBank/010"} == {"test"}


def test_rerun_is_identical_and_cli_writes_everything(corpus, tmp_path, prep):
    casa, clips, labels = corpus
    out = tmp_path / "cli" / "manifest.jsonl"
    assert prep("casa", "--casa", casa, "--clips", clips, "--labels", labels, "--out", out, "--no-progress") == 0
    first = out.read_text()
    assert prep("casa", "--casa", casa, "--clips", clips, "--labels", labels, "--out", out, "--no-progress") == 0
    assert out.read_text() == first
    names = sorted(p.name for p in out.parent.iterdir())
    assert names == ["manifest.frames.npz", "manifest.jsonl", "manifest.jsonl.meta.json",
                     "manifest.jsonl.splits.json", "manifest.jsonl.splits.md"]
    meta = json.loads((out.parent / "manifest.jsonl.meta.json").read_text())
    assert meta["counts"]["splits"]["total"]["runs"] == 4 * len(EPISODES)
    assert meta["options"]["split"]["seed"] == 0 and meta["frame_rule"]["mark_fraction"] == 0.5


def test_nothing_written_when_a_csv_is_bad(corpus, tmp_path):
    casa, clips, labels = corpus
    text = (casa / "annotations.csv").read_text().splitlines()
    text[1] = text[1].replace("1020,1040", "1020,oops")
    (casa / "annotations.csv").write_text("\n".join(text) + "\n")
    out = tmp_path / "bad" / "manifest.jsonl"
    with pytest.raises(ValueError, match=r"annotations.csv:2: column end is 'oops'"):
        _prepare(corpus, out)
    assert not out.parent.exists() or not any(out.parent.iterdir())


# --- manifest validation of the new fields ------------------------------------------------------------------

def _run_record(tmp_path, corpus):
    return _prepare(corpus, tmp_path / "v.jsonl").records[0]


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r["frames"].update(count=r["frames"]["count"] + 1), "frames.count"),
    (lambda r: r["frames"].update(rate=100), "frames.rate"),
    (lambda r: r["frames"].update(supervised=["fluent"]), "frames.supervised"),
    (lambda r: r["moments"].append({"annotator": "A1", "start": 0.0, "end": 99.0, "types": [], "lbdl": []}),
     "moments"),
    (lambda r: r["moments"].append({"annotator": "A1", "start": 0.0, "end": 0.1, "types": ["Stammer"],
                                    "lbdl": []}), "types"),
    (lambda r: r["exclude"].append([1.0]), "exclude"),
    (lambda r: r["chat"].append({"start": 0, "end": 1, "speaker": "CHI", "text": "", "inside": 1}), "speaker"),
    (lambda r: r["chat"].append({"start": 0, "end": 1, "speaker": "PAR", "text": "", "inside": 2}), "inside"),
    (lambda r: r.update(clips=[]), "clips"),
])
def test_validation_rejects_bad_annotation_fields(corpus, tmp_path, change, message):
    rec = json.loads(json.dumps(_run_record(tmp_path, corpus)))
    validate_record(rec)
    change(rec)
    with pytest.raises(ValueError, match=message):
        validate_record(rec)


# --- the real data ------------------------------------------------------------------------------------------

@pytest.mark.shared_data
def test_real_casa(shared_data, tmp_path):
    casa, clips = shared_data / "casa", shared_data / "fluencybank" / "clips"
    if not (casa / "annotations.csv").is_file() or not clips.is_dir():
        pytest.skip("no CASA annotations or FluencyBank clips in the shared data")
    out = tmp_path / "manifest.jsonl"
    result = prepare_casa(casa_dir=casa, clips_dir=clips, labels_csv=shared_data / "sep28k" / "fluencybank_labels.csv",
                          episodes_csv=shared_data / "sep28k" / "fluencybank_episodes.csv", output=out)
    splits = {}
    for ep, split in result.meta["episode_splits"].items():
        splits.setdefault(split, []).append(ep.split("/")[1])
    assert splits == {"train": DEFAULT_TRAIN, "dev": DEFAULT_DEV, "test": DEFAULT_TEST}
    counts = result.meta["counts"]
    assert counts["splits"]["total"]["runs"] == 1_127 and counts["clips_in_runs"] == 2_561
    assert counts["splits"]["total"]["moments"] == {"A1": 946, "A2": 1_070, "A3": 1_155, "Gold": 157}
    assert sum(counts["sr_branches"].values()) == 1_250  # every SR moment of A1-A3 took one branch
    # The longest run's audio is its clips' samples, each at its place.
    rec = max(read_manifest(out), key=lambda r: len(r.get("parts", [])))
    audio = load_record_audio(rec, tmp_path)
    for clip in rec["clips"]:
        ep, n = clip["id"].split("/")[1:]
        samples, _ = sf.read(clips / "FluencyBank" / ep / f"FluencyBank_{ep}_{n}.flac", dtype="float32")
        start = round(clip["start"] * SAMPLE_RATE)
        assert np.array_equal(audio[start:start + len(samples)], samples)
