"""``ocr-lstm batch``: a folder with good, nested, corrupt and non-image files; JSONL, CSV, resume;
links, an empty folder, an output that already holds rows, Ctrl-C (a SIGINT to a photo run included)."""

from __future__ import annotations

import argparse
import csv
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from word_images import render_word

from ocr_lstm.batch.reading import RowImage, RowReader
from ocr_lstm.batch.rows import Row
from ocr_lstm.cli import main
from ocr_lstm.commands import batch as batch_command
from ocr_lstm.recognition.recognizer import Recognizer

GOOD = ["good.png", "sub/nested.jpg", "sub/deeper/third.PNG"]
# Of different widths, not in width order: the batch reorders and pads them.
GOOD_WORDS = ["a longer word", "word", "x1"]
CORRUPT = "corrupt.png"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "images"
    for i, name in enumerate(GOOD):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        render_word(GOOD_WORDS[i]).save(root / name, "PNG" if name.lower().endswith(".png") else "JPEG")
    (root / CORRUPT).write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    (root / "notes.txt").write_text("not an image, and not named like one")
    return root


def run_batch(folder: Path, output: Path, model: Path, *extra: str) -> int:
    return main(["batch", str(folder), "--output", str(output), "--model", str(model), "--device", "cpu", *extra])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_batch_writes_one_jsonl_row_per_image(folder: Path, tmp_path: Path, tiny_model_path: Path) -> None:
    output = tmp_path / "out" / "results.jsonl"
    assert run_batch(folder, output, tiny_model_path) == 0
    rows = {row["path"]: row for row in read_jsonl(output)}
    assert set(rows) == {*GOOD, CORRUPT}  # relative paths, posix style; notes.txt skipped
    for name in GOOD:
        assert isinstance(rows[name]["text"], str)
        assert 0.0 <= rows[name]["confidence"] <= 1.0
        assert "error" not in rows[name]
    # Each row holds its own image's reading alone; they differ, so rows mixed up would show.
    recognizer = Recognizer(tiny_model_path, device="cpu")
    expected = [recognizer.recognize(folder / name)[0] for name in GOOD]
    assert len({r.text for r in expected}) == len(GOOD)
    assert [rows[name]["text"] for name in GOOD] == [r.text for r in expected]
    assert [rows[name]["confidence"] for name in GOOD] == pytest.approx([r.confidence for r in expected], abs=1e-4)


def test_a_corrupt_file_gets_an_error_and_the_run_goes_on(folder: Path, tmp_path: Path, tiny_model_path: Path) -> None:
    output = tmp_path / "results.jsonl"
    assert run_batch(folder, output, tiny_model_path, "--chunk", "2") == 0
    rows = {row["path"]: row for row in read_jsonl(output)}
    assert rows[CORRUPT]["error"]
    assert rows[CORRUPT]["text"] is None
    assert all("error" not in rows[name] for name in GOOD)


def test_resume_skips_images_already_done(folder: Path, tmp_path: Path, tiny_model_path: Path) -> None:
    output = tmp_path / "results.jsonl"
    assert run_batch(folder, output, tiny_model_path) == 0
    first = read_jsonl(output)
    render_word("late").save(folder / "sub" / "late.png")
    assert run_batch(folder, output, tiny_model_path, "--resume") == 0
    rows = read_jsonl(output)
    assert rows[: len(first)] == first
    assert [row["path"] for row in rows[len(first) :]] == ["sub/late.png"]


def test_resume_redoes_a_line_cut_short(folder: Path, tmp_path: Path, tiny_model_path: Path) -> None:
    output = tmp_path / "results.jsonl"
    assert run_batch(folder, output, tiny_model_path) == 0
    complete = output.read_text().splitlines(keepends=True)
    cut = "".join(complete[:-1]) + complete[-1][:10]  # interrupted while writing the last row
    output.write_text(cut)
    assert run_batch(folder, output, tiny_model_path, "--resume") == 0
    rows = read_jsonl(output)
    assert sorted(row["path"] for row in rows) == sorted([*GOOD, CORRUPT])


def test_csv_resume_redoes_a_row_cut_after_its_path(folder: Path, tmp_path: Path, tiny_model_path: Path) -> None:
    output = tmp_path / "results.csv"
    assert run_batch(folder, output, tiny_model_path) == 0
    lines = output.read_text().splitlines(keepends=True)
    last_path = lines[-1].split(",")[0]
    output.write_text("".join(lines[:-1]) + last_path + ",")  # the path was written, the rest was not
    assert run_batch(folder, output, tiny_model_path, "--resume") == 0
    with output.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(row["path"] for row in rows) == sorted([*GOOD, CORRUPT])
    assert all(row["confidence"] or row["error"] for row in rows)


