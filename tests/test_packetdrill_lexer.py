"""The packetdrill lexer scans as flex does: longest match, then the first rule."""

from __future__ import annotations

import pytest

from synack.packetdrill.lexer import tokenize


def kinds(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(text)[:-1]]


def test_relative_blocking_time_splits_into_plus_float_ellipsis_float() -> None:
    assert kinds("+.01...0.011") == [
        ("+", "+"),
        ("FLOAT", ".01"),
        ("ELLIPSIS", "..."),
        ("FLOAT", "0.011"),
    ]
    assert kinds("+0...0") == [("+", "+"), ("INTEGER", "0"), ("ELLIPSIS", "..."), ("INTEGER", "0")]


def test_sequence_range_is_not_an_ipv6_address() -> None:
    assert kinds("1:1001(1000)") == [
        ("INTEGER", "1"),
        (":", ":"),
        ("INTEGER", "1001"),
        ("(", "("),
        ("INTEGER", "1000"),
        (")", ")"),
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("fe80::1", "IPV6_ADDR"),
        ("::ffff:192.0.2.1", "IPV6_ADDR"),
        ("2001:db8:0:0:0:0:0:1", "IPV6_ADDR"),
        ("192.168.0.1", "IPV4_ADDR"),
        ("0x1f", "HEX_INTEGER"),
        ("-1", "INTEGER"),
        ("-0.5", "FLOAT"),
        ("--tolerance_usecs", "OPTION"),
        ('"a\\"b"', "STRING"),
        ("sequence#", "SEQUENCE"),
    ],
)
def test_longest_match_picks_the_token(text: str, kind: str) -> None:
    toks = tokenize(text)
    assert [t.kind for t in toks] == [kind, "EOF"]
    assert toks[0].text == text


def test_keywords_win_ties_but_longer_words_stay_words() -> None:
    assert kinds("ack acked sack sackOK TS TSX win") == [
        ("ACK", "ack"),
        ("WORD", "acked"),
        ("SACK", "sack"),
        ("SACKOK", "sackOK"),
        ("TIMESTAMP", "TS"),
        ("WORD", "TSX"),
        ("WIN", "win"),
    ]


def test_numbers_keep_their_values() -> None:
    toks = tokenize("0x10 -7 .25 12")
    assert [t.value for t in toks[:-1]] == [16, -7, 0.25, 12]


def test_comments_are_skipped_and_lines_counted() -> None:
    toks = tokenize("// one\n/* two\nthree */ 0 // four\n+1")
    assert [(t.kind, t.line) for t in toks] == [
        ("INTEGER", 3),
        ("+", 4),
        ("INTEGER", 4),
        ("EOF", 4),
    ]


def test_code_block_is_stripped_of_outer_blanks() -> None:
    (tok, _eof) = tokenize("%{ \tassert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%")
    assert tok.kind == "CODE"
    assert tok.value == "assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd"


def test_backquoted_command_may_span_lines() -> None:
    toks = tokenize("`a\nb`\n0 close(3) = 0")
    assert toks[0].kind == "BACK_QUOTED" and toks[0].value == "a\nb"
    assert toks[1].kind == "INTEGER" and toks[1].line == 3


def test_option_token_carries_the_name() -> None:
    toks = tokenize("--mss=1000")
    assert [(t.kind, t.value) for t in toks[:-1]] == [
        ("OPTION", "mss"),
        ("=", None),  # punctuation carries no value
        ("INTEGER", 1000),
    ]
