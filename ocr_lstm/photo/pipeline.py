"""Whole photos in, pages of words with polygons out: a detector finds text lines, the
CRNN reads each line whole, and the CTC alignment splits the reading into words.

Lines, not words, are cut out because line detectors (PaddleOCR's DB) box lines,
and a line read whole keeps the context and the spaces between its words. Each
line is cut out by one perspective warp with the text's top-left corner first, so
the inverse warp maps every word's columns straight back into the photo, for a
line read left to right, top to bottom, bottom to top or upside down alike.

A tall line is read both ways a quarter turn, and the orientation whose frames
the model is surest of wins. A wide line is read the right way up unless a 0/180
degree classifier (:mod:`ocr_lstm.detection.orientation`) finds it upside down:
the recognizer's own confidence cannot tell, since turned glyphs read as other
glyphs. With a word prior or a lexicon, the line is read once without it and each
word's own frames are read again with it, since both judge single words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, overload

import numpy as np

from ocr_lstm.detection.base import DetectedLine, TextDetector
from ocr_lstm.elements import Page
from ocr_lstm.geometry import cut_quad, quad_size, turn
from ocr_lstm.photo.config import OCRConfig
from ocr_lstm.photo.page import CandidateReading, LineCandidate, LineReading
from ocr_lstm.photo.page import assemble as assemble_page
from ocr_lstm.preprocessing import (
    DecodedPhoto,
    ImageInput,
    PreprocessConfig,
    load_photo,
    resize_to_height,
    to_grayscale,
)
from ocr_lstm.recognition.decoding import CTCDecoder

if TYPE_CHECKING:
    from ocr_lstm.detection.orientation import LineOrientation
    from ocr_lstm.recognition.recognizer import Recognizer


def to_photo_pixels(page: Page, photo: DecodedPhoto) -> Page:
    """The page of ``photo.image`` in the photo's own pixels (the same page when it was read whole)."""
    scale_x, scale_y = photo.scale
    if (scale_x, scale_y) == (1.0, 1.0):
        return page
    return page.scaled(scale_x, scale_y, photo.width, photo.height)


class LineReader(Protocol):
    """What the pipeline needs of a recognizer (``ocr_lstm.recognition.recognizer.Recognizer`` is one)."""

    preprocess: PreprocessConfig
    decoder: CTCDecoder

    def frame_log_probs(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]: ...


LineSteps = Generator[list[np.ndarray], list[np.ndarray], list[list[LineReading]]]
"""Reading a photo's lines as steps around the model: yields the line crops to run, is sent each one's
(T, C) frame log-probabilities, and returns every photo's line readings (:meth:`OCR.line_steps`)."""


def run_steps(steps: LineSteps, frame_log_probs: Callable[[list[np.ndarray]], list[np.ndarray]]) -> list[
    list[LineReading]
]:
    """Run ``steps`` to the end, each of its crops through ``frame_log_probs`` (a recognizer's, in this thread)."""
    try:
        crops = next(steps)
        while True:
            crops = steps.send(frame_log_probs(crops))
    except StopIteration as done:
        return done.value


