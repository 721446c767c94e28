"""SEP-28k (Apple's podcast clips): label CSV + clip folder (+ the SEP-28k-E speaker CSV) -> manifest.

SEP-28k's shows have many speakers an episode, so speakers come from SEP-28k-E (`extended_csv`); without
it, splits keep whole episodes apart. SEP-28k-E's suggested split can be taken as it is (`split_column`).
The synthetic corpus (data_prep.synth) writes this layout too and is prepared with `corpus="synthetic"`.
"""

from __future__ import annotations

from pathlib import Path

from .clip_votes import RecipeOptions, RecipeResult, run_recipe

CORPUS = "sep28k"


def prepare_sep28k(labels_csv: str | Path, clips_dir: str | Path | None, out: str | Path, *,
                   options: RecipeOptions | None = None, progress: bool = True) -> RecipeResult:
    """Write the SEP-28k manifest `out` (+ .meta.json and split tables beside it).

    Args:
        labels_csv: the official `SEP-28k_labels.csv`.
        clips_dir: `{Show}/{EpId}/{Show}_{EpId}_{ClipId}.{wav,flac,...}`; None only with `labels_only`.
        out: the manifest (JSONL) to write.
        options: votes -> labels, exclusions, splits, SEP-28k-E; default corpus name "sep28k".
        progress: show progress bars.

    Returns:
        The records written, their meta, the split table and the clips skipped for their audio.
    """
    return run_recipe(labels_csv, clips_dir, out, options=options or RecipeOptions(corpus=CORPUS),
                      progress=progress)
