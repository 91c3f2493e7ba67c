"""benchmarks/photo_options.py: the photo pipeline read with variants of its options."""

from __future__ import annotations

from pathlib import Path

import pytest
from word_images import rendered_scene_folder


def test_a_variant_reads_as_typed_values(photo_options) -> None:
    assert photo_options.parse_variant("max_side=960 word_height=1.0 orientation=none") == {
        "max_side": 960, "word_height": 1.0, "orientation": "none"}
    assert photo_options.parse_variant("") == {}
    with pytest.raises(ValueError, match="key=value"):
        photo_options.parse_variant("max_side")


def test_each_option_reaches_its_part_and_unknown_ones_are_refused(photo_options) -> None:
    variant = photo_options.build_variant("max_side=640 word_height=0.5 orientation=none model=tiny")
    assert variant.detection == {"max_side": 640} and variant.model == "tiny"
    assert variant.config.word_height == 0.5 and not variant.orientation
    assert photo_options.build_variant("").name == "defaults" and photo_options.build_variant("").orientation
    with pytest.raises(ValueError, match="unknown"):
        photo_options.build_variant("flip=1")


def test_missing_data_is_skipped_not_failed(photo_options, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert photo_options.main(["--data", str(tmp_path / "absent")]) == 0
    assert capsys.readouterr().out.startswith("skipped:")


def test_variants_are_scored_on_a_rendered_photo_set(
    photo_options, tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = rendered_scene_folder(tmp_path / "scenes", [("NO PARKING", (100, 100), 48)])
    model = f"model={tiny_model_path}"
    assert photo_options.main(["--data", str(folder), "--variant", f"{model} min_confidence=0",
                               "--variant", f"{model} max_side=640"]) == 0
    out = capsys.readouterr().out
    assert out.count("e2e P/R/F") == 2 and "missed" in out and "correct" in out
