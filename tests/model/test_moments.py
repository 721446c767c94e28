"""Decoding hand-made frame probabilities into moments; every expected value worked out by hand.

Frames are 20 ms (50 per second), so frame i covers [i / 50, (i + 1) / 50) seconds.
"""

import numpy as np
import pytest

from model.moments.decoding import (
    FRAME_CHANNELS,
    INTERJECTION,
    STUTTERING,
    Moment,
    MomentDecoding,
    decode_moments,
    exclusion_mask,
    hysteresis_runs,
    merge_runs,
    summarize_moments,
)

RATE = 50
MOMENT, PRO, BLO, SND, WRD, INTJ = range(6)


def probs(n_frames: int, *spans: tuple[int, int, int, float]) -> np.ndarray:
    """(n_frames, 6) zeros, with p[first:stop, channel] = value for each (channel, first, stop, value)."""
    p = np.zeros((n_frames, len(FRAME_CHANNELS)), np.float32)
    for channel, first, stop, value in spans:
        p[first:stop, channel] = value
    return p


def test_hysteresis_needs_a_seed_and_extends_to_the_offset_threshold():
    # 10..19 only reaches 0.4 (>= offset 0.35, < onset 0.5): no moment.
    # 30..59: 0.4 / 0.9 / 0.4 -> one moment over all of 30..59, because it holds a seed (35..44).
    p = probs(100, (MOMENT, 10, 20, 0.4), (MOMENT, 30, 35, 0.4), (MOMENT, 35, 45, 0.9), (MOMENT, 45, 60, 0.4),
              (SND, 30, 60, 0.8))
    got = decode_moments(p, frame_rate=RATE)
    assert got == [Moment(0.6, 1.2, pytest.approx(0.9), ("SoundRep",), STUTTERING)]
    assert got[0].duration == pytest.approx(0.6)  # 30 frames x 20 ms, measured, not a window length


def test_gaps_up_to_merge_gap_are_bridged_and_longer_ones_are_not():
    # [100, 110) and [115, 130): gap 5 frames = 0.1 s <= 0.2 -> one moment 2.0-2.6 s.
    # [150, 160): gap 20 frames = 0.4 s after 130 -> its own moment 3.0-3.2 s.
    # [170, 180): gap exactly 10 frames = 0.2 s after 160 -> merged: 3.0-3.6 s.
    p = probs(200, (MOMENT, 100, 110, 0.8), (MOMENT, 115, 130, 0.7), (MOMENT, 150, 160, 0.6),
              (MOMENT, 170, 180, 0.95), (WRD, 100, 200, 0.9))
    got = decode_moments(p, frame_rate=RATE)
    assert [(m.start, m.end) for m in got] == [(2.0, 2.6), (3.0, 3.6)]
    assert [m.confidence for m in got] == pytest.approx([0.8, 0.95])
    # With merging off, every piece stays apart.
    apart = decode_moments(p, frame_rate=RATE, options=MomentDecoding(merge_gap=0.0))
    assert [(m.start, m.end) for m in apart] == [(2.0, 2.2), (2.3, 2.6), (3.0, 3.2), (3.4, 3.6)]


def test_minimum_duration_is_applied_after_merging():
    # 4 frames (0.08 s) < 0.1 s: dropped. 5 frames (0.1 s): kept.
    # Two 3-frame pieces 2 frames apart merge into 8 frames (0.16 s): kept, although each alone is too short.
    p = probs(300, (MOMENT, 10, 14, 0.9), (MOMENT, 50, 55, 0.9), (MOMENT, 100, 103, 0.9), (MOMENT, 105, 108, 0.9))
    got = decode_moments(p, frame_rate=RATE)
    assert [(m.start, m.end) for m in got] == [(1.0, 1.1), (2.0, 2.16)]


