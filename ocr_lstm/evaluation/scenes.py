"""Whole-photo scoring under the ICDAR 2015 Robust Reading protocol (Challenge 4).

The rules are those of the Robust Reading Competition's own scripts for Challenge 4,
"Incidental Scene Text" (``script.py`` of Task 4.1 localisation and of Task 4.4
end to end, the latter run with ``WORD_SPOTTING`` off or on, and their
``rrc_evaluation_funcs.py``), with their default parameters: ``IOU_CONSTRAINT``
0.5, ``AREA_PRECISION_CONSTRAINT`` 0.5, ``MIN_LENGTH_CARE_WORD`` 3,
``SPECIAL_CHARACTERS`` ``!?.:,*"()·[]/'`` and ``ONLY_REMOVE_FIRST_LAST_CHARACTER``.
Three protocols are scored on the same detections, each a :class:`ProtocolScore`:

- **detection**: a detection finds a ground-truth word when their polygons' IoU is
  *more than* 0.5; the transcription plays no part.
- **end to end** ("generic", no vocabulary): the same pairs, and a pair counts only
  when the reading equals the ground truth after both are upper-cased (``str.upper``)
  and the ground truth's first and/or last character may be dropped if it is one of
  the special characters (``"PARK."`` accepts ``park``; ``"PA.RK"`` does not, and
  neither does a reading ``park.`` of ``"PARK"``: only the ground truth is forgiven).
  Every ground-truth word except ``###`` counts, whatever characters it has.
- **word spotting**: ground-truth words outside the competition's vocabulary rule
  become don't care as well (see :func:`counts_in_word_spotting`: after a final
  ``'s``, outer hyphens and the special characters are removed, the word must be one
  piece of at least 3 characters, each a Latin or Greek letter or a hyphen; so, as
  in the script, words with digits are don't care). A pair counts when the reading,
  upper-cased, equals that cleaned ground truth exactly.

Matching, per photo, exactly as the script does it:

1. A detection is dropped (neither a hit nor a false positive) when more than half of
   its area lies inside one don't-care polygon (each region is tried on its own, not
   their union). In word spotting the don't-care polygons include the words the
   vocabulary rule removed, because the script drops detections after that rule.
2. Ground-truth words are taken in file order; each is paired with the *first*
   detection, in the order given, that is unpaired, not dropped and above the IoU
   threshold (the first, not the best: the script walks the ground truth x detection
   grid in order). Pairs are one to one. Don't-care words take no detection.
3. A pair is made on IoU alone and only then is its transcription judged: a misread
   detection keeps its ground-truth word, which therefore counts as missed, and the
   detection as a false positive; neither is offered to anyone else.

Counts and rates: a photo's *cared* ground truth excludes don't care, its *counted*
detections exclude the dropped ones. Precision = matches / counted detections, recall
= matches / cared ground truth, F the harmonic mean (0 when both are 0). Over many
photos (:class:`SceneScores`) the counts are summed first and a 0/0 rate is 0, as the
script's method totals. For one photo (:class:`ProtocolScore`) the script's per-sample
rule applies: with no cared ground truth, recall is 1 and precision 1 if no detection
counts, else 0; with some, a photo without counted detections has precision 0.

Geometry differs from the script only where it has no rule or a narrower one:
polygons are shapely polygons of any number (>= 3) of float points in either
orientation (the script takes quadrilaterals of integers, truncating, and rejects
anticlockwise ones); an invalid (self-intersecting) polygon is repaired with
``shapely.make_valid`` and its polygonal part kept (``buffer(0)``), so a bow-tie keeps
both lobes; a degenerate polygon has area 0 and matches nothing (an IoU whose union
is 0 is 0, as the script's ``except: return 0``).

Choosing a lexicon word for a reading (the "strong/weak/generic" lexicon settings)
is the pipeline's job: this module scores whatever text it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import shapely

from ocr_lstm.elements import Polygon
from ocr_lstm.preprocessing import IMAGE_SUFFIXES

DONT_CARE = "###"
IOU_THRESHOLD = 0.5
DONT_CARE_OVERLAP = 0.5
MIN_WORD_LENGTH = 3
SPECIAL_CHARACTERS = "!?.:,*\"()·[]/'"

Detection = tuple[Sequence[Sequence[float]], str]
"""A detected word: its polygon (``(x, y)`` points, at least 3) and its reading."""

_NUMBER = r"\s*(-?\d+(?:\.\d+)?)\s*"
_GROUND_TRUTH_LINE = re.compile("^" + ",".join([_NUMBER] * 8) + ",(.*)$")
_QUOTED = re.compile(r'^\s*"(.*)"\s*$')
_SPECIALS_TO_SPACES = str.maketrans(dict.fromkeys(SPECIAL_CHARACTERS, " "))
# The script's letter ranges: Latin, Latin-1 and Latin Extended-A/B, IPA, Greek; and '-'.
_WORD_SPOTTING_RANGES = ((0x61, 0x7A), (0x41, 0x5A), (0xC0, 0x1BF), (0x1C4, 0x27F), (0x386, 0x3FF), (0x2D, 0x2D))
_NOT_IN_WORD_SPOTTING = "×÷·"


@dataclass(frozen=True)
class GroundTruthWord:
    """An annotated word: its polygon in the photo, its transcription, and whether it is
    a don't-care region (``###`` in the files: matched by nothing, counted nowhere)."""

    polygon: Polygon
    text: str
    dont_care: bool


