#!/bin/sh
# lighttpd-src.sh DIR — puts the source of the installed lighttpd release under DIR (its
# headers build apache/mod_skiff_fastpath.c, mk/lighttpd.mk), from Debian's archive, checked
# against the SHA-256 below. Debian packages no lighttpd headers (there is no lighttpd-dev),
# and a lighttpd module must be built against the very release that loads it.
#
# Prints DIR/lighttpd-VERSION/src when it is there. A lighttpd release without a known
# checksum here, or no lighttpd, or no network: says why on stderr and exits 3; the sites'
# fast path then stays with mod_magnet (apache/skiff-fastpath-lighttpd.lua), which needs no build.
#
# The checksum is the one Debian publishes for the upstream tarball: bookworm's Sources index,
# whose own checksum is in the Release file signed with the Debian archive key
# (checked on 2026-12-04 with gpgv and /usr/share/keyrings/debian-archive-keyring.gpg).
set -eu
DIR=${1:?usage: lighttpd-src.sh DIR}
MIRROR=${SKIFF_DEBIAN_MIRROR:-http://deb.debian.org/debian}

version=$(dpkg-query -W -f='${Version}' lighttpd 2>/dev/null || true)
upstream=${version%-*}
upstream=${upstream#*:}
case $upstream in
1.4.69) sha=16ac8db95e719629ba61949b99f8a26feba946a81d185215b28379bb4116b0b4 ;;
'') echo "lighttpd-src: lighttpd is not installed" >&2; exit 3 ;;
*) echo "lighttpd-src: no known source checksum for lighttpd $upstream: mod_skiff_fastpath is not built (the fast path stays with mod_magnet)" >&2; exit 3 ;;
esac

src=$DIR/lighttpd-$upstream/src
if [ -f "$src/plugin.h" ] && [ -f "$DIR/lighttpd-$upstream/.verified" ]; then
	echo "$src"
	exit 0
fi
mkdir -p "$DIR"
tarball=lighttpd_$upstream.orig.tar.xz
tmp=$(mktemp "$DIR/.download.XXXXXX")
trap 'rm -f "$tmp"' EXIT
if ! curl -fsS --max-time 120 -o "$tmp" "$MIRROR/pool/main/l/lighttpd/$tarball"; then
	echo "lighttpd-src: could not download $tarball from $MIRROR" >&2
	exit 3
fi
got=$(sha256sum "$tmp" | cut -d' ' -f1)
if [ "$got" != "$sha" ]; then
	echo "lighttpd-src: $tarball has SHA-256 $got, not $sha: not used" >&2
	exit 3
fi
rm -rf "$DIR/lighttpd-$upstream"
tar -xJf "$tmp" -C "$DIR"
touch "$DIR/lighttpd-$upstream/.verified"
echo "$src"
