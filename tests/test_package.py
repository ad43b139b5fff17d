"""The package itself: the public exceptions exist with the documented bases, and the stubs ship."""
import pathlib
import platform

import thrifty


def test_exception_hierarchy():
    assert issubclass(thrifty.Full, IndexError)
    assert issubclass(thrifty.CorruptData, ValueError)
    assert issubclass(thrifty.PoolExhausted, MemoryError)
    assert issubclass(thrifty.BudgetExceeded, MemoryError)
    assert issubclass(thrifty.AllocationError, MemoryError)
    assert thrifty.Full.__module__ == "thrifty"


def test_all_names_exist():
    for name in thrifty.__all__:
        assert hasattr(thrifty, name), name


def test_typing_files_ship():
    pkg = pathlib.Path(thrifty.__file__).parent
    assert (pkg / "py.typed").exists()
    assert (pkg / "_ext.pyi").exists()


ROOT = pathlib.Path(__file__).resolve().parent.parent


# Under qemu (the ARM legs) a build and three test files take ~10x as long as natively; the limit only catches a hang.
_LIMIT = 600 if platform.machine() in ("x86_64", "AMD64", "i686") else 3600


def _run(cmd, **kw):
    import subprocess
    got = subprocess.run(cmd, capture_output=True, text=True, timeout=_LIMIT, **kw)
    assert got.returncode == 0, (cmd, got.stdout[-3000:], got.stderr[-3000:])
    return got


def test_wheel_holds_the_package_and_no_c_sources(tmp_path):
    """The wheel is the Python package and the built extension: the binding's C sources stay out (cpython/)."""
    import sys
    import zipfile
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", str(tmp_path), str(ROOT)])
    wheel = next(tmp_path.glob("thrifty-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.endswith((".c", ".h"))], names
    assert any(n.startswith("thrifty/_ext.") and n.endswith(".so") for n in names), names
    assert {"thrifty/py.typed", "thrifty/_ext.pyi", "thrifty/__init__.py", "thrifty/cli.py",
            "thrifty/doctor/report.py"} <= set(names)


def test_sdist_installs_and_its_tests_run(tmp_path):
    """`pip install thrifty-*.tar.gz` works offline, the installed package is the one imported, and tests taken
    from the sdist pass against it."""
    import os
    import sys
    import tarfile
    _run([sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path)], cwd=ROOT)
    sdist = next(tmp_path.glob("thrifty-*.tar.gz"))
    target = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
          "--target", str(target), str(sdist)])
    with tarfile.open(sdist) as tar:
        # the "data" filter where the Python has it (3.11.4+; Debian 12 ships 3.11.2)
        tar.extractall(tmp_path / "src", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    tree = next((tmp_path / "src").iterdir())
    for needed in ("tests/conftest.py", "tests/heapcheck.py", "tests/typing_usage.py", "tests/realloc_race_helper.c",
                   "examples", "core/src", "cpython/module.c", "LICENSE", "Makefile"):
        assert (tree / needed).exists(), needed
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = _run([sys.executable, "-c", "import thrifty._ext as e; print(e.__file__)"], env=env, cwd=tmp_path)
    assert where.stdout.startswith(str(target)), where.stdout
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_ring.py", "tests/test_lz.py",
          "tests/test_frozen.py"], env=env, cwd=tree)
