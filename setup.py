"""Build of the one C extension, thrifty._ext: the portable core (core/src) plus the CPython binding (cpython/).

setuptools was chosen over meson-python because the extension is a flat list of C files with no configure step, and
setuptools is already on every machine with pip: `pip install .` needs nothing else.
"""
import glob

from setuptools import Extension, setup

sources = sorted(glob.glob("cpython/*.c")) + sorted(glob.glob("core/src/*.c"))

setup(
    ext_modules=[
        Extension(
            "thrifty._ext",
            sources=sources,
            include_dirs=["core/include", "cpython"],
            depends=glob.glob("core/include/thrifty/*.h") + glob.glob("core/src/*.h") + glob.glob("cpython/*.h"),
            # -fvisibility=hidden: only PyInit__ext is exported, so calls from the binding into the core bind locally
            # (no PLT hop, and inlinable): the tracker's allocation hook calls the core's tables on every allocation.
            extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wno-missing-field-initializers", "-fvisibility=hidden"],
        )
    ],
)
