"""The five SEP-28k disfluency types, named as the dataset's CSV columns."""

LABELS = ("Prolongation", "Block", "SoundRep", "WordRep", "Interjection")
# Stuttering-like disfluencies: clinicians count Interjection apart from these four.
SLD_LABELS = ("Prolongation", "Block", "SoundRep", "WordRep")
NON_SLD_LABELS = ("Interjection",)

# The frame head's channel 0 (model.encoder.frame_head): any stuttering-like disfluency, whatever its types.
MOMENT = "moment"
HEADS = ("mean", "frame")  # clip head: mean over tokens, or per-token logits pooled (model.encoder.frame_head)
POOLINGS = ("auto", "attention")  # how the frame head pools frames into clip logits


def frame_channels(labels: tuple[str, ...] = LABELS) -> tuple[str, ...]:
    """The frame head's channel names: the moment, then the labels in order."""
    return (MOMENT, *labels)
