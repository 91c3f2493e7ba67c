"""Charset: the model's symbols, the CTC blank and the label normalisation policy."""

from __future__ import annotations

import pytest

from ocr_lstm.charset import BLANK, DEFAULT_SYMBOLS, Charset, normalize_text


@pytest.mark.parametrize("text", ["hello", "Hello World", "A1-b2_c3!", "$12.50", "it's", "(x)", "Z"])
def test_encode_decode_round_trip(text: str) -> None:
    charset = Charset()
    assert charset.decode(charset.encode(text)) == text


def test_every_default_symbol_but_backtick_round_trips() -> None:
    charset = Charset()
    # A lone space is stripped as outer whitespace; the backtick is normalised to an apostrophe.
    symbols = DEFAULT_SYMBOLS.replace(" ", "").replace("`", "")
    assert charset.decode(charset.encode(symbols)) == symbols


def test_default_charset_covers_digits_letters_space_and_punctuation() -> None:
    charset = Charset()
    for char in "0123456789abcxyzABCXYZ !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~":
        assert char in charset
    assert charset.num_classes == len(DEFAULT_SYMBOLS) + 1


def test_a_symbol_label_is_its_class_without_normalisation() -> None:
    charset = Charset("`'ab")
    assert [charset.label(c) for c in "`'ab"] == [1, 2, 3, 4]
    assert charset.encode("`") == [2]  # encode folds the backtick into an apostrophe


def test_blank_is_never_emitted_by_encode() -> None:
    charset = Charset()
    encoded = charset.encode(DEFAULT_SYMBOLS)
    assert BLANK not in encoded
    assert min(encoded) == 1 and max(encoded) == charset.num_classes - 1


def test_decode_skips_blank_without_collapsing_repeats() -> None:
    charset = Charset("ab")
    assert charset.decode([1, BLANK, 1, 1, 2]) == "aaab"


def test_fullwidth_grave_accent_becomes_apostrophe_after_nfkc() -> None:
    assert normalize_text("it\uff40s") == "it's"


def test_nfkc_normalisation() -> None:
    charset = Charset()
    # Full-width letters, the "fi" ligature and a superscript two fold to ASCII.
    assert charset.clean("ＡＢＣ") == "ABC"
    assert charset.clean("ﬁne") == "fine"
    assert charset.clean("x²") == "x2"


@pytest.mark.parametrize("mark", ["´", "’", "‘", "`"])
def test_acute_accent_and_typographic_quotes_become_apostrophe(mark: str) -> None:
    assert Charset().clean(f"don{mark}t") == "don't"


def test_typographic_double_quotes_and_dashes_become_ascii() -> None:
    assert normalize_text("“a”–b—c") == '"a"-b-c'


def test_whitespace_collapses_and_ends_are_stripped() -> None:
    assert normalize_text("  two \t\n words  ") == "two words"


def test_case_is_kept() -> None:
    assert Charset().clean("MiXeD") == "MiXeD"


def test_unknown_characters_are_dropped_by_default() -> None:
    charset = Charset()
    assert charset.clean("naïve ☃ café") == "nave caf"
    assert charset.decode(charset.encode("a☃b")) == "ab"


def test_dropping_unknown_characters_leaves_no_double_space() -> None:
    assert Charset().clean("a ☃ b") == "a b"


def test_unknown_error_policy_raises_naming_the_characters() -> None:
    charset = Charset(unknown="error")
    with pytest.raises(ValueError, match="☃"):
        charset.encode("snow☃man")
    assert charset.encode("snowman") == Charset().encode("snowman")


def test_symbols_must_be_unique_and_non_empty() -> None:
    with pytest.raises(ValueError, match="unique"):
        Charset("abca")
    with pytest.raises(ValueError):
        Charset("")


def test_extend_keeps_old_indices_and_appends_new_symbols() -> None:
    old = Charset("abc")
    new = old.extend("cdéd")
    assert new.symbols == "abcdé"
    for char in "abc":
        assert new.encode(char) == old.encode(char)
    assert new.encode("é") == [5]
    assert new.num_classes == old.num_classes + 2


def test_to_dict_from_dict_round_trip() -> None:
    charset = Charset("xyz01 ", unknown="error")
    restored = Charset.from_dict(charset.to_dict())
    assert restored == charset
    assert restored.encode("x0 y") == charset.encode("x0 y")


def test_from_dict_defaults_unknown_policy_to_drop() -> None:
    assert Charset.from_dict({"symbols": "ab"}).unknown == "drop"
