"""The recording summary: SLD and Interjection apart, events per minute, the three longest events."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout

from model.intended_use import INTENDED_USE_SENTENCE

from ...speech_amount import too_little_speech
from ..state import AnalysisState


class SummaryPanel(QGroupBox):
    def __init__(self, state: AnalysisState, parent=None):
        super().__init__("Summary", parent)
        self.state = state
        self.setObjectName("summary")
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        # The clinician's measures first (%SS, SPM, the three longest), so a 720 px window shows them
        # without scrolling; what they count and the counts behind them follow (the model's id is in the
        # status line too).
        for key, title in (("duration", "Duration"), ("pct_ss", "%SS"), ("spm", "Speech rate"),
                           ("longest3_moments", "Three longest moments"), ("excluded", "Not the client"),
                           ("counted", "Counted from"), ("sld", "Stuttering-like (SLD)"),
                           ("interjection", "Interjections"), ("per_type", "Per type"),
                           ("longest3", "Three longest SLD"), ("reviewed", "Reviewed"), ("model", "Model"),
                           ("sld_share", "Time in SLD")):
            label = QLabel("-")
            label.setObjectName(f"summary_{key}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = label
            form.addRow(title + ":", label)
        note = QLabel(f"<small>{INTENDED_USE_SENTENCE} Durations come from the model's 20 ms frames.</small>")
        note.setWordWrap(True)
        short = QLabel()
        short.setObjectName("summary_short")
        short.setWordWrap(True)
        short.setStyleSheet("color: #8a4b00; font-weight: bold;")
        short.setVisible(False)
        self.fields["short"] = short
        self._form = form
        layout = QVBoxLayout(self)
        layout.addWidget(short)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addStretch(1)
        state.events_changed.connect(self.refresh)

    def show_measures(self, measures) -> None:
        """%SS, SPM, the three longest moments and what was left out (model.measures.clinical.Measures; None: no words)."""
        from ...clinical import measures_summary

        texts = measures_summary(measures)
        if measures is None and self.state.review is not None:
            texts["pct_ss"] = "transcribe the recording (beside the transcript) for %SS"
        if measures is not None and not measures.enough_speech:
            texts["spm"] = measures.note
        review = self.state.review
        if measures is not None and review is not None:
            # What the measures count (ClinicalState.recompute): decisions where made, the model's elsewhere.
            texts["pct_ss"] += f", {review.progress_text()}"
        if measures is None and review is not None:  # no words yet: the stretches still leave events out
            s = review.summary()
            texts["excluded"] = f"{s.excluded_s:.1f} s ({_events(s.excluded_events)})"
        for key, name in (("pct_ss", "pct_ss"), ("spm", "spm"), ("longest3_moments", "longest3"),
                          ("excluded", "excluded")):
            self.fields[key].setText(texts[name])
        # With measures, "Three longest moments" times the client's moments (not-the-client stretches left
        # out); the whole recording's three longest would be a second, different answer to the same question.
        self._form.setRowVisible(self.fields["longest3"], measures is None)

    def text(self, key: str) -> str:
        return self.fields[key].text()

    def refresh(self) -> None:
        review = self.state.review
        if review is None:
            for label in self.fields.values():
                label.setText("-")
            self.fields["short"].setVisible(False)
            return
        s = review.summary()
        preds = self.state.predictions
        self.fields["counted"].setText(review.counted_from())
        self.fields["model"].setText(preds.model_id[:12])
        client = f", {(s.duration - s.excluded_s) / 60:.1f} min the client's" if s.excluded_s else ""
        self.fields["duration"].setText(f"{s.duration / 60:.1f} min ({s.duration:.1f} s){client}")
        short = too_little_speech(preds)
        self.fields["short"].setText(short[:1].upper() + short[1:])
        self.fields["short"].setVisible(bool(short))
        if short:  # counts only: a rate from seconds of sound is noise
            self.fields["sld"].setText(_events(s.sld_count))
            self.fields["sld_share"].setText("-")
            self.fields["interjection"].setText(_events(s.interjection_count))
            self.fields["per_type"].setText(", ".join(f"{k} {s.counts[k]}" for k in s.counts))
        else:
            self.fields["sld"].setText(f"{_events(s.sld_count)}, {s.sld_per_minute:.1f} per minute")
            self.fields["sld_share"].setText(f"{100 * s.sld_time_share:.1f} %")
            self.fields["interjection"].setText(
                f"{_events(s.interjection_count)}, {s.interjection_per_minute:.1f} per minute")
            self.fields["per_type"].setText(", ".join(f"{k} {s.counts[k]} ({s.per_minute[k]:.1f}/min)"
                                                      for k in s.counts))
        longest = ", ".join(f"{d:.1f} s" for d in s.longest3)
        # No SLD event, no mean: the reports print "-" there too (app.records.course.session_measures).
        self.fields["longest3"].setText(f"{longest} (mean {s.longest3_mean:.1f} s)" if longest else "none")
        done, total = review.progress
        added = sum(r.status == "added" for r in self.state.rows)
        others = sum(r.not_client for r in self.state.rows)
        self.fields["reviewed"].setText(f"{done} of {total} model events" + (f", {added} added" if added else "")
                                        + (f"; {others} not the client (no decision needed)" if others else ""))


def _events(n: int) -> str:
    return f"{n} event" if n == 1 else f"{n} events"