class OCR:
    """Reads whole photos: ``OCR()(photo) -> Page``, or a list of photos in one call.

    ``detector`` finds text lines (default: :class:`ocr_lstm.detection.DBDetector`, PaddleOCR's
    DB model run in our ONNX Runtime session); ``recognizer`` reads them (default: the
    bundled model); ``orientation`` says which wide lines are upside down (default:
    :class:`ocr_lstm.detection.orientation.LineFlipClassifier`; ``False``: none is). All
    are injected, so any can be swapped or shared.
    """

    def __init__(
        self,
        detector: TextDetector | None = None,
        recognizer: LineReader | Recognizer | None = None,
        config: OCRConfig | None = None,
        orientation: LineOrientation | Literal[False] | None = None,
    ) -> None:
        if detector is None:
            from ocr_lstm.detection import DBDetector

            detector = DBDetector()
        if recognizer is None:
            from ocr_lstm.recognition.recognizer import Recognizer

            recognizer = Recognizer()
        if orientation is None:
            from ocr_lstm.detection.orientation import LineFlipClassifier

            orientation = LineFlipClassifier(threads=getattr(detector, "threads", None))
        self.detector: TextDetector = detector
        self.recognizer: LineReader = recognizer
        self.orientation: LineOrientation | None = orientation or None
        self.config = config or OCRConfig()
        self.line_preprocess = dataclasses.replace(recognizer.preprocess, max_width=self.config.line_max_width)
        # The line is read as the model sees it; words are read again with the prior or lexicon.
        self.line_decoder = dataclasses.replace(recognizer.decoder, word_prior=None, lexicon=None)

    def with_config(self, config: OCRConfig) -> OCR:
        """The same detector, recognizer and classifier under other settings (e.g. one request's
        confidence floor), without loading anything again."""
        return OCR(self.detector, self.recognizer, config, self.orientation or False)

    @overload
    def __call__(self, photos: ImageInput, lexicon: Sequence[str] | None = None) -> Page: ...
    @overload
    def __call__(self, photos: list[ImageInput], lexicon: Sequence[str] | None = None) -> list[Page]: ...

    def __call__(
        self, photos: ImageInput | list[ImageInput], lexicon: Sequence[str] | None = None
    ) -> Page | list[Page]:
        if isinstance(photos, list):
            return self.read(photos, lexicons=[lexicon] * len(photos) if lexicon else None)
        return self.read([photos], lexicons=[lexicon] if lexicon else None)[0]

    def read(
        self,
        photos: Sequence[ImageInput],
        sources: Sequence[str | None] | None = None,
        lexicons: Sequence[Sequence[str] | None] | None = None,
    ) -> list[Page]:
        """One page per photo, in order. ``sources`` names the pages (default: the paths of
        photos given as paths); ``lexicons`` constrains each photo's words to its own list.
        The lines of all photos share the recognizer's batches."""
        decoded = [self.decode(photo) for photo in photos]
        names = list(sources) if sources is not None else [
            str(p) if isinstance(p, (str, Path)) else None for p in photos
        ]
        pages = self.read_images([d.image for d in decoded], names, lexicons)
        return [to_photo_pixels(page, d) for page, d in zip(pages, decoded)]

    def decode(self, photo: ImageInput) -> DecodedPhoto:
        """``photo`` decoded as this pipeline reads it: refused past ``max_photo_pixels``, decoded
        at most ``read_pixels`` large (give its page to :func:`to_photo_pixels`)."""
        return load_photo(photo, self.config.max_photo_pixels, self.config.read_pixels)

    def read_images(
        self,
        images: Sequence[np.ndarray],
        sources: Sequence[str | None] | None = None,
        lexicons: Sequence[Sequence[str] | None] | None = None,
        detections: Sequence[Sequence[DetectedLine]] | None = None,
    ) -> list[Page]:
        """As :meth:`read`, for decoded RGB ``uint8`` arrays; ``detections``: each image's lines when
        they were found before (a service counts and caps them first), else the detector finds them."""
        if detections is None:
            read = self.read_lines(images)
        else:
            read = run_steps(self.line_steps(images, detections), self.recognizer.frame_log_probs)
        return [
            self.assemble(lines, image.shape[1], image.shape[0], sources[n] if sources else None,
                          lexicons[n] if lexicons else None)
            for n, (image, lines) in enumerate(zip(images, read))
        ]

    def read_lines(self, images: Sequence[np.ndarray]) -> list[list[LineReading]]:
        """Detect the lines of each photo and read each in its likeliest orientation (the
        costly part of reading a photo: :meth:`assemble` then makes its page)."""
        detections = [self.detector(image) for image in images]
        return run_steps(self.line_steps(images, detections), self.recognizer.frame_log_probs)

    def assemble(
        self, lines: Sequence[LineReading], width: int, height: int, source: str | None = None,
        lexicon: Sequence[str] | None = None,
    ) -> Page:
        """A photo's page from its read lines: words split out (and read again with the word
        prior, or constrained to ``lexicon``), lines arranged into blocks (:func:`ocr_lstm.photo.page.assemble`)."""
        return assemble_page(lines, self.config, self._word_decoder(lexicon), width, height, source)

    def _word_decoder(self, lexicon: Sequence[str] | None) -> CTCDecoder | None:
        if lexicon:
            return dataclasses.replace(self.recognizer.decoder, word_prior=None, lexicon=list(lexicon))
        decoder = self.recognizer.decoder
        return decoder if decoder.word_prior is not None or decoder.lexicon else None

    def line_steps(self, images: Sequence[np.ndarray], detections: Sequence[Sequence[DetectedLine]]) -> LineSteps:
        """The chosen reading of every detected line, per photo, as steps around the model (:data:`LineSteps`):
        whoever holds the model runs the crops (:func:`run_steps` with a recognizer, or a service's model queue),
        and the pipeline never calls back into it."""
        grays = [to_grayscale(image) for image in images]
        first: list[LineCandidate] = []
        owners: list[tuple[int, DetectedLine]] = []
        for photo, (gray, lines) in enumerate(zip(grays, detections)):
            for detected in lines:
                owners.append((photo, detected))
                first += self._candidates(gray, len(owners) - 1, detected)
        readings = yield from self._recognize(first)
        best: dict[int, CandidateReading] = {}
        for reading in readings:
            held = best.get(reading.candidate.line)
            if held is None or reading.frame_score > held.frame_score:
                best[reading.candidate.line] = reading
        flipped = [
            self._candidate(grays[owners[c.line][0]], c.line, np.roll(c.quad, -2, axis=0))
            for c in self._upside_down([r.candidate for r in best.values()])
        ]
        for reading in (yield from self._recognize(flipped)):
            best[reading.candidate.line] = reading
        out: list[list[LineReading]] = [[] for _ in images]
        for line, (photo, detected) in enumerate(owners):
            out[photo].append(LineReading(best[line], detected))
        return out

    def _upside_down(self, candidates: list[LineCandidate]) -> list[LineCandidate]:
        """The wide lines to read turned, whatever the model's confidence: those the classifier
        finds upside down. (A vote per photo, turning all its lines when most look upside down,
        was measured and dropped: on upright photos the classifier's median over small, blurred
        lines passed 0.5 often enough to cost 2.7 points of end-to-end F; docs/photos.md.)"""
        wide = [c for c in candidates if self._is_wide(c)]
        if self.orientation is None or not wide:
            return []
        probabilities = self.orientation([c.cut.crop for c in wide])
        return [c for c, p in zip(wide, probabilities) if p > self.config.upside_down_above]

    def _is_wide(self, candidate: LineCandidate) -> bool:
        width, height = quad_size(candidate.quad)
        return height <= self.config.vertical_ratio * width

    def _candidates(self, gray: np.ndarray, line: int, detected: DetectedLine) -> list[LineCandidate]:
        quad = turn(detected.polygon, 0)
        width, height = quad_size(quad)
        if height > self.config.vertical_ratio * width:
            # A tall box: a line read top to bottom or bottom to top (or one upright letter).
            return [self._candidate(gray, line, turn(detected.polygon, k)) for k in (1, 3, 0)]
        return [self._candidate(gray, line, quad)]

    def _candidate(self, gray: np.ndarray, line: int, quad: np.ndarray) -> LineCandidate:
        cut = cut_quad(gray, quad)
        return LineCandidate(line, quad, cut, resize_to_height(cut.crop, self.line_preprocess))

    def _recognize(
        self, candidates: list[LineCandidate]
    ) -> Generator[list[np.ndarray], list[np.ndarray], list[CandidateReading]]:
        if not candidates:
            return []
        log_probs = yield [c.model_input for c in candidates]
        return [CandidateReading(c, lp, self.line_decoder.decode(lp)) for c, lp in zip(candidates, log_probs)]
