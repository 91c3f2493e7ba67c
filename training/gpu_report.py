"""What a run on a lent GPU did, in a few lines: samples/s, how busy the GPU was, validation.

    python -m training.gpu_report runs/gpu-small --dmon $OUT/dmon.txt

Read from the run's own files (``train_log.csv``, ``val_log.csv``, ``last.json``) and from
``nvidia-smi dmon -s u`` (the SM column: the share of time a kernel ran), so that the call's
output says whether the GPU was fed without anyone opening a file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from training.plots import read_log


def gpu_busy(dmon: Path) -> float | None:
    """Mean SM busy share (%) over ``nvidia-smi dmon -s u`` samples; None without any."""
    if not dmon.is_file():
        return None
    column, values = None, []
    for line in dmon.read_text(errors="replace").splitlines():
        fields = line.replace("#", " ").split()
        if line.startswith("#") and "sm" in fields:
            column = fields.index("sm")
        elif column is not None and not line.startswith("#") and len(fields) > column:
            try:
                values.append(float(fields[column]))
            except ValueError:
                continue  # "-" where a sample was not taken
    return sum(values) / len(values) if values else None


def summary(run: Path, dmon: Path | None = None) -> dict[str, Any]:
    """Samples/s (over the whole loop, and the median logged window), GPU busy share, last validation."""
    found: dict[str, Any] = {}
    last = run / "last.json"
    if last.is_file():
        metadata = json.loads(last.read_text())["metadata"]
        found.update(steps=metadata["steps"], samples_seen=metadata["samples_seen"],
                     train_seconds=metadata["train_seconds"])
        if metadata["train_seconds"]:
            found["samples_per_sec"] = round(metadata["samples_seen"] / metadata["train_seconds"])
    rows = read_log(run / "train_log.csv")  # a resumed run's repeated steps counted once
    if rows:
        rates = sorted(float(row["samples_per_sec"]) for row in rows)
        found["median_window_samples_per_sec"] = round(rates[len(rates) // 2])
        found["final_lr"] = rows[-1]["lr"]
    validations = read_log(run / "val_log.csv")
    if validations:
        found["validation"] = {k: v for k, v in validations[-1].items() if k == "step" or k.endswith("word_acc")}
    busy = gpu_busy(dmon) if dmon is not None else None
    if busy is not None:
        found["gpu_sm_busy_percent"] = round(busy, 1)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="the run's output folder")
    parser.add_argument("--dmon", help="nvidia-smi dmon -s u output")
    args = parser.parse_args(argv)
    print(json.dumps(summary(Path(args.run), Path(args.dmon) if args.dmon else None), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
