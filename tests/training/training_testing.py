"""Helpers shared by the multi-process training tests (DDP in one machine, two torchrun "nodes")."""

from __future__ import annotations

import socket
from pathlib import Path

from word_images import render_word

WORDS = ("one", "two", "three", "four")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def labelled_words(folder: Path, words: tuple[str, ...] = WORDS) -> Path:
    """A labelled folder of ``words`` rendered once each (``0.png``... and ``labels.tsv``)."""
    folder.mkdir(parents=True)
    for i, word in enumerate(words):
        render_word(word).save(folder / f"{i}.png")
    (folder / "labels.tsv").write_text("".join(f"{i}.png\t{w}\n" for i, w in enumerate(words)))
    return folder
