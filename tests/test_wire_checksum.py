"""The Internet checksum (RFC 1071) and the pseudo-header sum (RFC 9293 §3.1)."""

from __future__ import annotations

import os
import socket
import sys
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synack.errors import UsageError
from synack.wire.checksum import (
    internet_checksum,
    ones_complement_sum,
    pack_ipv4_address,
    piece_sums,
    pseudo_header_sum,
    word_sums,
)


def _reference_sum(data: bytes) -> int:
    """Word-by-word ones'-complement sum with end-around carry, as in RFC 1071 §4.1."""
    if len(data) % 2:
        data += b"\x00"
    words = array("H", data)
    if sys.byteorder == "little":
        words.byteswap()
    s = 0
    for w in words:
        s += w
        s = (s & 0xFFFF) + (s >> 16)
    return s


def test_rfc1071_example_bytes_give_sum_ddf2_and_checksum_220d() -> None:
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert ones_complement_sum(data) == 0xDDF2
    assert internet_checksum(data) == 0x220D


def test_buffer_including_its_own_checksum_verifies_to_zero() -> None:
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert internet_checksum(data + (0x220D).to_bytes(2, "big")) == 0


def test_odd_length_is_padded_with_a_zero_octet() -> None:
    assert internet_checksum(b"\x01\x02\x03") == internet_checksum(b"\x01\x02\x03\x00")
    assert internet_checksum(b"\xab") == ~0xAB00 & 0xFFFF


def test_empty_buffer_has_checksum_ffff() -> None:
    assert internet_checksum(b"") == 0xFFFF


def test_all_ones_sum_is_negative_zero_so_checksum_is_zero() -> None:
    assert ones_complement_sum(b"\xff\xff" * 7) == 0xFFFF
    assert internet_checksum(b"\xff\xff" * 7) == 0


def test_initial_partial_sum_is_added_like_prepended_words() -> None:
    prefix = os.urandom(12)
    body = os.urandom(33)
    initial = sum(int.from_bytes(prefix[i : i + 2], "big") for i in range(0, 12, 2))
    assert internet_checksum(body, initial) == internet_checksum(prefix + body)


def test_pseudo_header_sum_matches_the_packed_pseudo_header() -> None:
    pseudo = (
        socket.inet_aton("192.0.2.1")
        + socket.inet_aton("198.51.100.7")
        + bytes((0, 6))
        + b"\x05\xdc"
    )
    words = sum(int.from_bytes(pseudo[i : i + 2], "big") for i in range(0, 12, 2))
    assert pseudo_header_sum("192.0.2.1", "198.51.100.7", 6, 1500) == words


def test_address_packing_rejects_non_dotted_quads() -> None:
    assert pack_ipv4_address("10.0.0.1") == b"\x0a\x00\x00\x01"
    with pytest.raises(UsageError):
        pack_ipv4_address("10.1")
    with pytest.raises(UsageError):
        pseudo_header_sum("not-an-ip", "10.0.0.1", 6, 20)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=0, max_value=6 * 0xFFFF))
def test_fast_sum_equals_word_by_word_reference(data: bytes, initial: int) -> None:
    expected = _reference_sum(data) + initial
    while expected >> 16:
        expected = (expected & 0xFFFF) + (expected >> 16)
    # End-around carry never folds a non-zero sum to +0, so even the choice between the
    # two zeros (0x0000, 0xFFFF) must agree.
    assert ones_complement_sum(data, initial) == expected


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(min_size=0, max_size=9000),
    initial=st.integers(0, 0x3FFFF),
    pad=st.integers(0, 4096),
)
def test_large_buffers_sum_the_same_with_or_without_the_numpy_path(
    data: bytes, initial: int, pad: int
) -> None:
    """Buffers over NUMPY_THRESHOLD go through numpy when it is installed; the result is
    the RFC 1071 reference sum either way, odd lengths and all-zero buffers included."""
    from synack.wire.checksum import NUMPY_THRESHOLD, pure_ones_complement_sum

    big = data + bytes(pad) + data[:3]
    for buf in (big, bytes(len(big) + NUMPY_THRESHOLD), b"\xff" * (NUMPY_THRESHOLD + pad)):
        expected = pure_ones_complement_sum(buf, initial)
        assert ones_complement_sum(buf, initial) == expected
        s = _reference_sum(buf) + initial
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        assert expected % 0xFFFF == s % 0xFFFF


def _reference_mod(b: bytes) -> int:
    """The RFC 1071 reference sum, as the residue modulo 0xFFFF word_sums gives."""
    return _reference_sum(b) % 0xFFFF


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=6))
def test_word_sums_are_each_buffers_sum_taken_together(buffers: list[bytes]) -> None:
    assert word_sums(buffers) == [_reference_mod(b) for b in buffers]
    ones = [b"\xff" * n for n in (2, 4, 6, 3)]  # sums that are multiples of 0xFFFF
    assert word_sums(ones) == [_reference_mod(b) for b in ones]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(1, 48), st.integers(0, 7))
def test_piece_sums_cut_one_buffer_as_gso_does(data: bytes, size: int, offset: int) -> None:
    view = memoryview(bytes(offset) + data)[offset:]  # also at unaligned offsets
    expected = [_reference_mod(data[o : o + size]) for o in range(0, len(data), size)]
    assert piece_sums(view, size) == expected
