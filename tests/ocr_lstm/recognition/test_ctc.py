"""CTC maths on small probability matrices: best path, beam search and likelihoods against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from ctc_frames import CHARSET, frames

from ocr_lstm.charset import BLANK
from ocr_lstm.photo.page import label_frames
from ocr_lstm.recognition.ctc import best_alignment, ctc_log_likelihoods, greedy_path, prefix_beam_search


def ctc_log_likelihood(log_probs: np.ndarray, labels: list[int]) -> float:
    return float(ctc_log_likelihoods(log_probs, [labels])[0])


def test_prefix_beam_search_returns_the_most_probable_labelling_of_a_small_case() -> None:
    # Over classes {blank, 1, 2} and four frames, every feasible labelling is listed.
    generator = torch.Generator().manual_seed(3)
    for _ in range(20):
        log_probs = torch.randn(4, 3, generator=generator, dtype=torch.float64).mul(2).log_softmax(1).numpy()
        labellings = [[], [1], [2], [1, 1], [1, 2], [2, 1], [2, 2], [1, 2, 1], [2, 1, 2], [1, 1, 2], [1, 2, 2],
                      [2, 2, 1], [2, 1, 1], [1, 2, 1, 2], [2, 1, 2, 1], [1, 1, 1], [2, 2, 2]]
        best = max(labellings, key=lambda labels: ctc_log_likelihood(log_probs, labels))
        assert prefix_beam_search(log_probs, beam_width=50, prune=1e-9) == best


def test_greedy_char_confidence_is_the_highest_frame_probability() -> None:
    log_probs = frames({"a": 0.7}, {"a": 0.95}, "-", {"b": 0.6}, "-")
    labels, confidences = greedy_path(log_probs)
    assert CHARSET.decode(labels) == "ab"
    assert confidences == pytest.approx([0.95, 0.6])


def _collapse(path: tuple[int, ...]) -> list[int]:
    labels, previous = [], BLANK
    for label in path:
        if label != BLANK and label != previous:
            labels.append(label)
        previous = label
    return labels


@pytest.mark.parametrize("labels", [[], [1], [1, 1], [2, 3, 2], [1, 2, 3], [3, 3, 3]])
def test_ctc_log_likelihood_sums_every_alignment(labels: list[int]) -> None:
    """Against brute force: every path of 6 frames over 4 classes that collapses to the labels."""
    generator = torch.Generator().manual_seed(len(labels))
    log_probs = torch.randn(6, 4, generator=generator, dtype=torch.float64).log_softmax(-1).numpy()
    total = sum(
        math.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
        for path in itertools.product(range(4), repeat=6)
        if _collapse(path) == labels
    )
    expected = math.log(total) if total else -math.inf
    assert ctc_log_likelihood(log_probs, labels) == pytest.approx(expected, abs=1e-5)  # float32


def test_ctc_log_likelihoods_scores_several_labellings_at_once() -> None:
    log_probs = frames("a", "-", "b", "-")
    batched = ctc_log_likelihoods(log_probs, [CHARSET.encode("ab"), CHARSET.encode("a"), []])
    assert batched.tolist() == pytest.approx(
        [ctc_log_likelihood(log_probs, CHARSET.encode(t)) for t in ("ab", "a", "")]
    )
    assert batched[0] > batched[1] > batched[2]


def test_ctc_log_likelihoods_match_torchs_ctc_loss_on_long_ragged_labellings() -> None:
    """The numpy forward pass against torch's ``ctc_loss`` (what it replaced on the ONNX path):
    100 frames, labellings of 0 to 40 labels with repeats, the too-long one impossible."""
    rng = np.random.default_rng(7)
    log_probs = torch.randn(100, 12, dtype=torch.float64).mul(3).log_softmax(-1)
    labellings = [[], [4], [4, 4, 4], *(rng.integers(1, 12, size=n).tolist() for n in (5, 17, 40)), [1] * 101]
    targets = torch.zeros(len(labellings), 101, dtype=torch.long)
    for i, labels in enumerate(labellings):
        targets[i, : len(labels)] = torch.tensor(labels, dtype=torch.long)
    expected = -torch.nn.functional.ctc_loss(
        log_probs.unsqueeze(1).expand(-1, len(labellings), -1), targets,
        torch.full((len(labellings),), 100), torch.tensor([len(x) for x in labellings]),
        blank=BLANK, reduction="none",
    )
    actual = ctc_log_likelihoods(log_probs.numpy(), labellings)
    assert actual[:-1] == pytest.approx(expected[:-1].numpy(), rel=1e-9)
    assert actual[-1] == -math.inf and expected[-1] == -math.inf


def test_ctc_log_likelihood_of_an_impossible_labelling_is_minus_infinity() -> None:
    log_probs = frames("a", "a")
    assert ctc_log_likelihood(log_probs, CHARSET.encode("aaa")) == -math.inf
    assert ctc_log_likelihood(log_probs, CHARSET.encode("aa")) == -math.inf  # needs a blank between


def labels(text: str) -> list[int]:
    return [CHARSET.symbols.index(c) + 1 for c in text]


def test_the_alignment_puts_each_character_on_the_frames_that_spell_it() -> None:
    log_probs = frames("-", "a", "a", "-", "b", "-", " ", "-", "c", "-")
    path = best_alignment(log_probs, labels("ab c"))
    assert label_frames(path, 4) == [(1, 2), (4, 4), (6, 6), (8, 8)]
    assert path[0] == -1 and path[3] == -1


def test_a_repeated_letter_is_two_characters_across_a_blank() -> None:
    log_probs = frames("l", "-", "l", "-")
    assert label_frames(best_alignment(log_probs, labels("ll")), 2) == [(0, 0), (2, 2)]


def test_an_empty_reading_aligns_every_frame_to_the_blank() -> None:
    assert best_alignment(frames("-", "-"), []).tolist() == [-1, -1]
