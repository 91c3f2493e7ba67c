"""``find_images`` follows links to folders, reads each real folder once and never loops."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr_lstm.batch.engine import find_images


def touch(*paths: Path) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")  # found by suffix: the content is not read


def relative(folder: Path) -> list[str]:
    return [p.relative_to(folder).as_posix() for p in find_images(folder)]


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "images"
    touch(root / "a.png", root / "sub" / "b.JPG", root / "notes.txt")
    return root


def test_images_behind_a_link_to_a_folder_are_found_through_the_link(folder: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    touch(elsewhere / "c.png", elsewhere / "deeper" / "d.webp")
    (folder / "linked").symlink_to(elsewhere, target_is_directory=True)
    assert relative(folder) == ["a.png", "linked/c.png", "linked/deeper/d.webp", "sub/b.JPG"]


def test_links_to_the_folder_or_an_ancestor_do_not_loop_or_leave_it(folder: Path, tmp_path: Path) -> None:
    touch(tmp_path / "beside.png")  # under the folder's parent: not under the folder
    (folder / "sub" / "back").symlink_to(folder, target_is_directory=True)
    (folder / "up").symlink_to(tmp_path, target_is_directory=True)
    (folder / "sub" / "self").symlink_to(folder / "sub", target_is_directory=True)
    assert relative(folder) == ["a.png", "sub/b.JPG"]


def test_a_link_into_the_folder_adds_nothing_and_renames_nothing(folder: Path) -> None:
    (folder / "aa_latest").symlink_to(folder / "sub", target_is_directory=True)  # walked first by name
    assert relative(folder) == ["a.png", "sub/b.JPG"]


def test_two_links_to_one_folder_read_it_once(folder: Path, tmp_path: Path) -> None:
    touch(tmp_path / "elsewhere" / "c.png")
    (folder / "one").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (folder / "two").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert relative(folder) == ["a.png", "one/c.png", "sub/b.JPG"]


def test_links_to_files_are_images_and_broken_links_are_not(folder: Path, tmp_path: Path) -> None:
    touch(tmp_path / "outside.png")
    (folder / "linked.png").symlink_to(tmp_path / "outside.png")
    (folder / "broken.png").symlink_to(tmp_path / "missing.png")
    assert relative(folder) == ["a.png", "linked.png", "sub/b.JPG"]


def test_the_folder_may_itself_be_a_link(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "alias").symlink_to(folder, target_is_directory=True)
    assert relative(tmp_path / "alias") == ["a.png", "sub/b.JPG"]
