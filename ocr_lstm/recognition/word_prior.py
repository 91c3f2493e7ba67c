"""An open-vocabulary word prior for CTC readings: frequent words win close calls.

A CRNN reads letters one frame at a time; when a letter is blurred, ``STREET``
comes out as ``SIREET`` though the model gave ``STREET`` almost as much
probability. Tesseract settles such cases with a dictionary; this does the same,
softly, as shallow fusion with a unigram word model (``wordfreq``):

    score(w) = log P_ctc(w | image) + weight * ln(10) * zipf(w)

over the reading itself and the vocabulary words within a small edit distance of
it, cased as the reading is. A word outside the vocabulary scores
``oov_zipf`` (below the rarest vocabulary word), so a confident reading of a
name, a code or a number is kept: only a word the image supports about as well
wins. Readings with digits or inner symbols, and readings the model is already
sure of (``max_confidence``), are left alone, which also keeps it cheap.
``weight`` and ``oov_zipf`` are chosen on held-out training crops
(``benchmarks/word_prior.py``), never on the validation sets.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ocr_lstm.cache import cache_dir, write_atomically
from ocr_lstm.charset import Charset
from ocr_lstm.recognition.ctc import ctc_log_likelihoods

LN10 = math.log(10)
_EDGE_PUNCTUATION = ".,:;!?'\"()-"


@dataclass(frozen=True)
class WordPriorConfig:
    """How strongly word frequency weighs against the image, and where it applies."""

    weight: float = 0.5
    oov_zipf: float = 1.5  # the prior of a reading that is not a vocabulary word
    max_confidence: float = 0.9  # readings at or above this confidence are kept as they are
    vocabulary_size: int = 50_000
    min_length: int = 3  # shorter readings are too ambiguous to correct
    letters_per_edit: int = 4  # edits allowed: one per this many letters, at least 1, at most 2
    candidates: int = 12  # vocabulary words rescored per reading, the closest first


@lru_cache(maxsize=4)
def english_vocabulary(size: int) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The ``size`` most frequent English words of plain letters, and their Zipf frequencies.

    Kept in the cache folder (keyed by wordfreq's version) once made: reading it back takes
    a few milliseconds where wordfreq's import and lists took 0.35 s at every start.
    """
    path = cache_dir() / "word_prior" / f"en-{size}-wordfreq-{version('wordfreq')}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        return tuple(cached["words"]), tuple(cached["zipf"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent or unreadable: made again below
    words, zipf = _wordfreq_vocabulary(size)
    with contextlib.suppress(OSError):  # an unwritable cache only costs the time to make it again
        write_atomically(path, json.dumps({"words": words, "zipf": zipf}).encode())
    return tuple(words), tuple(zipf)


def _wordfreq_vocabulary(size: int) -> tuple[list[str], list[float]]:
    from wordfreq import get_frequency_dict, top_n_list

    frequencies = get_frequency_dict("en")
    words = [w for w in top_n_list("en", size * 2) if w.isascii() and w.isalpha()][:size]
    # Zipf = log10(frequency per billion words), as wordfreq.zipf_frequency (unrounded).
    return words, [math.log10(frequencies[w]) + 9 for w in words]


@lru_cache(maxsize=4)
def english_word_prior(charset: Charset, config: WordPriorConfig) -> WordPrior:
    """The prior over :func:`english_vocabulary`, built once per charset and config (~0.5 s)."""
    return WordPrior(charset, config)


