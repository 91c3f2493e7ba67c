"""The training loop: CTC on mixed synthetic and real crops, on CPU, one GPU or many (DDP).

Run state lives in ``<output>/``: ``last`` and ``best`` checkpoints
(safetensors + JSON; the weights' moving average when ``ema_decay`` is set; a new ``best``
is ``last`` linked or copied, not written again), ``state.pt`` (optimiser, schedule, step,
time used, sampler RNG, and the raw weights only when ``last`` holds their average; loaded
with ``weights_only=True``), ``config.json``, ``train_log.csv``,
``val_log.csv`` and ``curves.png``. Starting again with the same output folder
resumes from ``last`` (with data workers, reseeded: training/loader.py).

A run ends after ``steps``, or with ``max_minutes`` when its time is up, the schedule
laid over the time so that it ends decayed; SIGINT and SIGTERM end it too, with ``last``
and the state saved first, so a run cut by a deadline (``timeout``) can be resumed.
"""

from __future__ import annotations

import copy
import csv
import gc
import hashlib
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Generator
from contextlib import closing, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from ocr_lstm.charset import DEFAULT_SYMBOLS, Charset
from ocr_lstm.checkpoint import Checkpoint, copy_checkpoint, load_checkpoint, resolve, save_checkpoint, with_charset
from ocr_lstm.data.datasets import open_dataset
from ocr_lstm.data.splits import holdout_split
from ocr_lstm.device import configure_threads, select_device
from ocr_lstm.metrics import reads_right, score
from ocr_lstm.model.config import preset, size_name
from ocr_lstm.model.crnn import CRNN
from ocr_lstm.preprocessing import PreprocessConfig
from ocr_lstm.recognition.recognizer import Recognizer
from training.config import PARENT, TrainConfig
from training.crop_pool import (
    CropPool,
    FreshCrops,
    load_labelled_pool,
    load_or_render_synthetic,
    training_preprocess,
)
from training.distillation import Teacher, distillation_loss, greedy_reads_right
from training.loader import Batch, training_batches
from training.plots import plot_curves, read_log
from training.sampling import MixedBatches


@dataclass(frozen=True)
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> DistributedContext:
        """Set by ``torchrun``: RANK, WORLD_SIZE and LOCAL_RANK."""
        return cls(
            int(os.environ.get("RANK", "0")),
            int(os.environ.get("WORLD_SIZE", "1")),
            int(os.environ.get("LOCAL_RANK", "0")),
        )


