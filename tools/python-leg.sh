#!/usr/bin/env bash
# Run the pytest suite on another CPython, inside a Debian root made with debootstrap (cached under build/roots/).
#
#   tools/python-leg.sh SUITE PYTHON [pytest args...]      e.g. tools/python-leg.sh trixie python3.13
#
# Why a root and not a venv: this machine's Python is 3.11 and no other CPython can be installed beside it from the
# registries it reaches; Debian 13 (trixie) ships 3.13 and Debian unstable (sid) 3.14. pip inside a Debian 13 root
# rejects this network's TLS chain, so the wheels come from the host's pip (--python-version) and are installed in
# the root with --no-index. The project is copied in (not bind-mounted) so the root's build never touches the
# host's in-place build; /proc is mounted in a private mount namespace, so nothing stays mounted after the run.
set -euo pipefail
suite=$1 py=$2
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
root=$here/build/roots/$suite
ver=${py#python}
wheels=$root/wheels

if [ ! -f "$root/.stamp" ]; then
    command -v debootstrap >/dev/null || {
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap) >/dev/null; }
    echo "== debootstrap $suite ($py) into $root (once; cached)"
    rm -rf "$root"
    mkdir -p "$root"
    debootstrap --variant=minbase --include="$py,$py-dev,$py-venv,gcc,libc6-dev" "$suite" "$root" \
        http://deb.debian.org/debian >"$root.log" 2>&1 || { tail -20 "$root.log"; exit 1; }
    touch "$root/.stamp"
fi

if [ ! -f "$wheels/.stamp" ]; then
    echo "== wheels for $py"
    mkdir -p "$wheels"
    # the test tools only: the runtime needs nothing beyond the standard library
    python3 -m pip download -q --python-version "$ver" --only-binary=:all: \
        --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform any \
        -d "$wheels" setuptools wheel pytest hypothesis pympler 2>&1 | grep -v '^WARNING: Location' || true
    touch "$wheels/.stamp"
fi

if [ ! -x "$root/venv/bin/python" ]; then
    chroot "$root" "$py" -m venv /venv
    chroot "$root" /venv/bin/pip install -q --no-index --find-links /wheels setuptools wheel pytest hypothesis pympler \
        2>&1 | grep -v '^WARNING: Location' || true
fi

echo "== copy the project into $root/src"
rm -rf "$root/src"
mkdir -p "$root/src"
(cd "$here" && git ls-files -co --exclude-standard -z | tar --null -T - -c) | tar -x -C "$root/src"

echo "== build and test on $py"
unshare -m sh -c "mount -t proc proc '$root/proc' && exec chroot '$root' sh -c '
    cd /src && /venv/bin/pip install -q --no-index --no-build-isolation -e . 2>&1 | grep -v \"^WARNING: Location\" ;
    /venv/bin/python -c \"import sys, thrifty._ext; print(sys.version.split()[0], thrifty._ext.__file__)\" &&
    exec /venv/bin/python -m pytest -q -p no:cacheprovider ${*:-tests}'"
