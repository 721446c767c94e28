"""The options of a training run: what `stutterscope train` sets and RUN_DIR/config.json saves."""

from __future__ import annotations

from dataclasses import dataclass

from ..labels import HEADS, LABELS, MOMENT, POOLINGS, SLD_LABELS, frame_channels

# The SLPs annotate stuttering-like disfluencies only: interjections are not in their moments, so
# their frame targets say nothing about that channel (it learns from the clip votes alone).
SUPERVISED_FRAME_CHANNELS = (MOMENT, *SLD_LABELS)
SELECTIONS = ("auto", "clip", "frame")


@dataclass(frozen=True)
class TrainOptions:
    """Everything that decides a training run (saved in RUN_DIR/config.json)."""

    weights: str = "base"  # Whisper weights name, or an encoder .safetensors file
    train_blocks: int = 1  # final encoder blocks that train (0 = head only)
    context: str = "trimmed"  # "trimmed": 3 s = 150 tokens; "padded": 30 s, the paper's setup
    epochs: int = 15  # at most; early stopping may end sooner
    batch_size: int = 32  # clips per optimiser step, over all processes together
    lr: float = 1e-4  # AdamW learning rate of the encoder blocks that train
    head_lr: float = 1e-3  # AdamW learning rate of the head (new weights learn faster)
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    warmup_fraction: float = 0.05  # share of all steps with a linear warm-up, then cosine decay
    lr_floor: float = 0.05  # the cosine decay ends at this share of each learning rate
    patience: int = 4  # epochs without a better dev macro F1 before stopping
    seed: int = 0  # head initialisation, batch order, dropout
    device: str = "auto"  # "auto": CUDA when present, else "cpu"; or a torch device string
    precision: str = "auto"  # "auto": bf16 autocast on CUDA, fp32 on CPU; or "fp32" / "bf16"
    features: str = "auto"  # "auto": prefix cache when blocks are frozen, else log-mel; "prefix" / "mel"
    cache_dir: str | None = None  # feature caches; None: model.training.caches.default_cache_dir()
    cache_compute: str = "fp32"  # prefix cache computed in "fp32" or "bf16" autocast
    soft_targets: bool = False  # BCE on votes/3 (a record's `soft`) instead of the hard labels
    class_weighting: bool = True  # BCE positive weight negatives/positives per type, capped at pos_weight_cap
    pos_weight_cap: float = 10.0  # the largest positive weight a rare type gets
    include_joined: bool = True  # train on the joined multi-stuttered samples (records with `parts`) too
    feature_noise: float = 0.0  # prefix path: Gaussian noise on cached tokens, relative to their RMS
    spec_augment: bool = True  # mel path: torchaudio frequency and time masking
    freq_mask_bands: int = 15  # SpecAugment: each frequency mask covers up to this many of the 80 mel bands
    time_mask_frames: int = 40  # SpecAugment: each time mask covers up to this many frames (0.4 s at 100/s)
    spec_augment_masks: int = 2  # SpecAugment: frequency masks and time masks per clip, each
    head_hidden: int = 256  # head width (the paper's 512 -> 256 -> 5)
    dropout: float = 0.1  # head dropout on the pooled vector
    train_split: str = "train"  # manifest split trained on
    dev_split: str = "dev"  # manifest split for early stopping and thresholds
    progress: bool = True  # tqdm bars on the main process
    head: str = "frame"  # "frame": per-token logits pooled into clip logits; "mean": the first models' head
    pooling: str = "auto"  # frame head: frames -> clip by "auto" (softmax of the logits) or "attention"
    frame_loss_weight: float = 1.0  # weight of the frame loss (records with frame targets) beside the clip loss
    frame_channels: tuple[str, ...] = SUPERVISED_FRAME_CHANNELS  # channels the frame targets supervise
    frame_class_weighting: bool = True  # frame BCE positive weight negatives/positives per channel, capped at 10
    clip_moment: bool = True  # frame head: clip loss also on the pooled moment channel (any of the 4 SLD types)
    frame_records_clip_loss: bool = False  # clip loss also on records with frame targets, where they carry labels
    select_on: str = "auto"  # early stopping: "clip" dev macro F1, "frame" dev moment F1, "auto" their mean

    def __post_init__(self) -> None:
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"precision must be auto, fp32 or bf16, not {self.precision!r}")
        if self.features not in ("auto", "prefix", "mel"):
            raise ValueError(f"features must be auto, prefix or mel, not {self.features!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, not {self.head!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {self.pooling!r}")
        if self.select_on not in SELECTIONS:
            raise ValueError(f"select_on must be one of {SELECTIONS}, not {self.select_on!r}")
        if self.frame_loss_weight < 0:
            raise ValueError(f"frame_loss_weight must be >= 0, not {self.frame_loss_weight}")
        unknown = set(self.frame_channels) - set(frame_channels(LABELS))
        if unknown:
            raise ValueError(f"frame_channels {sorted(unknown)} are not channels; choose from {list(frame_channels(LABELS))}")
        if not 0.0 <= self.lr_floor <= 1.0:
            raise ValueError(f"lr_floor is a share of the learning rate, from 0 to 1, not {self.lr_floor}")
        if self.pos_weight_cap < 1.0:
            raise ValueError(f"pos_weight_cap must be at least 1 (no down-weighting), not {self.pos_weight_cap}")
