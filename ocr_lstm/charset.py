"""The symbols a model can emit, plus the CTC blank.

Normalisation policy (applied to every label before encoding and documented in
the README): Unicode NFKC, the acute accent ``´``, the backtick and typographic
quotes map to ASCII ``'``/``"``, en and em dashes to ``-``, runs of whitespace collapse to one space and the ends are
stripped. Case is kept. Characters still outside the charset after that are
handled by ``unknown``: ``"drop"`` removes them (the default, so a stray symbol
in a training label never aborts a run), ``"error"`` raises.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

DEFAULT_SYMBOLS = string.digits + string.ascii_letters + " " + string.punctuation

_TRANSLATION = str.maketrans(
    {
        "´": "'",
        "`": "'",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
    }
)
_WHITESPACE = re.compile(r"\s+")

BLANK = 0


def normalize_text(text: str) -> str:
    """NFKC, ASCII quotes, collapsed whitespace: the canonical form of a label."""
    # Quotes map before NFKC too: NFKC turns ``´`` into a space and a combining accent.
    text = unicodedata.normalize("NFKC", text.translate(_TRANSLATION)).translate(_TRANSLATION)
    return _WHITESPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Charset:
    """An ordered set of symbols; index 0 is reserved for the CTC blank."""

    symbols: str = DEFAULT_SYMBOLS
    unknown: Literal["drop", "error"] = "drop"
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("charset symbols must be unique")
        if not self.symbols:
            raise ValueError("charset must hold at least one symbol")
        object.__setattr__(self, "_index", {c: i + 1 for i, c in enumerate(self.symbols)})

    @property
    def num_classes(self) -> int:
        """Symbols plus the blank: the width of the model's output layer."""
        return len(self.symbols) + 1

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, char: object) -> bool:
        return char in self._index

    def clean(self, text: str) -> str:
        """Normalise ``text`` and apply the unknown-character policy."""
        text = normalize_text(text)
        unknown = [c for c in text if c not in self._index]
        if unknown and self.unknown == "error":
            raise ValueError(f"characters outside the charset: {''.join(sorted(set(unknown)))!r}")
        if unknown:
            text = _WHITESPACE.sub(" ", "".join(c for c in text if c in self._index)).strip()
        return text

    def label(self, symbol: str) -> int:
        """The class of one symbol as it is: no normalisation (``encode`` would fold ` into ')."""
        return self._index[symbol]

    def encode(self, text: str) -> list[int]:
        """Class indices of the cleaned text (never the blank)."""
        return [self._index[c] for c in self.clean(text)]

    def decode(self, indices: Iterable[int]) -> str:
        """Symbols for class indices; the blank is skipped (no CTC collapsing here)."""
        return "".join(self.symbols[i - 1] for i in indices if i != BLANK)

    def extend(self, extra: Sequence[str]) -> Charset:
        """A charset with ``extra`` symbols appended: old indices stay valid."""
        added = "".join(dict.fromkeys(c for c in extra if c not in self._index))
        return Charset(self.symbols + added, self.unknown)

    def to_dict(self) -> dict[str, str]:
        return {"symbols": self.symbols, "unknown": self.unknown}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Charset:
        return cls(symbols=data["symbols"], unknown=data.get("unknown", "drop"))  # type: ignore[arg-type]