@dataclass(frozen=True)
class ScenePhoto:
    """A photo with its ground truth and, when it has one, its own lexicon (else None)."""

    image_path: Path
    ground_truth: tuple[GroundTruthWord, ...]
    lexicon: tuple[str, ...] | None


@dataclass(frozen=True)
class Counts:
    """One protocol's totals: ``ground_truth`` cared words, ``detections`` counted
    (not dropped) detections, ``matches`` correct pairs. The rates follow the script's
    method totals: a 0/0 precision or recall is 0."""

    ground_truth: int = 0
    detections: int = 0
    matches: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.ground_truth + other.ground_truth,
            self.detections + other.detections,
            self.matches + other.matches,
        )

    @property
    def precision(self) -> float:
        return self.matches / self.detections if self.detections else 0.0

    @property
    def recall(self) -> float:
        return self.matches / self.ground_truth if self.ground_truth else 0.0

    @property
    def f_score(self) -> float:
        return _harmonic_mean(self.precision, self.recall)


@dataclass(frozen=True)
class Pair:
    """A ground-truth word and the detection it was paired with (indices into the
    photo's ground truth and detections); ``correct`` when the protocol accepts the
    reading (always, for detection)."""

    ground_truth: int
    detection: int
    correct: bool


@dataclass(frozen=True)
class ProtocolScore:
    """One protocol on one photo: its counts, every pair it made (in ground-truth order),
    and the indices of the detections it dropped as mostly inside a don't-care region.
    The rates follow the script's per-sample rule (module docstring)."""

    counts: Counts
    pairs: tuple[Pair, ...]
    dropped: tuple[int, ...]

    @property
    def precision(self) -> float:
        if self.counts.ground_truth == 0:
            return 0.0 if self.counts.detections else 1.0
        return self.counts.precision

    @property
    def recall(self) -> float:
        return self.counts.recall if self.counts.ground_truth else 1.0

    @property
    def f_score(self) -> float:
        return _harmonic_mean(self.precision, self.recall)


@dataclass(frozen=True)
class PhotoScore:
    """A photo's detection, end-to-end and word-spotting scores."""

    detection: ProtocolScore
    end_to_end: ProtocolScore
    word_spotting: ProtocolScore


