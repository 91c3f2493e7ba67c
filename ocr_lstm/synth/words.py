"""Where synthetic words come from: a frequency-ranked English list, plus made-up strings."""

from __future__ import annotations

import random
import string
from functools import lru_cache

from wordfreq import top_n_list

PUNCTUATION_AROUND = ".,:;!?'\")-"
SYMBOL_STRINGS = "&@#%$/+-*=:.'"


@lru_cache(maxsize=2)
def vocabulary(size: int = 60_000) -> tuple[str, ...]:
    """The ``size`` most frequent English words that are plain ASCII letters/apostrophes."""
    words = top_n_list("en", size * 2)
    ascii_words = [w for w in words if w.isascii() and any(c.isalpha() for c in w) and " " not in w]
    return tuple(ascii_words[:size])


def random_case(word: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        return word.upper()
    if roll < 0.65:
        return word.capitalize()
    if roll < 0.97:
        return word.lower()
    return "".join(c.upper() if rng.random() < 0.5 else c for c in word)


def sample_text(rng: random.Random, max_length: int = 24) -> str:
    """A word-like string: mostly real words in varied case, some numbers, codes and symbols."""
    roll = rng.random()
    words = vocabulary()
    if roll < 0.72:
        # Frequent words dominate real scenes but rare ones teach spelling: mix the ranks.
        rank = int(rng.paretovariate(0.6)) - 1 if rng.random() < 0.5 else rng.randrange(len(words))
        text = random_case(words[min(rank, len(words) - 1)], rng)
        if rng.random() < 0.08:
            text = text + rng.choice(PUNCTUATION_AROUND)
        elif rng.random() < 0.03:
            text = rng.choice("(\"'") + text
    elif roll < 0.82:
        length = rng.choice([1, 2, 3, 4, 4, 5, 6, 7, 8, 10])
        text = "".join(rng.choice(string.digits) for _ in range(length))
        if rng.random() < 0.3 and length > 2:
            cut = rng.randrange(1, length)
            text = text[:cut] + rng.choice(".,:-/") + text[cut:]
        if rng.random() < 0.15:
            text = rng.choice("$#") + text
    elif roll < 0.92:
        alphabet = rng.choice([string.ascii_uppercase, string.ascii_lowercase, string.ascii_letters + string.digits])
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10)))
    elif roll < 0.97:
        first, second = rng.choice(words), rng.choice(words)
        text = random_case(f"{first}{rng.choice(' -&')}{second}", rng)
    else:
        alphabet = string.ascii_letters + string.digits + SYMBOL_STRINGS
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 8)))
    return text[:max_length].strip() or "a"


def sample_line(rng: random.Random, words: tuple[int, int] = (2, 6), max_length: int = 48) -> str:
    """A text line as on a sign, a shop front or a screen: several word-like strings with
    single spaces, cased as one line (all capitals, title case or as sampled)."""
    count = rng.randint(*words)
    parts = [sample_text(rng, max_length) for _ in range(count)]
    roll = rng.random()
    if roll < 0.3:
        parts = [p.upper() for p in parts]
    elif roll < 0.5:
        parts = [p[:1].upper() + p[1:] for p in parts]
    line = " ".join(p.replace(" ", "") or "a" for p in parts)
    if len(line) > max_length:
        line = line[:max_length].rsplit(" ", 1)[0] if " " in line[:max_length] else line[:max_length]
    return line.strip() or "a"
