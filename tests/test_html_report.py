"""The --html reports (the doctor's, and the watch's leak page): each one self-contained file that renders in headless
Chromium with no console errors.

Chromium is a system package: `make test-html` installs it and sets THRIFTY_REQUIRE_CHROMIUM=1 so a missing
browser fails there; elsewhere the browser checks skip. The screenshot is kept under test-artifacts/.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    BROWSER is None and not os.environ.get("THRIFTY_REQUIRE_CHROMIUM"),
    reason="chromium not installed (make test-html installs it)",
)

SCRIPT = textwrap.dedent("""\
    import os, tempfile
    class Node:
        def __init__(self, parent=None):
            self.parent = parent
            self.children = []
            if parent:
                parent.children.append(self)
    CACHE = {}
    queue = []
    def work(i):
        root = Node()
        Node(root)
        f = open(os.path.join(tempfile.gettempdir(), "thrifty_html_test.txt"), "w")
        f.write(str(i))
        CACHE[i] = "entry-%d" % i * 20
        queue.append(i)
        if len(queue) > 300:
            queue.pop(0)
    for i in range(1000):
        work(i)
    """)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("html")
    script = d / "app.py"
    script.write_text(SCRIPT)
    out = d / "report.html"
    js = d / "report.json"
    r = subprocess.run([sys.executable, "-m", "thrifty", "doctor", "--html", str(out), "--json", str(js), str(script)],
                       capture_output=True, text=True, cwd=d, timeout=300)
    assert r.returncode == 0, r.stderr
    return out


def _self_contained(path, *parts: str) -> str:
    """The page is one file: no network resource, no script; it holds every one of `parts`."""
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "no network resources"
    assert "<script" not in page
    for part in parts:
        assert part in page, part
    return page


def test_html_is_self_contained(report):
    page = _self_contained(report, 'id="timeline"', 'id="flame"', "Top sites at the peak", "<circle",
                           "<h3>references</h3>", "<h3>globals</h3>", "app.py")
    # the flame graph names the script's own frames, and the findings table names the cycle
    assert "work (app.py:" in page and "Node.parent" in page or "Node.children" in page


def _chromium(url: str, *extra: str) -> subprocess.CompletedProcess:
    assert BROWSER, "chromium is not installed"
    args = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--enable-logging=stderr", "--v=0", "--log-level=0", "--virtual-time-budget=2000", *extra, url]
    # Under `make test-asan` the sanitizer runtime is preloaded for Python; the browser must not inherit it.
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "PYTHONMALLOC")}
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def _renders(page, shot_name: str, height: int, *in_dom: str) -> None:
    """Chromium draws the page (a screenshot in test-artifacts/) with no console error, and its DOM holds
    `in_dom`."""
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / shot_name
    if shot.exists():
        shot.unlink()
    r = _chromium(page.as_uri(), f"--screenshot={shot}", f"--window-size=1200,{height}")
    assert shot.exists() and shot.stat().st_size > 10_000, r.stderr[-2000:]
    assert _console_errors(r.stderr) == []
    dom = _chromium(page.as_uri(), "--dump-dom").stdout
    for part in in_dom:
        assert part in dom, part


@needs_browser
def test_chromium_renders_without_console_errors(report):
    _renders(report, "doctor_report.png", 1800, 'id="flame"', "<rect", "<polyline")


WATCHED = textwrap.dedent("""\
    import time
    kept, batch = [], []
    while True:
        kept.append(bytes(3000))
        batch.append(bytearray(2000))
        if len(batch) >= 40:
            batch.clear()
        time.sleep(0.005)
    """)


@pytest.fixture(scope="module")
def watch_page(tmp_path_factory):
    d = tmp_path_factory.mktemp("watch_html")
    (d / "svc.py").write_text(WATCHED)
    out = d / "watch.html"
    r = subprocess.run([sys.executable, "-m", "thrifty", "watch", "--every", "200ms", "--for", "3s", "--budget", "8M",
                        "--sample-rate", "2K", "--html", str(out), "svc.py"],
                       capture_output=True, text=True, cwd=d, timeout=120)
    assert r.returncode == 0, r.stderr
    return out


def test_watch_page_is_self_contained(watch_page):
    _self_contained(watch_page, 'id="heap"', 'class="spark"', "svc.py:4", "Leaks (growing to the end)")


@needs_browser
def test_chromium_renders_the_watch_page_without_console_errors(watch_page):
    _renders(watch_page, "watch_report.png", 1400, 'id="heap"', 'class="spark"', "<polyline")


@needs_browser
def test_console_check_catches_an_error(tmp_path):
    """The console check above can fail: a page that logs an error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>console.error('boom'); undefined_fn();</script></body></html>")
    assert _console_errors(_chromium(bad.as_uri(), "--dump-dom").stderr)
