"""Datagrams received into blocks of a thrifty.Pool and read through a View (naive: packet_buffers_naive.py).

A receiver takes radio packets in bursts of 8 from a datagram socket, queues them, then checks each payload's
CRC per packet kind. The buffers are allocated once; the memory line goes to stderr.
"""
import random
import socket
import sys
import zlib

import thrifty
from thrifty import Pool, View

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
        pool = Pool(block_size=MAX, count=BURST)             # the only buffers this loop will ever use
        queue, sizes = [None] * BURST, [0] * BURST
        for burst in bursts:
            for packet in burst:
                tx.send(packet)
            for i in range(BURST):
                queue[i] = pool.acquire()
                sizes[i] = rx.recv_into(queue[i])
            for i in range(BURST):
                block, queue[i] = queue[i], None
                kind = block[0]                               # a Block reads like a bytearray, without a copy
                packet = View(block, 1, sizes[i] - 1)         # a zero-copy window on the payload received
                counts[kind] += 1
                crcs[kind] = zlib.crc32(packet, crcs[kind])
                packet.release()                              # (a with-statement would cost 2 more allocations)
                block.release()                               # back to the pool for the next burst
        pool.close()
    for kind in range(4):
        print(f"kind {kind}: {counts[kind]:4} packets, crc {crcs[kind]:08x}")
    print(f"memory: {BURST * BURSTS} packets: {c.blocks:,} allocations, {c.bytes:,} B allocated, "
          f"peak live {c.peak:,} B", file=sys.stderr)


if __name__ == "__main__":
    main()
