"""benchmarks/casa_pct_ss.py's per-episode aggregation and stitched exclusions, on hand-made numbers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import casa_pct_ss


def test_episode_row_splits_the_difference_into_moment_and_syllable_counts():
    # 6 stuttered syllables in 120 audio syllables = 5.0 %SS; SLPs 4, 6, 5 moments in 100 CHAT syllables.
    row = casa_pct_ss.episode_row(stuttered=6, syllables_audio=120, slp_moments={"A1": 4, "A2": 6, "A3": 5},
                                  syllables_chat=100)
    assert row["model_pct_ss"] == pytest.approx(5.0)
    assert row["slp_pct_ss"] == pytest.approx({"A1": 4.0, "A2": 6.0, "A3": 5.0})
    assert row["slp_mean"] == pytest.approx(5.0) and row["difference"] == pytest.approx(0.0)
    # One moment too many (+1.0 over 100 CHAT syllables), hidden by 20 syllables too many (-1.0).
    assert row["from_moment_count"] == pytest.approx(1.0)
    assert row["from_syllable_count"] == pytest.approx(-1.0)
    assert row["slp_vs_others"] == pytest.approx({"A1": 4 - 5.5, "A2": 6 - 4.5, "A3": 0.0})
    # Over the audio's 120 syllables the SLPs' 5 moments are 4.17 %SS: the model's one extra moment shows.
    assert row["difference_on_audio_syllables"] == pytest.approx(5.0 - 500 / 120)


def test_the_two_parts_always_add_up_to_the_difference():
    row = casa_pct_ss.episode_row(stuttered=9, syllables_audio=211, slp_moments={"A1": 3, "A2": 12},
                                  syllables_chat=187.5)
    assert row["difference"] == pytest.approx(row["from_moment_count"] + row["from_syllable_count"])
    assert row["difference"] == pytest.approx(900 / 211 - 750 / 187.5)


def test_summary_counts_episodes_within_the_aim_and_the_slp_spread():
    rows = [casa_pct_ss.episode_row(stuttered=6, syllables_audio=120, slp_moments={"A1": 4, "A2": 6, "A3": 5},
                                    syllables_chat=100),
            casa_pct_ss.episode_row(stuttered=10, syllables_audio=100, slp_moments={"A1": 7, "A2": 7, "A3": 7},
                                    syllables_chat=100)]
    s = casa_pct_ss.summarise(rows, aim=1.0)
    assert s["episodes"] == 2 and s["within_aim"] == 1  # |0.0| yes, |10 - 7| = 3.0 no
    assert s["mean_abs_difference"] == pytest.approx(1.5) and s["max_abs_difference"] == pytest.approx(3.0)
    assert s["mean_abs_from_moment_count"] == pytest.approx((1.0 + 3.0) / 2)
    assert s["mean_abs_from_syllable_count"] == pytest.approx((1.0 + 0.0) / 2)
    assert s["mean_abs_difference_on_audio_syllables"] == pytest.approx((5.0 - 500 / 120 + 3.0) / 2)
    assert s["slp_vs_others_n"] == 6 and s["slp_vs_others_within_aim"] == 4  # 1.5, 1.5 out; 0 x 4 in
    assert s["slp_vs_others_mean_abs"] == pytest.approx(3.0 / 6)
    assert casa_pct_ss.summarise([]) == {"episodes": 0}


def test_an_episode_without_syllables_is_an_error_not_a_zero():
    with pytest.raises(ValueError, match="syllables"):
        casa_pct_ss.episode_row(stuttered=1, syllables_audio=0, slp_moments={"A1": 1}, syllables_chat=10)


def test_stitched_exclusions_shift_the_interviewer_and_cover_the_joins_and_dropped_runs():
    records = [{"exclude": [[0.0, 0.5]]}, {"exclude": []}, {"exclude": [[2.0, 3.0]]}]
    offsets = [(0.0, 4.0), (5.0, 6.0), (12.0, 5.0)]  # each run followed by casa_words.GAP_S (1 s) of silence
    assert casa_pct_ss.stitched_exclusions(records, offsets) == [
        (0.0, 0.5), (4.0, 5.0), (11.0, 12.0), (14.0, 15.0), (17.0, 18.0)]
    dropped = casa_pct_ss.stitched_exclusions(records, offsets, keep=[True, False, True])
    assert (5.0, 11.0) in dropped and len(dropped) == 6
