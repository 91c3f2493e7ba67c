"""Reading whole folders: the resumable local engine and the rows it writes.

The chunk sizes live here, free of the engine's imports, for the commands' help and the Ray layer.
"""

CROP_CHUNK = 1024  # at most this many word images read per chunk, and rows flushed together
MIN_CROP_CHUNK = 128
CHUNKS_PER_WORKER = 4
# The local engine reads one photo per chunk, so that its row is written as soon as it is read (under a
# second of work) and Ctrl-C keeps every photo finished: a photo's dozens of lines fill the recognizer's
# batches on their own (`ocr-lstm batch --photos --chunk 8` read no faster). The Ray engine reads photos
# by PHOTO_BATCH per actor call.
PHOTO_CHUNK = 1
PHOTO_BATCH = 8


def crop_chunk(images: int, workers: int) -> int:
    """Word images per chunk when none is asked for.

    Large, since a chunk's crops of one width fill batches without padding, which ONNX Runtime
    runs faster (over 8,210 real crops: 72 % of them with chunks of 3,000, 59 % with 1,024, 19 %
    with 256; benchmarks/uniform_graph.py); yet small enough that each worker gets
    :data:`CHUNKS_PER_WORKER` chunks and the workers finish together.
    """
    return max(MIN_CROP_CHUNK, min(CROP_CHUNK, -(-images // (max(workers, 1) * CHUNKS_PER_WORKER))))