def test_types_come_from_the_type_channels_inside_the_moment_and_count_once():
    # Moment 1.0-2.0 s (frames 50..99). Block 0.6 over all of it (mean 0.6 >= 0.5);
    # SoundRep 0.9 over half of it (mean 0.45 < 0.5); WordRep 0.3 (mean 0.3).
    p = probs(200, (MOMENT, 50, 100, 0.9), (BLO, 50, 100, 0.6), (SND, 50, 75, 0.9), (WRD, 50, 100, 0.3))
    (m,) = decode_moments(p, frame_rate=RATE)
    assert m.types == ("Block",) and m.kind == STUTTERING
    # SoundRep's own threshold lowered to 0.4: both types, likeliest first, still ONE moment.
    (m,) = decode_moments(p, frame_rate=RATE, options=MomentDecoding(type_thresholds={"SoundRep": 0.4}))
    assert m.types == ("Block", "SoundRep")
    # Likeliest first, not label order: WordRep at 0.7 over the whole moment comes before Block (0.6).
    p[50:100, WRD] = 0.7
    (m,) = decode_moments(p, frame_rate=RATE, options=MomentDecoding(type_thresholds={"SoundRep": 0.4}))
    assert m.types == ("WordRep", "Block", "SoundRep")
    p[50:100, WRD] = 0.3
    # No type reaches its threshold: the likeliest is named (Block 0.6 > SoundRep 0.45 > WordRep 0.3).
    (m,) = decode_moments(p, frame_rate=RATE, options=MomentDecoding(type_thresholds={"Block": 0.7}))
    assert m.types == ("Block",)


def test_interjections_are_their_own_events_and_never_join_moments():
    # Moment channel high over frames 50..99 (1.0-2.0 s); Interjection high over 90..120 (1.8-2.4 s),
    # overlapping it; and an interjection alone at 150..170 (3.0-3.4 s).
    p = probs(200, (MOMENT, 50, 100, 0.8), (PRO, 50, 100, 0.7), (INTJ, 90, 120, 0.9), (INTJ, 150, 170, 0.6))
    got = decode_moments(p, frame_rate=RATE)
    assert [(m.kind, m.start, m.end, m.types) for m in got] == [
        (STUTTERING, 1.0, 2.0, ("Prolongation",)),
        (INTERJECTION, 1.8, 2.4, ("Interjection",)),
        (INTERJECTION, 3.0, 3.4, ("Interjection",)),
    ]
    summary = summarize_moments(got, duration=60.0)
    assert (summary.moments, summary.interjections) == (1, 2)


def test_excluded_stretches_hold_no_moment_and_are_never_bridged():
    # A moment over 1.0-2.0 s with the interviewer at 1.4-1.5 s: two moments, 1.0-1.4 and 1.5-2.0,
    # although the 0.1 s hole is shorter than merge_gap (0.2 s).
    p = probs(150, (MOMENT, 50, 100, 0.9), (SND, 50, 100, 0.9))
    got = decode_moments(p, frame_rate=RATE, exclude=[(1.4, 1.5)])
    assert [(m.start, m.end) for m in got] == [(1.0, 1.4), (1.5, 2.0)]
    # Frames whose centre is inside [start, end): 1.4 s is frame 70's start, its centre 1.41 s.
    assert np.flatnonzero(exclusion_mask(150, [(1.4, 1.5)], RATE)).tolist() == list(range(70, 75))


def test_moment_at_the_very_start_and_end():
    p = probs(100, (MOMENT, 0, 10, 0.9), (MOMENT, 90, 100, 0.9))
    got = decode_moments(p, frame_rate=RATE)
    assert [(m.start, m.end) for m in got] == [(0.0, 0.2), (1.8, 2.0)]


def test_summary_counts_each_moment_once_and_times_the_three_longest():
    moments = [Moment(0, 0.5, 0.9, ("Block",)), Moment(1, 3.0, 0.9, ("SoundRep", "WordRep")),
               Moment(4, 5.2, 0.8, ("Prolongation",)), Moment(6, 6.3, 0.7, ("Block",)),
               Moment(7, 11.0, 0.9, ("Interjection",), INTERJECTION)]
    s = summarize_moments(moments, duration=120.0)
    assert s.moments == 4 and s.moments_per_minute == 2.0
    assert s.type_counts == {"Prolongation": 1, "Block": 2, "SoundRep": 1, "WordRep": 1}
    assert s.interjections == 1 and s.interjections_per_minute == 0.5
    # Longest three stuttering moments: 2.0, 1.2, 0.5 (the 4 s interjection does not count): mean 1.233.
    assert s.longest3 == (2.0, 1.2, 0.5) and s.longest3_mean == pytest.approx(1.233)


