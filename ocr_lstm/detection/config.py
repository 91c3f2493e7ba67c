"""Settings of the DB text detector: its model, the size it sees a photo at, and the
thresholds that turn its probability map into boxes."""

from __future__ import annotations

from dataclasses import dataclass

# The network halves the resolution five times; its input sides must be multiples of this.
STRIDE = 32


@dataclass(frozen=True)
class DetectorConfig:
    # A model in the rapidocr package's models folder (rapidocr==3.10.0 ships this one,
    # PaddleOCR's PP-OCRv6 small DB detector, Apache-2.0), or a path to an .onnx file.
    model: str = "PP-OCRv6_det_small"
    # Photos are scaled so the longer side is at most this: time grows with the pixel
    # count. Small text is most of what incidental photos hold: on ic15_scenes (1280 x 720)
    # 1344 found and read far more words than 960 (end-to-end F 41.2 against 38.6, detection
    # F 65.7 against 60.9) for 1.9 times the detection time, and 1920 (scaling up) no more
    # than 1344 for 2.3 times as long again (docs/photos.md).
    max_side: int = 1344
    # Small photos are scaled up until the shorter side reaches this (never past
    # max_side), so small text still spans enough of the network's stride-4 features.
    # 736 is rapidocr's limit_side_len, so we never scale up more than rapidocr does;
    # 0 turns scaling up off.
    min_side: int = 736
    # A map pixel is text when its probability exceeds this (DB's "thresh").
    binary_threshold: float = 0.3
    # A box is kept when the mean probability inside it reaches this (DB's "box_thresh").
    box_threshold: float = 0.5
    # DB's map marks a shrunk core of each line; the box is grown by
    # area * unclip_ratio / perimeter to cover the whole line (1.6 as rapidocr; 2.0 in DB's paper).
    unclip_ratio: float = 1.6
    # Boxes whose shorter side is below this many map pixels are noise (DB's min_size).
    min_box_size: float = 3
    # At most this many connected regions of the map become boxes (DB's max_candidates).
    max_candidates: int = 1000
    # Dilate the binary map by 2 x 2 before finding regions: joins characters with thin
    # gaps but also merges close lines. rapidocr's config turns it on, DB's default is off.
    dilate: bool = False

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("model must name a detector model or an .onnx path")
        if self.max_side < STRIDE:
            raise ValueError(f"max_side must be at least {STRIDE} (the network's stride), got {self.max_side}")
        if self.min_side < 0:
            raise ValueError(f"min_side must be at least 0, got {self.min_side}")
        if not 0 < self.binary_threshold < 1:
            raise ValueError(f"binary_threshold must be in (0, 1), got {self.binary_threshold}")
        if not 0 <= self.box_threshold <= 1:
            raise ValueError(f"box_threshold must be in [0, 1], got {self.box_threshold}")
        if self.unclip_ratio <= 0:
            raise ValueError(f"unclip_ratio must be positive, got {self.unclip_ratio}")
        if self.min_box_size < 0:
            raise ValueError(f"min_box_size must be at least 0, got {self.min_box_size}")
        if self.max_candidates < 1:
            raise ValueError(f"max_candidates must be at least 1, got {self.max_candidates}")
