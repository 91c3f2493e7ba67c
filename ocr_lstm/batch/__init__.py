"""Reading whole folders: the resumable local engine and the rows it writes.

The chunk sizes live here, free of the engine's imports, for the commands' help and the Ray layer.
"""

CROP_CHUNK = 256  # word images read per chunk, and rows flushed together
PHOTO_CHUNK = 8  # photos hold dozens of lines each: a chunk's lines fill the recognizer's batches
