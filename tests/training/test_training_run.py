"""End to end: a short training run learns a handful of words; an interrupted run resumes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from word_images import DEJAVU, render_word

from ocr_lstm.charset import Charset
from ocr_lstm.checkpoint import load_checkpoint
from ocr_lstm.recognition.recognizer import Recognizer
from training.config import RealSet, TrainConfig
from training.trainer import Trainer, run

WORDS = ["cat", "dog", "sun", "lamp", "bird"]  # no doubled letters: those take CTC longer


def word_folder(root: Path, heights: tuple[int, ...] = (40, 56)) -> Path:
    """Each word rendered at a few sizes: different widths keep width-sorted batches mixed."""
    root.mkdir(parents=True)
    lines = []
    for height in heights:
        for i, word in enumerate(WORDS):
            name = f"{height}_{i}.png"
            render_word(word, height=height).save(root / name)
            lines.append(f"{name}\t{word}\n")
    (root / "labels.tsv").write_text("".join(lines))
    return root


def quick_config(tmp_path: Path, data: Path, **overrides: object) -> TrainConfig:
    config = TrainConfig(
        output=str(tmp_path / "run"), model_size="tiny", synth_count=0, real_sets=[RealSet(str(data))],
        batch_size=8, warmup_steps=10, log_every=1, augment=False, threads=1, max_width=128, seed=0,
    )
    return TrainConfig.from_dict({**config.to_dict(), **overrides})


def read_log(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
@pytest.mark.skipif(not DEJAVU.is_file(), reason="needs the DejaVu fonts (make setup)")
def test_a_short_run_learns_a_handful_of_words(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words")
    # Only the letters used: a small head leaves the all-blank plateau sooner. Constant lr after warm-up.
    # 800 steps: with the packages of 2026-12 (Pillow 13, OpenCV 5) 500 steps left one of the five words unread.
    config = quick_config(
        tmp_path, data, charset="abcdgilmnoprstu", steps=800, lr=3e-3, min_lr_ratio=1.0, val_every=800,
        min_validations=1, val_sets=[str(data)], log_every=10,
    )
    summary = run(config)

    assert summary["steps"] == 800
    losses = [float(row["loss"]) for row in read_log(tmp_path / "run" / "train_log.csv")]
    assert len(losses) == 80
    assert sum(losses[-5:]) / 5 < 0.2 * sum(losses[:5]) / 5
    assert summary["mean_word_acc"] == 100.0
    assert (tmp_path / "run" / "curves.png").is_file()

    recognizer = Recognizer(tmp_path / "run" / "best", device="cpu")
    for height in (40, 56):
        images = [data / f"{height}_{i}.png" for i in range(len(WORDS))]
        assert [r.text for r in recognizer.recognize(images)] == WORDS
    assert recognizer.checkpoint.metadata["steps"] == 800
    assert recognizer.charset.symbols == "abcdgilmnoprstu"


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    config = quick_config(tmp_path, data, steps=6, val_every=3, min_validations=2, lr=1e-3)
    original_step = Trainer.train_step
    calls: list[int] = []

    def interrupted_step(self: Trainer, *batch: object) -> float:
        calls.append(self.step)
        if len(calls) == 5:  # during step 5: the state saved at step 3 is the last one
            raise KeyboardInterrupt
        return original_step(self, *batch)

    monkeypatch.setattr(Trainer, "train_step", interrupted_step)
    with pytest.raises(KeyboardInterrupt):
        run(config)
    assert load_checkpoint(tmp_path / "run" / "last").metadata["steps"] == 3

    calls.clear()
    monkeypatch.setattr(Trainer, "train_step", original_step)
    resumed = Trainer(config)
    monkeypatch.setattr(
        resumed, "train_step", lambda *batch: calls.append(resumed.step) or original_step(resumed, *batch)
    )
    summary = resumed.fit()

    assert calls == [3, 4, 5]  # steps 4..6 only
    assert summary["steps"] == 6
    assert summary["samples_seen"] == 6 * config.batch_size
    assert resumed.scheduler.last_epoch == 6  # the schedule continued too
    assert load_checkpoint(tmp_path / "run" / "last").metadata["steps"] == 6
    logged = [int(row["step"]) for row in read_log(tmp_path / "run" / "train_log.csv")]
    assert logged == [1, 2, 3, 4, 4, 5, 6]  # step 4 was logged, lost, and done again


def test_early_stopping_after_validations_without_improvement(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    # An untrained model reads nothing right: the score never beats the first validation's.
    summary = run(quick_config(tmp_path, data, steps=20, val_every=2, val_sets=[str(data)], early_stop_patience=1))
    assert summary["steps"] == 4
    val_steps = [int(row["step"]) for row in read_log(tmp_path / "run" / "val_log.csv")]
    assert val_steps == [0, 2, 4]  # step 0: the starting weights, never a best to beat


def test_resuming_with_another_charset_is_refused(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    run(quick_config(tmp_path, data, steps=2, val_every=2))
    with pytest.raises(ValueError, match="another charset"):
        run(quick_config(tmp_path, data, steps=4, val_every=2, charset="abcdgilmnoprstu"))


def test_fine_tuning_onto_a_larger_charset_starts_from_the_checkpoint(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    run(quick_config(tmp_path, data, steps=2, val_every=2, charset="abcdgilmnoprstu"))
    init = tmp_path / "run" / "last"
    tuned = Trainer(
        quick_config(tmp_path, data, output=str(tmp_path / "tuned"), init=str(init), charset="xyz", steps=1)
    )
    source = load_checkpoint(init)
    assert tuned.charset == Charset("abcdgilmnoprstuxyz")
    assert tuned.lineage["parent"]["model"] == str(init) and tuned.config.model_size == "tiny"
    for name, value in source.model.state_dict().items():
        if not name.startswith("head."):
            assert bool((tuned.model.state_dict()[name] == value).all()), name


def test_held_out_crops_are_validated_on_and_never_drawn_for_training(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40, 48, 56))  # 15 crops
    config = quick_config(tmp_path, data, real_sets=[{"path": str(data), "holdout": 5}], steps=1)
    trainer = Trainer(config)
    sampler = trainer._load_data()
    validation = trainer._load_validation()
    held = validation["words_holdout"]
    assert len(held) == 5 and len(sampler.pools[0]) == 10
    trained = {sampler.pools[0].crop(i).tobytes() for i in range(10)}
    # Held-out crops are read at inference width; at 128 px or less they match the training form exactly.
    assert all(held.crop(i).tobytes() not in trained for i in range(5))
    results = trainer.validate(validation)
    assert {"words_holdout_word_acc", "words_holdout_cer", "mean_word_acc"} <= set(results)


def test_moving_average_is_what_is_saved_and_both_weights_survive_a_resume(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    config = quick_config(tmp_path, data, steps=4, val_every=2, lr=1e-2, ema_decay=0.5)
    trainer = Trainer(config)
    trainer.fit()
    saved = load_checkpoint(tmp_path / "run" / "last").model.state_dict()
    raw, average = trainer.model.state_dict(), trainer.ema.module.state_dict()
    name = "head.weight"
    assert torch.allclose(saved[name], average[name])
    assert not torch.allclose(saved[name], raw[name])  # lr 1e-2: the average lags the raw weights

    resumed = Trainer(quick_config(tmp_path, data, steps=5, val_every=2, lr=1e-2, ema_decay=0.5))
    resumed._try_resume(resumed._load_data())
    assert resumed.step == 4
    assert torch.equal(resumed.model.state_dict()[name], raw[name])
    assert torch.equal(resumed.ema.module.state_dict()[name], average[name])


def test_without_moving_average_the_raw_weights_are_saved(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    trainer = Trainer(quick_config(tmp_path, data, steps=2, val_every=2))
    trainer.fit()
    assert trainer.ema is None
    saved = load_checkpoint(tmp_path / "run" / "last").model.state_dict()
    assert torch.allclose(saved["head.weight"], trainer.model.state_dict()["head.weight"])


def test_holdout_seed_keeps_a_parent_runs_holdout_under_a_new_seed(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40, 48, 56))

    def held_out(**overrides: object) -> list[str]:
        config = quick_config(tmp_path, data, real_sets=[{"path": str(data), "holdout": 5}], steps=1, **overrides)
        trainer = Trainer(config)
        trainer._load_data()
        pool = trainer.holdout_sets["words_holdout"]
        return [f"{label}:{pool.widths[i]}" for i, label in enumerate(pool.labels)]

    parent = held_out(seed=1)
    assert held_out(seed=2, holdout_seed=1) == parent
    assert held_out(seed=2) != parent


@pytest.mark.skipif(not DEJAVU.is_file(), reason="needs the DejaVu fonts (make setup)")
def test_a_run_validates_on_rendered_words_beside_its_own_sets(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    config = quick_config(tmp_path, data, steps=2, val_every=2, synth_val_count=6, render_workers=1,
                          val_sets=[str(data)])
    summary = run(config)
    assert "general_word_acc" in summary and "words_word_acc" in summary


def test_each_set_of_weights_is_written_once(tmp_path: Path) -> None:
    """A new best is ``last`` linked or copied, not serialised again, and ``state.pt`` holds no weights
    that ``last`` holds: none without a moving average, only the raw ones with it."""
    data = word_folder(tmp_path / "words", heights=(40,))
    trainer = Trainer(quick_config(tmp_path, data, steps=1, val_every=1, val_sets=[str(data)]))
    written: list[str] = []
    saving = trainer.save

    def recording(name: str) -> Path:
        written.append(name)
        return saving(name)

    trainer.save = recording  # type: ignore[method-assign]
    trainer.fit()
    run = tmp_path / "run"
    assert written == ["last"]  # at step 1's validation, a new best: `best` was not serialised
    assert (run / "best.safetensors").read_bytes() == (run / "last.safetensors").read_bytes()
    assert (run / "best.json").read_text() == (run / "last.json").read_text()
    state = torch.load(run / "state.pt", weights_only=True)
    assert state["last_is_average"] is False
    assert not any(isinstance(value, torch.Tensor) and value.numel() > 1 for value in state.values())
    assert "model" not in state and "ema" not in state

    averaged = tmp_path / "averaged"
    Trainer(quick_config(averaged, data, steps=2, val_every=2, ema_decay=0.5)).fit()
    state = torch.load(averaged / "run" / "state.pt", weights_only=True)
    assert state["last_is_average"] is True and set(state["model"]) == set(trainer.model.state_dict())
    assert "ema" not in state and int(state["ema_n_averaged"]) == 2
