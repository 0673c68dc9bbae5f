"""Frame decoding: split frames, many frames per read, invalid lengths (PROTOCOL.md section 2)."""

from __future__ import annotations

import struct

import pytest

from snakepit_bridge.channel.framing import LARGE_BODY_BYTES, FrameDecoder, ProtocolError, frame


def test_frame_prefixes_big_endian_length():
    assert frame(b"abc") == b"\x00\x00\x00\x03abc"


def test_one_frame_in_one_read():
    assert FrameDecoder().feed(frame(b"hello")) == [b"hello"]


def test_many_frames_in_one_read():
    data = b"".join(frame(bytes([i]) * (i + 1)) for i in range(50))
    assert FrameDecoder().feed(data) == [bytes([i]) * (i + 1) for i in range(50)]


def test_frame_split_at_every_byte():
    decoder = FrameDecoder()
    data = frame(b"first") + frame(b"second body")
    got = []
    for i in range(len(data)):
        got.extend(decoder.feed(data[i:i + 1]))
    assert got == [b"first", b"second body"]
    assert decoder.pending == 0


def test_header_split_and_body_split_across_reads():
    decoder = FrameDecoder()
    data = frame(b"x" * 1000)
    assert decoder.feed(data[:2]) == []
    assert decoder.feed(data[2:500]) == []
    assert decoder.pending == 500
    assert decoder.feed(data[500:] + frame(b"next")[:3]) == [b"x" * 1000]
    assert decoder.feed(frame(b"next")[3:]) == [b"next"]


def test_bodies_are_independent_bytes():
    decoder = FrameDecoder()
    decoder.feed(frame(b"abc")[:5])
    (body,) = decoder.feed(frame(b"abc")[5:] + frame(b"zz"))[:1]
    assert type(body) is bytes and body == b"abc"


def test_zero_length_is_rejected():
    with pytest.raises(ProtocolError, match="length 0"):
        FrameDecoder().feed(b"\x00\x00\x00\x00")


def test_oversized_length_is_rejected_from_the_header_alone():
    decoder = FrameDecoder(max_frame_bytes=1024)
    with pytest.raises(ProtocolError, match="1025"):
        decoder.feed(struct.pack(">I", 1025))  # no body sent: rejected before buffering anything
    assert decoder.pending == 0


def test_huge_length_does_not_allocate():
    decoder = FrameDecoder()
    with pytest.raises(ProtocolError):
        decoder.feed(b"\xff\xff\xff\xff" + b"x" * 10)


def test_limit_is_inclusive():
    decoder = FrameDecoder(max_frame_bytes=4)
    assert decoder.feed(frame(b"1234")) == [b"1234"]


def test_oversized_frame_after_valid_ones_in_the_same_read():
    decoder = FrameDecoder(max_frame_bytes=8)
    with pytest.raises(ProtocolError):
        decoder.feed(frame(b"ok") + struct.pack(">I", 9) + b"123456789")


def test_large_body_fed_in_pieces_with_small_frames_around_it():
    big = bytes(range(256)) * 2048  # 512 KiB: above LARGE_BODY_BYTES
    data = frame(b"before") + frame(big) + frame(b"after") + frame(b"last")[:3]
    decoder = FrameDecoder()
    got = []
    for i in range(0, len(data), 65536):
        got.extend(decoder.feed(data[i:i + 65536]))
    assert got == [b"before", big, b"after"]
    assert decoder.feed(frame(b"last")[3:]) == [b"last"]
    assert decoder.pending == 0


def test_large_body_received_in_place():
    big = b"\x07" * (LARGE_BODY_BYTES + 10)
    data = frame(big) + frame(b"tail")
    decoder = FrameDecoder()
    assert decoder.feed(data[:1000]) == []
    assert decoder.pending == 1000
    pos = 1000
    while decoder.body_target() is not None:
        target = decoder.body_target()
        n = min(len(target), 70000)
        target[:n] = data[pos:pos + n]
        target.release()
        pos += n
        bodies = decoder.advance(n)
    assert bodies == [big] and isinstance(bodies[0], bytearray)
    assert decoder.feed(data[pos:]) == [b"tail"]


def test_large_header_split_before_the_body():
    big = b"z" * (LARGE_BODY_BYTES * 2)
    data = frame(big)
    decoder = FrameDecoder()
    assert decoder.feed(data[:2]) == [] and decoder.feed(data[2:6]) == []
    assert decoder.feed(data[6:]) == [big]


def _receive_all(conn, count):
    bodies = []
    while len(bodies) < count:
        bodies.extend(conn.recv_frames())
    return bodies


def test_connection_reads_frames_of_every_size_over_a_socket():
    # Frames around the receive buffer's sizes (64 KiB, then 256 KiB) and the large-body threshold, written
    # in pieces cut at odd places, come out whole and in order; the buffer grows once a read fills it.
    import socket
    import threading

    from snakepit_bridge.channel.connection import RECV_BUFFER_MAX, RECV_BYTES, Connection

    sizes = [1, 5, RECV_BYTES - 4, RECV_BYTES, RECV_BYTES + 1, 80117, RECV_BUFFER_MAX - 3, RECV_BUFFER_MAX + 7,
             (1 << 20) + 3, 17]
    bodies = [bytes((i * 7 + n) & 0xFF for i in range(min(n, 251))) * (n // 251) + b"\x05" * (n % 251)
              for n in sizes]
    data = b"".join(frame(b) for b in bodies)
    host, worker = socket.socketpair()
    try:
        conn = Connection(worker.fileno())

        def write():
            cut = 0
            for step in (3, 70001, 2, 262147, 65535, 1 << 20):
                host.sendall(data[cut:cut + step])
                cut += step
            host.sendall(data[cut:])

        writer = threading.Thread(target=write)
        writer.start()
        got = _receive_all(conn, len(bodies))
        writer.join()
        assert [len(b) for b in got] == sizes
        assert got == bodies
        assert len(conn._rbuf) == RECV_BUFFER_MAX
        assert conn.decoder.pending == 0
    finally:
        host.close()
        worker.close()
