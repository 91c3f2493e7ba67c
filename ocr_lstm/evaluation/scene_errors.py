"""Where end-to-end points are lost on a photo: every cared ground-truth word and every counted
detection put in one class, so that a change to the pipeline shows which errors it removed.

Ground-truth words (they sum to the protocol's ground truth):

- ``correct``: paired at IoU > 0.5 and read right;
- ``misread``: paired, read wrong;
- ``split``: not paired, and two or more detections lie mostly (> 50 % of their area) inside it;
- ``merged or loose box``: not paired, but a detection covers most (> 50 %) of it: a word joined
  to its neighbours (a space not read) or a box too large or shifted for IoU 0.5;
- ``missed``: none of the above, the detector did not find it.

Detections not paired and not dropped (they sum, with the pairs, to the protocol's detections):

- ``false: part of a word``: it overlaps a cared ground-truth word (by > 10 % of its own area),
  the pieces of a split or merge;
- ``false: no word there``: junk, or text the annotation left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from ocr_lstm.evaluation.scenes import Detection, GroundTruthWord, _shape, score_photo

GROUND_TRUTH_CLASSES = ("correct", "misread", "split", "merged or loose box", "missed")
DETECTION_CLASSES = ("false: part of a word", "false: no word there")


def photo_errors(ground_truth: Sequence[GroundTruthWord], detections: Sequence[Detection]) -> Counter[str]:
    """The class counts of one photo's cared ground-truth words and unpaired detections."""
    scored = score_photo(ground_truth, detections).end_to_end
    paired = {pair.ground_truth: pair for pair in scored.pairs}
    paired_detections = {pair.detection for pair in scored.pairs}
    shapes = [_shape(polygon) for polygon, _ in detections]
    counts: Counter[str] = Counter()
    cared = []
    for index, word in enumerate(ground_truth):
        if word.dont_care:
            continue
        truth = _shape(word.polygon)
        cared.append(truth)
        if index in paired:
            counts["correct" if paired[index].correct else "misread"] += 1
            continue
        inside = sum(shape.area > 0 and shape.intersection(truth).area > 0.5 * shape.area for shape in shapes)
        covering = any(truth.area > 0 and shape.intersection(truth).area > 0.5 * truth.area for shape in shapes)
        counts["split" if inside >= 2 else "merged or loose box" if covering else "missed"] += 1
    for index, shape in enumerate(shapes):
        if index in paired_detections or index in scored.dropped:
            continue
        overlaps = any(shape.intersection(truth).area > 0.1 * shape.area for truth in cared)
        counts["false: part of a word" if overlaps else "false: no word there"] += 1
    return counts


def error_table(photos: Iterable[tuple[Sequence[GroundTruthWord], Sequence[Detection]]]) -> dict[str, int]:
    """:func:`photo_errors` summed over ``(ground_truth, detections)`` pairs, every class present."""
    total: Counter[str] = Counter()
    for ground_truth, detections in photos:
        total += photo_errors(ground_truth, detections)
    return {name: total[name] for name in (*GROUND_TRUTH_CLASSES, *DETECTION_CLASSES)}