def test_runs_helpers():
    p = np.array([0, .6, .4, .4, 0, .4, .4, 0, .9, .4], np.float32)
    assert hysteresis_runs(p, onset=0.5, offset=0.35).tolist() == [[1, 4], [8, 10]]
    assert merge_runs(np.array([[1, 4], [5, 6], [9, 10]]), max_gap=1).tolist() == [[1, 6], [9, 10]]
    assert decode_moments(np.zeros((0, 6)), frame_rate=RATE) == []


def test_bad_settings_say_how_to_fix_them():
    with pytest.raises(ValueError, match="lower the offset"):
        MomentDecoding(onset=0.4, offset=0.6)
    with pytest.raises(ValueError, match="stuttering-like types"):
        MomentDecoding(type_thresholds={"Interjection": 0.5})
    with pytest.raises(ValueError, match="newer than this StutterScope"):
        MomentDecoding.from_dict({"onset": 0.5, "lookahead": 3})
    with pytest.raises(ValueError, match=r"\(frames, 6\)"):
        decode_moments(np.zeros((10, 5)), frame_rate=RATE)


def test_settings_and_moments_round_trip_through_dicts():
    opts = MomentDecoding(onset=0.6, offset=0.3, type_thresholds={"Block": 0.25})
    back = MomentDecoding.from_dict(opts.to_dict())
    assert back == opts and back.type_thresholds["SoundRep"] == 0.5
    m = Moment(1.02, 1.74, 0.81234, ("Block", "SoundRep"))
    assert Moment.from_dict(m.to_dict()) == Moment(1.02, 1.74, 0.8123, ("Block", "SoundRep"))
    assert m.to_dict()["duration"] == 0.72


# -- splitting a decoded moment at valleys of p(moment) (issue 24) ----------------------------------------------

SPLIT = MomentDecoding(onset=0.6, offset=0.6, min_duration=0.3, merge_gap=0.4, split_depth=0.3)  # the shipped
# decoding's thresholds and gaps, with the split on


def test_two_moments_0_2_s_apart_stay_two_when_split():
    # 0.9 over frames 50..79 and 90..119 (0.6 s each), 0.2 over the 10 frames (0.2 s) between: the 0.4 s
    # merge gap joins them; the valley (0.9 - 0.2 = 0.7 deep on both sides) cuts them apart again, each
    # piece trimmed back to its frames at or above the offset.
    p = probs(200, (MOMENT, 50, 80, 0.9), (MOMENT, 80, 90, 0.2), (MOMENT, 90, 120, 0.9))
    merged = decode_moments(p, frame_rate=RATE, options=MomentDecoding(onset=0.6, offset=0.6, min_duration=0.3,
                                                                      merge_gap=0.4))
    assert [(m.start, m.end) for m in merged] == [(1.0, 2.4)]
    split = decode_moments(p, frame_rate=RATE, options=SPLIT)
    assert [(m.start, m.end) for m in split] == [(1.0, 1.6), (1.8, 2.4)]


