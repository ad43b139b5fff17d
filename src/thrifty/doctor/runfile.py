"""Reading a run file (docs/format-run.md) back into the `raw` dict the report is built from.

The recorder's C writer (cpython/runfile.c) appends checksummed records; a reader takes the last complete
snapshot, whatever ended the target. `read_run(path)` returns the raw dict (the same shape `_ext._tracker_stop()`
returns, plus the keys the recorder adds: end, complete, evidence, user_roots, target_peak_rss_bytes, recorder_*),
or raises RunFileError with one line saying what is wrong. `append_end` lets the parent record how a target that
could not write its own end (killed, crashed) ended, so a saved run file tells it too.
"""
from __future__ import annotations

import ast
import os
import struct
import zlib

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; typing is not imported at run time: its import
if TYPE_CHECKING:     # is ~4 ms of every doctor run's start-up, and every annotation here is a string (PEP 563)
    from typing import Any, Iterator

from thrifty import _ext

MAGIC = b"\x89TFRUN\r\n"
VERSION = 2  # 2: delta snapshots; a file of version 1 (full snapshots only) reads the same way
VERSIONS = (1, 2)
HEADER = struct.Struct("<8sHHI")
RECORD = struct.Struct("<BBHIII")  # kind, flags, reserved, stored length, raw length, crc32
FLAG_LZ = 1
META, SNAPSHOT, END, EVIDENCE, DELTA = 1, 2, 3, 4, 5

# the snapshot's leading fields, in order (a newer writer may append more: they are ignored)
FIELDS = ("mode", "sample_rate", "max_depth", "peak_bytes", "live_bytes_at_end", "peak_time_ns", "allocs", "frees",
          "alloc_bytes", "samples", "untracked_allocs", "dropped_stacks", "recycled_stacks", "tracker_bytes",
          "tracker_peak_bytes", "duration_ns", "overhead_ns_estimate", "target_peak_rss_bytes", "recorder_bytes",
          "recorder_peak_bytes", "snapshot", "last_snapshot_ns", "writer_peak_bytes")
# every writer of format 1 wrote at least these (through "snapshot"); last_snapshot_ns and writer_peak_bytes came
# later, so a reader of an older file does without them (readers use .get), and a snapshot with fewer fields than
# this is damaged
REQUIRED_FIELDS = FIELDS.index("snapshot") + 1
_SIGNED = {"peak_bytes", "live_bytes_at_end"}
_NODE = struct.Struct("<IiI")
_SITE = struct.Struct("<IHBBqqQQQ")
_BUCKET = struct.Struct("<qqq")
_KEPT = struct.Struct("<IIQ")
_CHANGED = struct.Struct(f"<I{_SITE.size}s")  # a delta's changed site: its index, its record
# a delta snapshot's sections: functions (and their strings) whole, nodes whole, functions added, nodes added
_FUNCS, _NODES, _FUNCS_ADDED, _NODES_ADDED = 1, 2, 4, 8


class RunFileError(Exception):
    """The file is not a run file this thrifty can read, or is damaged before its first snapshot: one line."""


def _stored_records(data: bytes, path: str) -> Iterator[tuple[int, bytes, int, int, int]]:
    """(kind, stored payload, end offset, flags, raw length) of each committed record, its checksum checked and its
    payload not yet decompressed (_payload does that); stops at a torn or uncommitted tail."""
    if len(data) < HEADER.size or not data.startswith(MAGIC):
        raise RunFileError(f"{path}: not a thrifty run file (it does not start with the run-file magic)")
    _, version, header_size, _ = HEADER.unpack_from(data)
    if version not in VERSIONS:
        raise RunFileError(f"{path}: run file format version {version}; this thrifty reads versions "
                           f"{', '.join(map(str, VERSIONS))}")
    pos = header_size
    while pos + RECORD.size <= len(data):
        kind, flags, _, stored, raw_len, crc = RECORD.unpack_from(data, pos)
        if kind == 0:
            return  # a record whose writer stopped before committing it: the end of the valid part
        end = pos + RECORD.size + stored
        if end > len(data):
            return  # torn: the process ended while writing it
        body = data[pos + RECORD.size:end]
        if zlib.crc32(data[pos:pos + 12], zlib.crc32(body)) != crc:
            if end == len(data):
                return  # a torn last record
            raise RunFileError(f"{path}: corrupt record at byte {pos} (checksum mismatch)")
        yield kind, body, end, flags, raw_len
        pos = end


