"""The natmod's link step (natmod.mk): MicroPython's tools/mpy_ld.py links every section of the objects it is
given, having no --gc-sections of its own, so the toolchain's ld first links them into one relocatable object with
--gc-sections, rooted at mpy_init; what no part of the binding reaches (the core's functions that only the CPython
binding calls) is left out. Then mpy_ld runs on that one object, with its other arguments unchanged. Called
without objects it is mpy_ld itself.

    python natmod_ld.py LD MPY_LD_PY [mpy_ld arguments ... -o OUT.mpy OBJ.o ...]
"""
import pathlib
import subprocess
import sys


def main(ld: str, mpy_ld: str, args: list[str]) -> int:
    objects = [a for a in args if a.endswith(".o")]
    rest = [a for a in args if not a.endswith(".o")]
    if not objects:  # mpy_ld's other job, --preprocess (make passes this MPY_LD on to the link's prerequisites)
        return subprocess.run([sys.executable, mpy_ld, *args]).returncode
    out = pathlib.Path(rest[rest.index("-o") + 1])
    linked = out.with_name(out.stem + "-gc.o")
    # the objects in the order given: mpy_init's (modthrifty.o) first, at the start of the text
    subprocess.run([ld, "-r", "--gc-sections", "-e", "mpy_init", "-o", str(linked), *objects], check=True)
    return subprocess.run([sys.executable, mpy_ld, *rest, str(linked)]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
