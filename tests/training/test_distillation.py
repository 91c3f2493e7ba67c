"""Distillation: the per-frame KL to a frozen teacher, over valid frames, and the teacher's checks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_training_run import quick_config, word_folder

import training.trainer as trainer_module
from ocr_lstm.charset import Charset
from ocr_lstm.checkpoint import load_checkpoint, save_checkpoint
from ocr_lstm.model.config import preset
from ocr_lstm.model.crnn import CRNN
from ocr_lstm.preprocessing import PreprocessConfig
from training.config import TrainConfig
from training.distillation import Teacher, distillation_loss, greedy_reads_right
from training.trainer import Trainer

CHARSET = Charset()


def tiny(seed: int) -> CRNN:
    torch.manual_seed(seed)
    return CRNN(preset("tiny", CHARSET.num_classes))


def tiny_for(charset: Charset) -> CRNN:
    torch.manual_seed(0)
    return CRNN(preset("tiny", charset.num_classes))


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.rand(3, 1, 32, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    return images, CRNN.output_lengths(torch.tensor([64, 48, 32]))


def test_the_loss_is_zero_when_the_student_is_the_teacher() -> None:
    model = tiny(0).eval()
    images, frames = batch()
    with torch.no_grad():
        log_probs, other = model(images), tiny(1).eval()(images)
    assert float(distillation_loss(log_probs, log_probs.clone(), frames, temperature=2.0)) == pytest.approx(0, abs=1e-6)
    assert float(distillation_loss(log_probs, other, frames)) > 0


def test_a_step_on_the_loss_brings_the_student_closer_to_the_teacher() -> None:
    student, teacher = tiny(0), tiny(1).eval()
    images, frames = batch()
    with torch.no_grad():
        teacher.head.weight *= 20  # a confident teacher, as a trained one is
        target = teacher(images)
    optimizer = torch.optim.Adam(student.parameters(), lr=1e-3)
    student.eval()  # no dropout: the two readings of the loss are comparable

    def loss() -> torch.Tensor:
        return distillation_loss(student(images), target, frames, temperature=2.0)

    before = loss()
    optimizer.zero_grad()
    before.backward()
    optimizer.step()
    assert float(loss().detach()) < float(before.detach())


def test_frames_past_a_crops_width_are_left_out() -> None:
    images, frames = batch()
    with torch.no_grad():
        student = tiny(0).eval()(images)
    teacher = student.clone()
    teacher[int(frames[1]):, 1] = teacher[int(frames[1]):, 1].flip(-1)  # crop 1's padding frames only
    assert float(distillation_loss(student, teacher, frames)) == pytest.approx(0, abs=1e-6)
    assert float(distillation_loss(student, teacher, torch.full_like(frames, student.shape[0]))) > 0


def frame_log_probs(paths: list[list[int]], classes: int = 5) -> torch.Tensor:
    """(T, B, C) log-probabilities whose greedy path is ``paths[b]`` for crop b."""
    scores = torch.full((len(paths[0]), len(paths), classes), -10.0)
    for crop, path in enumerate(paths):
        for frame, label in enumerate(path):
            scores[frame, crop, label] = 0.0
    return scores.log_softmax(-1)


def test_a_reading_is_right_when_its_collapsed_path_spells_the_label() -> None:
    # crop 0: "1 1 _ 2" reads [1, 2]; crop 1: "3 _ 3 _" reads [3, 3]; crop 2 reads [4] within its 2 frames
    log_probs = frame_log_probs([[1, 1, 0, 2], [3, 0, 3, 0], [4, 0, 2, 2]])
    frames = torch.tensor([4, 4, 2])
    targets, lengths = torch.tensor([1, 2, 3, 3, 4]), torch.tensor([2, 2, 1])
    assert greedy_reads_right(log_probs, frames, targets, lengths).tolist() == [True, True, True]
    wrong = torch.tensor([1, 2, 3, 2])  # crop 1 labelled [3], crop 2 [2] -> only crop 0 right
    assert greedy_reads_right(log_probs, frames, wrong[:4], torch.tensor([2, 1, 1])).tolist() == [True, False, False]


def test_crops_left_out_of_the_mask_add_nothing_to_the_loss() -> None:
    images, frames = batch()
    with torch.no_grad():
        student = tiny(0).eval()(images)
    teacher = student.clone()
    teacher[:, 2] = teacher[:, 2].flip(-1)  # only crop 2 differs
    assert float(distillation_loss(student, teacher, frames, crops=torch.tensor([True, True, False]))) == \
        pytest.approx(0, abs=1e-6)
    assert float(distillation_loss(student, teacher, frames, crops=torch.tensor([True, True, True]))) > 0


def test_a_teacher_with_other_frames_is_refused_clearly() -> None:
    student = torch.zeros(16, 2, 5).log_softmax(-1)
    with pytest.raises(ValueError, match="one frame per 4 columns"):
        distillation_loss(student, torch.zeros(8, 2, 5).log_softmax(-1), torch.tensor([16, 16]))


def test_a_teacher_of_another_charset_is_refused(tmp_path: Path) -> None:
    other = Charset("abc")
    path = save_checkpoint(tmp_path / "teacher", CRNN(preset("tiny", other.num_classes)), other, PreprocessConfig())
    with pytest.raises(ValueError, match="another charset"):
        Teacher(str(path), CHARSET, PreprocessConfig(), torch.device("cpu"), channels_last=False)


def test_a_parent_with_fewer_symbols_is_sure_the_new_ones_are_absent(tmp_path: Path) -> None:
    """A fine-tune onto a larger charset distils from its parent: the added classes get no mass."""
    parent_charset = Charset("abc")
    path = save_checkpoint(tmp_path / "parent", tiny_for(parent_charset), parent_charset, PreprocessConfig())
    teacher = Teacher(str(path), parent_charset.extend("xy"), PreprocessConfig(), torch.device("cpu"), False)
    log_probs = teacher(batch()[0])
    assert log_probs.shape[-1] == parent_charset.num_classes + 2
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2]), atol=1e-5)
    assert bool((log_probs[..., -2:].exp() == 0).all())


def test_the_parent_as_teacher_needs_a_fine_tune() -> None:
    with pytest.raises(ValueError, match="needs init"):
        TrainConfig.from_dict({"teacher": "parent", "distill_weight": 1.0})


def test_a_run_with_a_teacher_trains_and_leaves_the_teacher_untouched(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    teacher_model = tiny(1)
    path = save_checkpoint(tmp_path / "teacher", teacher_model, CHARSET, PreprocessConfig())
    trainer = Trainer(quick_config(tmp_path, data, steps=2, val_every=2, teacher=str(path), distill_weight=1.0,
                                   distill_temperature=2.0))
    assert trainer.teacher is not None and not trainer.teacher.model.training
    before = {k: v.clone() for k, v in trainer.teacher.model.state_dict().items()}
    summary = trainer.fit()
    assert summary["steps"] == 2
    after = trainer.teacher.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # frozen, batch-norm statistics too


def test_a_fine_tune_distils_from_its_parent_on_the_crops_the_parent_reads_right(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    parent = save_checkpoint(tmp_path / "parent", tiny(1), CHARSET, PreprocessConfig())
    trainer = Trainer(quick_config(tmp_path, data, steps=2, init=str(parent), teacher="parent", distill_weight=2.0,
                                   distill_right_only=True))
    assert trainer.teacher is not None
    parent_weights = load_checkpoint(parent).model.state_dict()
    assert all(torch.equal(parent_weights[k], v) for k, v in trainer.teacher.model.state_dict().items())
    assert trainer.fit()["steps"] == 2


def test_distillation_needs_a_teacher_and_a_weight() -> None:
    with pytest.raises(ValueError, match="both teacher"):
        TrainConfig.from_file(None, ["distill_weight=0.5"])
    with pytest.raises(ValueError, match="both teacher"):
        TrainConfig.from_file(None, ["teacher=runs/base/best"])


def test_a_weight_of_0_turns_off_the_teacher_the_recipe_names() -> None:
    """The fine-tuning recipe distils from its parent; --set distill_weight=0 is how a user turns it off."""
    assert TrainConfig.from_file("finetune").teacher == "parent"
    config = TrainConfig.from_file("finetune", ["distill_weight=0"])
    assert (config.teacher, config.distill_weight) == ("", 0.0)
    with pytest.raises(ValueError, match="both teacher"):  # a teacher named with no weight is a mistake
        TrainConfig.from_file("finetune", ["distill_weight=0", "teacher=runs/base/best"])


@pytest.mark.parametrize(("user_crops", "right_only", "expected"), [
    (True, False, None),  # every crop
    (False, False, [True, False, True, False]),  # the rendered ones
    (True, True, [True, True, False, False]),  # those the teacher reads right
    (False, True, [True, False, False, False]),  # the rendered ones the teacher reads right (the recipe)
])
def test_distill_user_crops_false_distils_the_rendered_crops_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_crops: bool, right_only: bool, expected: list[bool] | None
) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    parent = save_checkpoint(tmp_path / "parent", tiny(1), CHARSET, PreprocessConfig())
    trainer = Trainer(quick_config(tmp_path, data, steps=2, init=str(parent), teacher="parent", distill_weight=2.0,
                                   distill_user_crops=user_crops, distill_right_only=right_only))
    masks: list[torch.Tensor | None] = []
    read_right = torch.tensor([True, True, False, False])
    monkeypatch.setattr(trainer_module, "greedy_reads_right", lambda *args: read_right)

    def recorded(*args: torch.Tensor | float | None) -> torch.Tensor:
        masks.append(args[4])  # type: ignore[arg-type]
        return distillation_loss(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(trainer_module, "distillation_loss", recorded)
    images = torch.rand(4, 1, 32, 48)
    rendered = torch.tensor([True, False, True, False])
    trainer.train_step(images, torch.tensor([48, 40, 48, 40]), torch.tensor([1, 2, 2, 1, 2, 1]),
                       torch.tensor([2, 1, 2, 1]), rendered)
    assert (masks[0] if masks[0] is None else masks[0].tolist()) == expected
