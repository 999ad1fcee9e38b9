#!/bin/sh
# Install the Debian packages clconv needs to build and test, if missing.
# Uses sudo only when not root.  Safe to run repeatedly: does nothing when
# everything is present.  Extra package names may be given as arguments.
set -eu
pkgs="gcc make pkg-config opencl-headers ocl-icd-opencl-dev pocl-opencl-icd libcriterion-dev clinfo $*"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
