import io
import os
from typing import IO, Iterator, Literal, overload

from thrifty._ext import CorruptData as CorruptData

_Buffer = bytes | bytearray | memoryview

def compress(
    data: _Buffer, window_bits: int = 10, lookahead_bits: int = 4, checksum: bool = True, level: int = -1
) -> bytes: ...
def decompress(data: _Buffer, max_length: int | None = None) -> bytes: ...

class Compressor:
    window_bits: int
    lookahead_bits: int
    level: int
    state_size: int
    def __init__(
        self, window_bits: int = 10, lookahead_bits: int = 4, checksum: bool = True, level: int = -1
    ) -> None: ...
    def compress(self, data: _Buffer) -> bytes: ...
    def flush(self) -> bytes: ...

class Decompressor:
    eof: bool
    needs_input: bool
    unused_data: bytes
    unconsumed_tail: bytes
    state_size: int
    def __init__(self, window_bits: int = 15) -> None: ...
    def decompress(self, data: _Buffer, max_length: int = 0) -> bytes: ...
    def flush(self) -> bytes: ...

class LzFile(io.BufferedIOBase):
    mode: str
    name: str | bytes
    def __init__(
        self,
        filename: str | bytes | os.PathLike[str] | IO[bytes],
        mode: str = "rb",
        *,
        window_bits: int = 10,
        lookahead_bits: int = 4,
        checksum: bool = True,
        level: int = -1,
    ) -> None: ...
    def peek(self, n: int = 0) -> bytes: ...
    def __iter__(self) -> Iterator[bytes]: ...

_BinaryMode = Literal["r", "rb", "w", "wb", "a", "ab", "x", "xb"]
_TextMode = Literal["rt", "wt", "at", "xt"]
_File = str | bytes | os.PathLike[str] | IO[bytes]

# Overloaded on mode like gzip.open: binary modes give an LzFile (bytes), text modes a TextIOWrapper (str).
@overload
def open(
    filename: _File,
    mode: _BinaryMode = "rb",
    *,
    window_bits: int = 10,
    lookahead_bits: int = 4,
    checksum: bool = True,
    level: int = -1,
    encoding: None = None,
    errors: None = None,
    newline: None = None,
) -> LzFile: ...
@overload
def open(
    filename: _File,
    mode: _TextMode,
    *,
    window_bits: int = 10,
    lookahead_bits: int = 4,
    checksum: bool = True,
    level: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
) -> io.TextIOWrapper: ...
@overload
def open(
    filename: _File,
    mode: str,
    *,
    window_bits: int = 10,
    lookahead_bits: int = 4,
    checksum: bool = True,
    level: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
) -> LzFile | io.TextIOWrapper: ...
