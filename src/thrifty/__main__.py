"""`python -m thrifty doctor ...`: the same command line as `thrifty`."""
from thrifty.cli import entry

entry()
