"""The send and receive buffers against plain models: any mix of writes, slices,
acknowledgments and reads, across sequence-number wraparound and chunk boundaries."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from synack.tcp.sender import CHUNK, SendBuffer
from synack.tcp.seq import seq_add

ops = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.integers(0, 3 * CHUNK)),
        st.tuples(st.just("small"), st.integers(1, 300)),
        st.tuples(st.just("ack"), st.integers(0, 2 * CHUNK)),
        st.tuples(st.just("slice"), st.integers(0, 3 * CHUNK), st.integers(0, 3 * CHUNK)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(ops=ops, base=st.integers(0, 2**32 - 1), capacity=st.integers(1, 5 * CHUNK))
def test_send_buffer_matches_a_bytearray_model(
    ops: list[tuple[object, ...]], base: int, capacity: int
) -> None:
    buf = SendBuffer(capacity, base)
    model = bytearray()
    model_base = base
    counter = 0
    for op in ops:
        kind = op[0]
        if kind in ("write", "small"):
            size = int(op[1])  # type: ignore[call-overload]
            data = bytes((counter + i) & 0xFF for i in range(size))
            counter += size
            # bytes, a view of bytes, or a bytearray the writer then reuses
            kind_of = counter % 3
            if kind_of == 1:
                n = buf.write(memoryview(data))
            elif kind_of == 2:
                reused = bytearray(data)
                n = buf.write(reused)
                reused[:] = bytes(len(reused))
            else:
                n = buf.write(data)
            assert n == min(size, capacity - len(model))
            model += data[:n]
        elif kind == "ack":
            k = min(int(op[1]), len(model))  # type: ignore[call-overload]
            assert buf.acknowledge(seq_add(model_base, k)) == k
            del model[:k]
            model_base = seq_add(model_base, k)
        else:
            off, n = int(op[1]), int(op[2])  # type: ignore[call-overload]
            got = buf.slice(seq_add(model_base, off), n)
            assert got == bytes(model[off : off + n])
            assert buf.available_from(seq_add(model_base, off)) == max(len(model) - off, 0)
        assert len(buf) == len(model)
        assert buf.base == model_base
        assert buf.end == seq_add(model_base, len(model))
        assert buf.free == capacity - len(model)


def test_acknowledging_a_stale_ack_drops_nothing() -> None:
    buf = SendBuffer(100, 2**32 - 10)
    buf.write(b"a" * 50)
    assert buf.acknowledge(2**32 - 20) == 0
    assert buf.acknowledge(5) == 15  # across the wrap
    assert buf.slice(5, 100) == b"a" * 35


def test_large_immutable_writes_are_kept_and_sent_as_views_mutable_ones_copied() -> None:
    big = bytes(range(256)) * (CHUNK // 128)  # two chunks' worth
    buf = SendBuffer(1 << 20)
    assert buf.write(big) == len(big)
    assert buf.write(memoryview(big)[:CHUNK]) == CHUNK
    reused = bytearray(b"m" * CHUNK)
    assert buf.write(reused) == CHUNK
    reused[:] = b"X" * CHUNK  # the writer reuses its buffer at once
    seg = buf.slice(100, 1000)
    assert isinstance(seg, memoryview) and seg.obj is big  # no copy of the user's bytes
    assert seg == big[100:1100]
    assert buf.slice(len(big) + 5, 10) == big[5:15]
    assert buf.slice(len(big) + CHUNK, CHUNK) == b"m" * CHUNK  # copied on the way in
    across = buf.slice(len(big) - 10, 20)  # two chunks: one joined copy
    assert isinstance(across, bytes) and across == big[-10:] + big[:10]
    # A write cut short by the buffer's space keeps only what fits, still uncopied.
    small = SendBuffer(CHUNK + 10)
    assert small.write(big) == CHUNK + 10
    assert small.slice(0, CHUNK + 20) == big[: CHUNK + 10]


def test_receive_buffer_copies_payloads_of_mutable_buffers_only() -> None:
    from synack.tcp.receiver import ReceiveBuffer

    packet = b"hdr" + b"p" * 100
    mutable = bytearray(b"hdr" + b"q" * 100)
    buf = ReceiveBuffer(1 << 20)
    assert buf.accept(0, 0, memoryview(packet)[3:]) == 100
    assert buf.accept(100, 100, memoryview(mutable)[3:]) == 100
    mutable[3:] = b"Z" * 100  # the caller reuses its buffer
    assert buf.read(1 << 20) == b"p" * 100 + b"q" * 100
    assert buf.accept(200, 200, memoryview(packet)[3:]) == 100
    whole = buf.read(1 << 20)
    assert type(whole) is bytes and whole == b"p" * 100  # a view comes out as bytes


def test_many_small_writes_share_chunks() -> None:
    buf = SendBuffer(1 << 20)
    for _ in range(10_000):
        buf.write(b"x")
    assert buf.slice(0, 10_000) == b"x" * 10_000


@settings(max_examples=150, deadline=None)
@given(
    pieces=st.lists(st.binary(min_size=1, max_size=3000), max_size=30),
    reads=st.lists(st.integers(1, 8000), max_size=40),
)
def test_receive_buffer_reads_in_order_bytes_in_any_sizes(
    pieces: list[bytes], reads: list[int]
) -> None:
    """The in-order side of the receive buffer: whatever the read sizes, the bytes come
    out as they went in, and a read of everything returns the arrived objects."""
    from synack.tcp.receiver import ReceiveBuffer

    buf = ReceiveBuffer(1 << 20)
    seq, stream = 1000, b""
    for p in pieces:
        assert buf.accept(seq, seq, p) == len(p)
        seq += len(p)
        stream += p
    out = b""
    for n in reads:
        got = buf.read(n)
        assert got == stream[len(out) : len(out) + n]
        out += got
        assert len(buf) == len(stream) - len(out)
    assert out + buf.read(1 << 30) == stream
    assert len(buf) == 0 and buf.free == 1 << 20


def test_any_buffer_is_queued_as_its_octets_and_survives_its_views_release() -> None:
    big = bytes(range(256)) * 800  # 204,800 octets
    buf = SendBuffer(1 << 22)
    strided = memoryview(big)[::2]  # not contiguous: copied
    assert buf.write(strided) == len(big) // 2
    with memoryview(big) as mv:  # released as soon as the write returns
        assert buf.write(mv) == len(big)
    words = memoryview(big).cast("I")  # 4-octet items: counted in octets
    assert buf.write(words) == len(big)
    half = len(big) // 2
    assert buf.slice(0, half) == big[::2]
    assert buf.slice(half, len(big)) == big
    assert buf.slice(half + len(big), len(big)) == big


def test_a_view_pins_the_writers_object_only_when_it_is_worth_it() -> None:
    """A chunk kept as a view keeps its whole object alive: a writer's loop of
    ``data = data[n:]`` (a new object each time) gets copies, while successive slices
    of one block, or a write of most of an object, are kept as views of it."""
    data = bytes(4 << 20)
    buf = SendBuffer(1 << 20)
    n = buf.write(data)  # a quarter of the object fits: copied, not pinned
    assert n == 1 << 20 and buf.slice(0, 10).obj is not data  # type: ignore[union-attr]
    rest = data[n:]
    buf.acknowledge(n)
    assert buf.write(rest) == 1 << 20
    assert buf.slice(n, 10).obj is not rest  # type: ignore[union-attr]
    block = bytes(2 << 20)
    view = memoryview(block)
    blocky = SendBuffer(8 << 20)
    for off in range(0, 2 << 20, 1 << 20):  # slices of one block: all views of it
        assert blocky.write(view[off : off + (1 << 20)]) == 1 << 20
    assert blocky.slice(5, 10).obj is block  # type: ignore[union-attr]
    assert blocky.slice((1 << 20) + 5, 10).obj is block  # type: ignore[union-attr]


def test_small_received_payloads_do_not_keep_their_packets() -> None:
    """Tiny segments cost their octets, not the packets they came in (a view of each
    1500-octet packet would hold 1.5 MB for these 1,000 octets)."""
    import tracemalloc

    from synack.tcp.receiver import ReceiveBuffer

    buf = ReceiveBuffer(1 << 20)
    tracemalloc.start()
    try:
        for i in range(1000):
            packet = bytes(52) + bytes([i & 0xFF]) + bytes(1447)
            assert buf.accept(i, i, memoryview(packet)[52:53]) == 1
            del packet
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 200_000, held
    assert buf.read(2000) == bytes(i & 0xFF for i in range(1000))
