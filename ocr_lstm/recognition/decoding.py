"""CTC decoding: per-frame log-probabilities to text with confidences.

Kept in numpy, outside any compiled graph, on the paths and likelihoods of
:mod:`ocr_lstm.recognition.ctc`. Three strategies:

* ``greedy``: the best class per frame, repeats collapsed, blanks removed.
* ``beam``: CTC prefix beam search, which sums the probability of every
  alignment of a prefix, so it can beat greedy when the best path is split.
* a ``lexicon``: the most probable word of a list under the CTC likelihood,
  among the candidates closest (edit distance) to the unconstrained reading.
* a ``word_prior`` (:mod:`ocr_lstm.recognition.word_prior`): an open vocabulary instead, where
  a frequent word wins only a close call against what the image shows.

An ``allowlist`` removes every other symbol before decoding. Per-character
confidence is the highest probability the character reaches on the frames of
its best alignment; the word confidence is the product of those, in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ocr_lstm.charset import BLANK, Charset
from ocr_lstm.recognition.ctc import NEG_INF, align_confidences, ctc_log_likelihoods, greedy_path, prefix_beam_search
from ocr_lstm.recognition.options import RecognizerOptions
from ocr_lstm.recognition.word_prior import WordPrior, WordPriorConfig, english_word_prior


@dataclass(frozen=True)
class CTCReading:
    """One crop's reading: its text, confidence, each character's confidence and its ``labels``, the
    charset's class of each character (what an alignment of the reading with its frames takes)."""

    text: str
    confidence: float
    char_confidences: list[float] = field(default_factory=list)
    labels: tuple[int, ...] = ()


@dataclass
class CTCDecoder:
    """Turns a (T, C) log-probability matrix into a :class:`CTCReading` reading."""

    charset: Charset
    method: Literal["greedy", "beam"] = "greedy"
    beam_width: int = 10
    allowlist: str | None = None
    lexicon: Sequence[str] | None = None
    lexicon_candidates: int = 20
    word_prior: WordPrior | None = None

    def __post_init__(self) -> None:
        if self.method not in ("greedy", "beam"):
            raise ValueError(f"unknown decoding method {self.method!r}; use 'greedy' or 'beam'")
        self._mask: np.ndarray | None = None
        if self.allowlist is not None:
            missing = [c for c in self.allowlist if c not in self.charset]
            if missing:
                raise ValueError(f"allowlist characters outside the charset: {''.join(missing)!r}")
            keep = np.zeros(self.charset.num_classes, dtype=bool)
            keep[BLANK] = True
            keep[[self.charset.label(c) for c in set(self.allowlist)]] = True
            self._mask = keep
        self._lexicon: list[str] = []
        if self.lexicon is not None:
            self._lexicon = sorted({self.charset.clean(w) for w in self.lexicon} - {""})
            if not self._lexicon:
                raise ValueError("the lexicon holds no word the charset can spell")

    @classmethod
    def from_options(
        cls, charset: Charset, options: RecognizerOptions, lexicon: Sequence[str] | None = None
    ) -> CTCDecoder:
        """The decoder ``options`` describe; ``word_prior=True`` is the English prior's defaults."""
        prior = WordPriorConfig() if options.word_prior is True else options.word_prior
        return cls(
            charset, options.decoding, options.beam_width, options.allowlist, lexicon,
            word_prior=english_word_prior(charset, prior) if prior else None,
        )

    def _restrict(self, log_probs: np.ndarray) -> np.ndarray:
        if self._mask is None:
            return log_probs
        masked = np.where(self._mask, log_probs, NEG_INF)
        return masked - np.logaddexp.reduce(masked, axis=1, keepdims=True)

    def decode(self, log_probs: np.ndarray) -> CTCReading:
        """Decode one crop's (T, C) log-probabilities."""
        log_probs = self._restrict(np.asarray(log_probs, dtype=np.float64))
        if self.method == "beam":
            labels = prefix_beam_search(log_probs, self.beam_width)
            confidences = align_confidences(log_probs, labels)
        else:
            labels, confidences = greedy_path(log_probs)
        if self._lexicon:
            labels = self._closest_word(log_probs, self.charset.decode(labels))
            confidences = align_confidences(log_probs, labels)
        text, confidence = self.charset.decode(labels), _word_confidence(log_probs, confidences)
        if self.word_prior is not None and not self._lexicon:
            rescored = self.word_prior.rescore(log_probs, text, confidence)
            if rescored != text:
                labels = self.charset.encode(rescored)
                confidences = align_confidences(log_probs, labels)
                text, confidence = rescored, _word_confidence(log_probs, confidences)
        return CTCReading(text, confidence, confidences, tuple(labels))

    def _closest_word(self, log_probs: np.ndarray, reading: str) -> list[int]:
        matches = process.extract(
            reading, self._lexicon, scorer=Levenshtein.distance, limit=self.lexicon_candidates
        )
        words = [m[0] for m in matches]
        scores = ctc_log_likelihoods(log_probs, [self.charset.encode(w) for w in words])
        return self.charset.encode(words[int(np.argmax(scores))])


def most_confident_turn(readings: Sequence[CTCReading]) -> int:
    """Which of one image's readings to keep: the most confident (the first of equals).

    A tall crop is read as given and turned a quarter both ways (``ocr_lstm.preprocessing.
    ImagePreparation``), since it may be a rotated word or a single upright letter.
    """
    return max(range(len(readings)), key=lambda i: readings[i].confidence)


def _word_confidence(log_probs: np.ndarray, char_confidences: list[float]) -> float:
    if char_confidences:
        return float(np.prod(char_confidences))
    # Nothing read: how sure the model is that every frame is blank.
    return float(np.exp(log_probs[:, BLANK].min()))
