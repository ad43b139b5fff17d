"""thrifty.lz: streaming compression whose whole state fits in a few hundred bytes, with the faces of zlib and gzip.

compress/decompress, Compressor and Decompressor are the C extension's (they behave like zlib's), and so is
train_dictionary (a preset dictionary for short messages, like zlib's zdict); open() and LzFile wrap them in a file
object like gzip.open. docs/lz.md documents the API and docs/format-lz.md the bytes.
"""
from __future__ import annotations

import builtins
import io
import os

TYPE_CHECKING = False  # mypy takes any `TYPE_CHECKING` as true; at run time, importing typing would cost every user
if TYPE_CHECKING:     # of thrifty.lz its import (the annotations here are strings, never evaluated)
    from typing import IO, Literal, overload

    from _typeshed import ReadableBuffer, WriteableBuffer

    _File = str | bytes | os.PathLike[str] | IO[bytes]  # a path, or a binary file object
    _Filter = Literal["delta2", "delta4", "delta8", "shuffle2", "shuffle4", "shuffle8"] | None
    _BinaryMode = Literal["r", "rb", "w", "wb", "a", "ab", "x", "xb"]
    _TextMode = Literal["rt", "wt", "at", "xt"]
else:
    def overload(f):  # typing.overload's run-time effect (the last definition of the name wins)
        return f

from thrifty._ext import CorruptData
from thrifty._ext import LzCompressor as Compressor
from thrifty._ext import LzDecompressor as Decompressor
from thrifty._ext import lz_compress as compress
from thrifty._ext import lz_decompress as decompress
from thrifty._ext import lz_train_dictionary as train_dictionary

__all__ = ["Compressor", "Decompressor", "LzFile", "compress", "decompress", "open", "train_dictionary"]

READ_SIZE = 64 * 1024  # compressed bytes read from the file at a time

_MODES = {"r": "rb", "rb": "rb", "w": "wb", "wb": "wb", "a": "ab", "ab": "ab", "x": "xb", "xb": "xb"}


