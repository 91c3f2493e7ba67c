"""Training curves as PNGs: one run's loss and validation accuracy against the
optimiser step, or several runs' validation accuracy against training hours.

    python -m training.plots runs/bundled                       # -> runs/bundled/curves.png
    python -m training.plots --compare tiny=runs/a small=runs/b --output sizes.png
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from ocr_lstm.errors import require

# At import, so that `ocr-lstm train` without the train extra stops at once, not at its first plot.
matplotlib = require("matplotlib", "train")
matplotlib.use("Agg")
plt = require("matplotlib.pyplot", "train")


def read_log(path: Path) -> list[dict[str, str]]:
    """Rows of a run's CSV log, one per step: a resumed run logs the steps after its
    last checkpoint again, and the later row wins."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        rows = {int(row["step"]): row for row in csv.DictReader(f)}
    return [rows[step] for step in sorted(rows)]


def plot_curves(run_dir: str | Path, output: str | Path | None = None) -> Path:
    """Plot ``train_log.csv`` and ``val_log.csv`` of a run into ``curves.png``."""
    run_dir = Path(run_dir)
    output = Path(output) if output else run_dir / "curves.png"
    train, val = read_log(run_dir / "train_log.csv"), read_log(run_dir / "val_log.csv")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    if train:
        ax_loss.plot([int(r["step"]) for r in train], [float(r["loss"]) for r in train], lw=1)
    ax_loss.set(xlabel="step", ylabel="CTC loss", yscale="log", title="training loss")
    if val:
        columns = [c for c in val[0] if c.endswith(("_word_acc", "_kept"))]
        for column in columns:
            ax_acc.plot([int(r["step"]) for r in val], [float(r[column] or 0) for r in val], marker=".", label=column)
        ax_acc.legend(fontsize=8)
    ax_acc.set(xlabel="step", ylabel="word accuracy (%)", title="validation (standard protocol)")
    fig.tight_layout()
    fig.savefig(output, dpi=90)
    plt.close(fig)
    return output


def plot_comparison(runs: dict[str, str | Path], output: str | Path) -> Path:
    """Validation word accuracy of several runs against hours spent in training steps,
    one panel per validation set they share: accuracy reached per CPU-hour."""
    logs = {label: read_log(Path(run) / "val_log.csv") for label, run in runs.items()}
    empty = [label for label, rows in logs.items() if not rows]
    if empty:
        raise ValueError(f"no val_log.csv rows for: {', '.join(empty)}")
    columns = [c for c in next(iter(logs.values()))[0] if c.endswith("_word_acc") and c != "mean_word_acc"]
    columns = [c for c in columns if all(c in rows[0] for rows in logs.values())]
    if not columns:
        raise ValueError("the runs share no validation set")
    fig, axes = plt.subplots(1, len(columns), figsize=(5.5 * len(columns), 4), squeeze=False)
    for ax, column in zip(axes[0], columns):
        for label, rows in logs.items():
            hours = [float(r["elapsed_sec"]) / 3600 for r in rows]
            ax.plot(hours, [float(r[column] or 0) for r in rows], marker=".", label=label)
        ax.set(xlabel="hours in training steps", ylabel="word accuracy (%)", title=column.removesuffix("_word_acc"))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(output, dpi=90)
    plt.close(fig)
    return Path(output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", nargs="?", help="run folder to plot (its curves.png by default)")
    parser.add_argument("--compare", nargs="+", metavar="LABEL=RUN", help="runs to compare, each as label=folder")
    parser.add_argument("--output", "-o", default=None, help="PNG to write")
    args = parser.parse_args(argv)
    if bool(args.run) == bool(args.compare):
        parser.error("give either one run folder or --compare LABEL=RUN ...")
    try:
        if args.compare:
            pairs = [item.partition("=") for item in args.compare]
            if any(not sep or not label or not run for label, sep, run in pairs):
                parser.error("--compare takes label=folder pairs")
            path = plot_comparison({label: run for label, _, run in pairs}, args.output or "comparison.png")
        else:
            path = plot_curves(args.run, args.output)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
