"""What a run tells its user: the starting weights' scores, a before/after table, a short run's
curves, the truth about its model and parent, and nothing prepared again for a finished run."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from test_training_run import quick_config, read_log, word_folder

from ocr_lstm.checkpoint import load_checkpoint, read_checkpoint_info
from ocr_lstm.metrics import score
from ocr_lstm.recognition.recognizer import Recognizer
from training.config import TrainConfig
from training.trainer import Trainer, before_after_table, before_and_after, run


def parent_run(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny model trained for two steps (the parent) and the word folder it read."""
    data = word_folder(tmp_path / "words", heights=(40,))
    run(quick_config(tmp_path, data, output=str(tmp_path / "parent"), steps=2))
    return data, tmp_path / "parent" / "last"


def test_a_fine_tune_validates_its_starting_weights_and_ends_with_a_before_after_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, parent = parent_run(tmp_path)
    capsys.readouterr()
    summary = run(quick_config(tmp_path, data, output=str(tmp_path / "tuned"), init=str(parent), steps=4,
                               val_sets=[str(data)]))
    rows = read_log(tmp_path / "tuned" / "val_log.csv")
    assert rows[0]["step"] == "0"
    # step 0 read the parent's weights: the parent's character error rate on the set, to the digit
    samples = read_samples(data)
    reading = Recognizer(parent, device="cpu", word_prior=None).recognize([path for path, _ in samples])
    parent_scores = score([r.text for r in reading], [label for _, label in samples])
    assert parent_scores.cer > 0 and float(rows[0]["words_cer"]) == pytest.approx(parent_scores.cer, abs=1e-4)
    assert summary["before"] == {"words": float(rows[0]["words_word_acc"])}
    assert set(summary["after"]) == {"words"}
    err = capsys.readouterr().err
    assert "validation set   before    after   change" in err
    assert f"words{'':9}  {summary['before']['words']:7.2f}  {summary['after']['words']:7.2f}" in err


def read_samples(folder: Path) -> list[tuple[Path, str]]:
    lines = (folder / "labels.tsv").read_text().splitlines()
    return [(folder / name, text) for name, text in (line.split("\t") for line in lines)]


def test_a_short_run_validates_at_least_min_validations_times(tmp_path: Path) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    run(quick_config(tmp_path, data, steps=10, val_every=500, log_every=50, val_sets=[str(data)]))
    assert [row["step"] for row in read_log(tmp_path / "run" / "val_log.csv")] == ["0", "2", "4", "6", "8", "10"]
    assert len(read_log(tmp_path / "run" / "train_log.csv")) == 10  # a point per step: 10 // 50 is under 1


def test_a_finished_run_run_again_prepares_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    config = quick_config(tmp_path, data, steps=2, val_sets=[str(data)])
    first = run(config)

    def no_data(self: Trainer) -> None:
        raise AssertionError("a finished run loaded or rendered its data again")

    monkeypatch.setattr(Trainer, "_load_data", no_data)
    monkeypatch.setattr(Trainer, "_load_validation", no_data)
    capsys.readouterr()
    again = run(config)
    assert again["ended"] == "already finished" and again["steps"] == 2 and again["after"] == first["after"]
    assert f"{tmp_path / 'run'} finished at step 2; nothing to train" in capsys.readouterr().err


def test_a_fine_tune_records_its_real_size_its_parent_and_its_scores(tmp_path: Path) -> None:
    data, parent = parent_run(tmp_path)
    config = quick_config(tmp_path, data, output=str(tmp_path / "tuned"), init=str(parent), steps=2,
                          model_size="small", val_sets=[str(data)])
    run(config)
    saved = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert saved["model_size"] == "tiny"  # the parent's, not what the config asked for a fresh model
    metadata = load_checkpoint(tmp_path / "tuned" / "last").metadata
    weights = parent.with_suffix(".safetensors")
    assert metadata["parent"]["model"] == str(parent)
    assert metadata["parent"]["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert metadata["lineage"] == [metadata["parent"]]
    assert metadata["validation"]["step"] == 2 and set(metadata["validation"]["word_accuracy"]) == {"words"}
    info = read_checkpoint_info(tmp_path / "tuned" / "last")
    assert info.display_name == "tuned/last" and info.recorded_figures["validation"] == metadata["validation"]


def test_a_saved_config_reads_back_as_the_run_it_was() -> None:
    """A fine-tune sized to its steps keeps those sizes when its config.json is read again."""
    sized = TrainConfig.from_file("finetune", ["real_sets=['my/']"], {"steps": 300})
    assert (sized.warmup_steps, sized.synth_count) == (30, int(300 * 64 * (1 - sized.real_ratio)))
    assert TrainConfig.from_dict(sized.to_dict()).sized_to_run() == sized


def test_before_and_after_take_step_zero_and_the_best_validation() -> None:
    rows = [
        {"step": "0", "a_word_acc": "50.0", "b_word_acc": "80.0", "mean_word_acc": "65.0"},
        {"step": "5", "a_word_acc": "90.0", "b_word_acc": "70.0", "mean_word_acc": "80.0"},
        {"step": "10", "a_word_acc": "95.0", "b_word_acc": "75.0", "mean_word_acc": "85.0"},
        {"step": "15", "a_word_acc": "99.0", "b_word_acc": "71.0", "mean_word_acc": "85.0"},
    ]
    before, after = before_and_after(rows)
    assert before == {"a": 50.0, "b": 80.0}
    assert after == {"a": 95.0, "b": 75.0}  # the first of the best, as the trainer keeps it
    assert before_after_table(before, after).splitlines() == [
        "validation set   before    after   change",
        "a                 50.00    95.00   +45.00",
        "b                 80.00    75.00    -5.00",
    ]
    assert before_and_after([]) == ({}, {})


def test_a_fine_tune_tells_how_many_general_crops_its_parent_read_right_it_still_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = word_folder(tmp_path / "words", heights=(40,))
    config = quick_config(tmp_path, data, init="default", steps=2, val_every=2, synth_val_count=30, render_workers=1,
                          synth_cache=str(tmp_path / "pool"), val_sets=[str(data)])
    summary = run(config)
    rows = read_log(tmp_path / "run" / "val_log.csv")
    assert rows[0]["general_kept"] == "100.0"  # step 0 is the parent: it keeps all it reads
    assert 0 < summary["general_kept"] <= 100 and summary["before"]["general_kept"] == 100.0
    assert "general_kept" in capsys.readouterr().err  # a row of the before/after table
    state = torch.load(tmp_path / "run" / "state.pt", weights_only=True)
    right_at_start = state["general_start"]
    assert len(right_at_start) == 30 and 0 < int(right_at_start.sum()) < 30  # kept for a resumed run
