"""``ocr-lstm ocr PHOTO...`` and ``ocr-lstm eval`` on a photo folder, with the real detector and
the tiny random model (what it reads is junk; where the words are is the detector's)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from lxml import etree
from PIL import Image
from word_images import render_photo

from ocr_lstm.cli import main

LINES = [("OPEN 24 HOURS", (60, 60), 56), ("NO PARKING", (300, 240), 40)]


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photos") / "sign.png"
    Image.fromarray(render_photo(LINES)[0]).save(path)
    return path


def ocr(args: list[str], model: Path) -> int:
    # The tiny random model reads with little confidence: keep every word.
    return main(["ocr", *args, "--model", str(model), "--device", "cpu", "--threads", "1", "--min-confidence", "0"])


def test_json_gives_one_page_per_photo_with_word_polygons(
    photo: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert ocr([str(photo), str(photo), "--json"], tiny_model_path) == 0
    pages = json.loads(capsys.readouterr().out)
    assert [p["source"] for p in pages] == [str(photo)] * 2
    assert (pages[0]["width"], pages[0]["height"]) == (800, 500)
    lines = [line for block in pages[0]["blocks"] for line in block["lines"]]
    assert len(lines) == 2  # the detector finds both signs' lines
    tops = [min(y for _, y in line["polygon"]) for line in lines]
    assert tops == sorted(tops)  # reading order: top to bottom
    for line in lines:
        for word in line["words"]:
            assert len(word["polygon"]) == 4
            xs = [x for x, _ in word["polygon"]]
            assert min(xs) >= min(x for x, _ in line["polygon"]) - 1  # each word inside its line


def test_plain_output_is_the_pages_text(photo: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert ocr([str(photo), "--json"], tiny_model_path) == 0
    text = json.loads(capsys.readouterr().out)[0]["text"]
    assert ocr([str(photo)], tiny_model_path) == 0
    assert capsys.readouterr().out == (text + "\n" if text else "")


def test_hocr_and_alto_parse(photo: Path, tiny_model_path: Path, tmp_path: Path) -> None:
    assert ocr([str(photo), "--hocr", "--output", str(tmp_path / "p.hocr")], tiny_model_path) == 0
    hocr = etree.fromstring((tmp_path / "p.hocr").read_bytes())
    assert hocr.xpath("//*[@class='ocr_page']") and hocr.xpath("//*[@class='ocr_line']")
    assert ocr([str(photo), "--alto", "--output", str(tmp_path / "p.xml")], tiny_model_path) == 0
    alto = etree.fromstring((tmp_path / "p.xml").read_bytes())
    assert alto.tag.endswith("alto")


def test_draw_saves_the_photo_with_its_boxes(photo: Path, tiny_model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "drawn.png"
    assert ocr([str(photo), "--draw", str(out)], tiny_model_path) == 0
    drawn, original = cv2.imread(str(out)), cv2.imread(str(photo))
    assert drawn.shape == original.shape and (drawn != original).any()
    folder = tmp_path / "many"
    assert ocr([str(photo), str(photo), "--draw", str(folder)], tiny_model_path) == 0
    assert [p.name for p in folder.iterdir()] == ["sign.png"]


def test_an_unreadable_photo_is_reported_and_the_others_read(
    photo: Path, tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a photo")
    assert ocr([str(broken), str(photo), "--json"], tiny_model_path) == 1
    captured = capsys.readouterr()
    assert [p["source"] for p in json.loads(captured.out)] == [str(photo)]
    errors = [line for line in captured.err.replace("\r", "\n").splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {broken}:")


def test_eval_scores_a_photo_folder_end_to_end(
    photo: Path, tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "scenes"
    (folder / "images").mkdir(parents=True)
    (folder / "gt").mkdir()
    (folder / "images" / "sign.png").write_bytes(photo.read_bytes())
    boxes = render_photo(LINES)[1]
    (folder / "gt" / "gt_sign.txt").write_text("".join(
        f"{x0:.0f},{y0:.0f},{x1:.0f},{y0:.0f},{x1:.0f},{y1:.0f},{x0:.0f},{y1:.0f},{text}\n"
        for text, (x0, y0, x1, y1) in boxes
    ))
    assert main(["eval", str(folder), "--model", str(tiny_model_path), "--threads", "1", "--json",
                 "--min-confidence", "0"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["photos"] == 1 and row["ground_truth_words"] == 5
    assert set(row["end_to_end"]) == {"precision", "recall", "f_score"}
    assert row["lexicon_end_to_end"] is None and row["seconds_per_photo"] > 0


def test_a_folder_of_photos_points_to_batch_photos(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["ocr", str(tmp_path)])
    assert exit_info.value.code == 2
    assert f"ocr-lstm batch {tmp_path} --photos --output pages.jsonl" in capsys.readouterr().err


def test_the_photo_options_reach_the_pipeline(tiny_model_path: Path) -> None:
    import argparse

    from ocr_lstm.commands.common import add_model_arguments, add_photo_arguments, ocr_from_args
    from ocr_lstm.photo.config import OCRConfig
    from ocr_lstm.recognition.recognizer import Recognizer

    parser = argparse.ArgumentParser()
    add_photo_arguments(parser)
    add_model_arguments(parser)
    recognizer = Recognizer(tiny_model_path, device="cpu")
    chosen = ocr_from_args(parser.parse_args(["--max-side", "640", "--min-confidence", "0.5"]), recognizer)
    assert chosen.detector.config.max_side == 640  # type: ignore[attr-defined]
    assert (chosen.config.min_confidence, chosen.config.short_word_confidence) == (0.5, OCRConfig.short_word_confidence)
    everything = ocr_from_args(parser.parse_args(["--min-confidence", "0"]), recognizer)
    assert (everything.config.min_confidence, everything.config.short_word_confidence) == (0.0, 0.0)
    assert ocr_from_args(parser.parse_args([]), recognizer).config == OCRConfig()


def test_several_photos_show_their_progress(photo: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert ocr([str(photo), str(photo)], tiny_model_path) == 0
    assert "2/2" in capsys.readouterr().err  # the bar's count, on stderr: stdout holds only the text


def test_an_8000_by_6000_phone_photo_is_read_with_the_defaults(
    tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """48 Mpx, past the crops' pixel limit: decoded smaller for reading, answered in its own pixels."""
    from PIL import ImageDraw, ImageFont

    from ocr_lstm.preprocessing import PreprocessConfig

    assert PreprocessConfig.max_pixels < 8000 * 6000
    big = Image.new("RGB", (8000, 6000), (200, 200, 190))
    font = ImageFont.truetype("DejaVuSans-Bold.ttf", 600) if Path("/usr/share/fonts/truetype/dejavu").is_dir() \
        else ImageFont.load_default(600)
    ImageDraw.Draw(big).text((1200, 2400), "OPEN DAILY", font=font, fill=(20, 20, 20))
    path = tmp_path / "phone.jpg"
    big.save(path, quality=85)
    assert main(["ocr", str(path), "--json", "--model", str(tiny_model_path), "--threads", "1",
                 "--min-confidence", "0"]) == 0
    [page] = json.loads(capsys.readouterr().out)
    assert (page["width"], page["height"]) == (8000, 6000)
    lines = [line for block in page["blocks"] for line in block["lines"]]
    assert lines  # the detector found the sign, and its line lies where it was drawn
    xs = [x for line in lines for x, _ in line["polygon"]]
    ys = [y for line in lines for _, y in line["polygon"]]
    assert min(xs) > 1000 and max(xs) < 7900 and min(ys) > 2200 and max(ys) < 3400
