"""The public entry point: images in, text with confidences out."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import torch

from ocr_lstm.checkpoint import DEFAULT_MODEL, Checkpoint, load_checkpoint
from ocr_lstm.decoding import CTCDecoder, Decoded
from ocr_lstm.device import configure_threads, select_device
from ocr_lstm.elements import CharConfidence, Recognition
from ocr_lstm.preprocessing import (
    ImageInput,
    is_vertical,
    load_image,
    resize_to_height,
    to_grayscale,
    to_tensor,
    width_sorted_batches,
)
from ocr_lstm.word_prior import WordPriorConfig, english_word_prior

if TYPE_CHECKING:
    from ocr_lstm.export import OnnxRunner


@dataclass(frozen=True)
class PreparedImage:
    """A decoded image as model-ready crops: one, or two rotations for a vertical crop."""

    crops: tuple[np.ndarray, ...]


def resolve_backend(backend: str, device: torch.device) -> Literal["torch", "onnx"]:
    """``auto`` is ONNX Runtime on the CPU, which reads like PyTorch at 1.25x its batched
    speed and half its batch-1 latency (docs/performance.md), and PyTorch on a GPU."""
    if backend == "auto":
        return "onnx" if device.type == "cpu" and importlib.util.find_spec("onnxruntime") else "torch"
    if backend not in ("torch", "onnx"):
        raise ValueError(f"unknown backend {backend!r}; choose auto, torch or onnx")
    return backend  # type: ignore[return-value]


class Recognizer:
    """Reads cropped words with a CRNN checkpoint.

    ``model`` is a path or the name of a bundled model. Crops are batched by
    width; tall crops (rotated words, or single upright letters) are read as given
    and turned both ways, and the most confident reading wins. ``word_prior``
    settles close calls in favour of frequent English words
    (:mod:`ocr_lstm.word_prior`; ``True`` for its defaults or a ``WordPriorConfig``);
    ``False`` or ``None`` reads what the model reads, and a
    ``lexicon`` replaces it.
    """

    def __init__(
        self,
        model: str | Path | Checkpoint = DEFAULT_MODEL,
        device: str = "auto",
        batch_size: int = 32,
        threads: int | None = None,
        decoding: Literal["greedy", "beam"] = "greedy",
        beam_width: int = 10,
        allowlist: str | None = None,
        lexicon: Sequence[str] | None = None,
        channels_last: bool = True,
        backend: Literal["auto", "torch", "onnx"] = "auto",
        word_prior: WordPriorConfig | bool | None = True,
    ) -> None:
        configure_threads(threads)
        self.device = select_device(device)
        self.checkpoint = model if isinstance(model, Checkpoint) else load_checkpoint(model, self.device)
        self.model = self.checkpoint.model.to(self.device).eval()
        self.backend = resolve_backend(backend, self.device)
        self.onnx: OnnxRunner | None = None
        if self.backend == "onnx":
            from ocr_lstm.export import OnnxRunner

            self.onnx = OnnxRunner.from_model(self.checkpoint, threads)
        self.channels_last = channels_last
        if channels_last:
            # +10-30% batched CPU inference measured for this CNN (docs/performance.md).
            self.model = self.model.to(memory_format=torch.channels_last)
        self.preprocess = self.checkpoint.preprocess
        self.charset = self.checkpoint.charset
        self.batch_size = batch_size
        self.decoder = CTCDecoder(
            self.charset, decoding, beam_width, allowlist, lexicon,
            word_prior=english_word_prior(self.charset, WordPriorConfig() if word_prior is True else word_prior)
            if word_prior
            else None,
        )

    @property
    def name(self) -> str:
        return self.checkpoint.name

    def prepare(self, image: ImageInput) -> PreparedImage:
        """Decode and resize one image; raises ImageDecodeError for unreadable input."""
        gray = to_grayscale(load_image(image, self.preprocess.max_pixels))
        if is_vertical(gray, self.preprocess.vertical_ratio):
            # A tall crop is a rotated word or a single upright letter ("I", "1"): read it
            # as given and turned both ways, and keep the most confident reading.
            turns = (gray, np.rot90(gray, 1), np.rot90(gray, -1))
            return PreparedImage(tuple(resize_to_height(np.ascontiguousarray(t), self.preprocess) for t in turns))
        return PreparedImage((resize_to_height(gray, self.preprocess),))

    def recognize(self, images: ImageInput | Sequence[ImageInput]) -> list[Recognition]:
        """Read one image or a list of them; one result per image, in order."""
        if not isinstance(images, (list, tuple)):
            images = [cast(ImageInput, images)]  # a path (a str) or bytes is one image
        return self.recognize_prepared([self.prepare(image) for image in images])

    def recognize_prepared(self, prepared: Sequence[PreparedImage]) -> list[Recognition]:
        crops = [crop for item in prepared for crop in item.crops]
        decoded = self.decode_crops(crops)
        results, position = [], 0
        for item in prepared:
            options = decoded[position : position + len(item.crops)]
            position += len(item.crops)
            best = max(options, key=lambda d: d.confidence)
            results.append(_to_recognition(best))
        return results

    def decode_crops(self, crops: Sequence[np.ndarray]) -> list[Decoded]:
        """Decode already resized crops, batched by width."""
        return [self.decoder.decode(log_probs) for log_probs in self.frame_log_probs(crops)]

    @torch.inference_mode()
    def frame_log_probs(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each resized crop's (T, C) per-frame log-probabilities, batched by width."""
        out: list[np.ndarray | None] = [None] * len(crops)
        for batch in width_sorted_batches([c.shape[1] for c in crops], self.batch_size):
            images, widths = to_tensor([crops[i] for i in batch])
            if self.onnx is not None:
                log_probs = self.onnx(images.numpy(), widths.numpy())
            else:
                images = images.to(self.device)
                if self.channels_last:
                    images = images.contiguous(memory_format=torch.channels_last)
                log_probs = self.model(images, widths.to(self.device)).cpu().numpy()
            lengths = self.model.output_lengths(widths).tolist()
            for position, (i, length) in enumerate(zip(batch, lengths)):
                out[i] = log_probs[:length, position]
        return [lp for lp in out if lp is not None]

    def describe(self) -> dict[str, Any]:
        """What is loaded: for ``GET /v1/model`` and ``--help`` style reports."""
        return {
            "name": self.name,
            "charset": self.charset.symbols,
            "input_height": self.preprocess.height,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "architecture": self.model.config.to_dict(),
            "device": str(self.device),
            "metadata": self.checkpoint.metadata,
        }


def _to_recognition(decoded: Decoded) -> Recognition:
    chars = [CharConfidence(c, p) for c, p in zip(decoded.text, decoded.char_confidences)]
    return Recognition(decoded.text, decoded.confidence, chars)
