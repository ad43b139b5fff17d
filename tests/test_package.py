"""The package itself: the public exceptions exist with the documented bases, and the stubs ship."""
import pathlib

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
