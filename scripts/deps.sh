#!/bin/sh
# Installs the Debian packages of one or more sets, when any is missing:
#
#   scripts/deps.sh run      what `make run` needs: build skiff, run it, and run users' builds
#   scripts/deps.sh check    run + what `make check` (and CI) needs to test it
#   scripts/deps.sh bench    run + what `make bench` measures with and against
#   scripts/deps.sh fuzz     run + clang for libFuzzer
#
# Several sets may be named at once; no argument means `check`.
set -eu

# Building skiff and running it: compiler and libraries, Redis, lighttpd (with mod_magnet for
# the sites' fast path), bubblewrap,
# slirp4netns and iproute2 (ip) for the build sandbox, git for the repositories you deploy,
# Node for the builds of Node projects, CA certificates for https clones and the npm registry.
RUN="build-essential pkg-config libfcgi-dev libgit2-dev libcurl4-openssl-dev libhiredis-dev
libjansson-dev libevent-dev libssl-dev zlib1g-dev libbrotli-dev libsystemd-dev
redis-server lighttpd lighttpd-modules-lua bubblewrap slirp4netns iproute2 git curl ca-certificates nodejs"
# Testing: the Check library, Apache with its modules, cgi-fcgi, systemd's tools
# (socket activation, unit verification), chromium for the browser tests, valgrind
# (`make valgrind`), python3 for the test scripts, botocore for its AWS service models
# (it_ecs checks the ECS requests against them), man for the manual pages, openssh-server
# (sshd and ssh-keygen) for the private repository served over SSH, Pebble (an ACME test
# server) and dehydrated (the ACME client skiff drives under lighttpd) for the custom
# domains' certificates, dnsmasq-base (dnsmasq without its system service) answering the test
# domains' A and TXT records to Pebble and skiff, openssl for Pebble's own certificate and it_redis_tls's CA,
# stunnel4 for the TLS tunnel to a TLS-only Redis (it_redis_tls; it_install verifies its unit),
# python3-h2 for it_fastpath's HTTP/2 client (Apache's mod_http2 comes with apache2), lighttpd-mod-openssl
# for lighttpd's HTTPS in it_domains_lighttpd (a Recommends of lighttpd, which we do not install).
CHECK="check libfcgi-bin apache2 apache2-utils libapache2-mod-xsendfile libapache2-mod-fcgid
systemd chromium valgrind iproute2 python3 python3-botocore man-db openssh-server pebble
dehydrated dnsmasq-base openssl stunnel4 python3-h2 lighttpd-mod-openssl"
# Benchmarks: the load generator, nginx with nchan to compare the log bridge against, python3
# and ss (iproute2) for the scripts, Apache with mod_xsendfile (the serve benchmark's second
# web server), pgrep (procps) for the web servers' CPU time.
BENCH="wrk python3 iproute2 nginx-light libnginx-mod-nchan apache2 libapache2-mod-xsendfile procps"
# Fuzzing: libFuzzer comes with clang.
FUZZ="clang"

[ $# -gt 0 ] || set -- check
PKGS=$RUN
for set in "$@"; do
	case $set in
	run) ;;
	check) PKGS="$PKGS $CHECK" ;;
	bench) PKGS="$PKGS $BENCH" ;;
	fuzz) PKGS="$PKGS $FUZZ" ;;
	*) echo "deps: unknown set '$set' (run, check, bench, fuzz)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $PKGS; do
	case " $missing " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm: Debian ships it apart from nodejs; NodeSource's nodejs bundles it (and conflicts with
# Debian's npm package), so ask for it only when there is no npm at all.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -z "$missing" ]; then
	echo "deps: all Debian packages present ($*)"
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
