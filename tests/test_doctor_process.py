"""The doctor's two processes (docs/architecture.md, "Signals"): a signal sent to the doctor reaches the target exactly
once, as under plain python, whether it was sent to the doctor's process group or to its pid alone, with and without
a controlling terminal; and a doctor killed by SIGKILL takes the recorder (and the target) with it."""
import contextlib
import os
import select
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from thrifty import _ext
from thrifty.doctor.runfile import read_run

LINUX = sys.platform.startswith("linux")

# Counts the signals delivered to the process, not the Python handler's calls: python's C-level handler writes one
# byte to the wakeup fd per delivery, where a handler call may stand for several. After the first, it waits 1.5 s
# for more (the doctor under test passes one on 0.3 s late, DRIVER) and writes "SIGINTs SIGTERMs SIGUSR1s" to OUT.
# With `read`, it first reads a line from stdin (a terminal: only the foreground process group may).
COUNTER = textwrap.dedent("""
    import os, signal, sys, time
    out = sys.argv[1]
    if sys.argv[2:] == ["read"]:
        open(out + ".asking", "w").close()
        assert sys.stdin.readline() == "go\\n"
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w)
    first = []
    def on(signum, frame):
        first.append(time.monotonic())
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
        signal.signal(signum, on)
    with open(out + ".ready", "w") as f:
        f.write(str(os.getpid()))
    while not first or time.monotonic() < first[0] + 1.5:
        time.sleep(0.02)
    got = os.read(r, 100)
    with open(out, "w") as f:
        f.write(" ".join(str(got.count(signum)) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)))
    """)

# `thrifty doctor --no-findings COUNTER OUT [read]`, its passing on of a signal made 0.3 s late: a signal the target
# got directly and again from the doctor is then two deliveries, not one merged by the kernel while still pending
DRIVER = textwrap.dedent("""
    import subprocess, sys, time
    from thrifty.doctor import tracer

    class LatePopen(subprocess.Popen):
        def send_signal(self, sig):
            time.sleep(0.3)
            super().send_signal(sig)

    tracer.subprocess.Popen = LatePopen
    from thrifty.cli import main
    sys.exit(main(["doctor", "--no-findings", *sys.argv[1:]]))
    """)


