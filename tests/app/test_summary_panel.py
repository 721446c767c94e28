"""The summary panel: the clinician's measures on top; the 3 s window share only for a window model."""

import numpy as np
from review_fixtures import fake_predictions

from app.qt.state import AnalysisState
from app.qt.widgets.summary import SummaryPanel
from model.labels import LABELS
from model.measures.clinical import MeasureOptions, compute_measures
from model.measures.words import Word
from model.moments.decoding import FRAME_CHANNELS, STUTTERING, Moment, MomentDecoding
from model.moments.frame_inference import FramePredictions, FrameWindows, MomentPredictions

THRESHOLDS = dict.fromkeys(LABELS, 0.5)


def frame_predictions() -> MomentPredictions:
    """20 s at 50 frames/s with one Block moment at 1-2 s."""
    p = np.zeros((1000, len(FRAME_CHANNELS)), np.float32)
    p[50:100, [0, 1 + LABELS.index("Block")]] = [0.9, 0.8]
    frames = FramePredictions(channels=FRAME_CHANNELS, probs=p, frame_rate=50.0, duration=20.0,
                              windows=FrameWindows(), n_windows=2, model_id="m" * 64, path="r.wav")
    return MomentPredictions.from_frames(frames, decoding=MomentDecoding(), model_thresholds=THRESHOLDS)


def _rows(panel: SummaryPanel) -> list[str]:
    form = panel._form
    return [form.itemAt(i, form.ItemRole.FieldRole).widget().objectName() for i in range(form.rowCount())]


def test_measures_come_first_and_the_time_in_sld_last(qtbot):
    state = AnalysisState()
    panel = SummaryPanel(state)
    qtbot.addWidget(panel)
    rows = _rows(panel)
    assert rows.index("summary_pct_ss") < rows.index("summary_sld") < rows.index("summary_sld_share")
    state.set_predictions(frame_predictions(), THRESHOLDS)
    assert panel.text("sld").startswith("1 event,")  # one moment, in the singular
    assert panel.text("sld_share") == "5.0 %"  # the 1 s moment in 20 s (model.measures.summary' SLD time share)
    state.set_predictions(fake_predictions(), THRESHOLDS)
    assert panel._form.isRowVisible(panel.fields["sld_share"]) and panel.text("sld_share") == "18.2 %"  # 4 s in 22


def test_with_measures_one_three_longest_row_the_clients(qtbot):
    """Before words the whole recording's three longest show; with measures only the client's do."""
    state = AnalysisState()
    panel = SummaryPanel(state)
    qtbot.addWidget(panel)
    state.set_predictions(frame_predictions(), THRESHOLDS)
    panel.show_measures(None)
    assert panel._form.isRowVisible(panel.fields["longest3"]) and panel.text("longest3").startswith("1.0 s")
    words = [Word(0.9 + 0.3 * i, 1.1 + 0.3 * i, "ba", 1.0) for i in range(4)]
    measures = compute_measures(words, [Moment(1.0, 2.0, 0.9, ("Block",), STUTTERING)], duration=20.0,
                                options=MeasureOptions(min_syllables=0, min_speaking_s=0))
    panel.show_measures(measures)
    assert not panel._form.isRowVisible(panel.fields["longest3"])
    assert panel.text("longest3_moments") == "mean 1.0 s (longest 1.0 s)"
    rows = _rows(panel)
    assert rows.index("summary_duration") < rows.index("summary_pct_ss") < rows.index("summary_counted")


def test_counts_follow_the_decisions_so_far_and_leave_the_interviewer_out(qtbot):
    """fake_predictions: Block 2-6 s, Interjections 6-9 s and 12-16 s, 22 s (issue 23)."""
    state = AnalysisState()
    panel = SummaryPanel(state)
    qtbot.addWidget(panel)
    review = state.set_predictions(fake_predictions(), THRESHOLDS)
    block, inter1, _inter2 = review.rows()
    review.reject(block.key)  # 1 of 3 decided: out of the counts at once
    assert panel.text("sld").startswith("0 events") and panel.text("counted").endswith("(reviewed 1 of 3)")
    review.set_excluded([(5.5, 10.0)])  # the first Interjection is the interviewer's: 17.5 s are the client's
    assert panel.text("interjection") == "1 event, 3.4 per minute"  # 1 / (17.5 / 60)
    assert panel.text("duration").endswith("0.3 min the client's")
    assert panel.text("reviewed") == "1 of 2 model events; 1 not the client (no decision needed)"
    assert inter1.key not in {r.key for r in review.counted_rows()}
