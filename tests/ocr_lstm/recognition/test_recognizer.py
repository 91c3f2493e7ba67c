"""The Recognizer on a random-weight checkpoint: inputs, result shape, batching, vertical crops, its parts."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from word_images import random_rgb, render_word

from ocr_lstm.charset import Charset
from ocr_lstm.checkpoint import load_checkpoint
from ocr_lstm.preprocessing import ImageDecodeError, ImagePreparation, PreprocessConfig
from ocr_lstm.recognition.decoding import CTCDecoder
from ocr_lstm.recognition.options import RecognizerOptions
from ocr_lstm.recognition.recognizer import Recognition, Recognizer
from ocr_lstm.recognition.runtime.torch_runner import TorchRunner
from ocr_lstm.recognition.word_prior import WordPrior, WordPriorConfig


@pytest.fixture(scope="module")
def recognizer(tiny_model_path: Path) -> Recognizer:
    return Recognizer(tiny_model_path, device="cpu", batch_size=4, threads=1)


def assert_valid(result: Recognition, recognizer: Recognizer) -> None:
    assert isinstance(result, Recognition)
    assert set(result.text) <= set(recognizer.charset.symbols)
    assert 0.0 <= result.confidence <= 1.0
    assert "".join(c.char for c in result.chars) == result.text
    assert all(0.0 <= c.confidence <= 1.0 for c in result.chars)


def test_recognize_a_path_bytes_pil_and_array_alike(recognizer: Recognizer, word_png: Path) -> None:
    image = Image.open(word_png)
    inputs = [word_png, str(word_png), word_png.read_bytes(), image, np.asarray(image.convert("RGB"))]
    results = [recognizer.recognize(source)[0] for source in inputs]
    for result in results:
        assert_valid(result, recognizer)
    assert len({r.text for r in results}) == 1
    assert max(r.confidence for r in results) - min(r.confidence for r in results) < 1e-6
    # The model tells images apart, so a source decoded wrongly would not read the same.
    assert recognizer.recognize(render_word("world"))[0].text != results[0].text


def assert_distinct(results: list[Recognition]) -> None:
    """Different images must read differently, or a swap or a wrong crop would go unseen."""
    assert len({r.text for r in results}) == len(results)


def assert_same_confidences(actual: list[Recognition], expected: list[Recognition]) -> None:
    """Within 1e-5 and within 1e-4 of the value: low confidences (~1e-4 here) must match too."""
    assert [r.confidence for r in actual] == pytest.approx([r.confidence for r in expected], abs=1e-5)
    assert [r.confidence for r in actual] == pytest.approx([r.confidence for r in expected], rel=1e-4)


def test_recognize_returns_one_result_per_image_in_order(recognizer: Recognizer) -> None:
    words = [render_word(w) for w in ("a", "longer words here", "mid", "x1")]
    results = recognizer.recognize(words)
    assert len(results) == 4
    singles = [recognizer.recognize(word)[0] for word in words]
    assert_distinct(singles)
    assert [r.text for r in results] == [s.text for s in singles]
    assert_same_confidences(results, singles)


def test_batch_results_equal_single_results_across_batch_sizes(tiny_model_path: Path) -> None:
    images = [random_rgb(30 + 7 * i, 40 + 37 * i, seed=i) for i in range(7)]
    one = Recognizer(tiny_model_path, device="cpu", batch_size=1).recognize(images)
    many = Recognizer(tiny_model_path, device="cpu", batch_size=5).recognize(images)
    assert_distinct(one)
    assert [r.text for r in one] == [r.text for r in many]
    assert_same_confidences(many, one)


def test_a_tall_crop_is_read_upright_and_turned_both_ways_keeping_the_most_confident(recognizer: Recognizer) -> None:
    tall = np.asarray(render_word("vertical").rotate(90, expand=True))
    assert tall.shape[0] > 2 * tall.shape[1]
    prepared = recognizer.prepare(tall)
    assert len(prepared.crops) == 3
    assert prepared.crops[0].shape[1] < 32  # as given: narrow
    assert all(crop.shape[0] == 32 and crop.shape[1] > 32 for crop in prepared.crops[1:])
    result = recognizer.recognize(tall)[0]
    assert_valid(result, recognizer)
    both = recognizer.decode_crops(list(prepared.crops))
    assert result.confidence == pytest.approx(max(d.confidence for d in both))


def test_a_horizontal_crop_is_read_once(recognizer: Recognizer, word_png: Path) -> None:
    assert len(recognizer.prepare(word_png).crops) == 1


def test_unreadable_input_raises_image_decode_error(recognizer: Recognizer) -> None:
    with pytest.raises(ImageDecodeError):
        recognizer.recognize(b"definitely not an image")


def test_allowlist_limits_the_characters_read(tiny_model_path: Path) -> None:
    recognizer = Recognizer(tiny_model_path, device="cpu", allowlist="0123456789")
    for seed in range(5):
        assert set(recognizer.recognize(random_rgb(32, 120, seed))[0].text) <= set("0123456789")


def test_recognizer_accepts_a_loaded_checkpoint(tiny_model_path: Path, word_png: Path) -> None:
    from_checkpoint = Recognizer(load_checkpoint(tiny_model_path), device="cpu")
    from_path = Recognizer(tiny_model_path, device="cpu")
    assert from_checkpoint.recognize(word_png)[0].text == from_path.recognize(word_png)[0].text
    assert from_checkpoint.name == "tiny"


def test_recognition_as_dict_is_json_ready(recognizer: Recognizer, word_png: Path) -> None:
    result = recognizer.recognize(word_png)[0].as_dict()
    assert set(result) == {"text", "confidence", "chars"}
    assert len(result["chars"]) == len(result["text"])


def test_describe_reports_the_loaded_model(recognizer: Recognizer) -> None:
    info = recognizer.describe()
    assert info["name"] == "tiny"
    assert info["device"] == "cpu"
    assert info["charset"] == recognizer.charset.symbols
    assert info["parameters"] > 0
    assert info["metadata"] == {"note": "random test weights"}


def test_requesting_cuda_without_a_gpu_fails_clearly(tiny_model_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CUDA"):
        Recognizer(tiny_model_path, device="cuda")


def test_image_bytes_from_a_jpeg_are_read(recognizer: Recognizer) -> None:
    buffer = io.BytesIO()
    render_word("jpeg").save(buffer, "JPEG")
    assert_valid(recognizer.recognize(buffer.getvalue())[0], recognizer)


def test_the_word_prior_is_on_by_default_and_can_be_turned_off(tiny_model_path: Path) -> None:
    assert isinstance(Recognizer(tiny_model_path).decoder.word_prior, WordPrior)
    assert Recognizer(tiny_model_path, word_prior=None).decoder.word_prior is None
    strong = Recognizer(tiny_model_path, word_prior=WordPriorConfig(weight=2.0)).decoder.word_prior
    assert strong is not None and strong.config.weight == 2.0


def test_default_recognizer_runs_on_onnx_runtime_and_reads_like_torch(tiny_model_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    images = [render_word(w) for w in ("hello", "world", "a")]
    default, eager = Recognizer(tiny_model_path, threads=1), Recognizer(tiny_model_path, threads=1, backend="torch")
    assert (default.backend, eager.backend) == ("onnx", "torch")
    onnx_results, torch_results = default.recognize(images), eager.recognize(images)
    assert_distinct(torch_results)
    assert [r.text for r in onnx_results] == [r.text for r in torch_results]
    assert_same_confidences(onnx_results, torch_results)
    crops = [crop for image in images for crop in eager.prepare(image).crops]
    ours, theirs = default.frame_log_probs(crops), eager.frame_log_probs(crops)
    assert len(ours) == len(theirs) == len(crops)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, atol=1e-3)


class CountingRunner:
    """A runner that records how many crops each forward pass held."""

    def __init__(self, runner: TorchRunner) -> None:
        self.runner, self.backend, self.passes = runner, "counting", []

    def __call__(self, images: torch.Tensor, widths: torch.Tensor) -> np.ndarray:
        self.passes.append(len(widths))
        return self.runner(images, widths)


def counting_recognizer(tiny_model_path: Path, batch_size: int) -> tuple[Recognizer, CountingRunner]:
    checkpoint = load_checkpoint(tiny_model_path)
    runner = CountingRunner(TorchRunner(checkpoint.model, torch.device("cpu")))
    return Recognizer(checkpoint, device="cpu", batch_size=batch_size, runner=runner), runner


def test_batch_size_counts_images_so_a_tall_crop_and_its_turns_share_one_pass(tiny_model_path: Path) -> None:
    tall = np.asarray(render_word("vertical").rotate(90, expand=True))
    images = [tall, render_word("one"), render_word("two"), render_word("three")]
    recognizer, runner = counting_recognizer(tiny_model_path, batch_size=2)
    recognizer.recognize(images)
    assert len(runner.passes) == 2 and sum(runner.passes) == 6  # four images, the tall one as three crops
    assert 4 in runner.passes  # the tall crop's three turns and one other image


def test_bare_crops_are_batched_batch_size_at_a_time(tiny_model_path: Path) -> None:
    recognizer, runner = counting_recognizer(tiny_model_path, batch_size=2)
    crops = [recognizer.prepare(render_word(w)).crops[0] for w in ("a", "bb", "ccc", "dddd", "eeeee")]
    assert len(recognizer.frame_log_probs(crops)) == 5
    assert runner.passes == [2, 2, 1]


def test_an_injected_runner_reads_in_place_of_the_one_the_options_build(tiny_model_path: Path) -> None:
    words = [render_word(w) for w in ("hello", "world")]
    recognizer, runner = counting_recognizer(tiny_model_path, batch_size=4)
    assert recognizer.backend == "counting"
    expected = Recognizer(tiny_model_path, device="cpu", backend="torch").recognize(words)
    assert [r.text for r in recognizer.recognize(words)] == [r.text for r in expected]
    assert runner.passes == [2]


def test_an_injected_preparation_and_decoder_are_used(tiny_model_path: Path) -> None:
    checkpoint = load_checkpoint(tiny_model_path)
    preparation = ImagePreparation(PreprocessConfig(max_width=64))
    decoder = CTCDecoder(checkpoint.charset, allowlist="0123456789")
    recognizer = Recognizer(checkpoint, device="cpu", preparation=preparation, decoder=decoder)
    assert recognizer.preprocess.max_width == 64
    assert recognizer.prepare(render_word("a rather long line of words")).crops[0].shape[1] == 64
    assert recognizer.decoder is decoder
    assert set(recognizer.recognize(random_rgb(32, 120, seed=1))[0].text) <= set("0123456789")


def test_the_keyword_defaults_are_the_options_defaults(tiny_model_path: Path) -> None:
    assert Recognizer(tiny_model_path).options == RecognizerOptions()


def test_from_options_builds_the_recognizer_the_keywords_would(tiny_model_path: Path) -> None:
    options = RecognizerOptions(device="cpu", batch_size=3, allowlist="abc", word_prior=None, backend="torch")
    recognizer = Recognizer.from_options(tiny_model_path, options)
    assert recognizer.options == options
    assert recognizer.backend == "torch" and recognizer.decoder.word_prior is None
    assert recognizer.decoder.allowlist == "abc"


class RecordingRunner:
    """Uniform log-probabilities for any batch, remembering each batch's shape."""

    def __init__(self, backend: str, classes: int) -> None:
        self.backend, self.classes, self.shapes = backend, classes, []

    def __call__(self, images: np.ndarray, widths: np.ndarray) -> np.ndarray:
        self.shapes.append(images.shape)
        return np.full((images.shape[-1] // 4, images.shape[0], self.classes), -np.log(self.classes))


@pytest.mark.parametrize(("backend", "batches"), [("onnx", [2, 2]), ("torch", [4])])
def test_onnx_runtime_batches_hold_at_most_the_column_cap_and_pytorch_ones_the_batch_size(
    tiny_model_path: Path, backend: str, batches: list[int]
) -> None:
    runner = RecordingRunner(backend, Charset().num_classes)
    recognizer = Recognizer(tiny_model_path, device="cpu", batch_size=8, batch_columns=1024, runner=runner)
    recognizer.recognize([np.full((32, 512), 200, np.uint8)] * 4)
    assert [shape[0] for shape in runner.shapes] == batches
