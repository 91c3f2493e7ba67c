"""The model options of the commands: one per RecognizerOptions field, with its default and help."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import pytest

from ocr_lstm.commands.common import BATCHING, add_model_arguments, options_from_args, recognizer_from_args
from ocr_lstm.recognition.options import RecognizerOptions


@pytest.fixture()
def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_model_arguments(parser)
    return parser


def test_every_recognizer_option_is_a_command_line_option_with_its_help(parser: argparse.ArgumentParser) -> None:
    actions = {action.dest: action for action in parser._actions}
    for option in fields(RecognizerOptions):
        assert actions[option.name].help.startswith(option.metadata["help"].replace("%", "%%"))
        assert actions[option.name].default == option.default
    assert "--no-word-prior" in actions["word_prior"].option_strings
    assert actions["decoding"].choices == ["greedy", "beam"]


def test_no_options_give_the_recognizer_options_defaults(parser: argparse.ArgumentParser) -> None:
    assert options_from_args(parser.parse_args([])) == RecognizerOptions()


def test_options_left_out_are_not_offered_and_keep_their_defaults() -> None:
    parser = argparse.ArgumentParser()
    add_model_arguments(parser, leave_out=BATCHING)
    offered = {action.dest for action in parser._actions}
    assert {"batch_size", "batch_columns"} == BATCHING and not BATCHING & offered
    assert {option.name for option in fields(RecognizerOptions)} - BATCHING <= offered
    with pytest.raises(SystemExit):
        parser.parse_args(["--batch-size", "4"])
    options = options_from_args(parser.parse_args(["--threads", "2"]))
    assert options == RecognizerOptions(threads=2)


def test_options_on_the_command_line_reach_the_recognizer(
    parser: argparse.ArgumentParser, tiny_model_path: Path
) -> None:
    args = parser.parse_args([
        "--model", str(tiny_model_path), "--device", "cpu", "--batch-size", "5", "--threads", "1",
        "--decoding", "beam", "--beam-width", "4", "--allowlist", "0123456789", "--no-word-prior",
        "--backend", "torch", "--no-channels-last",
    ])
    expected = RecognizerOptions(device="cpu", batch_size=5, threads=1, decoding="beam", beam_width=4,
                                 allowlist="0123456789", word_prior=False, backend="torch", channels_last=False)
    assert options_from_args(args) == expected
    recognizer = recognizer_from_args(args)
    assert recognizer.options == expected
    assert recognizer.name == "tiny" and recognizer.backend == "torch"


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_counts_must_be_positive(parser: argparse.ArgumentParser, value: str) -> None:
    with pytest.raises(SystemExit):
        parser.parse_args(["--beam-width", value])


def test_help_shows_the_defaults(parser: argparse.ArgumentParser) -> None:
    text = " ".join(parser.format_help().split())
    assert "(default: 32)" in text and "(default: greedy)" in text and "(default: on)" in text
    assert "+10-30% batched" in text
