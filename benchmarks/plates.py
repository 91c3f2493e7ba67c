"""Licence-plate crops rendered on the spot: a narrow fine-tuning task any machine can make.

    python benchmarks/plates.py OUTPUT [--train 300] [--test 100] [--seed 0]

writes ``OUTPUT/plates`` and ``OUTPUT/plates_test``, two labelled folders (``labels.tsv``)
for ``ocr-lstm train --data OUTPUT/plates --val OUTPUT/plates_test --init default``.

A plate is what a user with a narrow set brings: one bold sans face, registrations such as
``AB12 CDE`` (two letters, two digits, a space, three letters), black on a white or
yellow plate with a dark border, and on half of them a blue band with a country code
that is *not* part of the label, which a general reader reads as text. Photographed
as a cropper cuts them: a little rotation and perspective, blur, noise and JPEG.
The bundled model reads about four in five of them; a short fine-tune reads nearly
all, and :mod:`benchmarks.finetune_forgetting` measures what it unlearns meanwhile.
"""

from __future__ import annotations

import argparse
import random
import string
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr_lstm.data.labels import LABEL_FILE
from ocr_lstm.synth.fonts import find_fonts

PLATE_HEIGHT = 64
PREFERRED_FACES = ("DejaVuSansCondensed-Bold.ttf", "DejaVuSans-Bold.ttf", "FreeSansBold.ttf")
COUNTRY_CODES = ("GB", "D", "F", "NL", "B", "PL", "CZ", "IRL")
PLATE_COLOURS = ((245, 245, 240), (250, 205, 30))  # white front, yellow rear
BAND_BLUE = (20, 50, 160)


def plate_font() -> str:
    """A bold sans face, the same on every plate; the first installed font where none is."""
    fonts = [path for path, _ in find_fonts()]
    if not fonts:
        raise RuntimeError("no fonts found: install fonts-dejavu-core (scripts/install_system_deps.sh)")
    for face in PREFERRED_FACES:
        for path in fonts:
            if Path(path).name == face:
                return path
    return fonts[0]


def registration(rng: random.Random) -> str:
    """``AB12 CDE``: the letters I, O and Q are left out, as on real plates."""
    letters = [c for c in string.ascii_uppercase if c not in "IOQ"]
    return ("".join(rng.choices(letters, k=2)) + "".join(rng.choices(string.digits, k=2)) + " "
            + "".join(rng.choices(letters, k=3)))


def render_plate(text: str, font_path: str, rng: random.Random) -> np.ndarray:
    """One photographed plate showing ``text``, as an RGB array."""
    font = ImageFont.truetype(font_path, int(PLATE_HEIGHT * 0.72))
    left, top, right, bottom = font.getbbox(text)
    band = rng.random() < 0.5
    band_width = int(PLATE_HEIGHT * 0.45) if band else 0
    margin = int(PLATE_HEIGHT * 0.25)
    width = band_width + (right - left) + 2 * margin
    plate = Image.new("RGB", (width, PLATE_HEIGHT), rng.choice(PLATE_COLOURS))
    draw = ImageDraw.Draw(plate)
    draw.rectangle((0, 0, width - 1, PLATE_HEIGHT - 1), outline=(20, 20, 20), width=3)
    if band:
        draw.rectangle((3, 3, band_width, PLATE_HEIGHT - 4), fill=BAND_BLUE)
        small = ImageFont.truetype(font_path, int(PLATE_HEIGHT * 0.26))
        draw.text((band_width // 2 + 2, int(PLATE_HEIGHT * 0.72)), rng.choice(COUNTRY_CODES),
                  font=small, fill=(240, 240, 240), anchor="mm")
    draw.text((band_width + margin - left, (PLATE_HEIGHT - (bottom - top)) // 2 - top), text,
              font=font, fill=(15, 15, 15))
    return _photographed(np.asarray(plate), rng)


def _photographed(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """A little rotation and perspective inside a loose crop, blur, noise and JPEG."""
    height = image.shape[0]
    pad = int(height * 0.2)
    canvas = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    h, w = canvas.shape[:2]
    jitter = height * 0.12
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    moved = corners + np.float32([[rng.uniform(-jitter, jitter), rng.uniform(-jitter, jitter)] for _ in range(4)])
    warped = cv2.warpPerspective(canvas, cv2.getPerspectiveTransform(corners, moved), (w, h),
                                 borderMode=cv2.BORDER_REPLICATE)
    crop = warped[rng.randint(0, pad // 2): h - rng.randint(0, pad // 2), rng.randint(0, pad): w - rng.randint(0, pad)]
    scale = rng.uniform(0.35, 0.8)  # plates are small in the photo
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        small = cv2.GaussianBlur(small, (3, 3), rng.uniform(0.4, 1.2))
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(2, 10), small.shape)
    noisy = small.astype(np.float32) + noise
    noisy = np.clip(noisy, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(40, 90)])
    assert ok
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def write_plates(folder: Path, count: int, seed: int) -> Path:
    """``count`` plates in ``folder/images`` listed in ``folder/labels.tsv``; the folder."""
    rng = random.Random(seed)
    font_path = plate_font()
    (folder / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(count):
        text = registration(rng)
        name = f"images/{i:05d}.jpg"
        cv2.imwrite(str(folder / name), render_plate(text, font_path, rng)[..., ::-1])
        lines.append(f"{name}\t{text}\n")
    (folder / LABEL_FILE).write_text("".join(lines), encoding="utf-8")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path, help="folder to write plates/ and plates_test/ into")
    parser.add_argument("--train", type=int, default=300, help="plates to train on (default: 300)")
    parser.add_argument("--test", type=int, default=100, help="held-out plates (default: 100)")
    parser.add_argument("--seed", type=int, default=0, help="the training plates' seed; the test's is seed + 1")
    args = parser.parse_args()
    for name, count, seed in (("plates", args.train, args.seed), ("plates_test", args.test, args.seed + 1)):
        print(write_plates(args.output / name, count, seed))


if __name__ == "__main__":
    main()
