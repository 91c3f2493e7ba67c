"""``ocr-lstm ocr PHOTO...``: read whole photos (text detection, then our recognizer)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ocr_lstm.commands.argtypes import image_path
from ocr_lstm.commands.common import add_model_arguments, add_photo_arguments, ocr_from_args, recognizer_from_args

if TYPE_CHECKING:
    import numpy as np

    from ocr_lstm.elements import Page


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("photos", nargs="+", metavar="PHOTO", type=image_path("--photos --output pages.jsonl"),
                        help="photos, screenshots or scans (any text layout)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true",
                        help="a JSON list of pages: blocks, lines and words with polygons in the photo's pixels")
    output.add_argument("--hocr", action="store_true", help="an hOCR (XHTML) document, as Tesseract writes")
    output.add_argument("--alto", action="store_true", help="an ALTO v4 XML document")
    parser.add_argument("--draw", metavar="PNG", type=Path, default=None,
                        help="also save the photo with the word boxes and texts drawn on it (several photos: "
                        "a folder, one PNG per photo)")
    parser.add_argument("--output", "-o", type=Path, default=None, help="write to this file instead of stdout")
    add_photo_arguments(parser)
    add_model_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ocr_lstm.photo.pipeline import to_photo_pixels
    from ocr_lstm.preprocessing import ImageDecodeError

    ocr = ocr_from_args(args, recognizer_from_args(args))
    pages: list[Page] = []
    drawn: list[tuple[Page, np.ndarray]] = []  # each page as read, on the image it was read from
    failures = 0
    for path in tqdm(args.photos, desc="ocr", unit="photo", disable=len(args.photos) < 2, leave=False):
        try:
            photo = ocr.decode(path)
        except ImageDecodeError as exc:
            failures += 1
            tqdm.write(f"error: {path}: {exc}", file=sys.stderr)
            continue
        read = ocr.read_images([photo.image], [path])[0]
        pages.append(to_photo_pixels(read, photo))
        if args.draw is not None:
            drawn.append((read, photo.image))
    if args.draw is not None:
        _draw(drawn, args.draw, several=len(args.photos) > 1)
    text = _render(pages, args)
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 1 if failures else 0


def _render(pages: list[Page], args: argparse.Namespace) -> str:
    from ocr_lstm.formats import to_alto, to_hocr

    if args.json:
        return json.dumps([page.export() for page in pages], ensure_ascii=False) + "\n"
    if args.hocr:
        return to_hocr(pages)
    if args.alto:
        return to_alto(pages)
    if len(pages) == 1:
        return pages[0].text + "\n" if pages[0].text else ""
    return "".join(f"==> {page.source} <==\n{page.text}\n\n" for page in pages)


def _draw(pages: list[tuple[Page, np.ndarray]], target: Path, several: bool) -> None:
    import cv2

    from ocr_lstm.formats import draw_page

    if several:
        target.mkdir(parents=True, exist_ok=True)
    for page, image in pages:
        path = target / f"{Path(page.source or 'photo').stem}.png" if several else target
        picture = draw_page(image, page)
        if not cv2.imwrite(str(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)):
            raise ValueError(f"cannot write {path}")
