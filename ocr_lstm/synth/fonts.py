"""Find installed fonts that can draw Latin words."""

from __future__ import annotations

import string
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont, TTLibError

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
FONT_SUFFIXES = {".ttf", ".otf", ".ttc"}
REQUIRED = string.ascii_letters + string.digits
# Fonts that cover Latin but draw pictures or mathematics rather than words.
EXCLUDED_NAMES = ("symbol", "dingbat", "emoji", "math", "d050000l", "standardsymbols", "music")


def _cmap(path: Path) -> set[int]:
    if path.suffix.lower() == ".ttc":
        fonts = TTCollection(str(path), lazy=True).fonts[:1]
    else:
        fonts = [TTFont(str(path), lazy=True, fontNumber=0)]
    codes: set[int] = set()
    for font in fonts:
        codes |= set(font.getBestCmap() or {})
    return codes


@lru_cache(maxsize=8)
def find_fonts(dirs: tuple[Path, ...] = FONT_DIRS) -> tuple[tuple[str, frozenset[str]], ...]:
    """Every font under ``dirs`` covering ASCII letters and digits, with the characters it has."""
    found: list[tuple[str, frozenset[str]]] = []
    for path in sorted(_font_files(dirs)):
        if any(word in path.name.lower() for word in EXCLUDED_NAMES):
            continue
        try:
            codes = _cmap(path)
        except (TTLibError, OSError, AssertionError, KeyError):
            continue
        if all(ord(c) in codes for c in REQUIRED):
            found.append((str(path), frozenset(chr(c) for c in codes if c < 0x250)))
    return tuple(found)


def _font_files(dirs: Iterable[Path]) -> Iterable[Path]:
    for directory in dirs:
        if directory.is_dir():
            yield from (p for p in directory.rglob("*") if p.suffix.lower() in FONT_SUFFIXES)
