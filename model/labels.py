"""The five SEP-28k disfluency types, named as the dataset's CSV columns."""

LABELS = ("Prolongation", "Block", "SoundRep", "WordRep", "Interjection")
# Stuttering-like disfluencies: clinicians count Interjection apart from these four.
SLD_LABELS = ("Prolongation", "Block", "SoundRep", "WordRep")
NON_SLD_LABELS = ("Interjection",)
