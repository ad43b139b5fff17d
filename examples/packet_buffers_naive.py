"""Datagrams received as a fresh bytes object each (the naive version of packet_buffers.py).

A receiver takes radio packets in bursts of 8 from a datagram socket, queues them, then checks each payload's
CRC per packet kind. thrifty is used here only to count allocations; the memory line goes to stderr.
"""
import random
import socket
import sys
import zlib

import thrifty

BURST, BURSTS, MAX = 8, 250, 256


def traffic(seed=5):
    rng = random.Random(seed)        # packet = kind byte + payload; built before the measurement
    return [[bytes([rng.randrange(4)]) + rng.randbytes(rng.randrange(16, MAX)) for _ in range(BURST)]
            for _ in range(BURSTS)]


def main():
    bursts = traffic()
    tx, rx = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    counts, crcs = [0] * 4, [0] * 4
    with tx, rx, thrifty.count_allocs() as c:
        for burst in bursts:
            for packet in burst:
                tx.send(packet)
            queue = [rx.recv(MAX) for _ in range(BURST)]     # a new bytes per packet
            for packet in queue:
                kind, payload = packet[0], packet[1:]         # and a copy for the payload
                counts[kind] += 1
                crcs[kind] = zlib.crc32(payload, crcs[kind])
    for kind in range(4):
        print(f"kind {kind}: {counts[kind]:4} packets, crc {crcs[kind]:08x}")
    print(f"memory: {BURST * BURSTS} packets: {c.blocks:,} allocations, {c.bytes:,} B allocated, "
          f"peak live {c.peak:,} B", file=sys.stderr)


if __name__ == "__main__":
    main()
