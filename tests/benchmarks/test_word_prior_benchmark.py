"""benchmarks/word_prior.py decodes a held-out split once per setting and tabulates each."""

from __future__ import annotations

from pathlib import Path

import pytest
from word_images import render_word

WORDS = ["HOTEL", "market", "Street", "open", "CAFE", "garden"]


@pytest.fixture()
def training_set(tmp_path: Path) -> Path:
    folder = tmp_path / "train"
    (folder / "images").mkdir(parents=True)
    for i, word in enumerate(WORDS):
        render_word(word).save(folder / "images" / f"{i}.png")
    (folder / "labels.tsv").write_text("".join(f"images/{i}.png\t{w}\n" for i, w in enumerate(WORDS)))
    return folder


def test_each_setting_gets_a_row_on_the_held_out_crops(word_prior, training_set: Path, tiny_model_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    assert word_prior.main(["--set", str(training_set), "--model", str(tiny_model_path), "--holdout", "3",
                            "--seed", "1", "--weights", "0", "0.5", "1", "--oov", "2", "--threads", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("dev set: 3 crops")
    rows = [line.split() for line in lines[2:]]
    assert [(r[0], r[1]) for r in rows] == [("0.00", "0.0"), ("0.50", "2.0"), ("1.00", "2.0")]


def test_a_missing_set_is_skipped(word_prior, tmp_path: Path) -> None:
    assert word_prior.main(["--set", str(tmp_path / "absent")]) == 0
