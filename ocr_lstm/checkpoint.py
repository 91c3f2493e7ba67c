"""Checkpoints: safetensors weights beside a JSON config. Loading never unpickles.

A checkpoint ``NAME`` is two files, ``NAME.safetensors`` and ``NAME.json``; the
JSON holds the format version, the architecture, the charset, the preprocessing
and free-form training metadata, so the vocabulary always travels with the weights.

``format_version`` changes only when an older ocr-lstm could not read the file:
keys added with defaults keep it, since readers ignore keys they do not know. A
reader refuses a newer format with the release it needs (``requires_ocr_lstm``).

Reading what a checkpoint holds (:func:`read_checkpoint_info`) needs only the JSON and
the safetensors header; torch is imported by the functions that build or save a model,
so serving a checkpoint with ONNX Runtime never loads it.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError, safe_open

from ocr_lstm import __version__
from ocr_lstm.charset import Charset
from ocr_lstm.model.config import CRNNConfig

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ocr_lstm.model.crnn import CRNN
    from ocr_lstm.preprocessing import PreprocessConfig

BUNDLED_DIR = Path(__file__).parent / "weights"
RUN_CHECKPOINTS = ("best", "last")  # what a training run names the checkpoints in its folder
DEFAULT_MODEL = "default"
FORMAT_VERSION = 1
FORMAT_SINCE = "0.1.0"  # the first ocr-lstm that reads FORMAT_VERSION


@dataclass(frozen=True)
class Architecture:
    """How a checkpoint's ``architecture`` name becomes a model: its config, read from the JSON's
    ``model`` object (the config's ``to_dict`` writes it), and the module built from that config,
    named as ``package.module:Class`` and imported (with torch) only when a model is built."""

    config_from_dict: Callable[[dict[str, Any]], Any]
    module_path: str

    @property
    def module(self) -> type[nn.Module]:
        module_name, _, class_name = self.module_path.partition(":")
        module: type[nn.Module] = getattr(importlib.import_module(module_name), class_name)
        return module


# Each architecture a checkpoint can hold, by the name its JSON gives it.
ARCHITECTURES: Mapping[str, Architecture] = MappingProxyType({
    "crnn": Architecture(CRNNConfig.from_dict, "ocr_lstm.model.crnn:CRNN"),
})


@dataclass
class Checkpoint:
    """Everything needed to rebuild a trained recognizer."""

    model: CRNN
    charset: Charset
    preprocess: PreprocessConfig
    metadata: dict[str, Any] = field(default_factory=dict)
    name: str = "model"

    def info(self) -> CheckpointInfo:
        """What this in-memory checkpoint holds, as :func:`read_checkpoint_info` tells it of a file."""
        return CheckpointInfo(
            name=self.name,
            architecture=architecture_name(self.model),
            model_config=self.model.config,
            charset=self.charset,
            preprocess=self.preprocess,
            metadata=self.metadata,
            parameters=sum(p.numel() for p in self.model.parameters()),
        )


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint holds, read from its JSON and the safetensors header without building the
    model: enough to read crops with an exported copy (:mod:`ocr_lstm.recognition.runtime.onnx_cache`).
    ``weights_path`` is None for a checkpoint that lives only in memory."""

    name: str
    architecture: str
    model_config: CRNNConfig
    charset: Charset
    preprocess: PreprocessConfig
    metadata: dict[str, Any]
    parameters: int
    weights_path: Path | None = None

    @property
    def display_name(self) -> str:
        """The name to show: the file's, with its run folder's where the file is a run's ``best``
        or ``last`` (``plates/best``), which alone would not say which model it is."""
        if self.weights_path is not None and self.weights_path.stem in RUN_CHECKPOINTS:
            return f"{self.weights_path.parent.name}/{self.weights_path.stem}"
        return self.name

    @property
    def recorded_figures(self) -> dict[str, Any]:
        """What the model's own checkpoint says it scored: ``evaluation`` (benchmarks run on the
        finished model, the bundled one's) and ``validation`` (the trainer's, at the saved step)."""
        return {key: self.metadata[key] for key in ("evaluation", "validation")
                if isinstance(self.metadata.get(key), dict)}


def weights_file(path: str | Path) -> Path:
    """The weights file a checkpoint path names: ``runs/x/best``, ``best.safetensors`` and ``best.json``
    name ``best.safetensors``; a name with a dot of its own keeps it (``model_v1.5``)."""
    path = Path(path)
    if path.suffix in (".safetensors", ".json"):
        return path.with_suffix(".safetensors")
    return path.with_name(path.name + ".safetensors")


def resolve(path_or_name: str | Path) -> Path:
    """The weights file for a path (with or without suffix), a training run's folder (its ``best``
    checkpoint) or a bundled model's name."""
    path = Path(path_or_name)
    candidates = [path, weights_file(path), path / "model.safetensors", path / "best.safetensors"]
    if not path.suffix and "/" not in str(path_or_name):
        candidates.append(BUNDLED_DIR / f"{path_or_name}.safetensors")
    for candidate in candidates:
        if candidate.is_file() and candidate.suffix == ".safetensors":
            return candidate
    bundled = sorted(p.stem for p in BUNDLED_DIR.glob("*.safetensors"))
    raise FileNotFoundError(f"no checkpoint at {path_or_name!r} (bundled models: {', '.join(bundled) or 'none'})")


def save_checkpoint(
    path: str | Path,
    model: CRNN,
    charset: Charset,
    preprocess: PreprocessConfig,
    metadata: dict[str, Any] | None = None,
    half: bool = False,
) -> Path:
    """Write ``path``.safetensors and ``path``.json; ``half`` stores fp16 weights."""
    from safetensors.torch import save_file

    weights_path = weights_file(path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    config = {
        "format_version": FORMAT_VERSION,
        "requires_ocr_lstm": FORMAT_SINCE,
        "architecture": architecture_name(model),
        "model": model.config.to_dict(),
        "charset": charset.to_dict(),
        "preprocess": asdict(preprocess),
        "metadata": metadata or {},
    }
    tmp = weights_path.with_suffix(".safetensors.tmp")
    save_file(state, str(tmp))
    tmp.replace(weights_path)
    weights_path.with_suffix(".json").write_text(
        json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return weights_path


def copy_checkpoint(source: str | Path, target: str | Path) -> Path:
    """``source``'s checkpoint under the name ``target`` without serialising its weights again: the weights
    file hard-linked where the file system allows, else copied (``save_checkpoint`` replaces a weights file
    and never writes into it, so a link keeps the weights it was made with); the JSON, rewritten in place
    by ``save_checkpoint``, is copied."""
    source_weights, target_weights = weights_file(source), weights_file(target)
    tmp = target_weights.with_suffix(".safetensors.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source_weights, tmp)
    except OSError:
        shutil.copyfile(source_weights, tmp)
    tmp.replace(target_weights)
    shutil.copyfile(source_weights.with_suffix(".json"), target_weights.with_suffix(".json"))
    return target_weights


def architecture_name(model: nn.Module) -> str:
    """The name under which :data:`ARCHITECTURES` builds ``model``'s kind."""
    for name, architecture in ARCHITECTURES.items():
        if isinstance(model, architecture.module):
            return name
    raise ValueError(f"no checkpoint architecture for a {type(model).__name__} (known: {', '.join(ARCHITECTURES)})")


def read_config(path_or_name: str | Path) -> dict[str, Any]:
    """The JSON config of a checkpoint; a missing or unreadable one is a one-line error naming the file."""
    config_path = resolve(path_or_name).with_suffix(".json")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{config_path} is missing: a checkpoint is NAME.safetensors with NAME.json beside it"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{config_path} is not valid JSON ({exc})") from None
    if not isinstance(config, dict):  # a bad file, not a bad argument: ValueError, as for bad JSON
        raise ValueError(f"{config_path} is not a checkpoint config (a JSON object)")  # noqa: TRY004
    return config


def _parse_config(
    config: dict, config_path: Path, **model_overrides: Any
) -> tuple[CRNNConfig, Charset, PreprocessConfig]:
    """Architecture, charset and preprocessing of a checkpoint config; one ``ValueError`` for any flaw."""
    from ocr_lstm.preprocessing import PreprocessConfig  # with OpenCV: not for a command's --help

    _check_format(config, config_path)
    name = config.get("architecture")
    architecture = ARCHITECTURES.get(name) if isinstance(name, str) else None
    if architecture is None:
        raise ValueError(f"unsupported architecture {name!r} in {config_path} (known: {', '.join(ARCHITECTURES)})")
    try:
        return (
            architecture.config_from_dict({**config["model"], **model_overrides}),
            Charset.from_dict(config["charset"]),
            PreprocessConfig.from_dict(config["preprocess"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise ValueError(f"{config_path} is not a valid checkpoint config ({reason})") from None


def _check_format(config: dict[str, Any], config_path: Path) -> None:
    """Refuse a checkpoint written in a newer format than this ocr-lstm reads, naming the release it needs.

    A config without ``format_version`` is read as format 1, the format of every checkpoint so far.
    """
    version = config.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{config_path} has format_version {version!r}; expected a whole number from 1")
    if version > FORMAT_VERSION:
        needs = config.get("requires_ocr_lstm")
        requirement = f"ocr-lstm >= {needs}" if isinstance(needs, str) and needs else "a newer ocr-lstm"
        raise ValueError(
            f"{config_path} is checkpoint format {version}, newer than the format {FORMAT_VERSION} that "
            f"ocr-lstm {__version__} reads: this checkpoint needs {requirement}"
        )


def check_checkpoint(path_or_name: str | Path) -> Path:
    """The weights file, once its config and the safetensors header are known to load.

    Reads only the JSON and the weights' header, never the model: for callers that
    must fail early with one line, such as ``ocr-lstm serve`` before uvicorn starts
    (inside the server's start-up the same error would be a traceback).
    """
    weights_path = read_checkpoint_info(path_or_name).weights_path
    assert weights_path is not None  # read from a file
    return weights_path


def read_checkpoint_info(path_or_name: str | Path = DEFAULT_MODEL, **model_overrides: Any) -> CheckpointInfo:
    """What the checkpoint at ``path_or_name`` holds, from its config and weights header; one
    ``ValueError`` (or ``FileNotFoundError``) line for any flaw."""
    weights_path = resolve(path_or_name)
    config = read_config(weights_path)
    model_config, charset, preprocess = _parse_config(config, weights_path.with_suffix(".json"), **model_overrides)
    try:
        with safe_open(str(weights_path), framework="numpy") as weights:
            parameters = sum(
                math.prod(weights.get_slice(key).get_shape()) for key in weights.keys() if not _is_statistic(key)  # noqa: SIM118
            )
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{weights_path} is not a readable safetensors file ({exc})") from None
    return CheckpointInfo(
        name=weights_path.stem,
        weights_path=weights_path,
        architecture=config["architecture"],
        model_config=model_config,
        charset=charset,
        preprocess=preprocess,
        metadata=config.get("metadata", {}),
        parameters=parameters,
    )


def _is_statistic(key: str) -> bool:
    """Whether a state key is a normalisation layer's running statistic, stored but not trained."""
    return key.rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked")


def load_checkpoint(
    path_or_name: str | Path = DEFAULT_MODEL, device: str | torch.device = "cpu", **model_overrides: Any
) -> Checkpoint:
    """Rebuild the model from a checkpoint, weights upcast to fp32 on ``device``."""
    return checkpoint_from_info(read_checkpoint_info(path_or_name, **model_overrides), device)


def checkpoint_from_info(
    info: CheckpointInfo, device: str | torch.device = "cpu", weights: bytes | None = None
) -> Checkpoint:
    """The model of the checkpoint file ``info`` describes, its config already read and checked, weights
    upcast to fp32 on ``device``; ``weights``: the file's bytes when the caller holds them already (the
    ONNX cache hashes them), so the file is not read again."""
    from safetensors.torch import load, load_file

    if info.weights_path is None:
        raise ValueError("only a checkpoint read from a file can be loaded from its description")
    tensors = load(weights) if weights is not None else load_file(str(info.weights_path))
    model = ARCHITECTURES[info.architecture].module(info.model_config)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in tensors.items()})
    model.to(device).eval()
    return Checkpoint(
        model=model,  # type: ignore[arg-type]  # the registry's module for a "crnn" checkpoint
        charset=info.charset,
        preprocess=info.preprocess,
        metadata=info.metadata,
        name=info.name,
    )


def transfer_weights(source: CRNN, source_charset: Charset, target: CRNN, target_charset: Charset) -> int:
    """Copy every weight of ``source`` into ``target``; head rows are matched by symbol.

    Fine-tuning onto a new charset therefore keeps the whole network and the
    output rows of shared symbols; only rows of new symbols start fresh.
    Returns the number of head rows carried over.
    """
    import torch

    state = {k: v for k, v in source.state_dict().items() if not k.startswith("head.")}
    target.load_state_dict(state, strict=False)
    old_rows = {c: i + 1 for i, c in enumerate(source_charset.symbols)}
    with torch.no_grad():
        target.head.weight[0] = source.head.weight[0]
        target.head.bias[0] = source.head.bias[0]
        carried = 0
        for j, char in enumerate(target_charset.symbols, start=1):
            if char in old_rows:
                target.head.weight[j] = source.head.weight[old_rows[char]]
                target.head.bias[j] = source.head.bias[old_rows[char]]
                carried += 1
    return carried


def with_charset(checkpoint: Checkpoint, charset: Charset) -> Checkpoint:
    """``checkpoint`` reading ``charset`` (a fine-tune's start): a fresh head of its size, every other
    weight and the rows of shared symbols carried over; the preprocessing and the name are kept."""
    from ocr_lstm.model.crnn import CRNN

    model_config = {**checkpoint.model.config.to_dict(), "num_classes": charset.num_classes}
    model = CRNN(CRNNConfig.from_dict(model_config))
    transfer_weights(checkpoint.model, checkpoint.charset, model, charset)
    return Checkpoint(model, charset, checkpoint.preprocess, dict(checkpoint.metadata), checkpoint.name)
