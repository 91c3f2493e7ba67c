"""``ocr-lstm eval FOLDER...``: accuracy under the standard protocol, CER and speed, per set of
cropped words; for a folder of whole photos with ICDAR 2015 ground truth, the end-to-end scores."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ocr_lstm.commands.common import add_model_arguments, add_photo_arguments, ocr_from_args, recognizer_from_args

if TYPE_CHECKING:
    from ocr_lstm.evaluation.scenes import Counts, ScenePhoto
    from ocr_lstm.recognition.recognizer import Recognizer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("datasets", nargs="+", metavar="DATASET",
                        help="labelled crops (folder with labels.tsv, label file, or LMDB folder), or whole photos "
                        "with ICDAR 2015 ground truth (images/ + gt/gt_<stem>.txt [+ lexicons/], or gt_<stem>.txt "
                        "beside the images), scored end to end")
    parser.add_argument("--labels", default=None,
                        help="label file name inside each folder instead of labels.tsv (e.g. labels_1015.tsv)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per set")
    add_photo_arguments(parser)
    add_model_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ocr_lstm.data.datasets import open_dataset
    from ocr_lstm.evaluation.scenes import is_scene_folder, load_photo_set

    # Every set is opened before the model loads and the first table line prints, so a
    # wrong path in the list fails at once, not after the sets before it were read.
    photo_sets = {path: load_photo_set(path) for path in args.datasets if is_scene_folder(path)}
    crop_sets = [path for path in args.datasets if path not in photo_sets]
    for path in crop_sets:
        open_dataset(Path(path) / args.labels if args.labels else path)
    recognizer = recognizer_from_args(args)
    if crop_sets:
        _evaluate_crops(recognizer, crop_sets, args)
    if photo_sets:
        _evaluate_photos(recognizer, photo_sets, args)
    return 0


def _evaluate_photos(recognizer: Recognizer, sets: dict[str, list[ScenePhoto]], args: argparse.Namespace) -> None:
    from ocr_lstm.evaluation.photos import evaluate_photos

    ocr = ocr_from_args(args, recognizer)
    if not args.json:
        print(f"{'photo set':<40} {'photos':>6} {'det P/R/F':>17} {'e2e P/R/F':>17} {'lex e2e R':>9} {'s/photo':>7}")
    for path, photos in sets.items():
        report = evaluate_photos(ocr, photos)
        detection, e2e, lexicon = report.scores.detection, report.scores.end_to_end, report.with_lexicon
        row = {
            "dataset": path, "photos": report.photos, "ground_truth_words": detection.ground_truth,
            "detection": _prf(detection), "end_to_end": _prf(e2e), "word_spotting": _prf(report.scores.word_spotting),
            "lexicon_end_to_end": _prf(lexicon.end_to_end) if lexicon else None,
            "seconds_per_photo": round(report.seconds_per_photo, 3), "errors": report.errors,
        }
        if args.json:
            print(json.dumps(row))
            continue
        lexicon_recall = f"{100 * lexicon.end_to_end.recall:>9.1f}" if lexicon else f"{'-':>9}"
        print(f"{path:<40} {report.photos:>6} {_triple(detection):>17} {_triple(e2e):>17} {lexicon_recall} "
              f"{report.seconds_per_photo:>7.2f}")


def _prf(counts: Counts) -> dict[str, float]:
    return {"precision": round(100 * counts.precision, 2), "recall": round(100 * counts.recall, 2),
            "f_score": round(100 * counts.f_score, 2)}


def _triple(counts: Counts) -> str:
    return f"{100 * counts.precision:.1f}/{100 * counts.recall:.1f}/{100 * counts.f_score:.1f}"


def model_lines(recognizer: Recognizer) -> list[str]:
    """Which model is read with (its file, or the bundled name) and the figures its checkpoint
    records of itself, so a table is read beside what the model scored before."""
    info = recognizer.info
    where = info.weights_path if info.weights_path is not None else "in memory"
    lines = [f"model: {recognizer.name} ({where})"]
    for kind, figures in info.recorded_figures.items():
        scores = figures.get("word_accuracy", {})
        shown = ", ".join(f"{name} {value}" for name, value in scores.items()) if isinstance(scores, dict) else ""
        when = f" at step {figures['step']}" if "step" in figures else ""
        how = f" ({figures['command']})" if "command" in figures else ""
        lines.append(f"  its recorded {kind}{when}{how}: word accuracy {shown}")
    return lines


def _evaluate_crops(recognizer: Recognizer, paths: list[str], args: argparse.Namespace) -> None:
    from ocr_lstm.evaluation.crops import evaluate_dataset

    if not args.json:
        print("\n".join(model_lines(recognizer)))
        print(f"{'dataset':<40} {'n':>6} {'word acc':>9} {'case-sens':>9} {'CER':>7} {'crops/s':>8}")
    for path in paths:
        row = evaluate_dataset(recognizer, path, args.labels)
        if args.json:
            print(json.dumps(row))
        else:
            print(f"{row['dataset']:<40} {row['samples']:>6} {row['word_accuracy']:>9.2f} "
                  f"{row['case_sensitive_accuracy']:>9.2f} {row['cer']:>7.4f} {row['crops_per_sec']:>8.1f}")
