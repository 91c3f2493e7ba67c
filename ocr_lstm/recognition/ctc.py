"""CTC maths on one crop's (T, C) log-probabilities, in numpy, outside any compiled graph.

The best path, prefix beam search, the likelihood of given label sequences summed over
every alignment, and per-label confidences from the best alignment. A leaf: the decoder
(:mod:`ocr_lstm.recognition.decoding`) and the word prior (:mod:`ocr_lstm.recognition.word_prior`) both build
on it, and it imports nothing of the project but the blank's index.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ocr_lstm.charset import BLANK

NEG_INF = -np.inf


def _logsumexp(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    high, low = (a, b) if a > b else (b, a)
    return high + math.log1p(math.exp(low - high))


def greedy_path(log_probs: np.ndarray) -> tuple[list[int], list[float]]:
    """Collapsed best-path labels and, per label, its highest frame probability."""
    best = log_probs.argmax(axis=1)
    probs = np.exp(log_probs[np.arange(len(best)), best])
    labels: list[int] = []
    confidences: list[float] = []
    previous = BLANK
    for label, prob in zip(best.tolist(), probs.tolist()):
        if label != BLANK:
            if label != previous:
                labels.append(label)
                confidences.append(prob)
            else:
                confidences[-1] = max(confidences[-1], prob)
        previous = label
    return labels, confidences


def prefix_beam_search(log_probs: np.ndarray, beam_width: int = 10, prune: float = 1e-3) -> list[int]:
    """The most probable label sequence by CTC prefix beam search.

    Classes below ``prune`` probability in a frame are skipped, which keeps the
    search cheap: most frames hold one or two plausible classes.
    """
    # prefix -> (log P(prefix, ends in blank), log P(prefix, ends in non-blank))
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}
    log_prune = math.log(prune)
    for frame in log_probs:
        candidates = np.flatnonzero(frame >= log_prune).tolist() or [int(frame.argmax())]
        next_beams: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [NEG_INF, NEG_INF])
        for prefix, (p_blank, p_label) in beams.items():
            p_total = _logsumexp(p_blank, p_label)
            for c in candidates:
                p = float(frame[c])
                if c == BLANK:
                    entry = next_beams[prefix]
                    entry[0] = _logsumexp(entry[0], p_total + p)
                    continue
                extended = (*prefix, c)
                entry = next_beams[extended]
                if prefix and prefix[-1] == c:
                    # A repeat needs a blank in between to count as a new label.
                    entry[1] = _logsumexp(entry[1], p_blank + p)
                    same = next_beams[prefix]
                    same[1] = _logsumexp(same[1], p_label + p)
                else:
                    entry[1] = _logsumexp(entry[1], p_total + p)
        ranked = sorted(next_beams.items(), key=lambda kv: _logsumexp(*kv[1]), reverse=True)
        beams = {prefix: (pb, pl) for prefix, (pb, pl) in ranked[:beam_width]}
    return list(max(beams.items(), key=lambda kv: _logsumexp(*kv[1]))[0])


def ctc_log_likelihoods(log_probs: np.ndarray, label_sequences: Sequence[Sequence[int]]) -> np.ndarray:
    """log P(labels | frames), summed over all CTC alignments, for several label
    sequences of one crop at once; -inf where none fits.

    The CTC forward algorithm, vectorised over the sequences: each row walks the
    blank-interleaved labels (``_ l1 _ l2 ... _``), a state reached from itself, its
    left neighbour, or two to the left when that skips a blank between different labels.
    It runs on probabilities rescaled every frame (Rabiner's scaling), the logarithm of
    the scales summed aside: plain products, several times faster than log-space sums,
    and in numpy, so the word prior and lexicon decoding need no torch.
    """
    probs = np.exp(np.asarray(log_probs, dtype=np.float64))
    count = len(label_sequences)
    lengths = np.array([len(s) for s in label_sequences], dtype=np.int64)
    states = 2 * max(1, int(lengths.max(initial=0))) + 1
    extended = np.full((count, states), BLANK, dtype=np.int64)
    for i, sequence in enumerate(label_sequences):
        extended[i, 1 : 2 * len(sequence) : 2] = sequence
    in_sequence = np.arange(states)[None, :] < (2 * lengths + 1)[:, None]
    skip = np.zeros((count, states))
    skip[:, 2:] = (extended[:, 2:] != BLANK) & (extended[:, 2:] != extended[:, :-2])
    emissions = probs[:, extended] * in_sequence  # (T, count, states); states past a sequence's end stay 0

    alpha = np.zeros((count, states))
    alpha[:, :2] = emissions[0, :, :2]
    log_scale = np.zeros(count)
    with np.errstate(divide="ignore"):  # log(0): a sequence no alignment fits
        for t in range(1, probs.shape[0]):
            total = alpha.sum(axis=1, keepdims=True)
            log_scale += np.log(total[:, 0])
            alpha /= np.where(total > 0, total, 1.0)
            step = alpha.copy()
            step[:, 1:] += alpha[:, :-1]
            step[:, 2:] += alpha[:, :-2] * skip[:, 2:]
            alpha = step * emissions[t]
        rows = np.arange(count)
        last_label = np.where(lengths > 0, alpha[rows, np.maximum(2 * lengths - 1, 0)], 0.0)
        return log_scale + np.log(alpha[rows, 2 * lengths] + last_label)


def best_alignment(log_probs: np.ndarray, labels: Sequence[int]) -> np.ndarray:
    """For each frame, the index into ``labels`` it is aligned to on the most probable
    (Viterbi) CTC path of ``labels``, or -1 for a blank frame."""
    steps = log_probs.shape[0]
    if not labels:
        return np.full(steps, -1, dtype=np.int64)
    extended = [BLANK]
    for label in labels:
        extended += [label, BLANK]
    ext = np.array(extended)
    states = len(extended)
    emissions = log_probs[:, ext]
    score = np.full(states, NEG_INF)
    score[0], score[1] = emissions[0, 0], emissions[0, 1]
    back = np.zeros((steps, states), dtype=np.int64)
    can_skip = np.zeros(states, dtype=bool)
    can_skip[2:] = (ext[2:] != BLANK) & (ext[2:] != ext[:-2])
    index = np.arange(states)
    options = np.full((3, states), NEG_INF)
    for t in range(1, steps):
        # Rows: stay in a state, come from the previous one, skip a blank between two labels.
        options[0] = score
        options[1, 1:] = score[:-1]
        options[2, 2:] = np.where(can_skip[2:], score[:-2], NEG_INF)
        choice = options.argmax(axis=0)
        score = options[choice, index] + emissions[t]
        back[t] = index - choice
    state = states - 1 if states == 1 or score[-1] >= score[-2] else states - 2
    path = np.empty(steps, dtype=np.int64)
    for t in range(steps - 1, -1, -1):
        path[t] = state // 2 if state % 2 == 1 else -1
        state = int(back[t, state])
    return path


def align_confidences(log_probs: np.ndarray, labels: Sequence[int]) -> list[float]:
    """Per-label confidence from the best (Viterbi) CTC alignment of ``labels``: the highest
    probability the label reaches on the frames aligned to it."""
    if not labels:
        return []
    path = best_alignment(log_probs, labels)
    aligned = np.asarray(labels)[np.maximum(path, 0)]
    probs = np.exp(log_probs[np.arange(len(path)), aligned])
    confidences = [0.0] * len(labels)
    for t, k in enumerate(path.tolist()):
        if k >= 0:
            confidences[k] = max(confidences[k], float(probs[t]))
    return confidences
