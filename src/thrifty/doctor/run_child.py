# The recorder's entry script (tracer.child_command runs it): python compiles a script from source at every start,
# and compiling child.py's ~300 lines raised the target's peak RSS by ~0.7 MB (its syntax tree), which plain
# python never pays. This stub is all that is compiled; child.py is imported, from its cached bytecode.
import sys

sys.path[0] = sys.argv[1]  # the directory holding the thrifty package the parent uses, not this file's
from thrifty.doctor.child import main  # noqa: E402

main()
