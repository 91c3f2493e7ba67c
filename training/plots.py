"""The training curve as a PNG: loss and validation accuracy against the optimiser step."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def plot_curves(run_dir: str | Path, output: str | Path | None = None) -> Path:
    """Plot ``train_log.csv`` and ``val_log.csv`` of a run into ``curves.png``."""
    run_dir = Path(run_dir)
    output = Path(output) if output else run_dir / "curves.png"
    train, val = _read(run_dir / "train_log.csv"), _read(run_dir / "val_log.csv")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    if train:
        ax_loss.plot([int(r["step"]) for r in train], [float(r["loss"]) for r in train], lw=1)
    ax_loss.set(xlabel="step", ylabel="CTC loss", yscale="log", title="training loss")
    if val:
        columns = [c for c in val[0] if c.endswith("_word_acc")]
        for column in columns:
            ax_acc.plot([int(r["step"]) for r in val], [float(r[column] or 0) for r in val], marker=".", label=column)
        ax_acc.legend(fontsize=8)
    ax_acc.set(xlabel="step", ylabel="word accuracy (%)", title="validation (standard protocol)")
    fig.tight_layout()
    fig.savefig(output, dpi=90)
    plt.close(fig)
    return output