def test_an_output_holding_rows_is_refused_without_resume_or_overwrite(
    folder: Path, tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture
) -> None:
    output = tmp_path / "results.jsonl"
    output.write_text('{"path": "good.png", "text": "kept", "confidence": 0.5}\n')
    before = output.read_bytes()
    assert run_batch(folder, output, tiny_model_path) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: {output} already holds results: add --resume to continue it, or --overwrite to replace it"
    ]
    assert output.read_bytes() == before


def test_overwrite_replaces_an_output_that_holds_rows(folder: Path, tmp_path: Path, tiny_model_path: Path) -> None:
    output = tmp_path / "results.jsonl"
    assert run_batch(folder, output, tiny_model_path) == 0
    assert run_batch(folder, output, tiny_model_path, "--overwrite") == 0
    assert len(read_jsonl(output)) == len(GOOD) + 1


def test_an_empty_output_is_written_without_resume_or_overwrite(
    folder: Path, tmp_path: Path, tiny_model_path: Path
) -> None:
    output = tmp_path / "results.jsonl"
    output.touch()
    assert run_batch(folder, output, tiny_model_path) == 0
    assert len(read_jsonl(output)) == len(GOOD) + 1


def test_resume_and_overwrite_together_are_refused(folder: Path, tmp_path: Path, tiny_model_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_batch(folder, tmp_path / "results.jsonl", tiny_model_path, "--resume", "--overwrite")
    assert exit_.value.code == 2


@pytest.mark.parametrize(
    ("name", "held", "extra", "advice"),
    [
        ("results.csv", '{"path": "good.png", "text": "x", "confidence": 0.5}\n', (),
         " as CSV: it holds JSONL rows (resume with --format jsonl, or use --overwrite to replace it)"),
        ("results.jsonl", "path,text,confidence,error\r\ngood.png,x,0.5,\r\n", (),
         " as JSONL: it holds CSV rows (resume with --format csv, or use --overwrite to replace it)"),
        ("results.jsonl", "path,text,confidence,error\r\ngood.png,x,0.5,\r\n", ("--photos",),
         " as JSONL: it holds CSV rows (resume with --format csv, or use --overwrite to replace it)"),
        ("notes.txt", "my own notes\n", (),
         ": it holds neither JSONL rows nor a results CSV (use --overwrite to replace it)"),
    ],
)
def test_resume_into_an_output_of_another_format_is_refused(
    folder: Path, tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture,
    name: str, held: str, extra: tuple[str, ...], advice: str,
) -> None:
    output = tmp_path / name
    output.write_bytes(held.encode())
    assert run_batch(folder, output, tiny_model_path, "--resume", *extra) == 1
    assert capsys.readouterr().err.splitlines() == [f"error: cannot resume {output}{advice}"]
    assert output.read_bytes() == held.encode()


def test_an_output_that_is_a_folder_is_one_error_line(
    folder: Path, tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert run_batch(folder, tmp_path, tiny_model_path) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: the output is a folder: {tmp_path} (name a file in it, e.g. {tmp_path / 'results.jsonl'})"
    ]


@pytest.mark.parametrize("content", [[], ["notes.txt", "sub/readme.md"]])
def test_a_folder_without_images_exits_non_zero_and_writes_nothing(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture, content: list[str]
) -> None:
    root = tmp_path / "images"
    root.mkdir()
    for name in content:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("not an image")
    output = tmp_path / "results.jsonl"
    assert run_batch(root, output, tiny_model_path) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: no images found under {root} (")
    assert not output.exists()


def test_images_behind_a_link_to_a_folder_are_read_through_it(
    folder: Path, tmp_path: Path, tiny_model_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "deeper").mkdir(parents=True)
    render_word("linked").save(elsewhere / "linked.png")
    render_word("deeper").save(elsewhere / "deeper" / "deeper.png")
    (folder / "shared").symlink_to(elsewhere, target_is_directory=True)
    (folder / "sub" / "back").symlink_to(folder, target_is_directory=True)  # a cycle: read once
    output = tmp_path / "results.jsonl"
    assert run_batch(folder, output, tiny_model_path) == 0
    paths = [row["path"] for row in read_jsonl(output)]
    assert sorted(paths) == sorted([*GOOD, CORRUPT, "shared/linked.png", "shared/deeper/deeper.png"])


def interrupt_after(chunks: int) -> Callable[[argparse.Namespace, int], RowReader]:
    """A stand-in for the command's reader factory: the real reader, then Ctrl-C after ``chunks`` chunks."""
    make_reader = batch_command._reader

    def factory(args: argparse.Namespace, chunk_workers: int) -> RowReader:
        read = make_reader(args, chunk_workers)
        done: list[Sequence[RowImage]] = []

        def reader(items: Sequence[RowImage]) -> list[Row]:
            if len(done) == chunks:
                raise KeyboardInterrupt
            done.append(items)
            return read(items)

        return reader

    return factory


@pytest.mark.parametrize("again", [(), ("--overwrite",)])
def test_ctrl_c_says_how_to_resume_and_resuming_finishes_the_folder(
    folder: Path, tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch, again: tuple[str, ...],
) -> None:
    output = tmp_path / "results.jsonl"
    if again:
        output.write_text('{"path": "old.png", "text": "x", "confidence": 0.5}\n')
    monkeypatch.setattr(batch_command, "_reader", interrupt_after(1))
    assert run_batch(folder, output, tiny_model_path, "--chunk", "2", *again) == 130
    instead = "instead of --overwrite " if again else ""
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"interrupted after 2 of 4 images; run the same command with --resume {instead}to continue"
    )
    assert len(read_jsonl(output)) == 2
    monkeypatch.undo()
    assert run_batch(folder, output, tiny_model_path, "--chunk", "2", "--resume") == 0
    assert sorted(row["path"] for row in read_jsonl(output)) == sorted([*GOOD, CORRUPT])


def test_csv_output_by_suffix(folder: Path, tmp_path: Path, tiny_model_path: Path) -> None:
    output = tmp_path / "results.csv"
    assert run_batch(folder, output, tiny_model_path) == 0
    with output.open(newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["path", "text", "confidence", "error"]
        rows = {row["path"]: row for row in reader}
    assert set(rows) == {*GOOD, CORRUPT}
    assert rows[CORRUPT]["error"] and not rows[CORRUPT]["text"]
    assert 0.0 <= float(rows["good.png"]["confidence"]) <= 1.0


def test_csv_resume_appends_without_a_second_header(folder: Path, tmp_path: Path, tiny_model_path: Path) -> None:
    output = tmp_path / "results.txt"
    assert run_batch(folder, output, tiny_model_path, "--format", "csv") == 0
    render_word("late").save(folder / "late.png")
    assert run_batch(folder, output, tiny_model_path, "--format", "csv", "--resume") == 0
    lines = output.read_text().splitlines()
    assert lines.count("path,text,confidence,error") == 1
    assert len(lines) == 1 + len(GOOD) + 2


def test_missing_folder_exits_non_zero_with_one_error_line(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert run_batch(tmp_path / "absent", tmp_path / "r.jsonl", tiny_model_path) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"error: not a folder: {tmp_path / 'absent'}"]
    assert not (tmp_path / "r.jsonl").exists()


def test_photo_mode_writes_one_page_per_photo_and_resumes(tmp_path: Path, tiny_model_path: Path) -> None:
    from PIL import Image
    from word_images import render_photo

    from ocr_lstm.detection import DBDetector
    from ocr_lstm.photo.pipeline import OCR, OCRConfig

    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    image = Image.fromarray(render_photo([("NO PARKING", (100, 100), 48)])[0])
    image.save(root / "a.png")
    image.save(root / "sub" / "b.jpg")
    (root / CORRUPT).write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    output = tmp_path / "pages.jsonl"
    # The tiny untrained model reads with little confidence: keep every word.
    assert run_batch(root, output, tiny_model_path, "--photos", "--threads", "1", "--chunk", "2",
                     "--min-confidence", "0") == 0
    rows = {row["path"]: row for row in read_jsonl(output)}
    assert set(rows) == {"a.png", "sub/b.jpg", CORRUPT}
    assert rows[CORRUPT]["page"] is None and rows[CORRUPT]["error"]
    keep_all = OCRConfig(min_confidence=0.0, short_word_confidence=0.0)
    expected = OCR(DBDetector(threads=1), Recognizer(tiny_model_path, device="cpu"), keep_all)(str(root / "a.png"))
    page = rows["a.png"]["page"]
    assert page["source"] == "a.png" and page["text"] == rows["a.png"]["text"] == expected.text
    assert len(page["blocks"]) == 1 and page["blocks"][0]["lines"][0]["words"]
    (root / "c.png").write_bytes((root / "a.png").read_bytes())
    assert run_batch(root, output, tiny_model_path, "--photos", "--threads", "1", "--resume") == 0
    assert [row["path"] for row in read_jsonl(output)].count("a.png") == 1
    assert len(read_jsonl(output)) == 4


def test_photo_mode_refuses_csv(folder: Path, tmp_path: Path, tiny_model_path: Path,
                                capsys: pytest.CaptureFixture) -> None:
    assert run_batch(folder, tmp_path / "pages.csv", tiny_model_path, "--photos") == 1
    assert "only JSONL" in capsys.readouterr().err


def test_photo_mode_follows_links_refuses_to_overwrite_and_resumes_after_ctrl_c_and_a_torn_line(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image
    from word_images import render_photo

    root, elsewhere = tmp_path / "photos", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    image = Image.fromarray(render_photo([("NO PARKING", (100, 100), 48)])[0])
    image.save(root / "a.png")
    image.save(elsewhere / "b.png")
    image.save(elsewhere / "c.png")
    (root / "shared").symlink_to(elsewhere, target_is_directory=True)
    output = tmp_path / "pages.jsonl"
    photos = ("--photos", "--threads", "1", "--chunk", "1")
    monkeypatch.setattr(batch_command, "_reader", interrupt_after(1))
    assert run_batch(root, output, tiny_model_path, *photos) == 130
    assert capsys.readouterr().err.splitlines()[-1].startswith("interrupted after 1 of 3 images;")
    monkeypatch.undo()
    with output.open("a") as f:
        f.write('{"path": "shared/b.png", "text": "NO P')  # a kill while writing the next row
    assert run_batch(root, output, tiny_model_path, *photos) == 1
    assert "--resume" in capsys.readouterr().err
    assert run_batch(root, output, tiny_model_path, *photos, "--resume") == 0
    rows = read_jsonl(output)
    assert sorted(row["path"] for row in rows) == ["a.png", "shared/b.png", "shared/c.png"]
    assert all(row["page"]["source"] == row["path"] for row in rows)


@pytest.mark.parametrize(
    ("extra", "expected"), [(["--threads", "3"], 3), (["--threads", "3", "--backend", "torch"], 1)]
)
def test_batch_reads_a_chunk_per_thread_with_onnx_runtime_and_one_at_a_time_with_pytorch(
    tmp_path: Path, extra: list[str], expected: int
) -> None:
    from ocr_lstm.cli import build_parser

    args = build_parser().parse_args(["batch", str(tmp_path), "--output", str(tmp_path / "r.jsonl"), *extra])
    assert batch_command.workers(args) == expected


@pytest.mark.slow  # a process of its own, interrupted by a signal
def test_photo_mode_keeps_every_photo_read_when_interrupted_and_resume_finishes_exactly(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    """SIGINT to a running ``batch --photos`` once it has written two rows: rows are written photo by
    photo, so what was read is kept, and ``--resume`` reads each remaining photo once."""
    from PIL import Image
    from word_images import render_photo

    root = tmp_path / "photos"
    root.mkdir()
    count = 12
    for i in range(count):
        image, _ = render_photo([(f"STOP {i}", (60, 80), 48), ("NO PARKING", (60, 260), 40)], seed=i)
        Image.fromarray(image).save(root / f"p{i:02d}.png")
    output = tmp_path / "pages.jsonl"
    command = [sys.executable, "-m", "ocr_lstm.cli", "batch", str(root), "--photos", "--output", str(output),
               "--model", str(tiny_model_path), "--device", "cpu", "--threads", "2"]
    # preexec_fn: a shell starts background jobs with SIGINT ignored, and the child would inherit that.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while complete_lines(output) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        seen = complete_lines(output)
        assert process.poll() is None, "the run ended before it could be interrupted"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130
    kept = read_jsonl(output)
    assert seen >= 2 and len(kept) >= seen  # nothing written before the signal is lost ...
    assert f"interrupted after {len(kept)} of {count} images" in err  # ... and all that was read is written
    assert len(kept) < count
    assert run_batch(root, output, tiny_model_path, "--photos", "--threads", "2", "--resume") == 0
    paths = [row["path"] for row in read_jsonl(output)]
    assert sorted(paths) == [f"p{i:02d}.png" for i in range(count)]  # each photo once
    assert all(row["page"]["source"] == row["path"] for row in read_jsonl(output))


def complete_lines(path: Path) -> int:
    """Rows written whole so far (a row being written has no newline yet)."""
    return path.read_bytes().count(b"\n") if path.exists() else 0
