"""Training configuration: a TOML file, ``--set`` overrides and the train command's options."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import RealSet, TrainConfig
from training.train import build_parser, config_from_args


def test_file_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(
        'output = "runs/x"\nsteps = 100\nlr = 0.01\nval_sets = ["a", "b"]\n'
        '[[real_sets]]\npath = "data/one"\nweight = 2.0\n'
    )
    config = TrainConfig.from_file(path, ["steps=250", "augment=False", "model_size=small", "real_ratio=0.25"])
    assert config.output == "runs/x"
    assert config.steps == 250 and config.lr == 0.01
    assert config.augment is False
    assert config.model_size == "small"
    assert config.real_ratio == 0.25
    assert config.val_sets == ["a", "b"]
    assert config.real_sets == [RealSet("data/one", 2.0)]


def test_override_values_are_parsed_as_toml_values_or_kept_as_text() -> None:
    config = TrainConfig.from_file(None, ["val_sets=['x', 'y']", "init=runs/a/best", "batch_size=8", "lr=3e-4"])
    assert config.val_sets == ["x", "y"]
    assert config.init == "runs/a/best"
    assert config.batch_size == 8 and config.lr == pytest.approx(3e-4)


def test_real_sets_override_accepts_paths_and_tables() -> None:
    config = TrainConfig.from_file(None, ["real_sets=['a', {path = 'b', weight = 3.0}]"])
    assert config.real_sets == [RealSet("a", 1.0), RealSet("b", 3.0)]


@pytest.mark.parametrize("text", ["false", "False", "FALSE"])
def test_boolean_overrides_accept_true_and_false_in_any_case(text: str) -> None:
    assert TrainConfig.from_file(None, [f"augment={text}", "amp=true"]).augment is False


def test_lone_path_for_a_list_option_becomes_a_one_item_list() -> None:
    assert TrainConfig.from_file(None, ["val_sets=../data/svt"]).val_sets == ["../data/svt"]


def test_int_for_a_float_option_and_digits_for_a_text_option_are_accepted() -> None:
    config = TrainConfig.from_file(None, ["lr=1", "charset=0123"])
    assert config.lr == 1.0 and isinstance(config.lr, float)
    assert config.charset == "0123"


@pytest.mark.parametrize("item", ["steps=ten", "augment=yes", "lr=fast", "val_sets=[1, 2]", "batch_size=8.5"])
def test_override_of_the_wrong_type_is_refused_by_name(item: str) -> None:
    with pytest.raises(ValueError, match=item.split("=")[0]):
        TrainConfig.from_file(None, [item])


@pytest.mark.parametrize("key", ["steps", "batch_size", "val_every", "log_every"])
def test_counts_below_one_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match=f"{key} must be at least 1"):
        TrainConfig.from_file(None, [f"{key}=0"])


@pytest.mark.parametrize("decay", ["-0.1", "1.0", "1.5"])
def test_moving_average_decay_outside_zero_to_one_is_refused(decay: str) -> None:
    with pytest.raises(ValueError, match="ema_decay must be in"):
        TrainConfig.from_file(None, [f"ema_decay={decay}"])


@pytest.mark.parametrize("item", ["real_ratio=1.5", "scene_distortion=-0.1", "scene_distortion=2"])
def test_shares_outside_zero_to_one_are_refused(item: str) -> None:
    with pytest.raises(ValueError, match="is a share of the crops"):
        TrainConfig.from_file(None, [item])


def test_the_augmenter_is_what_the_config_asks_for() -> None:
    assert TrainConfig.from_file(None, ["augment=false"]).augmenter() is None
    augmenter = TrainConfig.from_file(None, ["max_width=128", "scene_distortion=0.25"]).augmenter()
    assert (augmenter.max_width, augmenter.scene_distortion) == (128, 0.25)


def test_scene_distortion_without_augmentation_is_refused() -> None:
    assert TrainConfig.from_file(None, ["scene_distortion=0.4"]).scene_distortion == 0.4
    with pytest.raises(ValueError, match="needs augment = true"):
        TrainConfig.from_file(None, ["scene_distortion=0.4", "augment=false"])


@pytest.mark.parametrize("name", ["bundled", "bundled_continue", "bundled_stage3", "bundled_stage4"])
def test_every_shipped_config_loads(name: str) -> None:
    config = TrainConfig.from_file(name)
    assert config.init == ("" if name == "bundled" else "default")
    assert not any(Path(r.path).name in ("svt", "ic13") for r in config.real_sets)  # validation only


def test_unknown_options_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="stpes"):
        TrainConfig.from_file(None, ["stpes=10"])


def test_override_without_equals_is_refused() -> None:
    with pytest.raises(ValueError, match="key=value"):
        TrainConfig.from_file(None, ["steps"])


def test_bundled_config_is_found_by_name() -> None:
    config = TrainConfig.from_file("bundled")
    assert config.output == "runs/bundled"
    assert config.real_sets and all(isinstance(r, RealSet) for r in config.real_sets)


def test_config_dict_round_trip() -> None:
    config = TrainConfig.from_file("bundled", ["steps=5"])
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_train_command_options_become_overrides(tmp_path: Path) -> None:
    args = build_parser().parse_args([
        "--config", "bundled", "--output", str(tmp_path / "run"), "--steps", "30", "--lr", "0.002",
        "--batch-size", "16", "--synth-count", "0", "--data", "d1", "d2", "--val", "v1", "--set", "seed=3",
    ])
    config = config_from_args(args)
    assert config.output == str(tmp_path / "run")
    assert (config.steps, config.lr, config.batch_size, config.synth_count, config.seed) == (30, 0.002, 16, 0, 3)
    assert config.real_sets == [RealSet("d1"), RealSet("d2")]
    assert config.val_sets == ["v1"]
    assert config.warmup_steps == 500  # from the file, untouched


def test_train_entry_point_reports_a_bad_run_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m training.train`` (the torchrun entry point) fails like ``ocr-lstm train``:
    exit 1 and one line, for bad configs and for errors met while running."""
    from training.train import main

    assert main(["--set", "no_such_field=1"]) == 1
    assert capsys.readouterr().err.startswith("error: ")
    missing = tmp_path / "missing"
    run = ["--data", str(missing), "--synth-count", "0", "--steps", "1", "--set", "warmup_steps=0"]
    assert main([*run, "--output", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(missing) in err and err.count("\n") == 1


def test_a_warm_up_as_long_as_the_run_is_warned_about() -> None:
    assert TrainConfig(steps=300, warmup_steps=300).warnings()
    assert TrainConfig(steps=3000, warmup_steps=300).warnings() == []


def fine_tune_args(*extra: str):
    from training.train import build_parser

    return build_parser().parse_args(["--data", "my/", "--init", "default", *extra])


def test_init_without_a_config_starts_from_the_fine_tuning_recipe() -> None:
    from training.train import config_from_args

    config = config_from_args(fine_tune_args("--steps", "300"))
    assert config.init == "default" and config.lr == 0.0003 and config.synth_lines > 0
    assert config.synth_val_count > 0  # the general set is validated beside the user's
    assert config.warmup_steps == 30 and config.warnings() == []  # a tenth of the run
    assert config.synth_count == round(300 * 64 * (1 - config.real_ratio))  # the pool holds the run's synthetic draws
    assert [r.path for r in config.real_sets] == ["my/"]


def test_a_fine_tune_keeps_what_it_is_told() -> None:
    from training.train import config_from_args

    config = config_from_args(fine_tune_args("--steps", "40", "--set", "warmup_steps=5", "--synth-count", "900"))
    assert config.warmup_steps == 5 and config.synth_count == 900
    assert config_from_args(fine_tune_args("--steps", "30")).synth_count == 2000  # never below the floor


def test_a_config_with_init_is_not_turned_into_a_fine_tune() -> None:
    from training.train import build_parser, config_from_args

    args = build_parser().parse_args(["--config", "bundled_lines", "--init", "default"])
    assert config_from_args(args).lr == TrainConfig.from_file("bundled_lines").lr


def test_fresh_synthetic_crops_need_data_workers() -> None:
    with pytest.raises(ValueError, match="needs data_workers >= 1"):
        TrainConfig.from_file(None, ["fresh_synth=0.2"])
    assert TrainConfig.from_file(None, ["fresh_synth=0.2", "data_workers=2"]).fresh_synth == 0.2


@pytest.mark.parametrize("item", ["fresh_synth=1.5", "fresh_synth=-0.1"])
def test_a_fresh_share_outside_zero_to_one_is_refused(item: str) -> None:
    with pytest.raises(ValueError, match="fresh_synth is a share"):
        TrainConfig.from_file(None, [item, "data_workers=2"])


def test_fresh_crops_alone_need_no_pool_but_a_share_below_one_does() -> None:
    assert TrainConfig.from_file(None, ["fresh_synth=1", "data_workers=2", "synth_count=0"]).fresh_synth == 1.0
    with pytest.raises(ValueError, match="needs synth_count"):
        TrainConfig.from_file(None, ["fresh_synth=0.5", "data_workers=2", "synth_count=0"])


@pytest.mark.parametrize("key", ["data_workers", "max_minutes", "checkpoint_minutes"])
def test_negative_workers_and_minutes_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match=f"{key} must not be negative"):
        TrainConfig.from_file(None, [f"{key}=-1"])


def test_amp_dtype_is_auto_bf16_or_fp16() -> None:
    assert TrainConfig().amp_dtype == "auto"
    assert TrainConfig.from_file(None, ["amp_dtype=bf16"]).amp_dtype == "bf16"
    with pytest.raises(ValueError, match="amp_dtype must be one of auto, bf16, fp16"):
        TrainConfig.from_file(None, ["amp_dtype=fp8"])


def test_the_new_fields_default_to_todays_runs() -> None:
    config = TrainConfig()
    assert (config.data_workers, config.fresh_synth, config.max_minutes, config.checkpoint_minutes) == (0, 0, 0, 0)
    assert (config.teacher, config.distill_weight, config.distill_temperature) == ("", 0.0, 1.0)
