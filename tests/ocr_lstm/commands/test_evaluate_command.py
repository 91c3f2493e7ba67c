"""``ocr-lstm eval FOLDER...``: accuracy, CER and speed per labelled set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from word_images import labelled_folder, render_word

from ocr_lstm.cli import main
from ocr_lstm.metrics import score
from ocr_lstm.recognition.recognizer import Recognizer

WORDS = ["hello", "world", "42"]


@pytest.fixture()
def labelled(tmp_path: Path) -> Path:
    return labelled_folder(tmp_path / "set", WORDS)


def test_eval_prints_a_table_row_per_set(labelled: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["eval", str(labelled), str(labelled), "--model", str(tiny_model_path), "--device", "cpu"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"model: tiny ({tiny_model_path})"
    assert out[1].split() == ["dataset", "n", "word", "acc", "case-sens", "CER", "crops/s"]
    rows = [line.split() for line in out[2:]]
    assert len(rows) == 2
    assert rows[0][0] == str(labelled) and rows[0][1] == str(len(WORDS) + 1)


def test_eval_names_a_runs_model_by_its_folder_and_shows_its_recorded_figures(
    labelled: Path, tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run = tmp_path / "plates"
    run.mkdir()
    shutil.copyfile(tiny_model_path, run / "best.safetensors")
    config = json.loads(tiny_model_path.with_suffix(".json").read_text())
    config["metadata"] = {"validation": {"step": 300, "word_accuracy": {"plates_test": 98.0, "synthetic": 81.0}}}
    (run / "best.json").write_text(json.dumps(config))
    assert main(["eval", str(labelled), "--model", str(run / "best")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [f"model: plates/best ({run / 'best.safetensors'})",
                       "  its recorded validation at step 300: word accuracy plates_test 98.0, synthetic 81.0"]


def test_eval_json_reports_every_score(
    labelled: Path, tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["eval", str(labelled), "--json", "--model", str(tiny_model_path)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["samples"] == len(WORDS) + 1
    assert row["unreadable"] == 1
    assert 0.0 <= row["case_sensitive_accuracy"] <= row["word_accuracy"] <= 100.0
    assert row["cer"] >= 0.0
    assert row["crops_per_sec"] > 0
    # The scores are those of the model's own readings of each image alone (the corrupt file reads as nothing).
    recognizer = Recognizer(tiny_model_path, device="cpu")
    readings = [recognizer.recognize(labelled / f"{i}.png")[0].text for i in range(len(WORDS))] + [""]
    expected = score(readings, [*WORDS, "broken"]).as_dict()
    assert {key: row[key] for key in expected} == expected

    # A set labelled with those readings scores 100%, and only if each reading meets its own
    # label: the readings differ, and the images (of different widths, not in width order)
    # are reordered and padded in the batch.
    words = ["hello", "42", "a longer word", "x1", "world"]
    own = tmp_path / "own"
    own.mkdir()
    for i, word in enumerate(words):
        render_word(word).save(own / f"{i}.png")
    own_readings = [recognizer.recognize(own / f"{i}.png")[0].text for i in range(len(words))]
    assert len(set(own_readings)) == len(words)
    (own / "labels.tsv").write_text("".join(f"{i}.png\t{text}\n" for i, text in enumerate(own_readings)))
    assert main(["eval", str(own), "--json", "--model", str(tiny_model_path)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert (row["samples"], row["case_sensitive_accuracy"], row["cer"]) == (len(words), 100.0, 0.0)


def test_eval_with_another_label_file(labelled: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture) -> None:
    (labelled / "labels_two.tsv").write_text("0.png\thello\n1.png\tworld\n")
    assert main(["eval", str(labelled), "--labels", "labels_two.tsv", "--json", "--model", str(tiny_model_path)]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 2


def test_eval_on_a_missing_folder_exits_with_one_error_line(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["eval", str(tmp_path / "absent"), "--model", str(tiny_model_path)]) == 1
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.strip()] == [
        f"error: {tmp_path / 'absent'}: not a dataset (expected a folder with labels.tsv or data.mdb, or a label file)"
    ]


def test_a_missing_set_is_reported_before_anything_is_read_or_printed(
    labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Every set is checked first: not after the table header and the sets before it, nor after the
    model loads (a model that does not exist is not what this run is told about)."""
    assert main(["eval", str(labelled), str(tmp_path / "absent"), "--model", str(tmp_path / "no-model")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"error: {tmp_path / 'absent'}: not a dataset (expected a folder with "
                                         "labels.tsv or data.mdb, or a label file)"]
