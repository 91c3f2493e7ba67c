"""Checkpoints: safetensors weights beside a JSON config. Loading never unpickles.

A checkpoint ``NAME`` is two files, ``NAME.safetensors`` and ``NAME.json``; the
JSON holds the architecture, the charset, the preprocessing and free-form
training metadata, so the vocabulary always travels with the weights.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ocr_lstm.charset import Charset
from ocr_lstm.model.config import CRNNConfig
from ocr_lstm.model.crnn import CRNN
from ocr_lstm.preprocessing import PreprocessConfig

BUNDLED_DIR = Path(__file__).parent / "weights"
DEFAULT_MODEL = "default"
FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    """Everything needed to rebuild a trained recognizer."""

    model: CRNN
    charset: Charset
    preprocess: PreprocessConfig
    metadata: dict[str, Any] = field(default_factory=dict)
    name: str = "model"


def resolve(path_or_name: str | Path) -> Path:
    """The weights file for a path (with or without suffix) or a bundled model's name."""
    path = Path(path_or_name)
    candidates = [path, path.with_suffix(".safetensors"), path / "model.safetensors"]
    if path.suffix == ".json":
        candidates.insert(0, path.with_suffix(".safetensors"))
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
    weights_path = Path(path).with_suffix(".safetensors")
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    config = {
        "format_version": FORMAT_VERSION,
        "architecture": "crnn",
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


def parse_config(
    config: dict, config_path: Path, **model_overrides: Any
) -> tuple[CRNNConfig, Charset, PreprocessConfig]:
    """Architecture, charset and preprocessing of a checkpoint config; one ``ValueError`` for any flaw."""
    if config.get("architecture") != "crnn":
        raise ValueError(f"unsupported architecture {config.get('architecture')!r} in {config_path}")
    try:
        return (
            CRNNConfig.from_dict({**config["model"], **model_overrides}),
            Charset.from_dict(config["charset"]),
            PreprocessConfig.from_dict(config["preprocess"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise ValueError(f"{config_path} is not a valid checkpoint config ({reason})") from None


def check_checkpoint(path_or_name: str | Path) -> Path:
    """The weights file, once its config and the safetensors header are known to load.

    Reads only the JSON and the weights' header, never the model: for callers that
    must fail early with one line, such as ``ocr-lstm serve`` before uvicorn starts
    (inside the server's start-up the same error would be a traceback).
    """
    weights_path = resolve(path_or_name)
    parse_config(read_config(weights_path), weights_path.with_suffix(".json"))
    try:
        with safe_open(str(weights_path), framework="pt") as weights:
            weights.keys()
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{weights_path} is not a readable safetensors file ({exc})") from None
    return weights_path


def load_checkpoint(
    path_or_name: str | Path = DEFAULT_MODEL, device: str | torch.device = "cpu", **model_overrides: Any
) -> Checkpoint:
    """Rebuild the model from a checkpoint, weights upcast to fp32 on ``device``."""
    weights_path = resolve(path_or_name)
    config = read_config(weights_path)
    model_config, charset, preprocess = parse_config(config, weights_path.with_suffix(".json"), **model_overrides)
    model = CRNN(model_config)
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(weights_path)).items()}
    model.load_state_dict(state)
    model.to(device).eval()
    return Checkpoint(
        model=model,
        charset=charset,
        preprocess=preprocess,
        metadata=config.get("metadata", {}),
        name=weights_path.stem,
    )
