"""Each dataset reader on temporary data: labelled folder, PaddleOCR label file, LMDB."""

from __future__ import annotations

from pathlib import Path

import lmdb
import numpy as np
import pytest
from word_images import render_word

from ocr_lstm.data.datasets import (
    LabelledFolder,
    LmdbDataset,
    PaddleLabelFile,
    folder_to_lmdb,
    open_dataset,
    write_lmdb,
)
from ocr_lstm.preprocessing import load_image

WORDS = ["hello", "World", "a b", "42"]


def make_folder(root: Path, words: list[str] = WORDS) -> Path:
    (root / "images" / "sub").mkdir(parents=True)
    lines = []
    for i, word in enumerate(words):
        relpath = f"images/{'sub/' if i % 2 else ''}{i}.png"
        render_word(word).save(root / relpath)
        lines.append(f"{relpath}\t{word}\n")
    (root / "labels.tsv").write_text("".join(lines), encoding="utf-8")
    return root


def test_labelled_folder_reads_paths_and_labels(tmp_path: Path) -> None:
    dataset = LabelledFolder(make_folder(tmp_path / "set"))
    assert len(dataset) == len(WORDS)
    assert dataset.name == "set"
    for i, word in enumerate(WORDS):
        image, text = dataset[i]
        assert text == word
        assert Path(image).is_file()
        assert load_image(image).ndim == 3


def test_labelled_folder_keeps_spaces_inside_labels(tmp_path: Path) -> None:
    assert LabelledFolder(make_folder(tmp_path / "set"))[2][1] == "a b"


def test_labelled_folder_with_another_label_file(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "set")
    (root / "labels_small.tsv").write_text("images/0.png\thello\n")
    dataset = LabelledFolder(root, "labels_small.tsv")
    assert len(dataset) == 1 and dataset[0][1] == "hello"


def test_paddle_label_file_resolves_paths_relative_to_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "paddle"
    (root / "crops").mkdir(parents=True)
    render_word("first").save(root / "crops" / "a.jpg")
    render_word("second").save(root / "crops" / "b.jpg")
    label_file = root / "rec_gt_train.txt"
    label_file.write_text("crops/a.jpg\tfirst\ncrops/b.jpg\tsecond\n")
    monkeypatch.chdir(tmp_path)  # the images are not relative to the working directory
    dataset = PaddleLabelFile(Path("paddle/rec_gt_train.txt"))
    assert len(dataset) == 2
    assert dataset.name == "rec_gt_train"
    assert [dataset[i][1] for i in range(2)] == ["first", "second"]
    assert [Path(dataset[i][0]).resolve() for i in range(2)] == [root / "crops" / "a.jpg", root / "crops" / "b.jpg"]


