"""The pytest plugin, through pytester in a subprocess (as a user's pytest run loads it: the pytest11 entry point)."""
import pytest

pytest_plugins = ["pytester"]

TESTS = """
import pytest

@pytest.mark.memory_budget("1 MiB")
def test_small():
    x = [bytearray(1000) for _ in range(100)]

@pytest.mark.memory_budget("1 MiB")
def test_big():
    keep = big_alloc()

def big_alloc():
    return bytearray(3 * 1024 * 1024)

def test_unmarked():
    keep = bytearray(3 * 1024 * 1024)

@pytest.mark.memory_budget("1 MiB")
def test_fails_on_its_own():
    assert False, "own failure"
"""


def test_marker(pytester):
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines([
        "*test_big*",
        "*peak traced heap 3.0 MiB*exceeds the memory budget of 1.0 MiB*",
        "*3.0 MiB*test_marker.py:12 in big_alloc*",
    ])
    result.stdout.fnmatch_lines(["*own failure*"])


def test_option_applies_to_every_test_and_marker_overrides(pytester):
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--memory-budget", "2M")
    # test_unmarked now has a 2M budget and fails; marked tests keep their 1 MiB
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(["*test_unmarked*", "*exceeds the memory budget of 2.0 MiB*"])


def test_bad_sizes_are_usage_errors(pytester):
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("--memory-budget", "lots")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--memory-budget: invalid size 'lots'*"])
    pytester.makepyfile(test_bad="import pytest\n@pytest.mark.memory_budget('1 XB')\ndef test_y():\n    pass\n")
    result = pytester.runpytest_subprocess("test_bad.py")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*memory_budget: invalid size*"])


def test_marker_registered(pytester):
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["*memory_budget(size)*"])


def test_budgets_hold_when_pytest_itself_runs_under_the_doctor(pytester):
    # `thrifty doctor -m pytest`: the doctor's tracker is the process's one, so the plugin skipped every budget and
    # test_big passed (exit status 0 where plain pytest gives 1); an allocation guard now measures the test
    import subprocess
    import sys

    pytester.makepyfile(TESTS)
    out = subprocess.run([sys.executable, "-m", "thrifty", "doctor", "--no-findings", "-m", "pytest", "-p",
                          "no:cacheprovider", "test_budgets_hold_when_pytest_itself_runs_under_the_doctor.py"],
                         capture_output=True, text=True, cwd=pytester.path, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "2 failed, 2 passed" in out.stdout
    assert "peak traced heap 3.0 MiB" in out.stdout and "counted by thrifty.count_allocs" in out.stdout
    assert "own failure" in out.stdout
