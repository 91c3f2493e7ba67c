"""explain_image: the recognizer's reading, the last layer's gates and their JSON numbers (the picture:
tests/ocr_lstm/viz/test_explain_picture.py)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from word_images import render_word

from ocr_lstm.checkpoint import load_checkpoint
from ocr_lstm.model.gate_lstm import GateLSTM
from ocr_lstm.preprocessing import ImageDecodeError, load_image, resize_to_height, to_grayscale, to_tensor
from ocr_lstm.recognition.explain import TOP_UNITS, TURNS, Explanation, explain_image, explain_prepared
from ocr_lstm.recognition.recognizer import Recognizer


@pytest.fixture(scope="module")
def recognizer(tiny_model_path: Path) -> Recognizer:
    return Recognizer(tiny_model_path, device="cpu", threads=1)


@pytest.fixture()
def explanation(recognizer: Recognizer, word_png: Path) -> Explanation:
    return explain_image(recognizer, word_png, render=False)


def test_reading_is_the_recognizers(recognizer: Recognizer, explanation: Explanation, word_png: Path) -> None:
    expected = recognizer.recognize(word_png)[0]
    assert explanation.text == expected.text
    assert explanation.confidence == pytest.approx(expected.confidence, abs=1e-6)
    # Another word reads differently, and its explanation follows it: not one reading for all.
    other = render_word("world")
    other_explanation = explain_image(recognizer, other, render=False)
    assert other_explanation.text != explanation.text
    assert other_explanation.text == recognizer.recognize(other)[0].text
    assert other_explanation.confidence == pytest.approx(recognizer.recognize(other)[0].confidence, abs=1e-6)


def test_one_column_per_four_input_pixels(explanation: Explanation) -> None:
    assert explanation.crop.shape[0] == 32
    steps = explanation.crop.shape[1] // 4
    assert len(explanation.columns) == steps
    for gates in explanation.gates:
        for name in ("forget", "ignore", "use", "long_term"):
            assert getattr(gates, name).shape == (steps, 96)


def test_gates_are_the_last_layers_of_the_gate_model(tiny_model_path: Path, explanation: Explanation) -> None:
    model = load_checkpoint(tiny_model_path, lstm_impl="gates").model
    images, _ = to_tensor([explanation.crop])
    with torch.no_grad():
        records = model.lstm.trace(model.sequence_features(images)).records
    assert len(records) == 2
    assert [g.direction for g in explanation.gates] == ["forward", "reverse"]
    for gates, record in zip(explanation.gates, records[-1]):
        np.testing.assert_allclose(gates.forget, record.forget[:, 0].numpy(), atol=1e-5)
        np.testing.assert_allclose(gates.ignore, record.ignore[:, 0].numpy(), atol=1e-5)
        np.testing.assert_allclose(gates.use, record.use[:, 0].numpy(), atol=1e-5)
        np.testing.assert_allclose(gates.long_term, record.long_term[:, 0].numpy(), atol=1e-5)
        np.testing.assert_allclose(gates.candidate, record.candidate[:, 0].numpy(), atol=1e-5)
        np.testing.assert_allclose(gates.short_term, record.short_term[:, 0].numpy(), atol=1e-5)


def test_to_dict_is_json_and_consistent(recognizer: Recognizer, explanation: Explanation) -> None:
    data = json.loads(json.dumps(explanation.to_dict()))
    steps = len(explanation.columns)
    assert data["text"] == explanation.text
    assert 0.0 <= data["confidence"] <= 1.0
    assert data["pixels_per_column"] == 4
    assert data["input"] == {"height": 32, "width": explanation.crop.shape[1]}
    assert data["lstm"] == {"layer": 1, "hidden_size": 96, "units_included": True}
    assert len(data["columns"]) == steps
    for column in data["columns"]:
        assert column["char"] is None or column["char"] in recognizer.charset
        assert 0.0 < column["probability"] <= 1.0
    assert set(data["directions"]) == {"forward", "reverse"}
    for name, gates in zip(("forward", "reverse"), explanation.gates):
        entry = data["directions"][name]
        for key in ("forget_mean", "ignore_mean", "use_mean"):
            assert len(entry[key]) == steps
            assert all(0.0 <= v <= 1.0 for v in entry[key])
        np.testing.assert_allclose(entry["forget_mean"], gates.forget.mean(axis=1), atol=1e-4)
        memory = np.abs(gates.long_term).mean(axis=1)
        np.testing.assert_allclose(entry["long_term_abs_mean"], memory, atol=1e-4)
        learned = np.abs(gates.candidate * gates.ignore).mean(axis=1)
        np.testing.assert_allclose(entry["learned_abs_mean"], learned, atol=1e-4)
        np.testing.assert_allclose(entry["short_term_abs_mean"], np.abs(gates.short_term).mean(axis=1), atol=1e-4)
        assert entry["top_units"] == gates.varying_units()[:TOP_UNITS].tolist()
        units = np.array(entry["units"]["ignore"])
        assert units.shape == (steps, 96)
        np.testing.assert_allclose(units, gates.ignore, atol=1e-4)


def test_the_frames_tile_the_users_image_not_the_resized_crop(explanation: Explanation, word_png: Path) -> None:
    given = load_image(word_png)
    assert given.shape[1] != explanation.crop.shape[1]  # else pixels of the crop and the image would agree
    np.testing.assert_array_equal(explanation.read_image, given)
    assert explanation.turned == 0
    edges = explanation.frame_edges()
    assert len(edges) == len(explanation.columns) + 1
    assert edges[0] == 0 and edges[-1] == pytest.approx(given.shape[1])
    np.testing.assert_allclose(np.diff(edges), 4 * given.shape[1] / explanation.crop.shape[1])
    data = explanation.to_dict()
    assert data["image"] == {"width": given.shape[1], "height": given.shape[0], "turned": 0}
    columns = data["columns"]
    assert columns[0]["x0"] == 0 and columns[-1]["x1"] == pytest.approx(given.shape[1], abs=0.01)
    assert all(a["x1"] == b["x0"] for a, b in itertools.pairwise(columns))


def test_units_are_ranked_by_how_much_their_gates_vary_along_the_word(explanation: Explanation) -> None:
    for gates in explanation.gates:
        order = gates.varying_units()
        assert sorted(order.tolist()) == list(range(explanation.hidden_size))
        score = sum(getattr(gates, name).std(axis=0) for name in ("ignore", "forget", "use"))
        score = score + np.tanh(gates.long_term).std(axis=0)
        assert np.all(np.diff(score[order]) <= 1e-7)
        assert score[order[0]] > score[order[-1]]


def test_without_the_image_the_crop_stands_for_it(recognizer: Recognizer, word_png: Path) -> None:
    explanation = explain_prepared(recognizer, recognizer.prepare(word_png), render=False)
    assert explanation.image is None
    assert explanation.frame_edges()[-1] == explanation.crop.shape[1]
    assert explanation.to_dict()["image"]["width"] == explanation.crop.shape[1]


def test_turns_name_the_crops_of_a_tall_image_in_the_preparations_order(
    recognizer: Recognizer, word_png: Path
) -> None:
    """The explanation says which way the image was turned from the index of the crop kept."""
    tall = np.ascontiguousarray(np.rot90(load_image(word_png)))
    crops = recognizer.prepare(tall).crops
    assert len(crops) == len(TURNS)
    for crop, turned in zip(crops, TURNS):
        turned_image = np.ascontiguousarray(np.rot90(to_grayscale(tall), turned // 90))
        np.testing.assert_array_equal(crop, resize_to_height(turned_image, recognizer.preprocess))


def test_to_dict_can_leave_the_units_out(explanation: Explanation) -> None:
    data = explanation.to_dict(units=False)
    assert data["lstm"]["units_included"] is False
    assert "units" not in data["directions"]["forward"]
    assert len(data["directions"]["reverse"]["use_mean"]) == len(explanation.columns)


def test_column_readings_are_the_best_class_per_frame_of_the_recognizers_runner(
    recognizer: Recognizer, explanation: Explanation
) -> None:
    log_probs = torch.from_numpy(recognizer.frame_log_probs([explanation.crop])[0])
    best = log_probs.argmax(dim=-1).tolist()
    for label, prob, column in zip(best, log_probs.max(dim=-1).values.exp().tolist(), explanation.columns):
        assert column.char == (None if label == 0 else recognizer.charset.symbols[label - 1])
        assert column.probability == pytest.approx(prob, abs=1e-6)


def test_accepts_bytes_as_the_service_sends_them(recognizer: Recognizer, word_png: Path) -> None:
    from_bytes = explain_image(recognizer, word_png.read_bytes(), render=False)
    from_path = explain_image(recognizer, word_png, render=False)
    assert from_bytes.text == from_path.text
    np.testing.assert_array_equal(from_bytes.gates[0].forget, from_path.gates[0].forget)


def test_leaves_the_recognizers_model_untouched(recognizer: Recognizer, word_png: Path) -> None:
    before = {k: v.clone() for k, v in recognizer.model.state_dict().items()}
    explain_image(recognizer, word_png, render=False)
    assert isinstance(recognizer.model.lstm, nn.LSTM)
    after = recognizer.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_works_with_a_gate_model_too(tiny_model_path: Path, word_png: Path, explanation: Explanation) -> None:
    gate_recognizer = Recognizer(load_checkpoint(tiny_model_path, lstm_impl="gates"), device="cpu", threads=1)
    assert isinstance(gate_recognizer.model.lstm, GateLSTM)
    other = explain_image(gate_recognizer, word_png, render=False)
    assert other.text == explanation.text
    np.testing.assert_allclose(other.gates[1].long_term, explanation.gates[1].long_term, atol=1e-5)


def test_a_tall_crop_is_read_turned(recognizer: Recognizer, word_png: Path) -> None:
    with Image.open(word_png) as image:
        tall = np.asarray(image.convert("RGB").rotate(90, expand=True))
    result = explain_image(recognizer, tall, render=False)
    assert result.crop.shape[0] == 32
    assert result.crop.shape[1] > 32
    assert result.text == recognizer.recognize(tall)[0].text
    # The image shown and mapped is the one the model read: the given one turned as the crop was.
    assert result.turned in TURNS
    np.testing.assert_array_equal(result.read_image, np.rot90(tall, result.turned // 90))
    read = resize_to_height(to_grayscale(np.ascontiguousarray(result.read_image)), recognizer.preprocess)
    np.testing.assert_array_equal(read, result.crop)
    data = result.to_dict()
    assert (data["image"]["width"], data["image"]["height"]) == (tall.shape[1], tall.shape[0])
    assert data["columns"][-1]["x1"] == pytest.approx(result.read_image.shape[1], abs=0.01)


def test_an_unreadable_image_is_refused(recognizer: Recognizer) -> None:
    with pytest.raises(ImageDecodeError):
        explain_image(recognizer, b"not an image")


def test_tracing_under_onnx_runtime_imports_neither_torch_nor_matplotlib(
    tiny_model_path: Path, word_png: Path, explanation: Explanation
) -> None:
    # `explanation` was traced with ONNX Runtime in this process, which exported the model (with torch) and
    # kept the gates graph in the session's cache folder; a later process only loads them.
    script = (
        "import sys\n"
        "from ocr_lstm.recognition.explain import explain_image\n"
        "from ocr_lstm.recognition.recognizer import Recognizer\n"
        f"recognizer = Recognizer({str(tiny_model_path)!r}, device='cpu', threads=1)\n"
        f"explanation = explain_image(recognizer, {str(word_png)!r}, render=False)\n"
        "assert explanation.to_dict()['text'] == explanation.text\n"
        "assert 'matplotlib' not in sys.modules, 'tracing imported matplotlib'\n"
        "assert 'torch' not in sys.modules, 'tracing imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
