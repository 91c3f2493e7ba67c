"""Finding the detector's ONNX file: a model name in the installed rapidocr wheel's
models folder, or a path.

The wheel is located with ``importlib.util.find_spec``, which does not run the
package: importing rapidocr would pull in its own heavy dependencies, and we use
nothing from it but the model file.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ocr_lstm.errors import UnavailableError

RAPIDOCR_REQUIREMENT = "rapidocr==3.10.0"
MODEL_SUFFIX = ".onnx"


def rapidocr_models_dir() -> Path | None:
    """The installed rapidocr package's ``models`` folder, or ``None`` without rapidocr."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def is_model_path(model: str) -> bool:
    """Whether ``model`` is a file path rather than the name of a bundled model."""
    return model.endswith(MODEL_SUFFIX) or "/" in model or "\\" in model


def locate_model(model: str) -> Path:
    """The ``.onnx`` file ``model`` names.

    A path that does not exist raises ``FileNotFoundError``; a name that the installed
    rapidocr lacks (or rapidocr itself missing) raises :class:`UnavailableError`.
    """
    if is_model_path(model):
        path = Path(model).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"detector model {path} does not exist")
        return path
    models_dir = rapidocr_models_dir()
    if models_dir is None:
        raise UnavailableError(
            f"the text detector's model {model!r} ships in the rapidocr wheel, which is not installed: "
            f"pip install {RAPIDOCR_REQUIREMENT}"
        )
    path = models_dir / f"{model}{MODEL_SUFFIX}"
    if not path.is_file():
        raise UnavailableError(
            f"the text detector's model {model!r} is not in {models_dir}: pip install {RAPIDOCR_REQUIREMENT}, "
            f"or give a path to an .onnx file"
        )
    return path
