"""The public entry point: images in, text with confidences out."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np

from ocr_lstm.charset import Charset
from ocr_lstm.checkpoint import DEFAULT_MODEL, Checkpoint, CheckpointInfo, checkpoint_from_info, read_checkpoint_info
from ocr_lstm.device import device_name
from ocr_lstm.elements import CharConfidence, Recognition
from ocr_lstm.model.config import output_frames
from ocr_lstm.preprocessing import (
    ImageInput,
    ImagePreparation,
    PreparedImage,
    PreprocessConfig,
    pad_batch,
    width_sorted_batches,
)
from ocr_lstm.recognition.decoding import CTCDecoder, CTCReading, most_confident_turn
from ocr_lstm.recognition.options import RecognizerOptions
from ocr_lstm.recognition.runtime.backend import Runner, build_runner, resolve_backend
from ocr_lstm.recognition.word_prior import WordPriorConfig

if TYPE_CHECKING:
    from ocr_lstm.model.crnn import CRNN


class Recognizer:
    """Reads cropped words with a CRNN checkpoint, in three parts: the image preparation
    (:class:`~ocr_lstm.preprocessing.ImagePreparation`), a runner for PyTorch or ONNX Runtime
    (:mod:`ocr_lstm.recognition.runtime`) and the :class:`~ocr_lstm.recognition.decoding.CTCDecoder`.

    ``model`` is a path, the name of a bundled model or a loaded :class:`Checkpoint`; the other
    arguments are the :class:`~ocr_lstm.recognition.options.RecognizerOptions`, whose fields document them, and
    a ``lexicon`` to read only its words. ``preparation``, ``runner`` and ``decoder`` replace the
    part the options would build, to measure or serve an alternative (a quantized model, another
    runtime) without touching the rest. Images are batched by width, ``batch_size`` per forward
    pass and, with ONNX Runtime, at most ``batch_columns`` padded columns; a tall crop is read as given and turned
    both ways in one pass, and the most confident reading wins.

    On the CPU with ONNX Runtime (the default there) the model is the checkpoint's cached
    export and torch is never imported; :attr:`checkpoint` and :attr:`model`, the PyTorch
    model, load on first use (``explain`` needs them).
    """

    def __init__(
        self,
        model: str | Path | Checkpoint = DEFAULT_MODEL,
        device: str = RecognizerOptions.device,
        batch_size: int = RecognizerOptions.batch_size,
        batch_columns: int = RecognizerOptions.batch_columns,
        threads: int | None = RecognizerOptions.threads,
        decoding: Literal["greedy", "beam"] = RecognizerOptions.decoding,
        beam_width: int = RecognizerOptions.beam_width,
        allowlist: str | None = RecognizerOptions.allowlist,
        lexicon: Sequence[str] | None = None,
        channels_last: bool = RecognizerOptions.channels_last,
        backend: Literal["auto", "torch", "onnx"] = RecognizerOptions.backend,
        word_prior: WordPriorConfig | bool | None = RecognizerOptions.word_prior,
        *,
        preparation: ImagePreparation | None = None,
        runner: Runner | None = None,
        decoder: CTCDecoder | None = None,
    ) -> None:
        self.options = RecognizerOptions(
            device=device, batch_size=batch_size, batch_columns=batch_columns, threads=threads, decoding=decoding,
            beam_width=beam_width, allowlist=allowlist, word_prior=word_prior, backend=backend,
            channels_last=channels_last,
        )
        self.device = device_name(device)
        self._checkpoint = model if isinstance(model, Checkpoint) else None
        self.info: CheckpointInfo = model.info() if isinstance(model, Checkpoint) else read_checkpoint_info(model)
        self.preparation = preparation or ImagePreparation(self.info.preprocess)
        # An attribute, not a property: the photo pipeline's LineReader protocol asks for one.
        self.preprocess: PreprocessConfig = self.preparation.config
        if runner is None and self._checkpoint is None and resolve_backend(backend, self.device) == "torch":
            # Loaded once, from the config read above: PyTorch's runner and :attr:`model` share it.
            self._checkpoint = checkpoint_from_info(self.info, self.device)
        self.runner = runner or build_runner(self.info, self.device, self.options, self._checkpoint)
        self.decoder = decoder or CTCDecoder.from_options(self.info.charset, self.options, lexicon)

    @classmethod
    def from_options(
        cls,
        model: str | Path | Checkpoint = DEFAULT_MODEL,
        options: RecognizerOptions | None = None,
        lexicon: Sequence[str] | None = None,
    ) -> Recognizer:
        """The recognizer of ``model`` with ``options`` (default: the defaults), for callers that hold them
        as one object: the command line and the service."""
        return cls(model, lexicon=lexicon, **(options or RecognizerOptions()).as_kwargs())

    @property
    def checkpoint(self) -> Checkpoint:
        """The PyTorch checkpoint, loaded on first use when the recognizer was given a path or a name."""
        if self._checkpoint is None:
            self._checkpoint = checkpoint_from_info(self.info, self.device)
        return self._checkpoint

    @cached_property
    def model(self) -> CRNN:
        """The checkpoint's CRNN on :attr:`device`, in eval mode and the memory layout the options ask for."""
        from ocr_lstm.recognition.runtime.torch_runner import inference_model

        return cast("CRNN", inference_model(self.checkpoint.model, self.device, self.options.channels_last))

    @property
    def name(self) -> str:
        return self.info.display_name

    @property
    def charset(self) -> Charset:
        return self.info.charset

    @property
    def backend(self) -> str:
        return self.runner.backend

    def prepare(self, image: ImageInput) -> PreparedImage:
        """Decode and resize one image; raises ImageDecodeError for unreadable input."""
        return self.preparation.prepare(image)

    def recognize(self, images: ImageInput | Sequence[ImageInput]) -> list[Recognition]:
        """Read one image or a list of them; one result per image, in order."""
        if not isinstance(images, (list, tuple)):
            images = [cast(ImageInput, images)]  # a path (a str) or bytes is one image
        return self.recognize_prepared([self.prepare(image) for image in images])

    def recognize_prepared(self, prepared: Sequence[PreparedImage]) -> list[Recognition]:
        """Read images already through :meth:`prepare`; one result per image, in order."""
        return [self.recognition(frames) for frames in self.image_log_probs([item.crops for item in prepared])]

    def recognition(self, frames: Sequence[np.ndarray]) -> Recognition:
        """One image's reading from its crops' frames (:meth:`image_log_probs`): each crop decoded, and the
        most confident reading kept (a tall crop's three turns)."""
        readings = [self.decoder.decode(log_probs) for log_probs in frames]
        return _to_recognition(readings[most_confident_turn(readings)])

    def decode_crops(self, crops: Sequence[np.ndarray]) -> list[CTCReading]:
        """Decode already resized crops, each on its own (a tall one is not turned), batched by width."""
        return [self.decoder.decode(log_probs) for log_probs in self.frame_log_probs(crops)]

    def frame_log_probs(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each resized crop's (T, C) per-frame log-probabilities, ``batch_size`` crops per pass, by width."""
        return [frames for (frames,) in self.image_log_probs([(crop,) for crop in crops])]

    def image_log_probs(self, images: Sequence[Sequence[np.ndarray]]) -> list[list[np.ndarray]]:
        """Per image, each of its resized crops' (T, C) log-probabilities: the one model call that word images
        and a photo's lines share. Images are sorted by their widest crop and run ``batch_size`` at a time,
        all crops of an image in one pass padded to its widest."""
        out: list[list[np.ndarray]] = [[] for _ in images]
        widest = [max(crop.shape[1] for crop in crops) for crops in images]
        # ONNX Runtime's arena keeps the memory of the largest batch it ran; PyTorch frees it but
        # runs small batches 2-3x slower, so the column cap is ONNX Runtime's alone.
        columns = self.options.batch_columns if self.runner.backend == "onnx" else None
        for batch in width_sorted_batches(widest, self.options.batch_size, columns):
            owners = [i for i in batch for _ in images[i]]
            padded, widths = pad_batch([crop for i in batch for crop in images[i]])
            log_probs = self.runner(padded, widths)
            for position, (owner, length) in enumerate(zip(owners, output_frames(widths).tolist())):
                out[owner].append(log_probs[:length, position])
        return out

    def describe(self) -> dict[str, Any]:
        """What is loaded: for ``GET /v1/model`` and ``--help`` style reports."""
        return {
            "name": self.name,
            "charset": self.charset.symbols,
            "input_height": self.preprocess.height,
            "parameters": self.info.parameters,
            "architecture": self.info.model_config.to_dict(),
            "device": self.device,
            "metadata": self.info.metadata,
            "figures": self.info.recorded_figures,
        }


def _to_recognition(decoded: CTCReading) -> Recognition:
    chars = [CharConfidence(c, p) for c, p in zip(decoded.text, decoded.char_confidences)]
    return Recognition(decoded.text, decoded.confidence, chars)