class _FrameReader(io.RawIOBase):
    """Raw stream of the decompressed bytes of every frame in `fp`, one after another (as gzip reads members)."""

    def __init__(self, fp: IO[bytes], dictionary: ReadableBuffer | None = None) -> None:
        self._fp = fp
        self._dictionary = dictionary
        self._start = fp.tell() if fp.seekable() else 0  # where the first frame starts, for rewinding
        self._rewind_state()

    def _rewind_state(self) -> None:
        self._d = Decompressor(dictionary=self._dictionary)
        self._fed = False  # the current decompressor has been given bytes
        self._eof = False
        self._pos = 0  # decompressed bytes returned so far

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._fp.seekable()

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """As gzip does: forward by decompressing and dropping, backward by decompressing again from the start."""
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            raise ValueError("LzFile.seek: seeking from the end is not supported (the decompressed size is not "
                             "stored); seek from the start (whence=0) or the current position (whence=1)")
        elif whence != io.SEEK_SET:
            raise ValueError(f"LzFile.seek: invalid whence {whence!r}; use 0 (start) or 1 (current position)")
        if offset < self._pos:
            self._fp.seek(self._start)
            self._rewind_state()
        while self._pos < offset and self.read(min(READ_SIZE, offset - self._pos)):
            pass
        return self._pos

    def readinto(self, b: WriteableBuffer) -> int:
        with memoryview(b) as view, view.cast("B") as out:
            data = self.read(len(out))
            out[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        while size and not self._eof:
            if self._d.eof:
                data = self._d.unused_data or self._fp.read(READ_SIZE)
                if not data:
                    self._eof = True
                    break
                self._d = Decompressor(dictionary=self._dictionary)
            elif self._d.needs_input:
                data = self._fp.read(READ_SIZE)
                if not data:
                    if not self._fed:  # a clean end between frames (or an empty file)
                        self._eof = True
                        break
                    raise CorruptData("LzFile: truncated thrifty.lz data: the file ends inside a frame")
            else:
                data = self._d.unconsumed_tail
            self._fed = True
            out = self._d.decompress(data, size)
            if self._d.eof:
                self._fed = False
            if out:
                self._pos += len(out)
                return out
        return b""

    def readall(self) -> bytes:
        chunks = []
        while chunk := self.read(READ_SIZE):
            chunks.append(chunk)
        return b"".join(chunks)


class LzFile(io.BufferedIOBase):
    """A thrifty.lz file, like gzip.GzipFile: read, readline and iterate in "rb"; write in "wb", "ab", "xb".

    Appending adds a new frame; reading decodes all frames as one stream. flush() passes on what the compressor
    has already produced, but cannot force out a partial frame (the format has no sync points): close() ends it.
    """

    def __init__(self, filename: _File, mode: str = "rb", *, window_bits: int = 10, lookahead_bits: int = 4,
                 checksum: bool = True, level: int = -1, filter: _Filter = None,
                 dictionary: ReadableBuffer | None = None) -> None:
        self._fp: IO[bytes] | None = None  # close() (also run by __del__) must work whatever __init__ got to
        self._owns_fp = False
        self._compressor: Compressor | None = None
        self._buffer: io.BufferedReader | None = None
        self._written = 0  # decompressed bytes written, for tell() in write mode
        if mode not in _MODES:
            raise ValueError(f"invalid mode {mode!r}: use one of 'rb', 'wb', 'ab', 'xb' (or 'r', 'w', 'a', 'x')")
        mode = _MODES[mode]
        if isinstance(filename, (str, bytes, os.PathLike)):
            self._fp = fp = builtins.open(filename, mode)
            self._owns_fp = True
        elif hasattr(filename, "read") or hasattr(filename, "write"):
            self._fp = fp = filename
            self._owns_fp = False
        else:
            raise TypeError(f"filename must be a str, bytes or os.PathLike path or a file object, not "
                            f"{type(filename).__name__}")
        self.mode = mode
        self.name: str | bytes = getattr(fp, "name", filename if isinstance(filename, (str, bytes)) else "")
        try:
            if mode == "rb":
                self._buffer = io.BufferedReader(_FrameReader(fp, dictionary))
            else:
                self._compressor = Compressor(window_bits=window_bits, lookahead_bits=lookahead_bits,
                                              checksum=checksum, level=level, filter=filter, dictionary=dictionary)
        except BaseException:
            if self._owns_fp:
                fp.close()
            raise

    def _check(self, reading: bool) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed LzFile")
        if reading and self._buffer is None:
            raise io.UnsupportedOperation(f"read() on an LzFile opened for writing (mode {self.mode!r})")
        if not reading and self._compressor is None:
            raise io.UnsupportedOperation("write() on an LzFile opened for reading (mode 'rb')")

    @property
    def closed(self) -> bool:
        return self._fp is None

    def readable(self) -> bool:
        return self._buffer is not None

    def writable(self) -> bool:
        return self._compressor is not None

    def seekable(self) -> bool:
        """As gzip: reading seeks whenever the underlying file does; writing seeks forward only (zero-filled)."""
        return self._buffer is None or self._buffer.seekable()

    def tell(self) -> int:
        if self._fp is None:
            raise ValueError("I/O operation on closed LzFile")
        if self._buffer is not None:
            return self._buffer.tell()
        return self._written

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Position in the decompressed stream. Reading: any offset from the start or the current position (a
        backward seek decompresses again from the start, as gzip does). Writing: forward only, filling with zeros."""
        if self._fp is None:
            raise ValueError("I/O operation on closed LzFile")
        if self._buffer is not None:
            return self._buffer.seek(offset, whence)
        if whence == io.SEEK_CUR:
            offset += self._written
        elif whence != io.SEEK_SET:
            raise ValueError(f"LzFile.seek in write mode: invalid whence {whence!r}; use 0 (start) or 1 (current)")
        if offset < self._written:
            raise OSError(f"LzFile.seek: cannot seek backwards to {offset} in write mode (at {self._written})")
        zeros = bytes(min(READ_SIZE, offset - self._written))
        while self._written < offset:
            self.write(zeros[: offset - self._written])
        return self._written

    def fileno(self) -> int:
        if self._fp is None:
            raise ValueError("I/O operation on closed LzFile")
        return self._fp.fileno()

    def _reader(self) -> io.BufferedReader:
        self._check(True)
        assert self._buffer is not None  # _check(True) raised otherwise
        return self._buffer

    def read(self, size: int | None = -1) -> bytes:
        return self._reader().read(size)

    def read1(self, size: int = -1) -> bytes:
        return self._reader().read1(size)

    def readinto(self, b: WriteableBuffer) -> int:
        return self._reader().readinto(b)

    def peek(self, n: int = 0) -> bytes:
        return self._reader().peek(n)

    def readline(self, size: int | None = -1) -> bytes:
        return self._reader().readline(size)

    def write(self, data: ReadableBuffer) -> int:
        self._check(False)
        assert self._compressor is not None and self._fp is not None  # _check(False) raised otherwise
        with memoryview(data) as view:
            n = view.nbytes
            out = self._compressor.compress(view)
        if out:
            self._fp.write(out)
        self._written += n
        return n

    def flush(self) -> None:
        if self._fp is not None and self._compressor is not None:
            self._fp.flush()

    def close(self) -> None:
        fp = self._fp
        if fp is None:
            return
        try:
            if self._compressor is not None:
                fp.write(self._compressor.flush())
                self._compressor = None
            elif self._buffer is not None:
                self._buffer = None
        finally:
            self._fp = None
            if self._owns_fp:
                fp.close()


# Overloaded on mode like gzip.open: binary modes give an LzFile (bytes), text modes a TextIOWrapper (str).
@overload
def open(filename: _File, mode: _BinaryMode = "rb", *, window_bits: int = 10, lookahead_bits: int = 4,
         checksum: bool = True, level: int = -1, filter: _Filter = None, dictionary: ReadableBuffer | None = None,
         encoding: None = None, errors: None = None, newline: None = None) -> LzFile: ...
@overload
def open(filename: _File, mode: _TextMode, *, window_bits: int = 10, lookahead_bits: int = 4, checksum: bool = True,
         level: int = -1, filter: _Filter = None, dictionary: ReadableBuffer | None = None,
         encoding: str | None = None, errors: str | None = None, newline: str | None = None) -> io.TextIOWrapper: ...
@overload
def open(filename: _File, mode: str, *, window_bits: int = 10, lookahead_bits: int = 4, checksum: bool = True,
         level: int = -1, filter: _Filter = None, dictionary: ReadableBuffer | None = None,
         encoding: str | None = None, errors: str | None = None,
         newline: str | None = None) -> LzFile | io.TextIOWrapper: ...
def open(filename: _File, mode: str = "rb", *, window_bits: int = 10, lookahead_bits: int = 4, checksum: bool = True,
         level: int = -1, filter: _Filter = None, dictionary: ReadableBuffer | None = None,
         encoding: str | None = None, errors: str | None = None,
         newline: str | None = None) -> LzFile | io.TextIOWrapper:
    """Open a thrifty.lz file in binary ('rb', 'wb', 'ab', 'xb') or text ('rt', 'wt', 'at', 'xt') mode, like
    gzip.open. window_bits/lookahead_bits/checksum/level/filter apply when writing; reading takes what it needs from
    each frame. dictionary (a preset dictionary, see train_dictionary) applies to both: every frame is written with
    it and must have been written with it to be read."""
    if "t" in mode:
        if "b" in mode:
            raise ValueError(f"invalid mode {mode!r}: 't' and 'b' cannot be combined")
        if mode.replace("t", "", 1) not in ("r", "w", "a", "x"):  # else LzFile would report the mode minus its 't'
            raise ValueError(f"invalid mode {mode!r}: use one of 'rt', 'wt', 'at', 'xt' for text, or 'rb', 'wb', "
                             "'ab', 'xb' for bytes")
        binary = LzFile(filename, mode.replace("t", ""), window_bits=window_bits, lookahead_bits=lookahead_bits,
                        checksum=checksum, level=level, filter=filter, dictionary=dictionary)
        return io.TextIOWrapper(binary, encoding, errors, newline)
    if encoding is not None or errors is not None or newline is not None:
        raise ValueError("encoding, errors and newline apply only to text mode ('rt', 'wt', ...)")
    return LzFile(filename, mode, window_bits=window_bits, lookahead_bits=lookahead_bits, checksum=checksum,
                  level=level, filter=filter, dictionary=dictionary)
