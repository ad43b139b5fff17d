"""Test-wide settings.

Under CI (the CI environment variable is set, as .ci/run's caller does) hypothesis runs derandomized: the same examples
every run, so a green main stays green and a failure is reproducible. Locally it explores new random examples each
run, which is how new counterexamples are found (then pinned as explicit tests).
"""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
