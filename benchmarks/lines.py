"""Reading text lines: a line read whole and split at its spaces, against its words cut singly.

    python benchmarks/lines.py [--model default] [--count 300] [--seed 1234]

Renders ``count`` lines at run time (2-6 words from the synthetic word sampler, a random
installed font at 24-56 px, dark on a light or light on a dark background with noise and
blur), reads each line the way the photo pipeline reads a detected line (the line's box
handed to :class:`ocr_lstm.photo.pipeline.OCR` by a fixed detector, so the word prior and
the split into words are the pipeline's own), and reads every word cut out of the same
image on its own (its ink box plus a margin) with the Recognizer. It prints the line
character error rate (spaces included), the share of lines read exactly, word accuracy
(standard protocol) of the words split out of the lines (the read words aligned to the true
ones as a diff aligns lines, so a lost or extra space costs only the words it joins or cuts)
and of the same words cut singly.

The fonts are the installed ones the training pool draws from too, so this measures lines
against words, not generalisation to unseen fonts; the words, sizes and backgrounds are new.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from difflib import SequenceMatcher

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from rapidfuzz.distance import Levenshtein

from ocr_lstm.io import box_polygon
from ocr_lstm.metrics import reads_right, standard_form
from ocr_lstm.predictors import OCR, DetectedLine, Recognizer
from ocr_lstm.synth.fonts import find_fonts
from ocr_lstm.synth.words import sample_line

Box = tuple[float, float, float, float]


def render_line(rng: random.Random, fonts: list) -> tuple[np.ndarray, str, Box, list[tuple[str, Box]]]:
    """A line image, its text, the line's ink box and each word's ink box."""
    while True:
        text = sample_line(rng, (2, 6), 40)
        path, glyphs = rng.choice(fonts)
        if all(c in glyphs or c == " " for c in text):
            break
    font = ImageFont.truetype(path, rng.randint(24, 56))
    left, top, right, bottom = font.getbbox(text)
    pad = int((bottom - top) * 0.6) + 4
    width, height = right - left + 2 * pad, bottom - top + 2 * pad
    dark_on_light = rng.random() < 0.7
    shade = rng.randint(180, 255) if dark_on_light else rng.randint(0, 70)
    ink = rng.randint(0, 60) if dark_on_light else rng.randint(190, 255)
    image = Image.new("L", (width, height), shade)
    origin = (pad - left, pad - top)
    ImageDraw.Draw(image).text(origin, text, font=font, fill=ink)
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 6, (height, width))
    array = np.asarray(image, dtype=np.float32) + noise
    rgb = np.repeat(array.clip(0, 255).astype(np.uint8)[..., None], 3, axis=2)
    words, start = [], 0
    for word in text.split(" "):
        offset = font.getlength(text[:start])
        w_left, w_top, w_right, w_bottom = font.getbbox(word)
        words.append((word, (origin[0] + offset + w_left, origin[1] + w_top, origin[0] + offset + w_right,
                             origin[1] + w_bottom)))
        start += len(word) + 1
    line_box = (pad - 2, pad - 2, width - pad + 2, height - pad + 2)
    return rgb, text, line_box, words


class FixedLine:
    """A detector that returns the one box it was given: the line as a detector would box it."""

    def __init__(self) -> None:
        self.box: Box = (0, 0, 1, 1)

    def __call__(self, image: np.ndarray, /) -> list[DetectedLine]:
        return [DetectedLine(box_polygon(*self.box), 1.0)]


def aligned_right(read: list[str], truth: list[str]) -> int:
    """True words read right once the read words are aligned to them (standard protocol)."""
    matcher = SequenceMatcher(None, [standard_form(w) for w in read], [standard_form(w) for w in truth], autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks())


def cut(image: np.ndarray, box: Box) -> np.ndarray:
    left, top, right, bottom = box
    margin = 0.15 * (bottom - top)
    height, width = image.shape[:2]
    return image[max(0, int(top - margin)) : min(height, int(bottom + margin) + 1),
                 max(0, int(left - margin)) : min(width, int(right + margin) + 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default", help="checkpoint path or bundled name (default: %(default)s)")
    parser.add_argument("--count", type=int, default=300, help="lines to render (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--word-prior", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    fonts = find_fonts()
    if not fonts:
        print("skipped: no fonts installed (make setup)")
        return 0
    rng = random.Random(args.seed)
    recognizer = Recognizer(args.model, threads=args.threads, word_prior=args.word_prior)
    detector = FixedLine()
    ocr = OCR(detector, recognizer)
    edits = characters = exact = 0
    split_right = single_right = words_total = 0
    for _ in range(args.count):
        image, text, line_box, words = render_line(rng, fonts)
        detector.box = line_box
        read = ocr(image).text
        edits += Levenshtein.distance(read, text)
        characters += len(text)
        exact += read == text
        singles = recognizer.recognize([cut(image, box) for _, box in words])
        words_total += len(words)
        split_right += aligned_right(read.split(" "), [word for word, _ in words])
        single_right += sum(reads_right(single.text, word) for single, (word, _) in zip(singles, words))
    print(f"model {args.model}, {args.count} lines, {words_total} words, word prior "
          f"{'on' if args.word_prior else 'off'}")
    print(f"line CER {edits / characters:.4f}   lines read exactly {100 * exact / args.count:.1f} %")
    print(f"word accuracy: split out of lines {100 * split_right / words_total:.2f}   "
          f"cut singly {100 * single_right / words_total:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
