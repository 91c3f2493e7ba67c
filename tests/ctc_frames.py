"""Hand-made CTC output: per-frame probabilities as a (T, C) log-probability matrix."""

from __future__ import annotations

import numpy as np

from ocr_lstm.charset import BLANK, Charset

CHARSET = Charset("abcdehlotuy ")


def frames(*rows: dict[str, float] | str, charset: Charset = CHARSET) -> np.ndarray:
    """Log-probabilities (T, C) from per-frame probabilities; ``-`` is the blank.

    A row given as a string puts 0.9 on that symbol; probability left over is
    spread evenly over the other classes.
    """
    matrix = np.zeros((len(rows), charset.num_classes))
    for t, row in enumerate(rows):
        if isinstance(row, str):
            row = {row: 0.9}
        rest = [c for c in range(charset.num_classes)]
        for symbol, prob in row.items():
            index = BLANK if symbol == "-" else charset.symbols.index(symbol) + 1
            matrix[t, index] = prob
            rest.remove(index)
        left = 1.0 - sum(row.values())
        assert left >= 0
        matrix[t, rest] = max(left, 1e-9) / len(rest)
    return np.log(matrix / matrix.sum(axis=1, keepdims=True))
