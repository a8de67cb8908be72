#!/bin/sh
# Installs the Debian packages skiff builds, tests and runs with, when any is missing.
set -eu
PKGS="build-essential pkg-config libfcgi-dev libfcgi-bin libgit2-dev libcurl4-openssl-dev
libhiredis-dev libjansson-dev libevent-dev libssl-dev zlib1g-dev libbrotli-dev libsystemd-dev
check redis-server lighttpd apache2 libapache2-mod-xsendfile libapache2-mod-fcgid bubblewrap git curl
nodejs chromium systemd wrk valgrind iproute2 python3 man-db"
# `deps.sh bench`: also what the benchmarks compare against (nginx with nchan)
[ "${1:-}" = bench ] && PKGS="$PKGS nginx-light libnginx-mod-nchan"
# `deps.sh fuzz`: libFuzzer comes with clang
[ "${1:-}" = fuzz ] && PKGS="$PKGS clang"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm: Debian ships it apart from nodejs; NodeSource's nodejs bundles it (and conflicts with
# Debian's npm package), so ask for it only when there is no npm at all.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -z "$missing" ]; then
	echo "deps: all Debian packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run as root:  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
