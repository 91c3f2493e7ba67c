"""What a fine-tune on a narrow set costs, and whether the trainer's general check sees it.

    python benchmarks/finetune_forgetting.py WORK [--steps 300] [--set KEY=VALUE ...] [--seeds 11 12]
    python benchmarks/finetune_forgetting.py WORK --models runs/a/best runs/b/best   # score only

renders 300 licence plates, 100 held out and 1,000 more held out for scoring into WORK (below;
kept between runs), fine-tunes the bundled model on them as a user would (``ocr-lstm train
--data WORK/plates --val WORK/plates_test --init default --steps 300 --output WORK/run``, any
``--set`` passed on), then reads with the bundled model and each fine-tuned one (WORK/run/best;
WORK/run_s<seed> for each of ``--seeds``, and their mean; or ``--models``): the held-out plates
(the run's 100, which chose its best checkpoint, and the 1,000 it never saw, whose standard
error is a third of the 100's), the trainer's general check (the fine-tuning recipe's rendered
words and lines, ``training.trainer.general_check``) and, where ../shared is present, svt and
ic13 (all 647 and 1,095 crops; no word prior: the models themselves). It prints each model's
word accuracy, its change from the bundled model's, and, over several models, how closely the
general check's change follows svt's and ic13's (Pearson r): the check is meant to show, on a
machine without those sets, what a fine-tune unlearns.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr_lstm.checkpoint import read_checkpoint_info
from ocr_lstm.data.labels import LABEL_FILE
from ocr_lstm.metrics import reads_right
from ocr_lstm.predictors import Recognizer
from ocr_lstm.synth.fonts import find_fonts
from training.config import TrainConfig
from training.crop_pool import CropPool, load_labelled_pool
from training.trainer import general_check

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_SETS = ("svt", "ic13")

# A plate is what a user with a narrow set brings: one bold sans face, registrations such as
# ``AB12 CDE``, black on a white or yellow plate with a dark border, and on half of them a blue
# band with a country code that is *not* part of the label, which a general reader reads as
# text; photographed as a cropper cuts them: a little rotation and perspective, blur, noise
# and JPEG. The bundled model reads about half of them right.
PLATE_HEIGHT = 64
# (folder, plates, seed): the user's 300 to train on and 100 to validate on (--val, which chooses
# the run's best checkpoint), and 1,000 the run never sees, scored here: on 100 plates one
# point is one plate and a recipe's figure moved by up to 4 from seed to seed.
PLATE_SETS = (("plates", 300, 0), ("plates_test", 100, 1), ("plates_eval", 1000, 2))
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
    """``count`` plates in ``folder/images`` listed in ``folder/labels.tsv``; the folder.
    Each seed draws its own registrations: 23^5 * 100 of them, so sets hardly share one."""
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




def fine_tune(work: Path, steps: int, overrides: list[str], seed: int | None = None) -> Path:
    """The user's command, run as they would run it (with ``seed``: that seed, into run_s<seed>);
    the run's best checkpoint."""
    output = work / ("run" if seed is None else f"run_s{seed}")
    command = [sys.executable, "-m", "training.train", "--data", str(work / "plates"), "--val",
               str(work / "plates_test"), "--init", "default", "--steps", str(steps), "--output", str(output)]
    for item in overrides + ([] if seed is None else [f"seed={seed}"]):
        command += ["--set", item]
    print("$ ocr-lstm train", " ".join(command[3:]), flush=True)
    subprocess.run(command, check=True)
    return output / "best"


def validation_sets(work: Path) -> dict[str, CropPool]:
    """The held-out plates, the general check and the real sets present, as the trainer reads them."""
    parent = read_checkpoint_info("default")  # its charset and preprocessing: no model built
    recipe = TrainConfig.from_file("finetune")
    sets = {name: load_labelled_pool(work / name, parent.preprocess, parent.charset, clean_labels=False)
            for name, _, _ in PLATE_SETS[1:]}
    sets["general"] = general_check(recipe, parent.preprocess, parent.charset)
    for name in REAL_SETS:
        if (SHARED / name).is_dir():
            sets[name] = load_labelled_pool(SHARED / name, parent.preprocess, parent.charset, clean_labels=False)
    return sets


def read_sets(model: str | Path, sets: dict[str, CropPool]) -> dict[str, np.ndarray]:
    """Which crops of each set ``model`` reads right (standard protocol, no word prior)."""
    reader = Recognizer(model, device="cpu", word_prior=None, backend="torch")
    right = {}
    for name, pool in sets.items():
        readings = reader.decode_crops([pool.crop(i) for i in range(len(pool))])
        right[name] = np.array([reads_right(r.text, label) for r, label in zip(readings, pool.labels)])
    return right


def figures(right: dict[str, np.ndarray], parent: dict[str, np.ndarray]) -> dict[str, float]:
    """Each set's word accuracy, and ``general kept``: the share of the general crops the bundled
    model reads right that ``right`` still reads right, as the trainer's ``general_kept``."""
    start = parent["general"]
    kept = 100.0 * float((right["general"] & start).sum() / start.sum())
    return {**{name: 100.0 * float(r.mean()) for name, r in right.items()}, "general kept": kept}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("work", type=Path, help="folder for the plates and the run (kept between runs)")
    parser.add_argument("--steps", type=int, default=300, help="the fine-tune's steps (default: 300)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="passed on to ocr-lstm train (repeatable)")
    parser.add_argument("--seeds", nargs="+", type=int,
                        help="one fine-tune per seed (WORK/run_s<seed>), and their mean: 100 held-out plates "
                             "and one run move by 3 points from seed to seed (default: the recipe's seed, once)")
    parser.add_argument("--models", nargs="+", type=Path, help="score these checkpoints instead of training one")
    args = parser.parse_args()
    for name, count, seed in PLATE_SETS:
        if not (args.work / name / LABEL_FILE).is_file():
            write_plates(args.work / name, count, seed)
    models = args.models or [fine_tune(args.work, args.steps, args.set, seed) for seed in args.seeds or [None]]
    sets = validation_sets(args.work)
    parent_right = read_sets("default", sets)
    parent = figures(parent_right, parent_right)
    names = list(parent)
    print(f"{'model':<32}" + "".join(f"{name:>20}" for name in names))
    print(f"{'default (bundled)':<32}" + "".join(f"{parent[name]:>20.2f}" for name in names))
    changes = []
    for model in models:
        scores = figures(read_sets(model, sets), parent_right)
        change = {name: scores[name] - parent[name] for name in names}
        changes.append(change)
        label = "/".join(Path(model).parts[-2:])
        print(f"{label:<32}" + "".join(f"{f'{scores[name]:.2f} ({change[name]:+.2f})':>20}" for name in names))
    if args.seeds and len(changes) > 1:
        mean = {name: float(np.mean([c[name] for c in changes])) for name in names}
        cells = [f"{parent[name] + mean[name]:.2f} ({mean[name]:+.2f})" for name in names]
        print(f"{f'mean of {len(changes)} seeds':<32}" + "".join(f"{cell:>20}" for cell in cells))
    real = [name for name in REAL_SETS if name in sets]
    if len(changes) >= 3 and real:
        pooled = [sum(len(sets[n]) * c[n] for n in real) / sum(len(sets[n]) for n in real) for c in changes]
        for check in ("general", "general kept"):
            r = float(np.corrcoef([c[check] for c in changes], pooled)[0, 1])
            print(f"{check}: its change against {' + '.join(real)}'s (pooled), over {len(changes)} models: r = {r:.2f}")

if __name__ == "__main__":
    main()
