"""The run file (docs/format-run.md): what the recorder leaves after any end of the target — SIGKILL included — is
rendered by `thrifty report`; a truncated file gives its last complete snapshot, a corrupt or foreign one a clear
one-line error; `thrifty diff` compares two runs."""
import ast
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zlib

import pytest

from thrifty import _ext
from thrifty.doctor import runfile
from thrifty.doctor.runfile import RunFileError, read_run, scan

THRIFTY = [sys.executable, "-m", "thrifty"]


def thrifty(*args, cwd=None):
    return subprocess.run([*THRIFTY, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    """A complete run file of a program that keeps allocating for a while (several snapshots)."""
    d = tmp_path_factory.mktemp("run")
    (d / "app.py").write_text(textwrap.dedent("""
        import time
        keep = []
        for _ in range(300):  # 6 MB over at least 0.6 s: several snapshots at --interval 0.05
            keep.append(bytearray(20_000))
            time.sleep(0.002)
        """))
    out = thrifty("doctor", "--no-findings", "--interval", "0.05", "--out", "app.run", "app.py", cwd=d)
    assert out.returncode == 0, out.stderr
    return d / "app.run"


def records(path):
    """(offset, kind, total length) of each record, parsed by hand from the documented layout."""
    data = path.read_bytes()
    pos, out = 16, []
    while pos + 16 <= len(data):
        kind, _, _, stored, _, _ = struct.unpack_from("<BBHIII", data, pos)
        out.append((pos, kind, 16 + stored))
        pos += 16 + stored
    assert pos == len(data)
    return out


def test_layout_as_documented(saved_run):
    data = saved_run.read_bytes()
    assert data[:8] == b"\x89TFRUN\r\n" and struct.unpack_from("<HH", data, 8) == (2, 16)
    kinds = [k for _, k, _ in records(saved_run)]
    assert kinds[0] == runfile.META and kinds[-1] == runfile.END
    # the first snapshot is full, later ones deltas of the one before (at most FULL_EVERY - 1 in a row)
    assert kinds[1] == runfile.SNAPSHOT and kinds.count(runfile.DELTA) >= 2
    for pos, _, size in records(saved_run):  # every record's checksum covers its payload and header
        head = data[pos:pos + 16]
        crc = struct.unpack_from("<I", head, 12)[0]
        assert zlib.crc32(head[:12], zlib.crc32(data[pos + 16:pos + size])) == crc
    raw = read_run(str(saved_run))
    assert raw["complete"] and raw["end"]["status"] == "ok" and raw["peak_bytes"] >= 5_000_000
    assert raw["user_roots"] == [str(saved_run.parent)]


def test_truncated_file_gives_the_last_complete_snapshot(saved_run, tmp_path):
    data = saved_run.read_bytes()
    snaps = [(pos, size) for pos, kind, size in records(saved_run) if kind in (runfile.SNAPSHOT, runfile.DELTA)]
    full = read_run(str(saved_run))
    # cut inside the last snapshot: the one before it is read, marked incomplete
    pos, size = snaps[-1]
    cut = tmp_path / "cut.run"
    cut.write_bytes(data[:pos + size // 2])
    raw = read_run(str(cut))
    assert raw["complete"] is False and raw["evidence"] is None and raw["end"]["status"] == "killed"
    assert 0 < raw["allocs"] <= full["allocs"]
    # a record whose header was never committed (kind 0) ends the valid part the same way
    torn = bytearray(data[:pos + size])
    torn[pos:pos + 16] = bytes(16)
    cut.write_bytes(bytes(torn))
    assert read_run(str(cut))["allocs"] == raw["allocs"]
    # before the first snapshot: nothing to report, said in one line
    cut.write_bytes(data[:snaps[0][0] + 5])
    with pytest.raises(RunFileError, match="no complete snapshot"):
        read_run(str(cut))


def test_a_run_with_no_end_record_is_not_reported_as_a_clean_exit(saved_run, tmp_path):
    """A run file whose recorder and doctor both died (SIGKILL of the two, the OOM killer, a power loss on the
    device) or whose program still runs has no end record: how it ended is unknown. `thrifty report` said "called
    sys.exit: exit status 0" for it (and the HTML page "exit status 0")."""
    last, kind, _ = records(saved_run)[-1]
    assert kind == runfile.END
    cut = tmp_path / "noend.run"
    cut.write_bytes(saved_run.read_bytes()[:last])
    out = thrifty("report", "--no-findings", "--json", "r.json", "--html", "r.html", cut.name, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "no end record" in out.stderr and "sys.exit" not in out.stderr and "exit status 0" not in out.stderr
    outcome = json.loads((tmp_path / "r.json").read_text())["outcome"]
    assert outcome["status"] == "killed" and outcome["exit_status"] is None, outcome
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "exit status <b>unknown (no end record)</b>" in page


def test_corrupt_and_foreign_files_are_refused(saved_run, tmp_path):
    data = bytearray(saved_run.read_bytes())
    bad = tmp_path / "bad.run"
    pos, _, size = records(saved_run)[2]  # a record in the middle, with records after it
    data[pos + 20] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(RunFileError, match="corrupt record at byte"):
        read_run(str(bad))
    bad.write_bytes(b"{\"schema\": \"thrifty.doctor\"}")
    with pytest.raises(RunFileError, match="not a thrifty run file"):
        read_run(str(bad))
    other = bytearray(saved_run.read_bytes())
    other[8] = 9
    bad.write_bytes(bytes(other))
    with pytest.raises(RunFileError, match="version 9; this thrifty reads versions 1, 2"):
        read_run(str(bad))
    out = thrifty("report", bad)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "version 9" in lines[0] and "Traceback" not in out.stderr


def _children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="finds the recorder's pid in /proc")
def test_sigkill_mid_run_leaves_a_report(tmp_path):
    """SIGKILL (as the OOM killer sends) to the recorder mid-run: the doctor still reports from the last snapshot,
    exits 137 like a killed python, and the kept run file renders with `thrifty report`."""
    (tmp_path / "app.py").write_text(textwrap.dedent("""
        import time
        keep = [bytearray(1_000_000) for _ in range(8)]
        print("ready", flush=True)
        while True:
            keep.append(bytearray(100))
            time.sleep(0.001)
        """))
    proc = subprocess.Popen([*THRIFTY, "doctor", "--interval", "0.05", "--out", "app.run", "--json", "r.json",
                             "app.py"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        time.sleep(0.5)  # at least one snapshot after the 8 MB
        (recorder,) = _children(proc.pid)
        os.kill(recorder, signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGKILL
    assert "was killed" in err
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["outcome"]["status"] == "killed" and r["summary"]["peak_bytes"] >= 8_000_000
    raw = read_run(str(tmp_path / "app.run"))
    assert raw["complete"] is False and raw["end"]["signal"] == signal.SIGKILL
    out = thrifty("report", "app.run", "--json", "again.json", "--html", "again.html", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "peak traced heap" in out.stderr and "was killed" in out.stderr
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["summary"]["peak_bytes"] == r["summary"]["peak_bytes"]
    assert (tmp_path / "again.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_and_diff_of_two_runs(tmp_path):
    (tmp_path / "big.py").write_text("import json\nkeep = [bytearray(1000) for _ in range(4000)]\n")
    (tmp_path / "small.py").write_text("keep = [bytearray(1000) for _ in range(1000)]\n")
    for name in ("big", "small"):
        out = thrifty("doctor", "--no-findings", "--out", f"{name}.run", "--json", f"{name}.json", f"{name}.py",
                      cwd=tmp_path)
        assert out.returncode == 0, out.stderr
    out = thrifty("diff", "big.run", "small.run", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "peak traced heap" in out.stdout and "smaller in B" in out.stdout
    assert "import bill" in out.stdout and "json" in out.stdout  # big.py imports json, small.py nothing
    assert "big.py:2" in out.stdout
    # every row named as the text report names it: a file's compilation was 'big.py:0', and every import of no
    # user line one summed '<import>:0' row
    rows = thrifty("diff", "--top", "50", "big.run", "small.run", cwd=tmp_path).stdout.split("== top sites")[1]
    rows = [r.split()[-1] if "<compile>" not in r else r for r in rows.splitlines()[1:] if r.startswith("   ")]
    assert rows and not [r for r in rows if r.endswith(":0") or "<import>" in r], rows
    assert any("big.py in <compile>" in r for r in rows), rows
    # JSON reports compare the same way
    assert "smaller in B" in thrifty("diff", "big.json", "small.json", cwd=tmp_path).stdout
    out = thrifty("diff", "big.run", "big.py", cwd=tmp_path)
    assert out.returncode == 2 and "neither a run file nor a JSON report" in out.stderr


def test_no_empty_output_files_before_the_run(tmp_path):
    """--json/--html are checked writable without being created: a target that cannot start leaves none."""
    out = thrifty("doctor", "--json", "r.json", "--html", "r.html", "missing.py", cwd=tmp_path)
    assert out.returncode == 2
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "r.html").exists()


def test_scan_counts_records(saved_run):
    meta, snap, end, evidence, count, valid = scan(str(saved_run))
    assert meta["target"]["kind"] == "script" and snap and end["final"] and evidence is None
    assert valid == saved_run.stat().st_size and count == len(records(saved_run))


def test_sigterm_to_the_doctor_reaches_an_idle_target(tmp_path):
    """SIGTERM sent to the doctor goes on to the target (which ends by it, as under plain python); the target had
    been sleeping since it allocated, and the writer thread's snapshot still holds those bytes."""
    (tmp_path / "app.py").write_text(textwrap.dedent("""
        import time
        keep = bytearray(5_000_000)
        print("ready", flush=True)
        time.sleep(60)
        """))
    proc = subprocess.Popen([*THRIFTY, "doctor", "--no-findings", "--interval", "0.1", "--json", "r.json", "app.py"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["outcome"]["status"] == "signal" and r["outcome"]["exit_status"] == 143
    assert r["summary"]["peak_bytes"] >= 5_000_000


def test_mangled_files_give_a_report_or_one_clear_error(saved_run, tmp_path):
    """Hostile input: bytes flipped, cut or inserted anywhere (checksums fixed up, so the parser itself is reached)
    — the reader returns a raw run or raises RunFileError, never anything else."""
    import random

    rng = random.Random(1234)
    data = saved_run.read_bytes()
    recs = records(saved_run)
    bad = tmp_path / "m.run"
    for _ in range(300):
        buf = bytearray(data)
        pos, kind, size = rng.choice(recs)
        how = rng.randrange(4)
        if how == 0:  # a flipped byte somewhere
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        elif how == 1:  # cut anywhere
            del buf[rng.randrange(len(buf)):]
        elif how == 2:  # a snapshot's decompressed payload damaged, then recompressed and re-checksummed
            from thrifty import _ext

            payload = bytearray(_ext.lz_decompress(bytes(buf[pos + 16:pos + size])))
            for _ in range(rng.randrange(1, 4)):
                if payload:
                    payload[rng.randrange(len(payload))] = rng.randrange(256)
            stored = _ext.lz_compress(bytes(payload))
            head = struct.pack("<BBHII", kind, 1, 0, len(stored), len(payload))
            buf[pos:pos + size] = head + struct.pack("<I", zlib.crc32(head, zlib.crc32(stored))) + stored
        else:  # garbage appended
            buf += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        bad.write_bytes(bytes(buf))
        try:
            raw = read_run(str(bad))
        except RunFileError as e:
            assert "\n" not in str(e)
        else:
            assert isinstance(raw["stacks"], list) and isinstance(raw["frames"], list)


def test_snapshot_with_too_few_fields_is_one_clear_error(saved_run, tmp_path):
    """A committed snapshot claiming fewer fields than any writer of format 1 wrote (found by fuzz_runfile: it
    ended in a KeyError traceback) is damage: every snapshot so damaged gives RunFileError naming the count."""
    from thrifty import _ext

    data = bytearray(saved_run.read_bytes())
    for pos, kind, size in reversed(records(saved_run)):
        if kind != runfile.SNAPSHOT:
            continue
        payload = bytearray(_ext.lz_decompress(bytes(data[pos + 16:pos + size])))
        payload[0:4] = struct.pack("<I", 3)  # 3 fields, the rest of the body as it was
        stored = _ext.lz_compress(bytes(payload))
        head = struct.pack("<BBHII", kind, 1, 0, len(stored), len(payload))
        data[pos:pos + size] = head + struct.pack("<I", zlib.crc32(head, zlib.crc32(stored))) + stored
    bad = tmp_path / "few.run"
    bad.write_bytes(bytes(data))
    with pytest.raises(RunFileError, match="3 fields"):
        read_run(str(bad))
    out = thrifty("report", bad)
    assert out.returncode != 0 and "Traceback" not in out.stderr and "3 fields" in out.stderr


def test_delta_snapshots_read_as_the_series_reads_them(saved_run):
    """read_run applies the deltas after the last full snapshot; read_series applies each in turn: the last
    snapshot of the series is read_run's, and a stack's counters never go back between snapshots (a delta
    patches the sites that changed and keeps the others)."""
    raw = read_run(str(saved_run))
    _, series = runfile.read_series(str(saved_run))
    last = series[-1]
    assert [last[k] for k in ("allocs", "frees", "peak_bytes", "snapshot")] == \
        [raw[k] for k in ("allocs", "frees", "peak_bytes", "snapshot")]
    assert last["frames"] == raw["frames"] and last["stacks"] == raw["stacks"]
    seen: dict = {}
    for snap in series:
        now: dict = {}
        for st in snap["stacks"]:
            key = tuple(tuple(snap["frames"][i]) for i in st["frames"])
            now[key] = now.get(key, 0) + st["allocs"]
        assert all(n >= seen.get(key, 0) for key, n in now.items()) and set(seen) <= set(now)
        seen = now
    assert sum(st["allocs"] for st in raw["stacks"]) <= raw["allocs"]


def _rewrite(data: bytes, pos: int, size: int, payload: bytes, kind: int) -> bytes:
    stored = _ext.lz_compress(payload)
    head = struct.pack("<BBHII", kind, 1, 0, len(stored), len(payload))
    return data[:pos] + head + struct.pack("<I", zlib.crc32(head, zlib.crc32(stored))) + stored + data[pos + size:]


def test_damaged_deltas_are_refused(saved_run, tmp_path):
    """A delta with no full snapshot before it, with unknown sections, or patching a site past its count is a
    corrupt file (one line), not a traceback."""
    recs = records(saved_run)
    data = saved_run.read_bytes()
    bad = tmp_path / "bad.run"
    full = [(pos, size) for pos, kind, size in recs if kind == runfile.SNAPSHOT]
    # a short run: a full snapshot, then deltas (a slow machine may reach the 16th snapshot, a full one again: the
    # deltas between the first two still have no base once the first is gone)
    before_second = [kind for p, kind, _ in recs if p > full[0][0] and (len(full) == 1 or p < full[1][0])]
    assert runfile.DELTA in before_second
    pos, size = full[0]
    # the first full snapshot turned into an unknown record kind (skipped): the deltas after it have no base
    bad.write_bytes(data[:pos] + bytes([9]) + data[pos + 1:pos + 12]
                    + struct.pack("<I", zlib.crc32(bytes([9]) + data[pos + 1:pos + 12],
                                                   zlib.crc32(data[pos + 16:pos + size])))
                    + data[pos + 16:])
    with pytest.raises(RunFileError, match="no full snapshot before it"):
        read_run(str(bad))
    with pytest.raises(RunFileError, match="no full snapshot before it"):
        runfile.read_series(str(bad))
    pos, _, size = [r for r in recs if r[1] == runfile.DELTA][-1]
    payload = bytearray(_ext.lz_decompress(data[pos + 16:pos + size]))
    nfields = struct.unpack_from("<I", payload)[0]
    at = 4 + 8 * nfields
    sections = bytearray(payload)
    sections[at:at + 4] = struct.pack("<I", 0x30)
    bad.write_bytes(_rewrite(data, pos, size, bytes(sections), runfile.DELTA))
    with pytest.raises(RunFileError, match="corrupt snapshot .*sections 0x30"):
        read_run(str(bad))
    # a delta that changes nothing but patches one site past the end: only sections 0, then the sites
    head = bytes(payload[:at]) + struct.pack("<III", 0, 1, 1) + struct.pack("<I", 5) + bytes(48)
    bad.write_bytes(_rewrite(data, pos, size, head + struct.pack("<I", 0), runfile.DELTA))
    with pytest.raises(RunFileError, match="site 5 past its 1 sites"):
        read_run(str(bad))


def test_apply_sites_in_c_as_the_format_says():
    """_runfile_apply_sites: a delta's site records, the base's first nsites kept (new ones zero) and each changed
    (u32 index, 48-byte record) pair put in place, later pairs over earlier ones; an index past nsites, or more
    sites than the base's and the changed ones, is the ValueError runfile.py turns into RunFileError."""
    base = bytes(range(256)) * 3  # 16 records of 48 bytes
    pairs = b"".join(struct.pack("<I", i) + bytes([0xA0 + k]) * 48 for k, i in enumerate((2, 17, 2)))
    got = _ext._runfile_apply_sites(base, 18, pairs)
    want = bytearray(base) + bytes(2 * 48)
    for k, i in enumerate((2, 17, 2)):
        want[i * 48:(i + 1) * 48] = bytes([0xA0 + k]) * 48
    assert isinstance(got, bytearray) and got == want
    assert _ext._runfile_apply_sites(bytearray(base), 3, b"") == base[:3 * 48]  # fewer sites: the first kept
    assert _ext._runfile_apply_sites(b"", 0, b"") == b""
    with pytest.raises(ValueError, match="site 17 past its 17 sites"):
        _ext._runfile_apply_sites(base, 17, pairs)
    with pytest.raises(ValueError, match="whole pairs"):
        _ext._runfile_apply_sites(base, 18, pairs[:-1])
    # the writer sends every new site as changed: a count past the base's and the changed ones is corrupt, and is
    # refused before it sizes anything (a 4-byte count of ~4 G sites would ask for ~190 GiB)
    with pytest.raises(ValueError, match="20 sites after 16 with 3 changed"):
        _ext._runfile_apply_sites(base, 20, pairs)
    with pytest.raises(ValueError, match="4294967295 sites after 0 with 0 changed"):
        _ext._runfile_apply_sites(b"", 2**32 - 1, b"")
    with pytest.raises(ValueError, match="out of range"):
        _ext._runfile_apply_sites(base, -1, b"")
    with pytest.raises(TypeError):
        _ext._runfile_apply_sites("text", 1, b"")


_FAILING_WRITER = textwrap.dedent("""
    import os, resource, signal, sys
    from thrifty import _ext
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past RLIMIT_FSIZE a write fails with EFBIG (python's default too)
    keep = [None] * 2400  # sized first: the list's own storage never moves between the lines' sites

    def grow(tag, n):  # n sites, one a line of gen_TAG.py, line i keeping a bytearray(999 + i)
        at = "abc".index(tag) * n
        code = "\\n".join(f"keep[{at + i}] = bytearray({1000 + i})" for i in range(n))
        exec(compile(code, f"gen_{tag}.py", "exec"), {"keep": keep})

    def snapshot():
        try:
            return _ext._runfile_snapshot()
        except OSError:
            return "failed"

    path, room = sys.argv[1], int(sys.argv[2])
    _ext._runfile_open(path, repr({"format": "thrifty.run", "bootstrap": None, "user_roots": []}).encode(), 86400.0)
    _ext._tracker_start()
    outcomes = [snapshot()]
    grow("a", 800)
    outcomes.append(snapshot())  # a delta: gen_a's sites and nodes
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path) + room, hard))
    grow("b", 800)
    outcomes.append(snapshot())  # a delta that the file's limit cuts `room` bytes on
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # room again (a disk that was full, freed)
    grow("c", 800)
    outcomes.append(snapshot())
    _ext._tracker_stop()
    _ext._runfile_close()
    print(outcomes)
    """)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX's")
@pytest.mark.parametrize("room", [8, 700, 6_000, 20_000, 35_000])
def test_a_snapshot_whose_write_fails_midway_leaves_a_consistent_file(tmp_path, room):
    """A delta snapshot cut short by a failing write (RLIMIT_FSIZE: its payload stops `room` bytes past the end of
    the file, in its nodes or its sites): the writer had already recorded as sent the sites it wrote, so a later delta
    built on them would miss what the file never got. None is: a failed capture makes the next snapshot full, and
    after a failed write the writer writes nothing more (even with room again); the failed record is not committed,
    and the reader gives the snapshot before it, whole (every line of gen_a with its own bytes, nothing of gen_b or
    gen_c); the doctor's end record still appends."""
    path = tmp_path / "run"
    out = subprocess.run([sys.executable, "-c", _FAILING_WRITER, str(path), str(room)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    outcomes = ast.literal_eval(out.stdout)
    # the third fails (the file's limit), the fourth too: after a failed write the writer writes nothing more
    assert outcomes == [True, True, "failed", "failed"], outcomes
    runfile.append_end(str(path), {"status": "exit", "exit_status": 0, "signal": None, "exception": None})
    raw = read_run(str(path))
    assert raw["end"]["status"] == "exit"
    _, series = runfile.read_series(str(path))
    for snap in (raw, series[-1]):
        lines: dict[str, dict[int, int]] = {}
        for stack in snap["stacks"]:
            if stack["frames"]:
                file, line, _ = snap["frames"][stack["frames"][-1]]
                if file.startswith("gen_"):
                    lines.setdefault(file, {})[line] = stack["live_at_end"]
        assert "gen_a.py" in lines and set(lines) <= {"gen_a.py", "gen_b.py", "gen_c.py"}
        for sizes in lines.values():  # whichever snapshot the reader gives, it is whole
            assert sorted(sizes) == list(range(1, 801))
            # line i keeps bytearray(999 + i): one overhead on every line, no site with another snapshot's bytes
            assert len({live - (999 + i) for i, live in sizes.items()}) == 1
        assert sorted(lines) == ["gen_a.py"]  # the one before the failed write


def test_diff_says_how_much_a_peak_changed_in_words_that_fit_the_change():
    from thrifty.doctor.diff import _ratio

    assert _ratio(100, 25) == "   4.0x smaller in B" and _ratio(25, 100) == "   4.0x larger in B"
    # within 10%: "1.0x larger in B" said nothing
    assert _ratio(3_700_000, 3_800_000) == "   3% larger in B" and _ratio(1000, 960) == "   4% smaller in B"
    assert _ratio(1000, 1001) == "   the same"
    assert _ratio(0, 500) == "   (A: none)" and _ratio(500, 0) == "   (B: none)" and _ratio(0, 0) == ""
