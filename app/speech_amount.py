"""How much of a recording is sound: rates per minute mean nothing below a minimum of it.

No Qt. Measured on the waveform's envelope (app.peaks, 10 ms buckets): a bucket sounds when its
peak-to-peak swing is above both an absolute floor and a share of the recording's loud buckets, so
room noise and silence do not count and a quiet recording is not judged by a loud one's level.
Below MIN_SPEECH_SECONDS the app shows counts but no rates (a 0.3 s file gave "200 per minute").
"""

from __future__ import annotations

import numpy as np

from .peaks import BUCKETS_PER_SECOND, Envelope

MIN_SPEECH_SECONDS = 5.0  # of sound before events per minute are shown (docs/records.md, "Short recordings")
SOUND_FLOOR = 0.01  # peak-to-peak (full scale is 2.0): quieter buckets are silence or hiss
LOUD_SHARE = 0.1  # a bucket sounds at 10 % of the recording's 99th-percentile swing or more


def sounding_seconds(envelope: Envelope) -> float:
    """Seconds of the recording whose 10 ms buckets carry sound."""
    swing = envelope.maxs.astype(np.float64) - envelope.mins  # (buckets,)
    if not len(swing):
        return 0.0
    level = max(SOUND_FLOOR, LOUD_SHARE * float(np.percentile(swing, 99)))
    return float((swing >= level).sum()) / BUCKETS_PER_SECOND


def too_little_speech(envelope: Envelope | None, duration: float) -> str:
    """Why rates are not shown for this recording; "" when there is enough sound to show them."""
    seconds = sounding_seconds(envelope) if envelope is not None else duration
    if seconds >= MIN_SPEECH_SECONDS:
        return ""
    return (f"only {seconds:.1f} s of sound in {duration:.1f} s: rates per minute need at least "
            f"{MIN_SPEECH_SECONDS:g} s of speech, so none are shown")
