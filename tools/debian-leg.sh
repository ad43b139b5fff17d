#!/usr/bin/env bash
# Build thrifty and run its tests on another CPython or architecture, inside a Debian root made with debootstrap and
# cached under build/roots/ (a foreign architecture runs under qemu-user-static).
#
#   tools/debian-leg.sh SUITE ARCH PYTHON [pytest args...]
#     tools/debian-leg.sh trixie amd64 python3.13          CPython 3.13 (Debian 13)
#     tools/debian-leg.sh sid amd64 python3.14             CPython 3.14 (Debian unstable)
#     tools/debian-leg.sh bookworm armhf python3.11        32-bit ARM, as Raspberry Pi OS
#   With ARCH != amd64 it also builds and runs the core's C tests inside the root first.
#
# Why roots: this machine's own Python is 3.11 on x86-64, and no other CPython or architecture can be installed
# beside it from the registries it reaches. The test tools come from Debian's own packages (pip inside a Debian 13
# root rejects this network's TLS chain). The project is copied in, not bind-mounted, so the root's build never
# touches the host's in-place build; /proc is mounted in a private mount namespace, so nothing stays mounted.
set -euo pipefail
suite=$1 arch=$2 py=$3
shift 3
here=$(cd "$(dirname "$0")/.." && pwd)
root=$here/build/roots/$suite-$arch
packages="$py,$py-dev,$py-venv,python3-pytest,python3-hypothesis,python3-setuptools,gcc,libc6-dev"

need() { # command, Debian packages that bring it
    command -v "$1" >/dev/null || {
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${@:2}") >/dev/null; }
}
need debootstrap debootstrap
if [ "$arch" != amd64 ]; then
    need qemu-arm-static qemu-user-static binfmt-support
    # the kernel runs foreign binaries through qemu only while binfmt_misc is mounted and the format enabled
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    qemu=$([ "$arch" = arm64 ] && echo qemu-aarch64 || echo qemu-arm)
    [ -e /proc/sys/fs/binfmt_misc/$qemu ] || update-binfmts --enable "$qemu"
fi

if [ "$(cat "$root/.stamp" 2>/dev/null)" != "$packages" ]; then
    echo "== debootstrap $suite/$arch with $py into $root (once; cached)"
    rm -rf "$root"
    mkdir -p "$root"
    t0=$(date +%s)
    debootstrap --arch="$arch" --variant=minbase --include="$packages" "$suite" "$root" \
        http://deb.debian.org/debian >"$root.log" 2>&1 || { tail -20 "$root.log"; exit 1; }
    echo "$packages" >"$root/.stamp"
    echo "== root ready in $(($(date +%s) - t0)) s"
fi

# setuptools from PyPI (pure Python, one wheel for every root): Debian 12's 66 predates the metadata pyproject.toml
# uses (a PEP 639 license string needs 77); pyperformance for its benchmark scripts only (tests/test_doctor_unseen.py
# runs them with a stand-in pyperf), so without its dependencies
wheels=$here/build/roots/wheels
want="setuptools>=77 packaging>=24.2 pyperformance"
if [ "$(cat "$wheels/.stamp" 2>/dev/null)" != "$want" ]; then
    mkdir -p "$wheels"
    # shellcheck disable=SC2086  # one argument per requirement
    python3 -m pip download -q --only-binary=:all: --no-deps -d "$wheels" $want 2>&1 |
        grep -v '^WARNING: Location' || true
    echo "$want" >"$wheels/.stamp"
fi
mkdir -p "$root/wheels" && cp -r "$wheels"/. "$root/wheels"/

# one copy and one venv per checkout, so two worktrees can run legs in the same cached root at once
tag=$(basename "$here" | tr -c 'A-Za-z0-9_.\n-' _)
echo "== copy the project into $root/src-$tag"
rm -rf "$root/src-$tag"
mkdir -p "$root/src-$tag"
(cd "$here" && git ls-files -co --exclude-standard -z | tar --null -T - -c) | tar -x -C "$root/src-$tag"

inside() { unshare -m sh -c "mount -t proc proc '$root/proc' && exec chroot '$root' sh -c '$1'"; }

if [ "$arch" != amd64 ]; then
    echo "== C core tests on $arch"
    inside 'cd /src-'$tag' && mkdir -p build/c && for t in core/tests/test_*.c; do n=$(basename $t .c);
        gcc -std=c99 -Wall -Wextra -Wconversion -Wsign-conversion -pedantic -Werror -O1 -D_POSIX_C_SOURCE=200809L \
            -DTF_DEBUG=1 -Icore/include -pthread $t core/src/*.c -o build/c/$n -lm || exit 1;
        printf "%s: " $n; ./build/c/$n | tail -1; done'
fi

# a hung test (a thread left waiting, a child that never exits) fails the leg instead of running into CI's limit
limit=${LEG_TIMEOUT:-$([ "$arch" = amd64 ] && echo 1200 || echo 7200)}
echo "== build and test on $py ($suite/$arch)"
t0=$(date +%s)
inside "cd /src-$tag && { [ -x /venv-$tag/bin/python ] || $py -m venv --system-site-packages /venv-$tag; } &&
    /venv-$tag/bin/pip install -q --no-index --find-links /wheels --upgrade setuptools packaging 2>&1 | grep -v \"^WARNING: Location\" ;
    /venv-$tag/bin/pip install -q --no-index --find-links /wheels --no-deps pyperformance 2>&1 | grep -v \"^WARNING: Location\" ;
    /venv-$tag/bin/pip install -q --no-index --no-build-isolation -e . 2>&1 | grep -v \"^WARNING: Location\" ;
    /venv-$tag/bin/python -c \"import sys, platform, thrifty._ext; print(sys.version.split()[0], platform.machine())\" &&
    timeout -k 30 $limit /venv-$tag/bin/python -m pytest -q -p no:cacheprovider ${*:-tests}"
echo "== $suite/$arch $py: tests took $(($(date +%s) - t0)) s"
