"""benchmarks/finetune_forgetting.py: the plate task it renders and the table it prints."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ocr_lstm.metrics import reads_right
from ocr_lstm.recognition.recognizer import Recognizer


def test_plates_are_the_same_for_a_seed_and_labelled_without_their_country_band(
    finetune_forgetting: ModuleType, tmp_path: Path
) -> None:
    first = finetune_forgetting.write_plates(tmp_path / "a", 12, seed=3)
    again = finetune_forgetting.write_plates(tmp_path / "b", 12, seed=3)
    labels = (first / "labels.tsv").read_text().splitlines()
    assert labels == (again / "labels.tsv").read_text().splitlines()
    names = [line.split("\t")[0] for line in labels]
    assert all((first / name).read_bytes() == (again / name).read_bytes() for name in names)
    for line in labels:
        assert re.fullmatch(r"images/\d{5}\.jpg\t[A-HJ-NPR-Z]{2}\d{2} [A-HJ-NPR-Z]{3}", line), line


def test_the_bundled_model_misreads_some_plates_so_a_fine_tune_has_something_to_learn(
    finetune_forgetting: ModuleType, tmp_path: Path
) -> None:
    folder = finetune_forgetting.write_plates(tmp_path / "plates", 40, seed=1)
    samples = [line.split("\t") for line in (folder / "labels.tsv").read_text().splitlines()]
    readings = Recognizer(word_prior=None).recognize([folder / name for name, _ in samples])
    right = sum(reads_right(r.text, label) for r, (_, label) in zip(readings, samples))
    assert 0.2 * len(samples) < right < 0.9 * len(samples)


def offline_bundled(finetune_forgetting: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The benchmark as on a user's machine (no ../shared) with a small general check cached under
    tmp_path; the bundled model's path."""
    monkeypatch.setattr(finetune_forgetting, "SHARED", tmp_path / "no_shared")
    small_plates = (("plates", 6, 0), ("plates_test", 20, 1), ("plates_eval", 30, 2))
    monkeypatch.setattr(finetune_forgetting, "PLATE_SETS", small_plates)
    monkeypatch.chdir(tmp_path)  # the general check's cache (data/) goes here
    small_check = {"synth_val_count": 40, "synth_cache": "data/pool", "render_workers": 1}
    monkeypatch.setattr(finetune_forgetting.TrainConfig, "from_file", classmethod(lambda cls, name: cls(**small_check)))
    return Path(sys.modules["ocr_lstm.checkpoint"].BUNDLED_DIR) / "default"


@pytest.mark.slow
def test_scoring_checkpoints_prints_each_models_change_from_the_bundled_one(
    finetune_forgetting: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--models scores without training; the bundled model against itself changes nothing."""
    default = offline_bundled(finetune_forgetting, tmp_path, monkeypatch)
    monkeypatch.setattr(sys, "argv", ["finetune_forgetting.py", str(tmp_path / "work"), "--models", str(default)])
    finetune_forgetting.main()
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["model", "plates_test", "plates_eval", "general", "general", "kept"]
    bundled = out[1].split()[2:]
    assert bundled[3] == "100.00"  # the bundled model keeps all it reads
    assert out[2].split()[1:] == [bundled[0], "(+0.00)", bundled[1], "(+0.00)", bundled[2], "(+0.00)",
                                  "100.00", "(+0.00)"]
    assert len((tmp_path / "work" / "plates_eval" / "labels.tsv").read_text().splitlines()) == 30


@pytest.mark.slow
def test_seeds_run_one_fine_tune_each_and_print_their_mean(
    finetune_forgetting: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--seeds fine-tunes once per seed, each into its own folder, then prints the seeds' mean."""
    default = offline_bundled(finetune_forgetting, tmp_path, monkeypatch)
    runs: list[tuple[list[str], int | None]] = []

    def fake_fine_tune(work: Path, steps: int, overrides: list[str], seed: int | None = None) -> Path:
        runs.append((overrides, seed))
        return default  # the bundled model stands in for each seed's run

    monkeypatch.setattr(finetune_forgetting, "fine_tune", fake_fine_tune)
    monkeypatch.setattr(sys, "argv", ["finetune_forgetting.py", str(tmp_path / "work"), "--set", "lr=2e-4",
                                      "--seeds", "11", "12"])
    finetune_forgetting.main()
    assert runs == [(["lr=2e-4"], 11), (["lr=2e-4"], 12)]
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("mean of 2 seeds")
    plates, plates_eval, general = out[1].split()[2:5]
    assert out[-1].split()[4:] == [plates, "(+0.00)", plates_eval, "(+0.00)", general, "(+0.00)", "100.00", "(+0.00)"]
