"""How many word images a chunk holds when the command is not told."""

from __future__ import annotations

from ocr_lstm.batch import CHUNKS_PER_WORKER, CROP_CHUNK, MIN_CROP_CHUNK, crop_chunk


def test_a_large_folder_gets_the_largest_chunks() -> None:
    assert crop_chunk(1_000_000, workers=2) == CROP_CHUNK


def test_each_worker_gets_several_chunks_of_a_middling_folder() -> None:
    chunk = crop_chunk(8210, workers=2)
    assert MIN_CROP_CHUNK <= chunk <= CROP_CHUNK
    assert -(-8210 // chunk) >= 2 * CHUNKS_PER_WORKER


def test_a_small_folder_is_not_cut_into_tiny_chunks() -> None:
    assert crop_chunk(10, workers=8) == MIN_CROP_CHUNK
    assert crop_chunk(0, workers=0) == MIN_CROP_CHUNK
