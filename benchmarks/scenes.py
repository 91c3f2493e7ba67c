"""Whole photos end to end: ocr-lstm's pipeline against RapidOCR 3.10's own, side by side.

    python benchmarks/scenes.py [--data ../shared/data/ic15_scenes] [--limit N] [--threads 1 2]

Each system reads the same photos in its own process (so that thread settings and
memory are its own), with ``OMP_WAIT_POLICY=PASSIVE`` and the given thread count,
and its words are scored by :mod:`ocr_lstm.evaluation.scenes` (ICDAR 2015 end-to-end
protocol, IoU > 0.5). RapidOCR runs its wheel's own detector, classifier and
recognizer with word boxes on (``return_word_box=True``). Printed per system: detection
and end-to-end precision / recall / F, end-to-end recall with each photo's lexicon where
the set has lexicons (ocr-lstm reads each word's frames against the lexicon; RapidOCR's
words are snapped to the closest lexicon word by edit distance, as a post-processing
step), seconds per photo without loading the models (``load s``: the time to be ready),
and the error table of :mod:`ocr_lstm.evaluation.scene_errors` (where the end-to-end
points are lost). On ``svt_scenes`` only the lexicon's words are annotated: read recall
there, not precision; ``ic15_scenes`` is fully annotated. Skips when the set is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "ic15_scenes"
SYSTEMS = ("ocr-lstm", "rapidocr")


def snap(text: str, lexicon: tuple[str, ...]) -> str:
    """The lexicon word closest to ``text`` by edit distance (case-insensitive)."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    match = process.extractOne(text.upper(), [w.upper() for w in lexicon], scorer=Levenshtein.distance)
    return match[0] if match else text


def rapidocr_words(word_results: object) -> list[tuple[list, str]]:
    """(box, text) of each word in RapidOCR 3.10's ``word_results``: one entry per line, which
    is a tuple of ``(text, score, box)`` words, a bare ``(text, score, box)`` for some lines,
    or empty; words without a box are left out."""
    words = []
    for line in word_results or ():  # type: ignore[attr-defined]
        if not line:
            continue
        for item in [line] if isinstance(line[0], str) else line:
            if isinstance(item, (tuple, list)) and len(item) == 3 and item[2]:
                text, _, box = item
                words.append((box, text))
    return words


def run_one(system: str, data: Path, limit: int | None, threads: int) -> dict:
    """Read the photos with one system in this process; scores and timings as a dict."""
    from ocr_lstm.evaluation.scene_errors import error_table
    from ocr_lstm.evaluation.scenes import load_scene_folder, score_photos

    photos = load_scene_folder(data)[:limit]
    started = time.perf_counter()
    if system == "ocr-lstm":
        from ocr_lstm.evaluation.photos import evaluate_photos
        from ocr_lstm.predictors import OCR, DBDetector, Recognizer

        ocr = OCR(DBDetector(threads=threads), Recognizer(threads=threads))
        load_s = time.perf_counter() - started
        report = evaluate_photos(ocr, photos, progress=False)
        plain, lexicon, seconds, errors = report.scores, report.with_lexicon, report.seconds, report.errors
    else:
        from rapidocr import RapidOCR

        engine = RapidOCR(params={
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "Global.log_level": "critical",
        })
        load_s = time.perf_counter() - started
        words_per_photo = []
        seconds = 0.0
        for photo in photos:
            begun = time.perf_counter()
            result = engine(str(photo.image_path), return_word_box=True)
            seconds += time.perf_counter() - begun
            words_per_photo.append(rapidocr_words(result.word_results))
        read = [(p.ground_truth, w) for p, w in zip(photos, words_per_photo)]
        plain, errors = score_photos(read), error_table(read)
        lexicon = score_photos(
            (p.ground_truth, [(box, snap(text, p.lexicon or ())) for box, text in w])
            for p, w in zip(photos, words_per_photo)
        ) if all(p.lexicon for p in photos) else None
    return {
        "system": system, "threads": threads, "photos": len(photos), "load_s": load_s,
        "s_per_photo": seconds / max(len(photos), 1),
        "detection": _prf(plain.detection), "end_to_end": _prf(plain.end_to_end),
        "lexicon_e2e_recall": lexicon.end_to_end.recall if lexicon else None,
        "ground_truth": plain.detection.ground_truth, "errors": errors,
    }


def _prf(counts: object) -> list[float]:
    return [100 * counts.precision, 100 * counts.recall, 100 * counts.f_score]  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED, help="photo folder (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=None, help="read only the first N photos")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--one", choices=SYSTEMS, help=argparse.SUPPRESS)  # a child process's own run
    args = parser.parse_args(argv)
    if not (args.data / "gt").is_dir():
        print(f"skipped: {args.data} has no gt/ (../shared is not here)")
        return 0
    if args.one:
        print(json.dumps(run_one(args.one, args.data, args.limit, args.threads[0])))
        return 0
    rows = []
    for threads in args.threads:
        for system in args.systems:
            command = [sys.executable, __file__, "--one", system, "--data", str(args.data), "--threads", str(threads)]
            if args.limit:
                command += ["--limit", str(args.limit)]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{args.data.name}: {rows[0]['photos'] if rows else 0} photos, {rows[0]['ground_truth'] if rows else 0} "
          "cared words")
    print(f"{'system':<10} {'threads':>7} {'det P / R / F':>18} {'e2e P / R / F':>18} {'lex e2e R':>9} "
          f"{'s/photo':>7} {'load s':>6}")
    for row in rows:
        lexicon = f"{100 * row['lexicon_e2e_recall']:>9.1f}" if row["lexicon_e2e_recall"] is not None else f"{'-':>9}"
        print(f"{row['system']:<10} {row['threads']:>7} {_triple(row['detection']):>18} "
              f"{_triple(row['end_to_end']):>18} {lexicon} {row['s_per_photo']:>7.2f} {row['load_s']:>6.2f}")
    print("\nwhere the end-to-end points go (ocr_lstm.evaluation.scene_errors; the first run of each system):")
    firsts = {row["system"]: row for row in reversed(rows)}
    systems = [system for system in args.systems if system in firsts]
    print(f"{'':<24}" + "".join(f"{system:>10}" for system in systems))
    for name in firsts[systems[0]]["errors"] if systems else ():
        print(f"{name:<24}" + "".join(f"{firsts[system]['errors'][name]:>10}" for system in systems))
    return 0


def _triple(values: list[float]) -> str:
    return " / ".join(f"{value:.1f}" for value in values)


if __name__ == "__main__":
    sys.exit(main())
