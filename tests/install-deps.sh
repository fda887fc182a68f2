#!/bin/sh
# Install what stopgate's build, tests and tools need on Debian 12.
# Idempotent: installs only what is missing; needs root only then.
set -eu

PKGS="build-essential pkg-config clang libevent-dev liblmdb-dev libyaml-dev
libssl-dev libcmocka-dev libunistring-dev libjansson-dev lmdb-utils openssl python3
tshark haproxy kannel valgrind cppcheck systemd groff-base man-db strace
libpq-dev postgresql-15 chromium tzdata"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
# Node.js and npm (interop tests): any install that provides the commands
# will do (some machines carry a vendor build that bundles npm and conflicts
# with Debian's npm package).
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run as root, or: apt-get install$missing" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no, quietly.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
