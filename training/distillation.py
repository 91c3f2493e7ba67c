"""Distillation: a small student learns a frozen teacher's per-frame posteriors beside CTC.

The CPU must run ``small`` (the throughput floor), but a GPU trains a larger model in the
same minutes. Both emit one frame per 4 input columns over the same charset, so the
teacher's per-frame distribution over the symbols and the blank is a dense soft target for
every frame, where CTC gives only the label sequence (Hinton et al. 2015, per frame as in
CTC distillation for speech, Takashima et al. 2018).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ocr_lstm.charset import Charset
from ocr_lstm.checkpoint import load_checkpoint
from ocr_lstm.preprocessing import PreprocessConfig


class Teacher:
    """A checkpoint in eval mode, without gradients, that reads the student's batches."""

    def __init__(
        self, path: str, charset: Charset, preprocess: PreprocessConfig, device: torch.device, channels_last: bool
    ) -> None:
        checkpoint = load_checkpoint(path, device)
        if not charset.symbols.startswith(checkpoint.charset.symbols):
            raise ValueError(f"teacher {path} reads another charset than the student: distillation needs the same "
                             "symbols in the same order (train the student with the teacher's charset)")
        # A fine-tune onto a larger charset adds symbols after its parent's (Charset.extend): the
        # parent is sure a crop shows none of them.
        self.new_classes = charset.num_classes - checkpoint.charset.num_classes
        if checkpoint.preprocess.height != preprocess.height:
            raise ValueError(f"teacher {path} reads crops {checkpoint.preprocess.height} px high, the student "
                             f"{preprocess.height} px: distillation needs the same input")
        self.model: nn.Module = checkpoint.model.eval().requires_grad_(False)
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Per-frame log-probabilities (T, B, C), as the student's forward gives them."""
        log_probs = self.model(images)
        if self.new_classes:
            log_probs = torch.cat([log_probs, log_probs.new_full((*log_probs.shape[:2], self.new_classes), -1e4)], -1)
        return log_probs


def greedy_reads_right(
    log_probs: torch.Tensor, frames: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor
) -> torch.Tensor:
    """Which crops of a batch a model's greedy CTC reading spells exactly as labelled: a (B,) mask
    from per-frame log-probabilities (T, B, C), valid frame counts and the concatenated targets."""
    best = log_probs.argmax(-1).T.cpu()  # (B, T)
    labels = torch.split(targets.cpu(), lengths.cpu().tolist())
    right = []
    for path, count, label in zip(best, frames.cpu().tolist(), labels):
        path = path[:count]
        kept = path[torch.cat([torch.ones(1, dtype=torch.bool), path[1:] != path[:-1]])] if count else path
        right.append(torch.equal(kept[kept != 0], label))
    return torch.tensor(right, dtype=torch.bool, device=log_probs.device)


def distillation_loss(
    student: torch.Tensor, teacher: torch.Tensor, frames: torch.Tensor, temperature: float = 1.0,
    crops: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean KL(teacher || student) over the valid frames of per-frame log-probabilities (T, B, C);
    ``frames`` holds each crop's valid frame count, ``crops`` (a (B,) mask) which crops count
    (all when None). Softened by ``temperature`` and scaled by its square, so the gradient's
    size does not depend on it (Hinton et al.)."""
    if student.shape != teacher.shape:
        raise ValueError(f"the teacher gives {tuple(teacher.shape)} (frames, batch, classes) where the student gives "
                         f"{tuple(student.shape)}: distillation needs one frame per 4 columns in both and one charset")
    # log_softmax of log-probabilities / T is that of logits / T: each frame differs by a constant.
    student_soft = F.log_softmax(student / temperature, dim=-1)
    teacher_soft = F.log_softmax(teacher / temperature, dim=-1)
    per_frame = F.kl_div(student_soft, teacher_soft, reduction="none", log_target=True).sum(-1)  # (T, B)
    valid = torch.arange(student.shape[0], device=student.device)[:, None] < frames[None, :]
    if crops is not None:
        valid = valid & crops[None, :]
    return (per_frame * valid).sum() / valid.sum().clamp(min=1) * temperature**2
