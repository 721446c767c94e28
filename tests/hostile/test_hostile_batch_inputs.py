"""Issue 23: hostile inputs to a batch beyond the recordings themselves. Resume entries and results.json rows
that are valid JSON of the wrong shape, decoding settings that are not finite or out of range, folders
without audio, clips with no speech given to `predict`, and flipped bits in the bundled default model.
Each gets a clear row or message; nothing finished is lost."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import rewrite_bundle, run_cli, tone_speechlike, write_wav

from model.audio.decode import SAMPLE_RATE
from model.encoder.bundle import default_model_path, load_bundle
from model.encoder.bundle_checks import CHECKSUM_KEY
from model.errors import BrokenModelError
from model.moments.decoding import MomentDecoding
from model.pipeline.assess import DONE_DIR, RESULTS_JSON, SUMMARY_CSV, analyse_one, assess_paths
from model.pipeline.inference import InferenceOptions, Predictor
from model.pipeline.outputs import OutputError
from model.pipeline.predict_clips import predict_rows


@pytest.fixture(scope="module")
def predictor(frame_bundle_path) -> Predictor:
    return Predictor(load_bundle(frame_bundle_path), options=InferenceOptions(device="cpu", precision="fp32"))


@pytest.fixture(scope="module")
def finished(tmp_path_factory, predictor) -> tuple[Path, Path]:
    """(recording, output folder) after one real run: the template every damaged entry starts from."""
    root = tmp_path_factory.mktemp("finished")
    recording = write_wav(root / "rec.wav", tone_speechlike(3.0))
    report = assess_paths([recording], root / "out", predictor=predictor)
    assert [r.status for r in report.results] == ["ok"]
    return recording, root / "out"


def _copy(finished, tmp_path) -> tuple[Path, Path, Path]:
    recording, template = finished
    out = tmp_path / "out"
    shutil.copytree(template, out)
    (entry,) = (out / DONE_DIR).glob("*.json")
    return recording, out, entry


def _edit_result(**changes):
    def edit(stored):
        stored["result"].update(changes)
        return stored
    return edit


def _summary(**changes):
    def edit(stored):
        stored["result"]["summary"].update(changes)
        return stored
    return edit


def _drop_summary_key(key):
    def edit(stored):
        del stored["result"]["summary"][key]
        return stored
    return edit


BAD_ENTRIES = {  # valid JSON, wrong shape: each must be analysed again, and the row say so
    "a-list": lambda stored: [],
    "null": lambda stored: None,
    "a-string": lambda stored: "done",
    "a-number": lambda stored: 1,
    "empty-object": lambda stored: {},
    "result-a-list": lambda stored: {"result": []},
    "result-empty": lambda stored: {"result": {}},
    "unknown-field": _edit_result(colour="blue"),
    "summary-a-list": _edit_result(summary=[1, 2]),
    "summary-missing-a-measure": _drop_summary_key("sld_per_minute"),
    "counts-a-number": _summary(counts=3),
    "events-of-text": _edit_result(events=["a moment"]),
    "event-without-times": _edit_result(events=[{"label": "Block"}]),
    "moment-without-start": _edit_result(moments=[{"end": 1.0, "duration": 1.0, "confidence": 0.9,
                                                   "types": ["Block"], "kind": "stuttering"}]),
    "moment-types-a-number": _edit_result(moments=[{"start": 0.0, "end": 1.0, "duration": 1.0, "confidence": 0.9,
                                                    "types": 5, "kind": "stuttering"}]),
    "status-error": _edit_result(status="error"),
    "status-unknown": _edit_result(status="fine"),
    "another-recording": _edit_result(path="/elsewhere/other.wav"),
    "nan-duration": _summary(duration=float("nan")),
    "warning-a-number": _edit_result(warning=5),
    "measures-incomplete": _edit_result(measures={"syllables": 3}),
    "settings-text": _edit_result(settings="fast"),
    "excluded-text": _edit_result(excluded="none"),
}


@pytest.mark.parametrize("name", list(BAD_ENTRIES))
def test_a_resume_entry_of_the_wrong_shape_is_redone_and_said(finished, predictor, tmp_path, name):
    recording, out, entry = _copy(finished, tmp_path)
    entry.write_text(json.dumps(BAD_ENTRIES[name](json.loads(entry.read_text()))))
    (result,) = assess_paths([recording], out, predictor=predictor).results
    assert result.status == "ok" and "was damaged" in result.warning and "analysed again" in result.warning
    (again,) = assess_paths([recording], out, predictor=predictor).results  # the entry was rewritten whole
    assert again.status == "cached" and again.summary == result.summary


BAD_RESULTS_JSON = {
    "an-object": {},
    "null": None,
    "a-list-of-numbers": [1],
    "a-row-without-status": [{"path": "x.wav"}],
    "a-row-missing-a-measure": [{"path": "x.wav", "status": "ok", "summary": {"sld_count": 3, "duration": 3.0}}],
    "a-row-with-text-events": [{"path": "x.wav", "status": "ok", "events": ["x"]}],
    "a-row-with-a-list-summary": [{"path": "x.wav", "status": "ok", "summary": []}],
}


@pytest.mark.parametrize("name", list(BAD_RESULTS_JSON))
def test_a_results_json_of_the_wrong_shape_is_refused_not_overwritten(finished, predictor, tmp_path, name):
    recording, out, _ = _copy(finished, tmp_path)
    text = json.dumps(BAD_RESULTS_JSON[name])
    (out / RESULTS_JSON).write_text(text)
    summary = (out / SUMMARY_CSV).read_text()
    with pytest.raises(OutputError, match=r"results\.json is damaged .*not overwritten"):
        assess_paths([recording], out, predictor=predictor)
    assert (out / RESULTS_JSON).read_text() == text and (out / SUMMARY_CSV).read_text() == summary


def _decoding(**values):
    def edit(meta):
        meta.setdefault("decoding", {}).update(values)
    return edit


def _frames(**values):
    def edit(meta):
        meta.setdefault("frames", {}).update(values)
    return edit


def _replace(key, value):
    def edit(meta):
        meta[key] = value
    return edit


NAN, INF = float("nan"), float("inf")
BAD_SETTINGS = {  # a model file's decoding and frame settings: (edit, what the message names)
    "min_duration-nan": (_decoding(min_duration=NAN), "min_duration is nan"),
    "merge_gap-inf": (_decoding(merge_gap=INF), "merge_gap is inf"),
    "merge_gap-minus-inf": (_decoding(merge_gap=-INF), "merge_gap is -inf"),
    "min_duration-negative": (_decoding(min_duration=-0.1), "min_duration is a duration"),
    "merge_gap-a-day": (_decoding(merge_gap=86400), "merge_gap is a duration in seconds from 0 to 60"),
    "onset-text": (_decoding(onset="0.5"), "onset is '0.5', not a number"),
    "offset-bool": (_decoding(offset=True), "offset is True, not a number"),
    "onset-null": (_decoding(onset=None), "onset is None, not a number"),
    "onset-one": (_decoding(onset=1.0), "need 0 < offset <= onset < 1"),
    "offset-above-onset": (_decoding(onset=0.5, offset=0.9), "need 0 < offset <= onset < 1"),
    "offset-zero": (_decoding(offset=0.0), "need 0 < offset <= onset < 1"),
    "interjection_onset-nan": (_decoding(interjection_onset=NAN), "interjection_onset is nan"),
    "interjection_merge_gap-inf": (_decoding(interjection_merge_gap=INF), "interjection_merge_gap is inf"),
    "interjection_min_duration-negative": (_decoding(interjection_min_duration=-1),
                                           "interjection_min_duration is a duration"),
    "type-threshold-nan": (_decoding(type_thresholds={"Block": NAN}), r"type_thresholds\['Block'\] is nan"),
    "type-threshold-text": (_decoding(type_thresholds={"Block": "high"}), "is 'high', not a number"),
    "type-threshold-one": (_decoding(type_thresholds={"Block": 1.0}), "strictly between 0 and 1"),
    "type-thresholds-a-list": (_decoding(type_thresholds=[0.5]), "type_thresholds must map"),
    "type-threshold-of-interjection": (_decoding(type_thresholds={"Interjection": 0.5}),
                                       "stuttering-like types"),
    "decoding-a-list": (_replace("decoding", [0.5, 0.35]), "not a mapping"),
    "decoding-text": (_replace("decoding", "fast"), "not a mapping"),
    "decoding-unknown-setting": (_decoding(smoothing=3), "unknown moment decoding settings"),
    "window-nan": (_frames(window_seconds=NAN), "window_seconds"),
    "hop-zero": (_frames(hop_seconds=0), "hop_seconds"),
    "hop-over-window": (_frames(window_seconds=3.0, hop_seconds=4.0), "hop_seconds"),
    "window-text": (_frames(window_seconds="10"), "frames settings are invalid"),
    "window-huge": (_frames(window_seconds=1e9), "window_seconds"),
    "frames-a-number": (_replace("frames", 5), "frames settings are invalid"),
}


@pytest.mark.parametrize("name", list(BAD_SETTINGS))
def test_bad_decoding_settings_in_a_model_file_are_refused_at_load(frame_bundle_path, tmp_path, name):
    edit, message = BAD_SETTINGS[name]
    bad = rewrite_bundle(frame_bundle_path, tmp_path / "settings.safetensors", meta_edit=edit)
    with pytest.raises(ValueError, match=message) as caught:
        load_bundle(bad)
    assert "settings.safetensors" in str(caught.value)


BAD_OPTIONS = {  # MomentDecoding built by code (the app's options, a tuning run): the same checks
    "min_duration-nan": ({"min_duration": NAN}, "min_duration is nan"),
    "merge_gap-inf": ({"merge_gap": INF}, "merge_gap is inf"),
    "merge_gap-text": ({"merge_gap": "0.2"}, "merge_gap is '0.2', not a number"),
    "onset-nan": ({"onset": NAN}, "onset is nan"),
    "type-thresholds-none": ({"type_thresholds": None}, "type_thresholds must map"),
    "interjection_offset-numpy-nan": ({"interjection_offset": np.float32("nan")}, "interjection_offset is nan"),
}


@pytest.mark.parametrize("name", list(BAD_OPTIONS))
def test_bad_decoding_options_are_refused_when_built(name):
    values, message = BAD_OPTIONS[name]
    with pytest.raises(ValueError, match=message):
        MomentDecoding(**values)


def _square(seconds=3.0, hz=200):
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sign(np.sin(2 * np.pi * hz * t))).astype(np.float32)


def _click(seconds=3.0):
    audio = np.zeros(int(seconds * SAMPLE_RATE), np.float32)
    audio[SAMPLE_RATE] = 0.9
    return audio


NON_SPEECH = {
    "a-tenth-of-a-second": lambda: tone_speechlike(0.1),
    "silence": lambda: np.zeros(5 * SAMPLE_RATE, np.float32),
    "square-wave": _square,
    "white-noise": lambda: (0.2 * np.random.default_rng(0).standard_normal(4 * SAMPLE_RATE)).astype(np.float32),
    "dc-offset": lambda: np.full(3 * SAMPLE_RATE, 0.5, np.float32),
    "sine-1khz": lambda: (0.3 * np.sin(2 * np.pi * 1000 * np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE)).astype(
        np.float32),
    "one-click": _click,
    "speech-at-minus-90-db": lambda: tone_speechlike(4.0) * np.float32(10 ** (-70 / 20)),
}


@pytest.mark.parametrize("name", list(NON_SPEECH))
def test_predict_flags_non_speech_as_assess_does(predictor, tmp_path, name):
    clip = write_wav(tmp_path / f"{name}.wav", NON_SPEECH[name](), subtype="FLOAT")
    fields, (row,), failed = predict_rows([clip], predictor)
    assert failed == 0 and row["error"] == "" and "too little speech" in row["warning"]
    assert all(row.get(f) in (None, "") for f in fields if f.startswith("p_") or f in predictor.labels)
    result, _ = analyse_one(clip, predictor)
    assert result.status == "too-little-speech"


def test_speech_still_gets_its_decisions_from_predict(predictor, tmp_path):
    clip = write_wav(tmp_path / "speech.wav", tone_speechlike(3.0))
    _, (row,), failed = predict_rows([clip], predictor)
    assert failed == 0 and row["warning"] == "" and all(row[f"p_{label}"] for label in predictor.labels)


NO_AUDIO = {
    "empty": lambda f: None,
    "hidden-files-only": lambda f: [(f / ".DS_Store").write_text("x"), (f / ".draft.wav").write_bytes(b"RIFF")],
    "other-files-only": lambda f: [(f / "notes.txt").write_text("x"), (f / "a.TextGrid").write_text("x"),
                                   (f / "a.exclude.csv").write_text("start_s,end_s\n")],
    "empty-sub-folders": lambda f: [(f / "day 1").mkdir(), (f / "day 2" / "am").mkdir(parents=True)],
    "a-folder-named-like-audio": lambda f: (f / "session.wav").mkdir(),
}


@pytest.mark.parametrize("name", list(NO_AUDIO))
def test_a_folder_without_audio_gets_a_row(predictor, tmp_path, name):
    folder = tmp_path / "recordings"
    folder.mkdir()
    NO_AUDIO[name](folder)
    (row,) = assess_paths([folder], tmp_path / "out", predictor=predictor).results
    assert row.status == "error" and "no audio files in this folder" in row.error and "recordings" in row.error


@pytest.mark.parametrize("command", ["assess", "predict"])
def test_a_folder_without_audio_is_one_error_line_and_exit_1_from_the_cli(frame_bundle_path, tmp_path, capsys,
                                                                            command):
    folder = tmp_path / "no audio"
    folder.mkdir()
    out = ["--out", tmp_path / ("out" if command == "assess" else "p.csv")]
    assert run_cli(command, folder, *out, "--model", frame_bundle_path, "--precision", "fp32") == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "no audio files in this folder" in errors[0]


def test_a_folder_given_twice_or_inside_another_is_listed_once_without_an_error(predictor, tmp_path):
    folder = tmp_path / "recordings"
    (folder / "day 1").mkdir(parents=True)
    write_wav(folder / "day 1" / "a.wav", tone_speechlike(2.0))
    rows = assess_paths([folder, folder, folder / "day 1"], tmp_path / "out", predictor=predictor).results
    assert [Path(r.path).name for r in rows] == ["a.wav"]


# ---- the bundled default model: its tensors carry their checksum (issue 23) -----------------------------
default_only = pytest.mark.skipif(not default_model_path().is_file(), reason="the default model file is missing")


def _flip(path: Path, offsets, mask: int) -> None:
    data = bytearray(path.read_bytes())
    start = 8 + int.from_bytes(data[:8], "little")  # the tensor data begin after the JSON header
    for offset in offsets:
        data[start + offset] ^= mask
    path.write_bytes(bytes(data))


@pytest.fixture()
def default_copy(tmp_path) -> Path:
    return Path(shutil.copyfile(default_model_path(), tmp_path / "default-copy.safetensors"))


@default_only
@pytest.mark.parametrize("name, offsets, mask", [
    ("three-bits", (1_000_003, 20_000_001, 35_000_017), 0x01),
    ("4096-sign-flips", range(1_000_001, 1_000_001 + 2 * 4096, 2), 0x80),  # the high byte of 4,096 fp16 values
    ("one-low-bit-at-the-end", (41_000_000,), 0x01),
])
def test_flipped_bits_in_the_bundled_default_are_refused(default_copy, name, offsets, mask):
    _flip(default_copy, offsets, mask)
    with pytest.raises(BrokenModelError, match=r"default-copy\.safetensors.*damaged.*checksum"):
        load_bundle(default_copy)


@default_only
def test_the_bundled_default_without_its_checksum_loads_with_a_warning(default_copy, tmp_path, caplog):
    stripped = rewrite_bundle(default_copy, tmp_path / "stripped.safetensors",
                              meta_edit=lambda meta: meta.pop(CHECKSUM_KEY) and None)
    with caplog.at_level(logging.WARNING, logger="model.encoder.bundle"):
        load_bundle(stripped)
    assert f"carries no {CHECKSUM_KEY}" in caplog.text and "stripped.safetensors" in caplog.text
