"""Architecture hyper-parameters, stored with every checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import numpy as np

# The CNN halves the width twice: one output frame per 4 input columns. Crop widths are
# rounded to a multiple of it (ocr_lstm.preprocessing), frame counts divide by it.
WIDTH_STRIDE = 4


@dataclass(frozen=True)
class CRNNConfig:
    """A CRNN: CNN feature extractor, 2-layer BiLSTM, linear CTC head.

    ``cnn_channels`` lists the output channels of the six 3x3 convolutions; the
    height is pooled 32 -> 2 and the width by 4, so each output frame looks at a
    4-pixel column slice of the input (with a wider receptive field).
    """

    num_classes: int
    cnn_channels: tuple[int, ...] = (32, 64, 96, 96, 128, 128)
    lstm_hidden: int = 128
    lstm_layers: int = 2
    dropout: float = 0.1
    # "torch" runs torch.nn.LSTM (cuDNN on a GPU); "gates" runs the four-gate
    # LSTM of ocr_lstm.model.gate_lstm with the same weights, for explanation.
    lstm_impl: Literal["torch", "gates"] = "torch"
    input_height: int = 32

    def __post_init__(self) -> None:
        if len(self.cnn_channels) != 6:
            raise ValueError("cnn_channels must list six convolutions")
        if self.input_height != 32:
            raise ValueError("the CNN is built for an input height of 32")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cnn_channels"] = list(self.cnn_channels)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CRNNConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "cnn_channels" in values:
            values["cnn_channels"] = tuple(values["cnn_channels"])
        return cls(**values)


# Sizes by where they train: "tiny" and "small" train on a CPU, "base" wants a GPU.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"cnn_channels": (16, 32, 64, 64, 96, 96), "lstm_hidden": 96},
    "small": {"cnn_channels": (32, 64, 96, 96, 128, 128), "lstm_hidden": 128},
    "base": {"cnn_channels": (64, 128, 256, 256, 384, 384), "lstm_hidden": 256},
}


def preset(name: str, num_classes: int, **overrides: Any) -> CRNNConfig:
    """The named size with ``overrides`` applied."""
    if name not in PRESETS:
        raise ValueError(f"unknown model size {name!r}; choose from {sorted(PRESETS)}")
    values: dict[str, Any] = {**PRESETS[name], **overrides}
    return CRNNConfig(num_classes=num_classes, **values)


def size_name(config: CRNNConfig) -> str:
    """The preset ``config`` is built to (its layer sizes), or "custom": what a fine-tune of it records."""
    for name, sizes in PRESETS.items():
        if all(getattr(config, key) == value for key, value in sizes.items()):
            return name
    return "custom"




def output_frames(widths: Sequence[int] | np.ndarray) -> np.ndarray:
    """Valid output frames of crops of these widths, one per ``WIDTH_STRIDE`` columns and at
    least one: ``CRNN.output_lengths`` in numpy, for runtimes without torch."""
    return np.maximum(np.asarray(widths, dtype=np.int64) // WIDTH_STRIDE, 1)