@dataclass(frozen=True)
class SceneScores:
    """Scores of many photos; each protocol's counts are summed over them."""

    photos: tuple[PhotoScore, ...]

    @property
    def detection(self) -> Counts:
        return sum((photo.detection.counts for photo in self.photos), Counts())

    @property
    def end_to_end(self) -> Counts:
        return sum((photo.end_to_end.counts for photo in self.photos), Counts())

    @property
    def word_spotting(self) -> Counts:
        return sum((photo.word_spotting.counts for photo in self.photos), Counts())


def load_ground_truth(path: Path | str) -> list[GroundTruthWord]:
    """The words of an ICDAR 2015 ground-truth file (``gt_<stem>.txt``).

    As the competition's parser: UTF-8 with or without a BOM; lines split at LF with
    CRs removed, blank lines skipped; a line is 8 coordinates ``x1,y1,...,x4,y4``, then
    everything after the 8th comma, verbatim, is the transcription (so it may hold
    commas); a transcription in double quotes is unquoted, ``\\\\`` and ``\\"``
    unescaped; ``###`` marks a don't-care region. Coordinates may be decimals (the
    script's are integers). A ValueError names the file and line of a malformed line.
    """
    path = Path(path)
    words = []
    for number, line in enumerate(_read_text(path).split("\n"), start=1):
        line = line.replace("\r", "")
        if line.strip():
            words.append(_parse_ground_truth_line(line, f"{path}, line {number}"))
    return words


def load_lexicon(path: Path | str) -> list[str]:
    """The words of a lexicon file, one a line (UTF-8, surrounding blanks and blank lines
    ignored)."""
    return [word for word in (line.strip() for line in _read_text(Path(path)).splitlines()) if word]


def is_scene_folder(path: Path | str) -> bool:
    """Whether ``path`` holds whole photos with ICDAR 2015 ground truth: the ``images/`` +
    ``gt/`` layout of :func:`load_scene_folder`, or ``gt_<stem>.txt`` files beside the images."""
    path = Path(path)
    if (path / "images").is_dir() and (path / "gt").is_dir():
        return True
    return path.is_dir() and any(path.glob("gt_*.txt"))


def load_photo_set(path: Path | str) -> list[ScenePhoto]:
    """The photos of either layout :func:`is_scene_folder` accepts (lexicons from
    ``lexicons/`` when present)."""
    path = Path(path)
    if (path / "images").is_dir() and (path / "gt").is_dir():
        return load_scene_folder(path)
    lexicons = path / "lexicons"
    return pair_scene_photos(path, path, lexicons if lexicons.is_dir() else None)


def load_scene_folder(root: Path | str) -> list[ScenePhoto]:
    """The photos of a folder laid out as ``images/<stem>.jpg``, ``gt/gt_<stem>.txt`` and,
    optionally, ``lexicons/<stem>.txt`` (the layout of ``svt_scenes``); see
    :func:`pair_scene_photos`."""
    root = Path(root)
    lexicons = root / "lexicons"
    return pair_scene_photos(root / "images", root / "gt", lexicons if lexicons.is_dir() else None)


