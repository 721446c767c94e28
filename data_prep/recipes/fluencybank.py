"""FluencyBank (TalkBank interviews with SEP-28k-style clip votes): label CSV + clip folder -> manifest.

Every FluencyBank episode is one speaker, so the episode is the speaker and splits keep speakers apart;
record ids drop the show ("fluencybank/010/12"), which is the corpus itself.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .clip_votes import RecipeOptions, RecipeResult, run_recipe

CORPUS = "fluencybank"


def prepare_fluencybank(labels_csv: str | Path, clips_dir: str | Path | None, out: str | Path, *,
                        options: RecipeOptions | None = None, progress: bool = True) -> RecipeResult:
    """Write the FluencyBank manifest `out` (+ .meta.json and split tables beside it).

    Args:
        labels_csv: `fluencybank_labels.csv` (SEP-28k's columns).
        clips_dir: `FluencyBank/{EpId}/FluencyBank_{EpId}_{ClipId}.{wav,flac,...}`; None only with `labels_only`.
        out: the manifest (JSONL) to write.
        options: votes -> labels, exclusions, splits; default corpus name "fluencybank". SEP-28k-E
            options are refused: it describes SEP-28k's podcasts only.
        progress: show progress bars.

    Returns:
        The records written, their meta, the split table and the clips skipped for their audio.
    """
    options = options or RecipeOptions(corpus=CORPUS)
    if options.extended_csv is not None:
        raise ValueError("SEP-28k-E (--extended) lists SEP-28k's podcasts, not FluencyBank; leave it out")
    return run_recipe(labels_csv, clips_dir, out, options=replace(options, extended_csv=None), progress=progress)