def test_one_long_prolongation_stays_one_when_split():
    # 4 s of p(moment) wobbling between 0.7 and 0.9 every 0.2 s: no valley 0.3 deep, one moment.
    p = probs(300)
    p[50:250, MOMENT] = np.where((np.arange(200) // 10) % 2 == 0, 0.9, 0.7)
    got = decode_moments(p, frame_rate=RATE, options=SPLIT)
    assert [(m.start, m.end) for m in got] == [(1.0, 5.0)]


def test_a_split_never_leaves_a_piece_shorter_than_the_minimum_duration():
    # A 0.1 s bump after a deep valley would be a piece shorter than min_duration (0.3 s): it stays attached.
    p = probs(200, (MOMENT, 50, 80, 0.9), (MOMENT, 80, 85, 0.2), (MOMENT, 85, 90, 0.9))
    got = decode_moments(p, frame_rate=RATE, options=SPLIT)
    assert [(m.start, m.end) for m in got] == [(1.0, 1.8)]


def test_split_depth_off_by_default_and_left_out_of_the_stored_settings():
    assert MomentDecoding().split_depth == 0.0 and "split_depth" not in MomentDecoding().to_dict()
    assert MomentDecoding.from_dict(SPLIT.to_dict()) == SPLIT
    with pytest.raises(ValueError, match="split_depth"):
        MomentDecoding(split_depth=1.5)


# -- smoothing the frames before decoding (issue 24 item 5: the shipped recipe's 0.18 s) -------------------------

SMOOTH = MomentDecoding(onset=0.5, offset=0.35, min_duration=0.0, merge_gap=0.0, smooth_seconds=0.18)


def test_a_one_frame_spike_starts_no_moment_when_smoothed():
    # 0.95 in one frame: alone it is a 20 ms moment; averaged over 9 frames it is 0.95 / 9 = 0.11, under the onset.
    p = probs(100, (MOMENT, 50, 51, 0.95))
    plain = MomentDecoding(onset=0.5, offset=0.35, min_duration=0.0, merge_gap=0.0)
    assert [(m.start, m.end) for m in decode_moments(p, frame_rate=RATE, options=plain)] == [(1.0, 1.02)]
    assert decode_moments(p, frame_rate=RATE, options=SMOOTH) == []


def test_a_long_plateau_keeps_its_boundaries_within_a_frame_when_smoothed():
    # 2 s (frames 100..199) wobbling 0.7 / 0.9: smoothed, a frame reaches the 0.35 offset once 4 of its 9 frames are
    # on the plateau (4 x 0.7 / 9 = 0.31 is below it, 4 x 0.8 / 9 = 0.36 is not), i.e. one frame before it starts.
    p = probs(300)
    p[100:200, MOMENT] = np.where(np.arange(100) % 2 == 0, 0.9, 0.7)
    p[100:200, BLO] = 0.8
    (m,) = decode_moments(p, frame_rate=RATE, options=SMOOTH)
    assert abs(m.start - 2.0) <= 0.02 + 1e-9 and abs(m.end - 4.0) <= 0.02 + 1e-9
    assert m.types[0] == "Block" and m.confidence == pytest.approx(0.8, abs=0.02)


def test_smoothing_at_the_recording_edges_averages_only_the_frames_there_are():
    # A plateau from the first frame: the first frame's window holds 5 real frames, all 0.9, not 9 with zeros.
    p = probs(100, (MOMENT, 0, 30, 0.9))
    (m,) = decode_moments(p, frame_rate=RATE, options=SMOOTH)
    assert m.start == 0.0 and m.confidence == pytest.approx(0.9)


def test_smoothing_off_by_default_and_left_out_of_the_stored_settings():
    assert MomentDecoding().smooth_seconds == 0.0 and "smooth_seconds" not in MomentDecoding().to_dict()
    assert MomentDecoding.from_dict(SMOOTH.to_dict()) == SMOOTH and SMOOTH.to_dict()["smooth_seconds"] == 0.18
    for bad in (-0.1, 5.0, float("nan"), "0.2"):
        with pytest.raises(ValueError, match="smooth_seconds"):
            MomentDecoding(smooth_seconds=bad)


def test_smooth_frames_is_the_mean_of_the_frames_in_each_window_even_when_the_recording_is_shorter():
    from model.moments.decoding import smooth_frames

    p = np.random.default_rng(0).random((40, 6)).astype(np.float32)
    for n in (1, 3, 8, 9, 10, 40):
        want = np.stack([p[:n][max(0, i - 4):i + 5].mean(axis=0) for i in range(n)])
        assert np.abs(smooth_frames(p[:n], 9) - want).max() < 1e-6
