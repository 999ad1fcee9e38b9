#!/bin/sh
# Install the Debian packages clconv needs to build and test, if missing.
# Uses sudo only when not root.  Safe to run repeatedly: does nothing (and
# never calls apt) when everything is present.  Extra package names may be
# given as arguments.
#
# Another install may hold the dpkg lock, as unattended upgrades do on the
# first boot of a new machine, exactly when `make demo` first runs: apt-get
# then waits for it up to CLCONV_DPKG_LOCK_TIMEOUT seconds (default 300)
# instead of failing at once, and this script says so first.
set -eu
pkgs="gcc make pkg-config opencl-headers ocl-icd-opencl-dev pocl-opencl-icd libcriterion-dev clinfo $*"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

timeout="${CLCONV_DPKG_LOCK_TIMEOUT:-300}"
case "$timeout" in
    '' | *[!0-9]*)
        echo "install-deps: CLCONV_DPKG_LOCK_TIMEOUT=$timeout: want a number of seconds" >&2
        exit 2 ;;
esac
locks="/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock"

# Name who holds a lock when fuser can tell (it sees other users' processes
# only as root); apt-get waits either way.
say_lock_holder() {
    command -v fuser >/dev/null 2>&1 || return 0
    # shellcheck disable=SC2086
    holders=$(fuser $locks 2>/dev/null | tr -s ' ' ' ') || return 0
    [ -n "$holders" ] || return 0
    echo "install-deps: another package install holds the dpkg lock (pid$holders): waiting" \
         "up to $timeout s for it"
}

echo "install-deps: installing$missing (waiting up to $timeout s for the dpkg lock if" \
     "another install holds it)"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
apt_get() {
    $SUDO apt-get -o DPkg::Lock::Timeout="$timeout" "$@"
}
say_lock_holder
apt_get update -qq
say_lock_holder
# shellcheck disable=SC2086
apt_get install -y -qq --no-install-recommends $missing
