"""Reading whole photo sets and scoring them under the ICDAR 2015 end-to-end protocol
(:mod:`ocr_lstm.evaluation.scenes`), with and without each photo's lexicon."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tqdm import tqdm

from ocr_lstm.elements import Page
from ocr_lstm.evaluation.scene_errors import error_table
from ocr_lstm.evaluation.scenes import ScenePhoto, SceneScores, score_photos
from ocr_lstm.photo.pipeline import OCR, to_photo_pixels


@dataclass(frozen=True)
class PhotoSetReport:
    """A photo set's scores; ``with_lexicon`` when every photo came with its own word list."""

    photos: int
    seconds: float  # reading only: decoding, detection and recognition, not scoring
    scores: SceneScores
    with_lexicon: SceneScores | None
    errors: dict[str, int]  # ocr_lstm.evaluation.scene_errors' classes, without the lexicon

    @property
    def seconds_per_photo(self) -> float:
        return self.seconds / max(self.photos, 1)


def page_detections(page: Page) -> list[tuple[tuple[tuple[float, float], ...], str]]:
    """A page's words as the scorer takes them: (polygon, text)."""
    return [(word.polygon, word.text) for word in page.words]


def evaluate_photos(ocr: OCR, photos: Sequence[ScenePhoto], progress: bool = True) -> PhotoSetReport:
    """Read every photo once; its words are scored as read and, where the set has lexicons,
    again with each word constrained to its photo's lexicon (the same detections and frames)."""
    plain: list[Page] = []
    constrained: list[Page] = []
    use_lexicon = bool(photos) and all(photo.lexicon for photo in photos)
    seconds = 0.0
    chosen: Iterable[ScenePhoto] = tqdm(photos, desc="read photos", unit="photo", disable=not progress)
    for photo in chosen:
        started = time.perf_counter()
        decoded = ocr.decode(photo.image_path)  # as every way in decodes: a large photo is read smaller
        (lines,) = ocr.read_lines([decoded.image])
        height, width = decoded.image.shape[:2]
        plain.append(to_photo_pixels(ocr.assemble(lines, width, height, str(photo.image_path)), decoded))
        seconds += time.perf_counter() - started
        if use_lexicon:
            page = ocr.assemble(lines, width, height, str(photo.image_path), photo.lexicon)
            constrained.append(to_photo_pixels(page, decoded))
    read = [(photo.ground_truth, page_detections(page)) for photo, page in zip(photos, plain)]
    scores = score_photos(read)
    lexicon_scores = (
        score_photos((photo.ground_truth, page_detections(page)) for photo, page in zip(photos, constrained))
        if use_lexicon else None
    )
    return PhotoSetReport(len(photos), seconds, scores, lexicon_scores, error_table(read))