def _payload(body: bytes, end: int, flags: int, raw_len: int, path: str) -> bytes:
    """A record's payload from its stored bytes (as _stored_records gave them)."""
    pos = end - len(body) - RECORD.size
    if flags & FLAG_LZ:
        try:
            body = _ext.lz_decompress(body)
        except (ValueError, _ext.CorruptData) as e:
            raise RunFileError(f"{path}: corrupt record at byte {pos} ({e})") from None
    if len(body) != raw_len:
        raise RunFileError(f"{path}: corrupt record at byte {pos} (length {len(body)}, header says {raw_len})")
    return body


def _records(data: bytes, path: str) -> Iterator[tuple[int, bytes, int]]:
    """(kind, payload, end offset) of each committed record; stops at a torn or uncommitted tail."""
    for kind, body, end, flags, raw_len in _stored_records(data, path):
        yield kind, _payload(body, end, flags, raw_len, path), end


def _literal(body: bytes, what: str, path: str) -> Any:
    try:
        return ast.literal_eval(body.decode("utf-8", "surrogatepass"))
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError) as e:
        raise RunFileError(f"{path}: unreadable {what} record ({type(e).__name__})") from None


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, st: struct.Struct) -> tuple[Any, ...]:
        v = st.unpack_from(self.data, self.pos)
        self.pos += st.size
        return v

    def u32(self) -> int:
        v = int.from_bytes(self.data[self.pos:self.pos + 4], "little")
        if self.pos + 4 > len(self.data):
            raise struct.error("past the end")
        self.pos += 4
        return v

    def strings(self, errors: str) -> list[str]:
        """A u32 count, then that many (u32 length, UTF-8 bytes) strings."""
        out = []
        for _ in range(self.u32()):
            n = self.u32()
            if self.pos + n > len(self.data):
                raise struct.error("past the end")
            out.append(self.data[self.pos:self.pos + n].decode("utf-8", errors))
            self.pos += n
        return out

    def raw(self, size: int, n: int) -> bytes:
        """n records of size bytes, as they are."""
        if self.pos + size * n > len(self.data):
            raise struct.error("past the end")
        self.pos += size * n
        return self.data[self.pos - size * n:self.pos]

    def many(self, st: struct.Struct, n: int) -> list[tuple[Any, ...]]:
        if self.pos + st.size * n > len(self.data):
            raise struct.error("past the end")
        out = list(st.iter_unpack(self.data[self.pos:self.pos + st.size * n]))
        self.pos += st.size * n
        return out