def _wait_for(path, proc=None, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert proc is None or proc.poll() is None, "the program ended before it was ready"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def _command(runner, counter, out, *extra):
    if runner == "python":
        return [sys.executable, str(counter), str(out), *extra]
    return [sys.executable, "-c", DRIVER, str(counter), str(out), *extra]


@pytest.mark.skipif(not hasattr(signal, "sigtimedwait"), reason="the doctor passes signals on with sigtimedwait")
@pytest.mark.parametrize("runner", ["python", "doctor"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGUSR1])
@pytest.mark.parametrize("to", ["group", "pid"])
def test_a_signal_reaches_the_target_once_as_under_python(tmp_path, runner, sig, to):
    """No controlling terminal (a new session, as under a supervisor or CI): os.killpg to the doctor's group and
    os.kill to its pid each reach the target once, as they reach `python app.py` once. The recorder used to share
    the doctor's group, so a group's signal came to it directly and once more from the doctor; and SIGUSR1 (as
    SIGHUP, SIGQUIT, SIGUSR2), not passed on, ended the doctor instead of reaching the target."""
    counter = tmp_path / "counter.py"
    counter.write_text(COUNTER)
    out = tmp_path / "counts"
    proc = subprocess.Popen(_command(runner, counter, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _wait_for(f"{out}.ready", proc)
        (os.killpg if to == "group" else os.kill)(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        ready = tmp_path / "counts.ready"
        if not out.exists() and ready.exists():  # a target left running (a doctor that died before passing it on)
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(ready.read_text()), signal.SIGKILL)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    counts = dict(zip((signal.SIGINT, signal.SIGTERM, signal.SIGUSR1), map(int, out.read_text().split())))
    assert counts == {s: int(s == sig) for s in counts}


def _drain(master):
    try:
        while select.select([master], [], [], 0)[0] and os.read(master, 4096):
            pass
    except OSError:  # EIO: the terminal's last user has closed it
        pass


@pytest.mark.skipif(not LINUX, reason="a pseudo-terminal as controlling terminal, Linux's pty semantics")
@pytest.mark.parametrize("how", ["ctrl-c", "kill-pid"])
def test_with_a_terminal_the_target_reads_it_and_gets_each_signal_once(tmp_path, how):
    """With a controlling terminal the recorder stays in the doctor's process group, the terminal's foreground job:
    the target reads the terminal (a background group would be stopped by SIGTTIN), a Ctrl-C typed there (the
    kernel's SIGINT to the whole group) reaches it once, not passed on again, and a SIGTERM sent to the doctor's pid
    alone is passed on, once."""
    import pty

    try:  # a root without /dev/pts (the Debian roots the other-Python legs of `make test` run in) has no terminals
        for fd in os.openpty():
            os.close(fd)
    except OSError as e:
        pytest.skip(f"no pseudo-terminal here: {e}")

    counter = tmp_path / "counter.py"
    counter.write_text(COUNTER)
    out = tmp_path / "counts"
    pid, master = pty.fork()  # the child: a new session, the pty its controlling terminal, its group in front
    if pid == 0:
        try:
            os.execv(sys.executable, _command("doctor", counter, out, "read"))
        finally:
            os._exit(127)
    status = None
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(f"{out}.asking"):
            _drain(master)
            assert time.monotonic() < deadline, "the target never asked for its line"
            time.sleep(0.01)
        os.write(master, b"go\n")
        while not os.path.exists(f"{out}.ready"):
            _drain(master)
            assert time.monotonic() < deadline, "the target could not read its terminal"
            time.sleep(0.01)
        if how == "ctrl-c":
            os.write(master, b"\x03")
        else:
            os.kill(pid, signal.SIGTERM)
        while status is None and time.monotonic() < deadline:
            _drain(master)
            done, st = os.waitpid(pid, os.WNOHANG)
            status = st if done else None
            time.sleep(0.02)
    finally:
        if status is None:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(master)
    assert status is not None and os.waitstatus_to_exitcode(status) == 0
    assert out.read_text() == ("1 0 0" if how == "ctrl-c" else "0 1 0")


def _gone(pid):
    """Whether the process has ended (a zombie not yet reaped by whoever adopted it counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not LINUX, reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("command", [["doctor", "--no-findings"], ["watch", "--every", "1s", "--out", "app.run"]])
def test_a_doctor_killed_by_sigkill_takes_the_recorder_with_it(tmp_path, command):
    """SIGKILL to the doctor's (or the watch's) pid alone, which it cannot pass on: the recorder, and the target in
    it, used to run on with nobody to read the run or stop it; the kernel now ends it (parentdeath.c). A kept run
    file reads, up to its last snapshot."""
    (tmp_path / "app.py").write_text(textwrap.dedent("""
        import os, time
        with open("pid.tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename("pid.tmp", "pid")
        time.sleep(120)
        """))
    proc = subprocess.Popen([sys.executable, "-m", "thrifty", *command, "app.py"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    recorder = None
    try:
        _wait_for(tmp_path / "pid", proc)
        recorder = int((tmp_path / "pid").read_text())
        assert recorder != proc.pid and not _gone(recorder)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(60)
        deadline = time.monotonic() + 30  # generous: only that it ends, not how fast
        while not _gone(recorder) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(recorder), "the recorder outlived the doctor"
        if "--out" in command:
            assert read_run(str(tmp_path / "app.run"))["end"]["status"] == "killed"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if recorder is not None and not _gone(recorder):
            os.kill(recorder, signal.SIGKILL)


@pytest.mark.skipif(not LINUX, reason="PR_SET_PDEATHSIG is Linux's")
def test_a_recorder_whose_doctor_is_already_gone_ends_at_once():
    """The race PR_SET_PDEATHSIG leaves: a parent that died before the call sends no notice. Given a pid that is not
    its parent's, the call ends the process by SIGKILL itself; given its parent's, it returns True."""
    code = "import sys; from thrifty import _ext; print(_ext._recorder_die_with_parent(int(sys.argv[1])), flush=True)"
    alive = subprocess.run([sys.executable, "-c", code, str(os.getpid())], capture_output=True, text=True, timeout=60)
    assert alive.returncode == 0 and alive.stdout == "True\n", alive.stderr
    orphan = subprocess.run([sys.executable, "-c", code, str(os.getpid() + 1 if os.getpid() != 1 else 2)],
                            capture_output=True, text=True, timeout=60)
    assert orphan.returncode == -signal.SIGKILL and orphan.stdout == ""


def test_die_with_parent_refuses_what_is_not_a_pid():
    with pytest.raises(TypeError, match="parent_pid must be an int, not str"):
        _ext._recorder_die_with_parent("1")
    for bad in (0, -5, 2**40):
        with pytest.raises(ValueError, match="parent_pid must be a process id"):
            _ext._recorder_die_with_parent(bad)
