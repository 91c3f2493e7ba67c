"""How the photo pipeline cuts, turns, reads and keeps lines and words (:class:`OCRConfig`).

Kept apart from the pipeline so that the command line can show the defaults in its
``--help`` without loading OpenCV or a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class LayoutConfig:
    """How lines are grouped into blocks (:func:`ocr_lstm.photo.page.arrange`)."""

    max_gap: float = 0.8  # vertical gap between two lines of a block, in line heights
    max_height_ratio: float = 1.6  # taller line over shorter line within a block
    row_tolerance: float = 0.5  # tops of blocks in one row differ by at most this many line heights


@dataclass(frozen=True)
class OCRConfig:
    """How lines are cut and read; the detector and recognizer have their own settings."""

    # A line is read at the model height and up to this width (wider ones are squeezed):
    # 2048 pixels hold some 120 characters at 32 px high.
    line_max_width: int = 2048
    # A wide line is read turned when the orientation classifier gives upside down more than this.
    upside_down_above: float = 0.9
    # A line is tall (read a quarter turn either way) when its height exceeds this many widths.
    vertical_ratio: float = 1.5
    # A word's polygon spans this share of its line's height, centred: the detector's
    # line boxes are grown past the ink (unclip_ratio) so that the cut keeps a margin.
    word_height: float = 0.85
    # Words read with a lower confidence are left out of the page (0 keeps every word), and
    # words of one or two characters (a stray glyph, a UI mark, a piece of a badly split
    # word) need short_word_confidence: chosen on ic15_scenes (docs/photos.md).
    min_confidence: float = 0.3
    short_word_confidence: float = 0.97
    # Photos of more pixels than this are refused before decoding (decompression bombs; PIL's
    # own guard stops at 179 Mpx). 120 Mpx holds any phone photo (8000 x 6000 is 48 Mpx).
    max_photo_pixels: int = 120_000_000
    # A larger photo is read at this many pixels (polygons still in its own): JPEGs are decoded
    # smaller straight away. 16 Mpx keeps small text legible; detection sees far fewer anyway.
    read_pixels: int = 16_000_000
    layout: LayoutConfig = field(default_factory=LayoutConfig)

    def __post_init__(self) -> None:
        if self.line_max_width < 16:
            raise ValueError(f"line_max_width must be at least 16 pixels, got {self.line_max_width}")
        if not 0.0 <= self.upside_down_above <= 1.0:
            raise ValueError(f"upside_down_above is a probability in [0, 1], got {self.upside_down_above}")
        if not 0.0 < self.word_height <= 1.0:
            raise ValueError(f"word_height is a share of the line's height in (0, 1], got {self.word_height}")
        if not 0.0 <= self.min_confidence <= 1.0 or not 0.0 <= self.short_word_confidence <= 1.0:
            raise ValueError("min_confidence and short_word_confidence are probabilities in [0, 1]")
        if not 0 < self.read_pixels <= self.max_photo_pixels:
            raise ValueError(f"read_pixels must be in (0, max_photo_pixels={self.max_photo_pixels}], "
                             f"got {self.read_pixels}")


def confidence_floor(config: OCRConfig, min_confidence: float) -> OCRConfig:
    """``config`` keeping words of at least ``min_confidence``; 0 keeps every word, the short ones too."""
    short = 0.0 if min_confidence == 0 else config.short_word_confidence
    return replace(config, min_confidence=min_confidence, short_word_confidence=short)
