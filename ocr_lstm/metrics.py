"""Scene-text recognition metrics under the standard protocol.

Word accuracy as papers report it: lower-case prediction and label, drop every
character outside [0-9a-z], count exact matches. Reported beside the
case-sensitive exact match and the character error rate (edit distance divided
by label length, summed over the set).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def standard_form(text: str) -> str:
    """Lower-case, keep only [0-9a-z]."""
    return _NOT_ALNUM.sub("", text.lower())


def reads_right(prediction: str, label: str) -> bool:
    """Whether ``prediction`` matches ``label`` under the standard protocol."""
    return standard_form(prediction) == standard_form(label)


@dataclass(frozen=True)
class RecognitionScores:
    samples: int
    word_accuracy: float
    case_sensitive_accuracy: float
    cer: float

    def as_dict(self) -> dict[str, float]:
        return {
            "samples": self.samples,
            "word_accuracy": self.word_accuracy,
            "case_sensitive_accuracy": self.case_sensitive_accuracy,
            "cer": self.cer,
        }


def score(predictions: Sequence[str], labels: Sequence[str]) -> RecognitionScores:
    """Percent word accuracies and CER of ``predictions`` against ``labels``."""
    if len(predictions) != len(labels):
        raise ValueError("predictions and labels differ in length")
    if not labels:
        return RecognitionScores(0, 0.0, 0.0, 0.0)
    standard = sum(reads_right(p, t) for p, t in zip(predictions, labels))
    exact = sum(p == t for p, t in zip(predictions, labels))
    edits = sum(Levenshtein.distance(p, t) for p, t in zip(predictions, labels))
    chars = sum(len(t) for t in labels)
    n = len(labels)
    return RecognitionScores(n, 100.0 * standard / n, 100.0 * exact / n, edits / max(chars, 1))
