"""The library's face: what callers need is importable from ocr_lstm, ocr_lstm.predictors and ocr_lstm.io,
and importing them loads neither torch nor ONNX Runtime (those come when a runner or a detector is built)."""

from __future__ import annotations

import subprocess
import sys

import ocr_lstm.io
import ocr_lstm.predictors


def test_every_name_a_face_lists_is_there() -> None:
    for face in (ocr_lstm.predictors, ocr_lstm.io):
        for name in face.__all__:
            assert getattr(face, name) is not None, f"{face.__name__}.{name}"
    assert ocr_lstm.OCR is ocr_lstm.predictors.OCR and ocr_lstm.Page is ocr_lstm.io.Page


def test_importing_the_faces_loads_neither_torch_nor_onnx_runtime() -> None:
    code = (
        "import sys, ocr_lstm.predictors, ocr_lstm.io\n"
        "print(sorted(m for m in ('torch', 'onnxruntime') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