def test_paddle_label_file_with_an_explicit_root(tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    render_word("x").save(tmp_path / "imgs" / "x.png")
    label_file = tmp_path / "lists" / "train.txt"
    label_file.parent.mkdir()
    label_file.write_text("imgs/x.png\tx\n")
    dataset = PaddleLabelFile(label_file, root=tmp_path)
    assert dataset[0][0] == tmp_path / "imgs" / "x.png"


def test_absolute_paths_in_a_label_file_are_kept(tmp_path: Path) -> None:
    image = tmp_path / "abs.png"
    render_word("abs").save(image)
    label_file = tmp_path / "elsewhere" / "labels.txt"
    label_file.parent.mkdir()
    label_file.write_text(f"{image}\tabs\n")
    assert PaddleLabelFile(label_file)[0] == (image, "abs")


def test_malformed_label_line_names_file_and_line(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "set")
    with (root / "labels.tsv").open("a") as f:
        f.write("\nimages/9.png has no tab\n")
    with pytest.raises(ValueError, match=r"labels\.tsv:6: expected 'path<TAB>text'"):
        LabelledFolder(root)


def test_label_line_with_empty_path_is_malformed(tmp_path: Path) -> None:
    label_file = tmp_path / "labels.txt"
    label_file.write_text("a.png\ta\n\tlonely label\n")
    with pytest.raises(ValueError, match=r"labels\.txt:2"):
        PaddleLabelFile(label_file)


def test_label_file_with_a_byte_order_mark_reads_cleanly(tmp_path: Path) -> None:
    label_file = tmp_path / "labels.txt"
    label_file.write_bytes("\ufeffa.png\ta\n".encode())
    assert PaddleLabelFile(label_file)[0] == (tmp_path / "a.png", "a")


def test_lmdb_dataset_reads_the_benchmark_layout(tmp_path: Path) -> None:
    path = tmp_path / "db"
    env = lmdb.open(str(path), map_size=1 << 24)
    with env.begin(write=True) as txn:
        txn.put(b"num-samples", b"2")
        txn.put(b"image-000000001", b"\x89PNG first")
        txn.put(b"label-000000001", "café".encode())
        txn.put(b"image-000000002", b"second")
        txn.put(b"label-000000002", b"two")
    env.close()
    dataset = LmdbDataset(path)
    assert len(dataset) == 2
    assert dataset[0] == (b"\x89PNG first", "café")
    assert dataset[1] == (b"second", "two")
    with pytest.raises(IndexError):
        dataset[2]


def test_lmdb_without_sample_count_is_refused(tmp_path: Path) -> None:
    env = lmdb.open(str(tmp_path / "db"), map_size=1 << 20)
    env.close()
    with pytest.raises(ValueError, match="num-samples"):
        LmdbDataset(tmp_path / "db")


def _lmdb(path: Path, entries: dict[bytes, bytes]) -> Path:
    env = lmdb.open(str(path), map_size=1 << 20)
    with env.begin(write=True) as txn:
        for key, value in entries.items():
            txn.put(key, value)
    env.close()
    return path


def test_lmdb_with_a_missing_sample_names_it(tmp_path: Path) -> None:
    dataset = LmdbDataset(
        _lmdb(tmp_path / "db", {b"num-samples": b"2", b"image-000000001": b"x", b"label-000000001": b"a"})
    )
    assert dataset[0] == (b"x", "a")
    with pytest.raises(ValueError, match="sample 2 missing"):
        dataset[1]


def test_lmdb_with_a_bad_count_or_label_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a count"):
        LmdbDataset(_lmdb(tmp_path / "a", {b"num-samples": b"many"}))
    dataset = LmdbDataset(
        _lmdb(tmp_path / "b", {b"num-samples": b"1", b"image-000000001": b"x", b"label-000000001": b"\xff"})
    )
    with pytest.raises(ValueError, match="not UTF-8"):
        dataset[0]


def test_corrupt_lmdb_file_is_a_value_error(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "data.mdb").write_bytes(b"not an lmdb" * 1000)
    with pytest.raises(ValueError, match="unreadable LMDB"):
        LmdbDataset(tmp_path / "db")


def test_write_lmdb_that_outgrows_its_map_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="map size"):
        write_lmdb(((bytes(100_000), str(i)) for i in range(100)), tmp_path / "db", map_size=1 << 20)


def test_write_lmdb_counts_samples(tmp_path: Path) -> None:
    assert write_lmdb([(b"a", "x"), (b"b", "y"), (b"c", "z")], tmp_path / "db", map_size=1 << 22) == 3
    assert [LmdbDataset(tmp_path / "db")[i][1] for i in range(3)] == ["x", "y", "z"]


def test_folder_to_lmdb_round_trip(tmp_path: Path) -> None:
    folder = LabelledFolder(make_folder(tmp_path / "set"))
    count = folder_to_lmdb(tmp_path / "set", tmp_path / "lmdb")
    assert count == len(WORDS)
    converted = LmdbDataset(tmp_path / "lmdb")
    assert len(converted) == len(folder)
    for i in range(len(folder)):
        path, text = folder[i]
        data, converted_text = converted[i]
        assert converted_text == text
        assert data == Path(path).read_bytes()
        np.testing.assert_array_equal(load_image(data), load_image(path))


def test_folder_to_lmdb_refuses_an_lmdb_source(tmp_path: Path) -> None:
    write_lmdb([(b"a", "x")], tmp_path / "db", map_size=1 << 20)
    with pytest.raises(ValueError, match="already an LMDB"):
        folder_to_lmdb(tmp_path / "db", tmp_path / "again")


def test_open_dataset_dispatches_on_the_layout(tmp_path: Path) -> None:
    make_folder(tmp_path / "set")
    write_lmdb([(b"a", "x")], tmp_path / "db", map_size=1 << 20)
    label_file = tmp_path / "set" / "labels.tsv"
    assert type(open_dataset(tmp_path / "set")) is LabelledFolder
    assert type(open_dataset(tmp_path / "db")) is LmdbDataset
    assert type(open_dataset(label_file)) is PaddleLabelFile
    assert type(open_dataset(str(label_file))) is PaddleLabelFile


def test_open_dataset_refuses_what_is_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="not a dataset"):
        open_dataset(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="not a dataset"):
        open_dataset(tmp_path / "missing")