def lr_factor(step: float, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to ``min_lr_ratio``. With a time budget the step is
    read off the clock (the share of the time used x ``steps``): the same shape over the time."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps))
    return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


# The general validation set's seed: no training pool is rendered with it (pools use the run's seed).
SYNTH_VAL_SEED = 999
GENERAL = "general"  # its name in the logs


def general_check(config: TrainConfig, preprocess: PreprocessConfig, charset: Charset) -> CropPool:
    """The general check: ``synth_val_count`` rendered words and lines in the run's style, from a
    seed no training pool uses, cached beside the training pool (a run started again renders
    neither). Its ``general_kept`` from step 0 on follows what a fine-tune costs on real photos
    (benchmarks/finetune_forgetting.py measures both)."""
    cache = Path(config.synth_cache)
    return load_or_render_synthetic(
        cache.with_name(cache.name + "_val"), config.synth_val_count, SYNTH_VAL_SEED, config.synth_config(),
        training_preprocess(preprocess, config.max_width), charset, config.render_workers,
    )


class Trainer:
    """Builds model, data and optimiser from a :class:`TrainConfig` and runs it."""

    def __init__(self, config: TrainConfig, dist_ctx: DistributedContext | None = None) -> None:
        self.config = config
        self.dist = dist_ctx or DistributedContext.from_env()
        # DDP whenever a process group is up (run() starts one under torchrun): one process in a
        # group of one runs the same code as many.
        self.ddp = dist.is_available() and dist.is_initialized()
        configure_threads(config.threads or None)
        self.device = self._device()
        self.output = Path(config.output)
        torch.manual_seed(config.seed + self.dist.rank)

        self.charset, self.model, self.preprocess, self.lineage = self._build_model()
        self.model.to(self.device)
        if config.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.train_model: nn.Module = self.model
        if self.ddp:
            self.train_model = nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        # Buffers (batch-norm statistics) are averaged too, so the average is a whole model.
        self.ema = (
            AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True)
            if config.ema_decay > 0
            else None
        )
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.progress = 0.0  # share of the time budget used (with max_minutes)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(self.progress * config.steps if config.max_minutes else s, config)
        )
        self.use_amp = config.amp and self.device.type == "cuda"
        self.amp_dtype = _amp_dtype(config.amp_dtype, self.model, self.device) if self.use_amp else torch.float32
        # bf16 keeps fp32's exponent range: only fp16 needs its gradients scaled.
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.ctc = nn.CTCLoss(blank=0, zero_infinity=True)
        self.teacher = (
            Teacher(config.init if config.teacher == PARENT else config.teacher, self.charset, self.preprocess,
                    self.device, config.channels_last)
            if config.teacher else None
        )
        self.step = 0
        self.best_score = -1.0
        self.stale_validations = 0
        self.samples_seen = 0
        self.elapsed = 0.0
        self.budget_used = 0.0  # wall seconds of the time budget spent before this start (resumed runs)
        self.holdout_sets: dict[str, CropPool] = {}  # filled by _load_data, validated on
        self.last_val: dict[str, float] = {}  # the latest validation's scores
        self.validated_step = 0  # the step they were taken at
        self.general_start: np.ndarray | None = None  # the general crops read right at step 0
        self._budget_start: float | None = None  # the clock's start in fit(), when a time budget runs

    def _device(self) -> torch.device:
        if self.ddp and torch.cuda.is_available() and self.config.device in ("auto", "cuda"):
            torch.cuda.set_device(self.dist.local_rank)
            return torch.device("cuda", self.dist.local_rank)
        return select_device(self.config.device)

    def _build_model(self) -> tuple[Charset, CRNN, PreprocessConfig, dict[str, Any]]:
        """A fresh model, or the ``init`` checkpoint's on the charset extended by ``charset``: a
        fine-tune keeps its parent's preprocessing, which its weights were trained for, and its
        architecture, which the config then names (``model_size``) instead of the default's."""
        symbols = self.config.charset or DEFAULT_SYMBOLS
        if not self.config.init:
            charset = Charset(symbols)
            return charset, CRNN(preset(self.config.model_size, charset.num_classes)), PreprocessConfig(), {}
        source = load_checkpoint(self.config.init)
        start = with_charset(source, source.charset.extend(symbols) if self.config.charset else source.charset)
        self.config = replace(self.config, model_size=size_name(start.model.config))
        return start.charset, start.model, start.preprocess, lineage(self.config.init, source.metadata)

    # ---- data -------------------------------------------------------------------------
    def _load_data(self) -> MixedBatches:
        cfg = self.config
        preprocess = training_preprocess(self.preprocess, cfg.max_width)
        synth = None
        if cfg.synth_count > 0 and cfg.fresh_synth < 1.0:
            cache = Path(cfg.synth_cache)
            if self.dist.is_main:
                load_or_render_synthetic(
                    cache, cfg.synth_count, cfg.seed, cfg.synth_config(), preprocess,
                    self.charset, cfg.render_workers,
                )
            self._barrier()
            synth = CropPool.load(cache)
        real = []
        self.holdout_sets = {}
        for real_set in cfg.real_sets:
            kept: list[int] | None = None
            if real_set.holdout:
                holdout_seed = cfg.holdout_seed if cfg.holdout_seed >= 0 else cfg.seed
                kept, held = holdout_split(len(open_dataset(real_set.path)), real_set.holdout, holdout_seed)
                # Held-out crops are read at inference width, as validation reads, not cut to max_width.
                self.holdout_sets[f"{Path(real_set.path).name}_holdout"] = load_labelled_pool(
                    real_set.path, self.preprocess, self.charset, indices=held
                )
            real.append(load_labelled_pool(real_set.path, preprocess, self.charset, indices=kept))
        fresh = None
        if cfg.fresh_synth:
            fresh = FreshCrops(cfg.synth_config(), preprocess, self.charset, cfg.fresh_synth)
            fresh.warm()  # before the workers fork, and before a time budget starts
        return MixedBatches(synth, real, [r.weight for r in cfg.real_sets], cfg.real_ratio, cfg.batch_size,
                            cfg.seed * 1000 + self.dist.rank, fresh)

    def _load_validation(self) -> dict[str, CropPool]:
        sets = {}
        for path in self.config.val_sets:
            pool = load_labelled_pool(path, self.preprocess, self.charset, clean_labels=False)
            if self.config.val_limit and len(pool) > self.config.val_limit:
                pool = pool.subset(range(self.config.val_limit))
            sets[Path(path).name] = pool
        if self.config.synth_val_count:
            sets[GENERAL] = general_check(self.config, self.preprocess, self.charset)
        return {**sets, **self.holdout_sets}

    def _barrier(self) -> None:
        if self.ddp:
            dist.barrier()

    # ---- checkpoints ------------------------------------------------------------------
    def _metadata(self) -> dict[str, Any]:
        return {
            "steps": self.step,
            "samples_seen": self.samples_seen,
            "train_seconds": round(self.elapsed, 1),
            "best_val_word_accuracy": self.best_score,
            # The latest validation's word accuracy per set: for `best`, the scores that chose it
            # (none yet in a resumed run's first periodic save: no stale figures are written).
            **({"validation": {"step": self.validated_step, "word_accuracy": word_accuracies(self.last_val)}}
               if self.last_val else {}),
            "config": self.config.to_dict(),
            **self.lineage,
        }

    @property
    def evaluated_model(self) -> CRNN:
        """The weights validated and saved: their moving average when there is one."""
        return self.ema.module if self.ema is not None else self.model

    def save(self, name: str) -> Path:
        return save_checkpoint(
            self.output / name, self.evaluated_model, self.charset, self.preprocess, self._metadata()
        )

    def _save_state(self, sampler: MixedBatches) -> None:
        self.save("last")
        # Each set of weights is written once: `last` holds the validated ones, so the state keeps the raw
        # weights and the average's count only when `last` holds their moving average.
        averaged = {} if self.ema is None else {"model": self.model.state_dict(), "ema_n_averaged": self.ema.n_averaged}
        state = {
            **averaged,
            "last_is_average": self.ema is not None,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "step": self.step,
            "samples_seen": self.samples_seen,
            "elapsed": self.elapsed,
            "budget_used": self.budget_used + self._budget_clock(),
            "best_score": self.best_score,
            "stale_validations": self.stale_validations,
            "sampler_rng": json.dumps(sampler.rng.bit_generator.state),
            "general_start": torch.from_numpy(self.general_start) if self.general_start is not None else torch.zeros(0),
        }
        tmp = self.output / "state.pt.tmp"
        torch.save(state, tmp)
        tmp.replace(self.output / "state.pt")

    def _try_resume(self, sampler: MixedBatches) -> bool:
        state_path, last = self.output / "state.pt", self.output / "last.safetensors"
        if not (state_path.is_file() and last.is_file()):
            return False
        checkpoint = load_checkpoint(last, self.device)
        if checkpoint.charset != self.charset:
            raise ValueError(f"{self.output} holds a run with another charset; choose a new --output")
        state = torch.load(state_path, map_location=self.device, weights_only=True)
        weights = checkpoint.model.state_dict()
        # A state without raw weights is a run without a moving average: then `last` is them.
        self.model.load_state_dict(state.get("model") or weights)
        if self.ema is not None:
            if "ema_n_averaged" in state:
                self.ema.module.load_state_dict(weights)
                self.ema.n_averaged.copy_(state["ema_n_averaged"])
            elif state.get("ema"):  # a state written when it held the average too
                self.ema.load_state_dict(state["ema"])
            else:
                self.ema.update_parameters(self.model)  # start the average at the resumed weights
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if state["scaler"] and self.scaler.is_enabled():  # empty when saved without fp16
            self.scaler.load_state_dict(state["scaler"])
        self.step, self.samples_seen = state["step"], state["samples_seen"]
        self.elapsed, self.best_score = state["elapsed"], state["best_score"]
        self.budget_used = state.get("budget_used", 0.0)
        self.stale_validations = state["stale_validations"]
        sampler.rng.bit_generator.state = json.loads(state["sampler_rng"])
        start = state.get("general_start")
        self.general_start = start.numpy().astype(bool) if start is not None and len(start) else None
        return True

    # ---- loop -------------------------------------------------------------------------
    def train_step(
        self, images: torch.Tensor, widths: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor,
        synthetic: torch.Tensor,
    ) -> float:
        """One optimiser step on a batch, as ``MixedBatches.materialise`` makes it: ``synthetic``
        marks its rendered crops (a (B,) mask)."""
        self.train_model.train()
        if self.config.freeze_norm_stats:
            for module in self.model.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        images = images.to(self.device, non_blocking=True)
        if self.config.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        autocast = torch.autocast("cuda", dtype=self.amp_dtype) if self.use_amp else nullcontext()
        with autocast:
            # Unpacked: batches are width-sorted so padding is small, and packing slowed CPU steps.
            log_probs = self.train_model(images)
            teacher_log_probs = self.teacher(images) if self.teacher is not None else None
        log_probs = log_probs.float()
        input_lengths = CRNN.output_lengths(widths).clamp(max=log_probs.shape[0])
        loss = self.ctc(log_probs, targets, input_lengths, lengths)
        if teacher_log_probs is not None:
            frames = input_lengths.to(log_probs.device)
            teacher_log_probs = teacher_log_probs.float()
            # Only where the teacher reads right: a fine-tune's parent reads the user's new
            # crops wrong as often as not, and must not pull the student back to that.
            right_only = self.config.distill_right_only
            crops = greedy_reads_right(teacher_log_probs, frames, targets, lengths) if right_only else None
            if not self.config.distill_user_crops:
                rendered = synthetic.to(log_probs.device)
                crops = rendered if crops is None else crops & rendered
            loss = loss + self.config.distill_weight * distillation_loss(
                log_probs, teacher_log_probs, frames, self.config.distill_temperature, crops
            )
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        return float(loss.detach())

    def validate(self, sets: dict[str, CropPool]) -> dict[str, float]:
        """Standard-protocol scores on pre-resized crops, decoded as a Recognizer decodes them.

        Tall crops are read upright only: the Recognizer's rotated readings need the
        original image, which the pool no longer holds. No word prior: validation
        follows the model itself, and the prior is tuned on it afterwards.
        """
        reader = Recognizer(
            Checkpoint(self.evaluated_model, self.charset, self.preprocess),
            device=str(self.device),
            batch_size=128,
            channels_last=self.config.channels_last,
            word_prior=None,
            backend="torch",  # the weights change between validations: no export each time
        )
        results: dict[str, float] = {}
        for name, pool in sets.items():
            decoded = reader.decode_crops([pool.crop(i) for i in range(len(pool))])
            predictions = [d.text for d in decoded]
            scores = score(predictions, pool.labels)
            results[f"{name}_word_acc"] = round(scores.word_accuracy, 2)
            results[f"{name}_cs_acc"] = round(scores.case_sensitive_accuracy, 2)
            results[f"{name}_cer"] = round(scores.cer, 4)
            if name == GENERAL:
                results.update(self._kept(np.array([reads_right(p, t) for p, t in zip(predictions, pool.labels)])))
        if sets:
            results["mean_word_acc"] = round(float(np.mean([results[f"{n}_word_acc"] for n in sets])), 2)
        return results

    def _kept(self, right: np.ndarray) -> dict[str, float]:
        """``general_kept``: of the general crops the starting weights read right (step 0), the
        share still read right. It follows what a fine-tune costs on real photos more closely than
        the general check's accuracy (docs/fine_tuning.md), which gains as well as loses."""
        if self.step == 0:
            self.general_start = right
        start = self.general_start
        if start is None or len(start) != len(right) or not start.any():
            return {}
        return {f"{GENERAL}_kept": round(100.0 * float((right & start).sum() / start.sum()), 2)}

    def fit(self) -> dict[str, Any]:
        cfg = self.config
        self.output.mkdir(parents=True, exist_ok=True)
        finished = self._finished_run()
        if finished is not None:
            return finished
        sampler = self._load_data()
        val_sets = self._load_validation() if self.dist.is_main else {}
        resumed = self._try_resume(sampler)
        if self.dist.is_main:
            (self.output / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2), encoding="utf-8")
        train_log = _CsvLog(self.output / "train_log.csv", ["step", "loss", "lr", "samples_per_sec", "elapsed_sec"])
        batches: Generator[Batch, None, None] = training_batches(
            sampler, self.charset, cfg.augmenter(), cfg.data_workers, (cfg.seed, self.dist.rank, self.step),
            pin_memory=self.device.type == "cuda",
        )
        bar = tqdm(total=None if cfg.max_minutes else cfg.steps, initial=self.step, desc="train", unit="step",
                   disable=not self.dist.is_main, dynamic_ncols=True)
        if resumed:
            bar.write(f"resumed {self.output} at step {self.step}")
        elif val_sets:
            bar.write("validating the starting weights (step 0), to compare the end with")
            self._validate_and_log(sampler, val_sets, bar, self.last_val)
        val_every, log_every = self.val_every, self.log_every
        window_loss, window_samples, window_start = 0.0, 0, time.perf_counter()
        last_val = self.last_val
        validated_at = -1
        self._budget_start = last_checkpoint = time.perf_counter()
        ended: str | None = None
        with closing(batches), _StopSignals() as signals:
            while ended is None and (ended := self._ended(signals.received)) is None:
                step_start = time.perf_counter()
                batch = next(batches)
                loss = self.train_step(*batch)
                self.step += 1
                n = batch[0].shape[0] * self.dist.world_size
                self.samples_seen += n
                self.elapsed += time.perf_counter() - step_start
                window_loss += loss
                window_samples += n
                bar.update(1)
                if self.step % log_every == 0 and self.dist.is_main:
                    seconds = time.perf_counter() - window_start
                    row = {"step": self.step, "loss": round(window_loss / log_every, 4),
                           "lr": f"{self.scheduler.get_last_lr()[0]:.3g}",
                           "samples_per_sec": round(window_samples / seconds, 1), "elapsed_sec": round(self.elapsed, 1)}
                    train_log.write(row)
                    shown = {k: v for k, v in last_val.items() if k == "mean_word_acc"}
                    bar.set_postfix(loss=row["loss"], sps=row["samples_per_sec"], **shown)
                    window_loss, window_samples, window_start = 0.0, 0, time.perf_counter()
                if self.step % val_every == 0 or (self.step == cfg.steps and not cfg.max_minutes):
                    if self._validate_and_log(sampler, val_sets, bar, last_val):
                        ended = "early stop"
                    validated_at, last_checkpoint = self.step, time.perf_counter()
                elif cfg.checkpoint_minutes and time.perf_counter() - last_checkpoint >= 60 * cfg.checkpoint_minutes:
                    if self.dist.is_main:
                        self._save_state(sampler)
                    last_checkpoint = time.perf_counter()
            # Still under the handlers: a signal now lets the last save finish.
            if ended == "time" and validated_at != self.step:
                self._validate_and_log(sampler, val_sets, bar, last_val)  # the decayed weights, validated and saved
            elif ended in ("SIGINT", "SIGTERM"):
                if self.dist.is_main:
                    self._save_state(sampler)
                bar.write(f"{ended}: stopped at step {self.step}, saved {self.output / 'last'} and the state; "
                          "the same command resumes")
        bar.close()
        summary = {"steps": self.step, "samples_seen": self.samples_seen, "best": self.best_score, "ended": ended,
                   **last_val}
        if self.dist.is_main:
            summary.update(self._report_before_and_after())
        return summary

    @property
    def val_every(self) -> int:
        """Steps between validations: ``val_every``, or less so that a short run validates at least
        ``min_validations`` times (and its curves have points to show)."""
        return max(1, min(self.config.val_every, math.ceil(self.config.steps / max(1, self.config.min_validations))))

    @property
    def log_every(self) -> int:
        """Steps between rows of train_log.csv: ``log_every``, or less so that a short run's loss
        curve has some 50 points."""
        return max(1, min(self.config.log_every, self.config.steps // 50))

    def _finished_run(self) -> dict[str, Any] | None:
        """The summary of the run in ``output`` if it has already ended, before any data is rendered
        or loaded: the same command run again says so instead of preparing a run with nothing to do."""
        state_path = self.output / "state.pt"
        if not state_path.is_file():
            return None
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        cfg = self.config
        done = (state.get("budget_used", 0.0) >= 60 * cfg.max_minutes if cfg.max_minutes
                else state["step"] >= cfg.steps)
        if not done:
            return None
        if self.dist.is_main:
            print(f"{self.output} finished at step {state['step']}; nothing to train (to train on, raise --steps, "
                  "or give a new --output for a new run)", file=sys.stderr)
        summary: dict[str, Any] = {"steps": state["step"], "samples_seen": state["samples_seen"],
                                   "best": state["best_score"], "ended": "already finished"}
        if self.dist.is_main:
            summary.update(self._report_before_and_after())
        return summary

    def _report_before_and_after(self) -> dict[str, Any]:
        """Print each validation set's word accuracy before the first step and at the best
        checkpoint, from val_log.csv; the two as ``before`` and ``after`` for the summary."""
        before, after = before_and_after(read_log(self.output / "val_log.csv"))
        if before and after:
            print(before_after_table(before, after), file=sys.stderr)
        return {"before": before, "after": after} if before or after else {}

    def _budget_clock(self) -> float:
        """Wall seconds of the time budget spent since this start (validation included: the time is the GPU's)."""
        return time.perf_counter() - self._budget_start if self._budget_start is not None else 0.0

    def _ended(self, received: int) -> str | None:
        """Why the run ends before the next step (``steps``, ``time`` or the signal's name), or None.

        Under DDP every rank must stop at the same step and read the same schedule: the
        ranks agree on the most time used and on any signal (one small all-reduce a step).
        """
        cfg = self.config
        used = self.budget_used + self._budget_clock()
        if self.ddp:
            flags = torch.tensor([used, float(received)], dtype=torch.float64, device=self.device)
            dist.all_reduce(flags, op=dist.ReduceOp.MAX)
            used, received = float(flags[0]), int(flags[1])
        if received:
            return signal.Signals(received).name
        if cfg.max_minutes:
            self.progress = min(1.0, used / (60 * cfg.max_minutes))
            return "time" if self.progress >= 1.0 else None
        return "steps" if self.step >= cfg.steps else None

    def _validate_and_log(self, sampler: MixedBatches, val_sets: dict[str, CropPool], bar: tqdm,
                          last_val: dict[str, float]) -> bool:
        """Validate, save, log the scores and draw the curves; whether to stop early. At step 0
        (the starting weights) nothing is saved: the scores are what the run is compared with."""
        if self.step == 0:
            if self.dist.is_main:
                last_val.clear()
                last_val.update(self.validate(val_sets))
                bar.write(f"step 0: {shown_scores(last_val)}")
            stop = False
        else:
            stop = self._validate_and_save(sampler, val_sets, bar, last_val)
        if self.dist.is_main and val_sets:
            val_log = _CsvLog(self.output / "val_log.csv", ["step", "samples_seen", "elapsed_sec", *last_val])
            val_log.write({"step": self.step, "samples_seen": self.samples_seen,
                           "elapsed_sec": round(self.elapsed, 1), **last_val})
            plot_curves(self.output)
        return stop

    def _validate_and_save(self, sampler: MixedBatches, val_sets: dict[str, CropPool], bar: tqdm,
                           last_val: dict[str, float]) -> bool:
        stop = torch.zeros(1)
        if self.dist.is_main:
            results = self.validate(val_sets) if val_sets else {}
            last_val.clear()
            last_val.update(results)
            self.validated_step = self.step
            current = results.get("mean_word_acc", -1.0)
            new_best = current > self.best_score or not val_sets
            if new_best:
                self.best_score = current
                self.stale_validations = 0
            else:
                self.stale_validations += 1
            self._save_state(sampler)
            if new_best:  # the weights and metadata `last` was just written with
                copy_checkpoint(self.output / "last", self.output / "best")
            if results:
                bar.write(f"step {self.step}: {shown_scores(results)}")
            patience = self.config.early_stop_patience
            if patience and self.stale_validations >= patience:
                bar.write(f"early stop: no improvement in {patience} validations")
                stop[0] = 1
        if self.ddp:
            stop = stop.to(self.device)
            dist.all_reduce(stop)
        return bool(stop.item())


class _CsvLog:
    """Append rows to a CSV, writing the header once."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path, self.columns = path, columns
        if not path.is_file():
            with path.open("w", newline="", encoding="utf-8") as f:
                csv.DictWriter(f, columns).writeheader()

    def write(self, row: dict[str, Any]) -> None:
        with self.path.open("a", newline="", encoding="utf-8") as f:
            csv.DictWriter(f, self.columns, extrasaction="ignore").writerow(row)


class _StopSignals:
    """SIGINT and SIGTERM caught while the loop runs: the first ends the run after the step in
    progress, saved; a second acts as it would have without (Ctrl-C twice stops at once)."""

    def __init__(self) -> None:
        self.received = 0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():  # Python handles signals there only
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._catch)
        return self

    def _catch(self, signum: int, frame: object) -> None:
        self.received = signum
        self._restore()

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def __exit__(self, *exc: object) -> None:
        self._restore()


def _amp_dtype(name: str, model: nn.Module, device: torch.device) -> torch.dtype:
    """``amp_dtype``'s autocast type. "auto" is bf16 where the GPU has it (Ampere and later) and the
    model's step runs in it, tried once on a small batch: the cuDNN LSTM has not taken bf16 in
    every release, and a lent GPU's minutes are too few to lose to that. Else fp16."""
    if name != "auto":
        return {"bf16": torch.bfloat16, "fp16": torch.float16}[name]
    if not torch.cuda.is_bf16_supported():
        return torch.float16
    trial = copy.deepcopy(model).train()  # in training mode (cuDNN's RNN backward needs it), on a copy:
    try:  # the model's batch-norm statistics and gradients stay untouched
        with torch.autocast("cuda", dtype=torch.bfloat16):
            trial(torch.zeros(2, 1, 32, 64, device=device)).float().sum().backward()
        return torch.bfloat16
    except RuntimeError as error:
        print(f"warning: bf16 autocast fails here ({str(error).splitlines()[0]}); training in fp16", file=sys.stderr)
        return torch.float16


def lineage(init: str, parent_metadata: dict[str, Any]) -> dict[str, Any]:
    """What a fine-tune records of where it comes from: its parent (as ``init`` named it, the
    weights file and their SHA-256, so a renamed or replaced parent is told apart) and the
    parent's own ancestors, oldest first."""
    weights = resolve(init)
    parent = {"model": init, "weights": str(weights), "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
              "steps": parent_metadata.get("steps")}
    return {"parent": parent, "lineage": [*parent_metadata.get("lineage", []), parent]}


def run(config: TrainConfig) -> dict[str, Any]:
    """Train under ``torchrun`` (DDP) or as a single process."""
    ctx = DistributedContext.from_env()
    if ctx.world_size > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and config.device in ("auto", "cuda") else "gloo"
        dist.init_process_group(backend)
    trainer: Trainer | None = None
    try:
        trainer = Trainer(config, ctx)
        summary = trainer.fit()
        if dist.is_initialized():
            dist.barrier()  # every rank has finished before any tears its group down
        return summary
    finally:
        # The DDP model goes before its process group: the scheduler's closure holds the trainer
        # in a reference cycle, which left alone was collected at exit, after the group, where gloo
        # aborted now and then ("terminate called without an active exception").
        trainer = None
        gc.collect()
        if dist.is_initialized():
            dist.destroy_process_group()


def shown_scores(scores: dict[str, float]) -> str:
    """A validation's line in the log: each set's word accuracy, their mean and ``general_kept``."""
    return ", ".join(f"{k}={v}" for k, v in scores.items() if "word_acc" in k or k == f"{GENERAL}_kept")


def word_accuracies(scores: dict[str, Any]) -> dict[str, float]:
    """Each set's word accuracy, by set name, and ``general_kept`` where there is one, from a
    validation's scores or a val_log.csv row."""
    return {key.removesuffix("_word_acc"): float(value) for key, value in scores.items()
            if ((key.endswith("_word_acc") and key != "mean_word_acc") or key == f"{GENERAL}_kept")
            and value not in ("", None)}


def before_and_after(val_rows: list[dict[str, str]]) -> tuple[dict[str, float], dict[str, float]]:
    """Each set's word accuracy at step 0 and at the best validation after it (the first with the
    highest ``mean_word_acc``, as the trainer chose ``best``); empty where the log has no such row."""
    start = [row for row in val_rows if int(row["step"]) == 0]
    later = [row for row in val_rows if int(row["step"]) > 0 and row.get("mean_word_acc")]
    best = max(later, key=lambda row: float(row["mean_word_acc"]), default=None)  # max keeps the first
    return (word_accuracies(start[0]) if start else {}), (word_accuracies(best) if best else {})


def before_after_table(before: dict[str, float], after: dict[str, float]) -> str:
    """The sets' word accuracy before and after the run, and the change, as aligned text."""
    width = max(len(name) for name in {*before, *after, "validation set"})
    lines = [f"{'validation set':<{width}}  {'before':>7}  {'after':>7}  {'change':>7}"]
    for name in [*before, *(n for n in after if n not in before)]:
        start, end = before.get(name), after.get(name)
        change = f"{end - start:+7.2f}" if start is not None and end is not None else f"{'':>7}"
        lines.append(f"{name:<{width}}  {_cell(start)}  {_cell(end)}  {change}")
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return f"{value:7.2f}" if value is not None else f"{'-':>7}"