def max_edits(length: int, letters_per_edit: int = 4) -> int:
    """Edits allowed between a reading and a vocabulary word: one per ``letters_per_edit``
    letters, at least 1 and at most 2."""
    return min(2, max(1, length // letters_per_edit))


def case_variants(word: str, reading: str) -> list[str]:
    """A lower-case vocabulary word cased as ``reading`` is: UPPER, lower or Title, or all
    three when the reading mixes them (then the image's likelihood picks)."""
    if reading.isupper():
        return [word.upper()]
    if reading.islower():
        return [word]
    if reading.istitle():
        return [word.capitalize()]
    return list(dict.fromkeys([word, word.upper(), word.capitalize()]))


def letter_counts(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per lower-case word, the set of its letters a-z as a bit mask (N,) and their
    counts (N, 26)."""
    codes = np.frombuffer("".join(words).encode("latin-1", "replace"), dtype=np.uint8).astype(np.int64) - ord("a")
    owners = np.repeat(np.arange(len(words)), [len(w) for w in words])
    letters = (codes >= 0) & (codes < 26)
    cells = np.bincount(owners[letters] * 26 + codes[letters], minlength=len(words) * 26)
    counts = cells.reshape(len(words), 26).astype(np.int16)
    masks = ((counts > 0).astype(np.uint32) << np.arange(26, dtype=np.uint32)).sum(axis=1, dtype=np.uint32)
    return masks, counts


def split_edges(reading: str) -> tuple[str, str, str]:
    """``'(Hello!'`` -> ``('(', 'Hello', '!')``: punctuation around a word is kept as read."""
    core = reading.strip(_EDGE_PUNCTUATION)
    if not core:
        return reading, "", ""
    start = reading.index(core)
    return reading[:start], core, reading[start + len(core) :]


@dataclass(frozen=True)
class _Index:
    """The vocabulary, ready to search: see :meth:`WordPrior.candidates`."""

    zipf: dict[str, float]  # lower-case word -> zipf frequency
    words: list[str]  # sorted by length
    masks: np.ndarray  # (N,) each word's letters a-z as bits
    counts: np.ndarray  # (N, 26) each word's letter counts
    starts: np.ndarray  # words of length n sit at [starts[n], starts[n + 1])


class WordPrior:
    """Rescores a reading against the vocabulary words close to it (see the module doc).

    The vocabulary is read and indexed at the first reading that needs it (a confident reading
    needs none), once, whichever thread asks first: a start that reads one word pays nothing.
    """

    def __init__(
        self,
        charset: Charset,
        config: WordPriorConfig | None = None,
        vocabulary: Sequence[str] | None = None,
        zipf: Sequence[float] | None = None,
    ) -> None:
        self.charset = charset
        self.config = config or WordPriorConfig()
        if vocabulary is not None and zipf is not None and len(vocabulary) != len(zipf):
            raise ValueError("vocabulary and zipf need one entry per word")
        self._vocabulary, self._vocabulary_zipf = vocabulary, zipf
        self._built: _Index | None = None
        self._lock = threading.Lock()

    @property
    def _index(self) -> _Index:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
        return self._built

    def _build(self) -> _Index:
        vocabulary, zipf = self._vocabulary, self._vocabulary_zipf
        if vocabulary is None:
            vocabulary, zipf = english_vocabulary(self.config.vocabulary_size)
        elif zipf is None:
            from wordfreq import zipf_frequency

            zipf = [zipf_frequency(w, "en") for w in vocabulary]
        symbols = frozenset(self.charset.symbols)
        frequencies = {w.lower(): float(z) for w, z in zip(vocabulary, zipf) if symbols.issuperset(w)}
        # Sorted by length, with letter sets and counts: k edits change a word's length
        # by at most k, its set of letters by at most 2k letters and its letter counts by
        # at most 2k, so numpy rules out nearly every word (a popcount, then a sum over
        # the few left) before rapidfuzz computes a single edit distance: ~0.15 ms a
        # reading instead of ~2 ms for rapidfuzz over every word of a near length.
        words = sorted(frequencies, key=len)
        masks, counts = letter_counts(words)
        lengths = np.array([len(w) for w in words])
        starts = np.searchsorted(lengths, np.arange(lengths.max(initial=0) + 2))
        return _Index(frequencies, words, masks, counts, starts)

    def __len__(self) -> int:
        return len(self._index.zipf)

    def prior(self, word: str) -> float:
        """The log prior (natural log) of a word in any case."""
        return LN10 * self._index.zipf.get(word.lower(), self.config.oov_zipf)

    def candidates(self, word: str) -> list[str]:
        """Vocabulary words within :func:`max_edits` of ``word`` (case ignored), closest first."""
        index, query = self._index, word.lower()
        edits = max_edits(len(query), self.config.letters_per_edit)
        masks, counts = letter_counts([query])
        last = len(index.starts) - 1
        start = index.starts[min(max(len(query) - edits, 0), last)]
        stop = index.starts[min(len(query) + edits + 1, last)]
        close = start + np.flatnonzero(np.bitwise_count(index.masks[start:stop] ^ masks[0]) <= 2 * edits)
        close = close[np.abs(index.counts[close] - counts[0]).sum(axis=1) <= 2 * edits]
        pool = [index.words[i] for i in close]
        matches = process.extract(
            query, pool, scorer=Levenshtein.distance, score_cutoff=edits, limit=self.config.candidates
        )
        return [m[0] for m in matches]

    def applies_to(self, reading: str, confidence: float) -> bool:
        core = split_edges(reading)[1]
        return (
            confidence < self.config.max_confidence
            and len(core) >= self.config.min_length
            and core.isascii()
            and core.isalpha()
        )

    def rescore(self, log_probs: np.ndarray, reading: str, confidence: float) -> str:
        """The best-scoring text among ``reading`` and its close vocabulary words."""
        if not self.applies_to(reading, confidence):
            return reading
        head, core, tail = split_edges(reading)
        texts = [reading] + [
            head + variant + tail for word in self.candidates(core) for variant in case_variants(word, core)
        ]
        texts = list(dict.fromkeys(texts))
        if len(texts) == 1:
            return reading
        likelihoods = ctc_log_likelihoods(log_probs, [self.charset.encode(t) for t in texts])
        weight = self.config.weight
        scores = [ll + weight * self.prior(split_edges(t)[1]) for ll, t in zip(likelihoods, texts)]
        return texts[int(np.argmax(scores))]
