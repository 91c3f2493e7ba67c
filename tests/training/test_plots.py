"""Training curves: one run's PNG, several runs compared per CPU-hour, resumed logs read once."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.plots import main, plot_comparison, plot_curves, read_log

PNG = b"\x89PNG\r\n\x1a\n"


def fake_run(folder: Path, accuracies: list[float], sets: tuple[str, ...] = ("svt", "ic13")) -> Path:
    folder.mkdir(parents=True)
    header = "step,samples_seen,elapsed_sec," + ",".join(f"{s}_word_acc" for s in sets) + ",mean_word_acc\n"
    rows = [f"{1000 * (i + 1)},{64000 * (i + 1)},{900 * (i + 1)}," + ",".join([str(a)] * len(sets)) + f",{a}\n"
            for i, a in enumerate(accuracies)]
    (folder / "val_log.csv").write_text(header + "".join(rows))
    (folder / "train_log.csv").write_text(
        "step,loss,lr,samples_per_sec,elapsed_sec\n50,9.0,1e-4,100,30\n100,4.0,2e-4,100,60\n"
    )
    return folder


def test_a_resumed_log_keeps_one_row_per_step_the_latest(tmp_path: Path) -> None:
    log = tmp_path / "train_log.csv"
    log.write_text("step,loss\n50,9.0\n100,4.0\n150,3.0\n100,3.9\n150,2.5\n200,2.0\n")
    assert [(r["step"], r["loss"]) for r in read_log(log)] == [("50", "9.0"), ("100", "3.9"), ("150", "2.5"),
                                                               ("200", "2.0")]
    assert read_log(tmp_path / "absent.csv") == []


def test_one_run_is_drawn_into_its_folder(tmp_path: Path) -> None:
    run = fake_run(tmp_path / "run", [20.0, 40.0])
    assert plot_curves(run).read_bytes().startswith(PNG)
    assert (run / "curves.png").is_file()


def test_runs_are_compared_on_the_sets_they_share(tmp_path: Path) -> None:
    tiny = fake_run(tmp_path / "tiny", [20.0, 40.0])
    small = fake_run(tmp_path / "small", [25.0, 45.0, 50.0], sets=("ic13",))
    output = plot_comparison({"tiny": tiny, "small": small}, tmp_path / "cmp.png")
    assert output.read_bytes().startswith(PNG)


def test_runs_without_a_shared_set_or_a_log_are_refused(tmp_path: Path) -> None:
    svt_only = fake_run(tmp_path / "a", [20.0], sets=("svt",))
    ic13_only = fake_run(tmp_path / "b", [20.0], sets=("ic13",))
    with pytest.raises(ValueError, match="share no validation set"):
        plot_comparison({"a": svt_only, "b": ic13_only}, tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"no val_log.csv rows for: c"):
        plot_comparison({"a": svt_only, "c": tmp_path / "c"}, tmp_path / "x.png")


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a, b = fake_run(tmp_path / "a", [20.0]), fake_run(tmp_path / "b", [30.0])
    output = tmp_path / "cmp.png"
    assert main(["--compare", f"tiny={a}", f"small={b}", "--output", str(output)]) == 0
    assert output.is_file()
    assert main(["--compare", f"tiny={a}", f"none={tmp_path / 'missing'}", "-o", str(output)]) == 1
    assert capsys.readouterr().err.startswith("error: no val_log.csv rows")
    with pytest.raises(SystemExit):
        main([str(a), "--compare", f"x={b}"])