def pair_scene_photos(
    image_dir: Path | str, ground_truth_dir: Path | str, lexicon_dir: Path | str | None = None
) -> list[ScenePhoto]:
    """Every image (``.jpg``, ``.jpeg``, ``.png``) of ``image_dir``, sorted by name, with
    ``ground_truth_dir/gt_<stem>.txt``: the flat ICDAR 2015 layout (``ch4_test_images/``
    beside ``Challenge4_Test_Task4_GT/``; the two folders may be one). A photo's lexicon
    is ``lexicon_dir/<stem>.txt`` or ``lexicon_dir/voc_<stem>.txt`` (ICDAR 2015's
    per-image vocabularies), None when there is neither or no ``lexicon_dir``.

    A ValueError when ``image_dir`` holds no image or an image has no ground truth;
    ground-truth files without an image are ignored, so a subset of photos can be scored.
    """
    image_dir, ground_truth_dir = Path(image_dir), Path(ground_truth_dir)
    images = sorted(p for p in image_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise ValueError(f"{image_dir}: no {'/'.join(sorted(IMAGE_SUFFIXES))} images")
    photos = []
    for image in images:
        ground_truth = ground_truth_dir / f"gt_{image.stem}.txt"
        if not ground_truth.is_file():
            raise ValueError(f"{image}: no ground truth {ground_truth}")
        lexicon = None if lexicon_dir is None else _photo_lexicon(Path(lexicon_dir), image.stem)
        photos.append(ScenePhoto(image, tuple(load_ground_truth(ground_truth)), lexicon))
    return photos


def end_to_end_match(truth: str, reading: str) -> bool:
    """Whether ``reading`` is right for ``truth`` end to end: equal once upper-cased,
    ``truth`` allowed to lose one special character at its start, its end, or both."""
    truth, reading = truth.upper(), reading.upper()
    start = 1 if _is_special(truth[:1]) else 0
    stop = len(truth) - 1 if _is_special(truth[-1:]) else len(truth)
    return reading in {truth, truth[start:], truth[:stop], truth[start:stop]}


def word_spotting_form(truth: str) -> str:
    """The script's cleaned ground truth for word spotting: a final ``'s`` removed, then
    outer hyphens, then special characters turned into spaces and outer blanks removed."""
    if truth[-2:] in ("'s", "'S"):
        truth = truth[:-2]
    return truth.strip("-").translate(_SPECIALS_TO_SPACES).strip()


def counts_in_word_spotting(truth: str, min_length: int = MIN_WORD_LENGTH) -> bool:
    """Whether a ground-truth word is in word spotting's vocabulary (else don't care): its
    :func:`word_spotting_form` is one piece of at least ``min_length`` characters, each a
    letter of the script's ranges (Latin, Latin-1, Latin Extended, IPA, Greek; not
    ``×÷``) or a hyphen. Digits are not among them."""
    form = word_spotting_form(truth)
    return " " not in form and len(form) >= min_length and all(map(_is_word_spotting_letter, form))


def score_photo(
    ground_truth: Sequence[GroundTruthWord],
    detections: Sequence[Detection],
    *,
    iou_threshold: float = IOU_THRESHOLD,
    dont_care_overlap: float = DONT_CARE_OVERLAP,
    min_word_length: int = MIN_WORD_LENGTH,
) -> PhotoScore:
    """Detection, end-to-end and word-spotting scores of one photo's ``detections``
    (``(polygon, reading)`` pairs) against its ``ground_truth`` (module docstring).

    ``iou_threshold``: a pair needs an IoU above it; ``dont_care_overlap``: a detection
    with more than this share of its area inside a don't-care polygon is dropped;
    ``min_word_length``: word spotting's shortest cared word.
    """
    truth_shapes = [_shape(word.polygon) for word in ground_truth]
    detection_shapes = [_shape(polygon) for polygon, _ in detections]
    readings = [reading for _, reading in detections]

    def score(dont_care: Sequence[bool], accepts: Callable[[int, int], bool]) -> ProtocolScore:
        dropped = _dropped(truth_shapes, dont_care, detection_shapes, dont_care_overlap)
        pairs = tuple(
            Pair(g, d, accepts(g, d))
            for g, d in _pairs(truth_shapes, dont_care, detection_shapes, dropped, iou_threshold)
        )
        counts = Counts(
            ground_truth=sum(not flag for flag in dont_care),
            detections=len(detections) - len(dropped),
            matches=sum(pair.correct for pair in pairs),
        )
        return ProtocolScore(counts, pairs, dropped)

    generic = [word.dont_care for word in ground_truth]
    spotting = [word.dont_care or not counts_in_word_spotting(word.text, min_word_length) for word in ground_truth]
    spotted = [word_spotting_form(word.text).upper() for word in ground_truth]
    return PhotoScore(
        detection=score(generic, lambda g, d: True),
        end_to_end=score(generic, lambda g, d: end_to_end_match(ground_truth[g].text, readings[d])),
        word_spotting=score(spotting, lambda g, d: spotted[g] == readings[d].upper()),
    )


def score_photos(
    photos: Iterable[tuple[Sequence[GroundTruthWord], Sequence[Detection]]],
    *,
    iou_threshold: float = IOU_THRESHOLD,
    dont_care_overlap: float = DONT_CARE_OVERLAP,
    min_word_length: int = MIN_WORD_LENGTH,
) -> SceneScores:
    """:func:`score_photo` of each ``(ground_truth, detections)``, gathered."""
    return SceneScores(
        tuple(
            score_photo(
                ground_truth,
                detections,
                iou_threshold=iou_threshold,
                dont_care_overlap=dont_care_overlap,
                min_word_length=min_word_length,
            )
            for ground_truth, detections in photos
        )
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 ({error})") from None


def _parse_ground_truth_line(line: str, where: str) -> GroundTruthWord:
    match = _GROUND_TRUTH_LINE.match(line)
    if match is None:
        raise ValueError(f"{where}: expected x1,y1,x2,y2,x3,y3,x4,y4,transcription, got {line!r}")
    values = [float(value) for value in match.groups()[:8]]
    text = match.group(9)
    quoted = _QUOTED.match(text)
    if quoted is not None:
        text = quoted.group(1).replace("\\\\", "\\").replace('\\"', '"')
    polygon = tuple(zip(values[0::2], values[1::2]))
    return GroundTruthWord(polygon, text, text == DONT_CARE)


def _photo_lexicon(lexicon_dir: Path, stem: str) -> tuple[str, ...] | None:
    for name in (f"{stem}.txt", f"voc_{stem}.txt"):
        if (lexicon_dir / name).is_file():
            return tuple(load_lexicon(lexicon_dir / name))
    return None


def _is_special(character: str) -> bool:
    return character != "" and character in SPECIAL_CHARACTERS


def _is_word_spotting_letter(character: str) -> bool:
    code = ord(character)
    return character not in _NOT_IN_WORD_SPOTTING and any(low <= code <= high for low, high in _WORD_SPOTTING_RANGES)


def _harmonic_mean(precision: float, recall: float) -> float:
    total = precision + recall
    return 2 * precision * recall / total if total else 0.0


def _shape(points: Sequence[Sequence[float]]) -> shapely.Geometry:
    """A valid polygonal shapely geometry for ``points`` (repaired when invalid)."""
    if len(points) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(points)}")
    polygon = shapely.Polygon([(float(x), float(y)) for x, y in points])
    return polygon if polygon.is_valid else shapely.make_valid(polygon).buffer(0)


def _iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    inter = a.intersection(b).area
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def _share_inside(detection: shapely.Geometry, region: shapely.Geometry) -> float:
    return detection.intersection(region).area / detection.area if detection.area > 0 else 0.0


def _dropped(
    truth: Sequence[shapely.Geometry],
    dont_care: Sequence[bool],
    detections: Sequence[shapely.Geometry],
    overlap: float,
) -> tuple[int, ...]:
    """Indices of the detections with more than ``overlap`` of their area inside one
    don't-care polygon."""
    regions = [shape for shape, flag in zip(truth, dont_care) if flag]
    return tuple(
        d for d, shape in enumerate(detections) if any(_share_inside(shape, region) > overlap for region in regions)
    )


def _pairs(
    truth: Sequence[shapely.Geometry],
    dont_care: Sequence[bool],
    detections: Sequence[shapely.Geometry],
    dropped: Sequence[int],
    iou_threshold: float,
) -> list[tuple[int, int]]:
    """One-to-one ``(truth, detection)`` index pairs: each cared word, in order, takes the
    first free detection above ``iou_threshold``."""
    taken = set(dropped)
    pairs = []
    for g, (word, flag) in enumerate(zip(truth, dont_care)):
        if flag:
            continue
        d = next(
            (d for d, shape in enumerate(detections) if d not in taken and _iou(shape, word) > iou_threshold), None
        )
        if d is not None:
            taken.add(d)
            pairs.append((g, d))
    return pairs
