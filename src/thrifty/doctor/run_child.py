# The recorder's entry script (tracer.child_command runs it): python compiles a script from source at every start,
# and compiling child.py's ~300 lines raised the target's peak RSS by ~0.64 MB (its syntax tree), which plain
# python never pays. This stub is all that is compiled; child.py is imported, from its cached bytecode, and then
# taken out of sys.modules again (its functions keep their globals): the target finds there what it finds under
# plain python plus thrifty and thrifty._ext, as when child.py was the script.
import sys

sys.path[0] = sys.argv[1]  # the directory holding the thrifty package the parent uses, not this file's
from thrifty.doctor.child import main  # noqa: E402

del sys.modules["thrifty.doctor.child"], sys.modules["thrifty.doctor"]
del sys.modules["thrifty"].doctor
main()