def _tables(body: bytes, base: dict[str, Any] | None) -> dict[str, Any]:
    """A snapshot's tables as stored ({"fields", "funcs", "nodes", "sites", "timeline", "kept"}): of a full
    snapshot (base None), or of a delta snapshot applied to the tables of the snapshot before it (`base`)."""
    c = _Cursor(body)
    nfields = c.u32()
    if nfields < REQUIRED_FIELDS:
        raise ValueError(f"a snapshot of {nfields} fields (format 1 writes at least {REQUIRED_FIELDS})")
    values = c.many(struct.Struct("<Q"), nfields)
    sections = _FUNCS | _NODES if base is None else c.u32()
    if sections & ~15 or sections & _FUNCS and sections & _FUNCS_ADDED or sections & _NODES and sections & _NODES_ADDED:
        raise ValueError(f"a delta snapshot with sections {sections:#x}")
    if sections & (_FUNCS | _FUNCS_ADDED):
        strings = c.strings("surrogatepass")
        total = c.u32()
        funcs = [] if sections & _FUNCS else list(base["funcs"])  # type: ignore[index]  # a delta has a base
        if total < len(funcs):
            raise ValueError(f"a delta snapshot of {total} functions after {len(funcs)}")
        funcs += [(strings[f], strings[n]) for f, n in c.many(struct.Struct("<II"), total - len(funcs))]
    else:
        funcs = base["funcs"]  # type: ignore[index]
    if sections & (_NODES | _NODES_ADDED):
        total = c.u32()
        have = b"" if sections & _NODES else base["nodes"]  # type: ignore[index]
        if total * _NODE.size < len(have):
            raise ValueError(f"a delta snapshot of {total} nodes after {len(have) // _NODE.size}")
        nodes = have + c.raw(_NODE.size, total - len(have) // _NODE.size)
    else:
        nodes = base["nodes"]  # type: ignore[index]
    if base is None:
        sites: bytes | bytearray = c.raw(_SITE.size, c.u32())
    else:
        nsites, changed = c.u32(), c.u32()
        # the last snapshot's first nsites records, new ones zero, each (u32 index, site record) pair put in place:
        # in C (runfile_read.c), since a run's imports leave thousands of sites and a delta after them changes many
        sites = _ext._runfile_apply_sites(base["sites"], nsites, c.raw(_CHANGED.size, changed))
    timeline = [list(b) for b in c.many(_BUCKET, c.u32())]
    kept: dict[int, tuple[str, int]] = {}
    if c.pos < len(body):  # the kept-types section (older writers of format 1 end before it)
        names = c.strings("replace")
        for site, type_index, nbytes in c.many(_KEPT, c.u32()):
            kept[site] = (names[type_index], nbytes)
    return {"fields": values, "funcs": funcs, "nodes": nodes, "sites": sites, "timeline": timeline, "kept": kept}


def _snapshot(tables: dict[str, Any], strip_file: str | None) -> dict[str, Any]:
    """The raw dict of one snapshot (its _tables). Frames of the recorder's bootstrap (`strip_file`)
    are cut from every stack: they are the recorder's plumbing, as python's own C start-up has no frame."""
    raw: dict[str, Any] = {}
    for name, (v,) in zip(FIELDS, tables["fields"]):
        raw[name] = v - (1 << 64) if name in _SIGNED and v >= 1 << 63 else v
    raw["mode"] = "sampled" if raw["mode"] else "exact"
    # each site's stack from the root as frame ids, the recorder's frames cut (the bootstrap's, and the frame that
    # ran the target above the code it ran): in C (runfile_read.c), the bulk of reading a run with many stacks
    frames, stacks = _ext._runfile_stacks(tables["funcs"], tables["nodes"], tables["sites"], strip_file,
                                          tables["kept"])
    raw.update(frames=frames, stacks=stacks, timeline=tables["timeline"])
    return raw


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise RunFileError(f"cannot read run file {path!r}: {e.strerror or e}") from None


_CORRUPT = (struct.error, IndexError, ValueError, UnicodeDecodeError)


def scan(path: str) -> tuple[dict[str, Any], list[bytes], dict[str, Any] | None, Any, int, int]:
    """(meta, the last snapshot's bodies — the last full snapshot's, then the deltas after it, none when the file
    holds no snapshot —, end, evidence, records read, end offset of the valid part)."""
    data = _read(path)
    meta: dict[str, Any] = {}
    end = evidence = None
    count = valid = 0
    # the last full snapshot and the deltas after it, decompressed once they are known to be the last: a run has
    # one every interval
    stored: list[tuple[bytes, int, int, int]] = []
    for kind, body, stop, flags, raw_len in _stored_records(data, path):
        count += 1
        valid = stop
        if kind in (SNAPSHOT, DELTA):
            if kind == SNAPSHOT:
                stored = []
            elif not stored:
                raise RunFileError(f"{path}: corrupt record at byte {stop - len(body) - RECORD.size} (a delta "
                                   "snapshot with no full snapshot before it)")
            stored.append((body, stop, flags, raw_len))
            end, evidence = None, None  # an end or evidence belongs to the snapshot before it
            continue
        body = _payload(body, stop, flags, raw_len, path)
        if kind == META:
            meta = _literal(body, "meta", path)
        elif kind == END:
            end = _literal(body, "end", path)
        elif kind == EVIDENCE:
            evidence = _literal(body, "evidence", path)
    return meta, [_payload(*s, path) for s in stored], end, evidence, count, valid or HEADER.size


def _apply(bodies: list[bytes], path: str) -> dict[str, Any]:
    """The tables of the last of a full snapshot's body followed by its deltas' bodies."""
    tables = None
    try:
        for body in bodies:
            tables = _tables(body, tables)
    except _CORRUPT as e:
        raise RunFileError(f"{path}: corrupt snapshot ({e})") from None
    assert tables is not None
    return tables


def has_snapshot(path: str) -> bool:
    """Whether the file holds a complete snapshot yet (none is decompressed). RunFileError for a foreign file."""
    return any(kind == SNAPSHOT for kind, *_ in _stored_records(_read(path), path))


def read_series(path: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(meta, every complete snapshot in order, each a raw dict as read_run's without the end keys): the series
    `thrifty watch` analyses. RunFileError for a foreign or damaged file."""
    data = _read(path)
    meta: dict[str, Any] = {}
    series = []
    tables = None
    for kind, body, stop in _records(data, path):
        if kind == META:
            meta = _literal(body, "meta", path)
        elif kind in (SNAPSHOT, DELTA):
            if kind == DELTA and tables is None:
                raise RunFileError(f"{path}: corrupt record at byte {stop - len(body) - RECORD.size} (a delta "
                                   "snapshot with no full snapshot before it)")
            try:
                tables = _tables(body, tables if kind == DELTA else None)
                series.append(_snapshot(tables, meta.get("bootstrap")))
            except _CORRUPT as e:
                raise RunFileError(f"{path}: corrupt snapshot ({e})") from None
    return meta, series


def read_run(path: str) -> dict[str, Any]:
    """The raw dict of the run in `path` (its last complete snapshot). RunFileError for a foreign or damaged file."""
    meta, snap, end, evidence, _, _ = scan(path)
    if not snap:
        raise RunFileError(f"{path}: the run file holds no complete snapshot (the recorder ended before writing one)")
    tables = _apply(snap, path)
    try:
        raw = _snapshot(tables, meta.get("bootstrap"))
    except _CORRUPT as e:
        raise RunFileError(f"{path}: corrupt snapshot ({e})") from None
    complete = bool(end and end.get("final"))
    raw["complete"] = complete
    raw["end"] = end or {"status": "killed", "exit_status": None, "signal": None, "exception": None}
    raw["evidence"] = evidence if complete else None
    raw["user_roots"] = list(meta.get("user_roots", []))
    raw["meta"] = meta
    return raw


def append_end(path: str, end: dict[str, Any]) -> None:
    """Record how the target ended when it could not (killed by a signal, crashed): the file is cut after its last
    valid record (a torn tail is dropped) and an end record, not marked final, is appended."""
    _, _, have_end, _, _, valid = scan(path)
    if have_end is not None:
        return
    body = repr({**end, "final": False}).encode()
    stored = _ext.lz_compress(body)
    head = struct.pack("<BBHII", END, FLAG_LZ, 0, len(stored), len(body))
    crc = zlib.crc32(head, zlib.crc32(stored))
    with open(path, "r+b") as f:
        f.truncate(valid)
        f.seek(valid)
        f.write(head + struct.pack("<I", crc) + stored)
