"""Training configuration: a TOML file, then ``--set key=value`` overrides and the command's options.

A value is parsed once: the file by TOML, an override's value as a TOML value (text that is
not one is kept as text), the command's options as the types argparse gave them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ocr_lstm.synth.generator import SynthConfig
from training.augmentation import CropAugmenter

CONFIG_DIR = Path(__file__).parent / "configs"
AMP_DTYPES = ("auto", "bf16", "fp16")
PARENT = "parent"  # the teacher that is the run's init checkpoint


@dataclass
class RealSet:
    """A labelled training set and its share of the real part of each batch.

    ``holdout`` crops of it (a fixed random choice, by the run's seed) are never
    trained on and are validated on as ``<name>_holdout``: a development set from
    the training distribution, for choices that must not be made on the
    validation sets.
    """

    path: str
    weight: float = 1.0
    holdout: int = 0


@dataclass
class TrainConfig:
    """Everything a run needs; saved beside its checkpoints."""

    output: str = "runs/default"
    model_size: str = "tiny"
    charset: str = ""  # empty: ocr_lstm.charset.DEFAULT_SYMBOLS; with init: symbols added to the checkpoint's
    init: str = ""  # checkpoint to fine-tune from ("default" for the bundled model)
    seed: int = 0
    # Seed of the real sets' holdout choice (-1: ``seed``). A continuation with a new seed,
    # for fresh synthetic data, keeps its parent's holdout so that it never trains on it.
    holdout_seed: int = -1

    # data
    synth_count: int = 200_000
    synth_difficulty: float = 0.6
    # Share of the synthetic crops that are text lines of several words (ocr_lstm.synth's
    # SynthConfig.lines), and that show the edge of a neighbouring line (line_edges).
    synth_lines: float = 0.0
    synth_line_edges: float = 0.0
    synth_cache: str = "data/synth_pool"
    render_workers: int = 2
    real_sets: list[RealSet] = field(default_factory=list)
    real_ratio: float = 0.5  # share of each batch drawn from the real sets (when any)
    max_width: int = 256
    augment: bool = True
    # Share of crops that also get a stronger scene distortion: rotation inside a taller
    # box, keystone perspective, an arched baseline, motion or heavy blur
    # (training/augmentation.py). 0 reproduces the runs from before it existed.
    scene_distortion: float = 0.0
    # Processes that draw, augment and stack whole batches ahead of the training step
    # (training/loader.py). 0 makes them in the training process, as runs always did: on a
    # couple of cores that is as fast, and it replays older runs exactly.
    data_workers: int = 0
    # Share of the synthetic draws rendered afresh by those workers instead of read from
    # the pool: a long GPU run sees new words rather than the pool many times over.
    fresh_synth: float = 0.0

    # optimisation
    # With a time budget (max_minutes > 0) the run ends when the time is up, and ``steps``
    # only shapes the schedule: warm-up for warmup_steps / steps of the time, then cosine decay.
    steps: int = 20_000
    batch_size: int = 64
    lr: float = 1e-3
    min_lr_ratio: float = 0.02
    warmup_steps: int = 300
    # A run sized to its steps (the fine-tuning recipe, training/configs/finetune.toml): a
    # warm-up of this share of the steps, at most warmup_steps (0: warmup_steps as it is) ...
    warmup_share: float = 0.0
    # ... and a synthetic pool of the run's synthetic draws (steps x batch_size x the synthetic
    # share), at least this many crops and at most synth_count (0: synth_count as it is).
    # Either is left alone when its value is given with --set or a command option.
    synth_count_floor: int = 0
    weight_decay: float = 1e-4
    grad_clip: float = 5.0
    # Validate, save and ship an exponential moving average of the weights (0: the raw
    # weights). Averaging over the last ~1/(1 - decay) steps smooths out the noise of
    # small batches at little cost: one extra copy of the model, updated each step.
    ema_decay: float = 0.0
    # Time budget of the training loop in minutes (0: the run ends after ``steps``).
    max_minutes: float = 0.0
    # Save ``last`` and the state every so many minutes as well as at each validation (0: never).
    checkpoint_minutes: float = 0.0

    # distillation: beside CTC, the per-frame posteriors of a frozen teacher as soft targets
    # A checkpoint (a larger model trained on a GPU), or "parent": the init checkpoint, for a
    # fine-tune that keeps what its parent reads ("learning without forgetting"); empty: none.
    teacher: str = ""
    distill_weight: float = 0.0
    distill_temperature: float = 1.0
    # Distil on the crops the teacher reads right only: a fine-tune distilled from its parent
    # ("learning without forgetting") keeps the parent's reading where it was right and learns
    # the rest from the labels alone.
    distill_right_only: bool = False
    # Distil on the real sets' crops (--data, real_sets) too, as far as distill_right_only allows;
    # false: on the rendered ones only, and the user's crops learn from their labels alone.
    distill_user_crops: bool = True
    # Batch norm keeps its parent's statistics (the layers run as in inference) while the rest
    # learns: a fine-tune's batches, a fifth of them the user's crops, do not move them.
    freeze_norm_stats: bool = False

    # validation and checkpoints
    val_sets: list[str] = field(default_factory=list)
    # The general check: rendered words and lines (a seed no training pool uses) validated on as
    # "general" beside the user's sets. Its general_kept (of the crops step 0 read right, the share
    # still read right) follows what a fine-tune costs on real photos (svt, ic13: docs/fine_tuning.md)
    # on a machine that has none of them.
    synth_val_count: int = 0
    val_every: int = 500
    # A short run validates more often than val_every: at least this many times (and once
    # before the first step, to compare the end with).
    min_validations: int = 5
    val_limit: int = 0  # evaluate at most this many crops per set (0: all)
    early_stop_patience: int = 0  # validations without improvement before stopping (0: never)
    log_every: int = 50

    # hardware
    device: str = "auto"
    threads: int = 0  # 0: torch's default
    amp: bool = True  # autocast on CUDA only; CPU runs fp32 (bf16: 6.5x slower, benchmarks/train_step.py)
    # "auto": bf16 where the GPU supports it (no gradient scaler needed), else fp16 with the scaler.
    amp_dtype: str = "auto"
    channels_last: bool = True

    @classmethod
    def from_file(
        cls, path: str | Path | None, overrides: list[str] | None = None, values: Mapping[str, Any] | None = None
    ) -> TrainConfig:
        """The config in ``path`` (a file or the name of one in training/configs), then the
        ``key=value`` ``overrides``, then ``values`` already typed (the command's options)."""
        data: dict[str, Any] = {}
        if path:
            path = Path(path)
            if not path.is_file() and (CONFIG_DIR / f"{path}.toml").is_file():
                path = CONFIG_DIR / f"{path}.toml"
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        given: dict[str, Any] = {}
        for item in overrides or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"override {item!r} is not key=value")
            given[key.strip()] = _parse_value(value.strip())
        given.update(values or {})
        if given.get("distill_weight") == 0 and "teacher" not in given:
            given["teacher"] = ""  # a weight of 0 turns off the teacher a config file names (the recipe's parent)
        return cls.from_dict({**data, **given}).sized_to_run(explicit=given.keys())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown training option(s): {', '.join(sorted(unknown))}")
        data = dict(data)
        defaults = cls()
        for key, value in data.items():
            if key != "real_sets":
                data[key] = _checked(key, value, getattr(defaults, key))
        data["real_sets"] = [
            RealSet(**r) if isinstance(r, dict) else RealSet(path=str(r)) for r in data.get("real_sets", [])
        ]
        config = cls(**data)
        for key in ("steps", "batch_size", "val_every", "log_every"):
            if getattr(config, key) < 1:
                raise ValueError(f"{key} must be at least 1, got {getattr(config, key)}")
        if not 0.0 <= config.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) (0: no moving average), got {config.ema_decay}")
        for key in ("real_ratio", "scene_distortion", "synth_lines", "synth_line_edges"):
            if not 0.0 <= getattr(config, key) <= 1.0:
                raise ValueError(f"{key} is a share of the crops, in [0, 1]; got {getattr(config, key)}")
        if config.scene_distortion and not config.augment:
            raise ValueError("scene_distortion is part of the augmentation: it needs augment = true")
        if not 0.0 <= config.fresh_synth <= 1.0:
            raise ValueError(f"fresh_synth is a share of the synthetic draws, in [0, 1]; got {config.fresh_synth}")
        if config.fresh_synth and config.data_workers < 1:
            raise ValueError("fresh_synth renders in the data workers: it needs data_workers >= 1")
        if config.fresh_synth and config.synth_count < 1 and config.fresh_synth < 1.0:
            raise ValueError("fresh_synth below 1 draws the rest from the synthetic pool: it needs synth_count >= 1")
        if not 0.0 <= config.warmup_share <= 1.0:
            raise ValueError(f"warmup_share is a share of the steps, in [0, 1]; got {config.warmup_share}")
        for key in ("data_workers", "max_minutes", "checkpoint_minutes", "distill_weight", "synth_count_floor"):
            if getattr(config, key) < 0:
                raise ValueError(f"{key} must not be negative, got {getattr(config, key)}")
        if config.amp_dtype not in AMP_DTYPES:
            raise ValueError(f"amp_dtype must be one of {', '.join(AMP_DTYPES)}; got {config.amp_dtype!r}")
        if config.distill_temperature <= 0:
            raise ValueError(f"distill_temperature must be positive, got {config.distill_temperature}")
        if bool(config.teacher) != bool(config.distill_weight):
            raise ValueError("distillation needs both teacher (a checkpoint) and distill_weight > 0")
        if config.teacher == PARENT and not config.init:
            raise ValueError("teacher = \"parent\" distils from the init checkpoint: it needs init (a fine-tune)")
        return config

    def sized_to_run(self, explicit: Collection[str] = ()) -> TrainConfig:
        """This config with ``warmup_share`` and ``synth_count_floor`` applied to its steps, but to
        no field in ``explicit`` (given by the user). Applying it twice changes nothing, so a
        saved run's config.json reads back as the run it was."""
        sized = {}
        if self.warmup_share and "warmup_steps" not in explicit:
            sized["warmup_steps"] = min(self.warmup_steps, int(self.steps * self.warmup_share))
        if self.synth_count_floor and "synth_count" not in explicit:
            synthetic_share = 1 - self.real_ratio if self.real_sets else 1.0
            draws = int(self.steps * self.batch_size * synthetic_share)
            sized["synth_count"] = min(self.synth_count, max(self.synth_count_floor, draws))
        return replace(self, **sized)

    def warnings(self) -> list[str]:
        """Settings that run but are likely mistakes, in one line each."""
        found = []
        if self.warmup_steps >= self.steps:
            found.append(f"warmup_steps ({self.warmup_steps}) is not shorter than steps ({self.steps}): the learning "
                         "rate never decays; set --set warmup_steps=N with N well below the run's steps")
        return found

    def synth_config(self) -> SynthConfig:
        """The generator settings this run's synthetic pool is rendered with."""
        return SynthConfig(difficulty=self.synth_difficulty, lines=self.synth_lines, line_edges=self.synth_line_edges)

    def augmenter(self) -> CropAugmenter | None:
        """What ``augment``, ``scene_distortion`` and ``max_width`` ask of each drawn crop."""
        return CropAugmenter(self.max_width, self.scene_distortion) if self.augment else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _parse_value(text: str) -> Any:
    """An override's value as TOML reads it (``3e-4``, ``["a", "b"]``, ``{path = "x", weight = 2}``);
    true and false in any case; anything else (a path) is text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def _checked(key: str, value: Any, default: Any) -> Any:
    """``value`` as the type of the option's default, or a ValueError that names the option.

    An int is accepted for a float option; a lone string for a list option becomes a
    one-item list (``--set val_sets=../data/svt``).
    """
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # --set charset=0123456789
    elif isinstance(default, list):
        if isinstance(value, str):
            return [value]
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
    raise ValueError(f"option {key} wants a {type(default).__name__}, got {value!r}")
