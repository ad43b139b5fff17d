"""Runs test_thrifty.py against a natmod on a MicroPython board, or a firmware under qemu, that has no filesystem of
ours: MicroPython's tools/pyboard.py drives its raw REPL, a RAM filesystem is mounted on it holding thrifty.mpy and
the fixtures, the test runs, and the frames it wrote are copied back to OUT_DIR for check_from_micropython.py.

    python run_on_board.py MICROPY_DIR DEVICE THRIFTY_MPY FIXTURES_DIR OUT_DIR

DEVICE is what pyboard.py takes: a serial port (/dev/ttyACM0) or execpty:"qemu-system-arm ... -serial pty ...".
Exits non-zero unless the test printed "N checks, 0 failed". Needs pyserial (pyboard.py imports it).
"""
import binascii
import pathlib
import re
import sys

# Defined on the board: a filesystem in RAM (files in a dict, by path from the mount point), with what MicroPython's
# importer and open() ask of a VFS and of a stream (readinto and ioctl are how it reads a .mpy).
BOARD_SETUP = """
import io, os, sys, vfs

class RamFile(io.IOBase):
    def __init__(self, fs, path, writing):
        self.fs, self.path, self.writing, self.pos = fs, path, writing, 0
        self.data = bytearray() if writing else fs.files[path]
    def readinto(self, buf):
        n = min(len(buf), len(self.data) - self.pos)
        buf[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n
    def read(self, n=-1):
        end = len(self.data) if n < 0 else min(len(self.data), self.pos + n)
        out = bytes(self.data[self.pos : end])
        self.pos = end
        return out
    def write(self, buf):
        self.data.extend(buf)
        return len(buf)
    def ioctl(self, request, arg):
        return 0
    def close(self):
        if self.writing:
            self.fs.files[self.path] = bytes(self.data)
            self.writing = False
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.close()

class RamFS:
    def __init__(self):
        self.files = {}
    def mount(self, readonly, mkfs):
        pass
    def umount(self):
        pass
    def chdir(self, path):
        pass
    def getcwd(self):
        return ""
    def _key(self, path):
        return path.strip("/")
    def open(self, path, mode):
        key = self._key(path)
        if "w" not in mode and key not in self.files:
            raise OSError(2)
        return RamFile(self, key, "w" in mode)
    def stat(self, path):
        key = self._key(path)
        if key in self.files:
            return (0x8000, 0, 0, 0, 0, 0, len(self.files[key]), 0, 0, 0)
        if key == "" or any(k.startswith(key + "/") for k in self.files):
            return (0x4000, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        raise OSError(2)
    def mkdir(self, path):
        pass
    def ilistdir(self, path):
        prefix = self._key(path) + "/"
        for k in self.files:
            if k.startswith(prefix) and "/" not in k[len(prefix) :]:
                yield (k[len(prefix) :], 0x8000, 0)

ram = RamFS()
vfs.mount(ram, "/ram")
sys.path.insert(0, "/ram")

def put(name, chunk):
    ram.files[name] = ram.files.get(name, b"") + chunk
"""

CHUNK = 2048  # bytes of a file per raw-REPL command, so no single command needs much of the board's heap


def main(micropy_dir: str, device: str, mpy: pathlib.Path, fixtures: pathlib.Path, out: pathlib.Path) -> int:
    sys.path.insert(0, str(pathlib.Path(micropy_dir) / "tools"))
    import pyboard  # MicroPython's own board driver

    files = {"thrifty.mpy": mpy.read_bytes()}
    files.update({"fix/" + p.name: p.read_bytes() for p in sorted(fixtures.iterdir())})
    test = (pathlib.Path(__file__).parent / "test_thrifty.py").read_text()
    board = pyboard.Pyboard(device)
    try:
        board.enter_raw_repl()
        board.exec_(BOARD_SETUP)
        for name, data in files.items():
            for at in range(0, len(data), CHUNK):
                board.exec_("put(%r, %r)" % (name, data[at : at + CHUNK]))
        # A board has no command line: the test reads its arguments from THRIFTY_TEST_ARGV. SystemExit, its way of
        # ending, is caught here: uncaught, the raw REPL would take it for a soft reset.
        argv = ["test_thrifty.py", "/ram/fix", "/ram/out", "thrifty"]
        run = "try:\n    exec(%r, {'THRIFTY_TEST_ARGV': %r})\n" % (test, argv)
        run += "except SystemExit:\n    pass\n"
        output = board.exec_(run, timeout=300).decode()
        print(output, end="")
        listing = board.exec_(
            "import binascii\n"
            "for k, v in ram.files.items():\n"
            "    if k.startswith('out/'):\n"
            "        print(k[4:], binascii.hexlify(v).decode())\n"
        ).decode()
        board.exit_raw_repl()
    finally:
        board.close()
    out.mkdir(parents=True, exist_ok=True)
    for name, hexdata in re.findall(r"^(\S+) ([0-9a-f]*)\r?$", listing, re.M):
        (out / name).write_bytes(binascii.unhexlify(hexdata))
    result = re.search(r"(\d+) checks, (\d+) failed", output)
    return 0 if result and result.group(2) == "0" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], *(pathlib.Path(a) for a in sys.argv[3:6])))
