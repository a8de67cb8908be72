#!/bin/sh
# Fails when a function defined in x.c (lib/ or a program's directory under fcgi/, builder/,
# cli/, sse-bridge/) is declared anywhere but x.h, or not in x.h at all (doc/hacking.md: x.h is
# the whole public surface of x.c).
# usage: scripts/headers.sh [build dir]   (default build/debug; the objects must be built)
set -u
export LC_ALL=C
B=${1:-build/debug}
bad=
seen=0
for dir in "$B"/lib "$B"/fcgi/* "$B"/builder/* "$B"/cli/* "$B"/sse-bridge/*; do
	ls "$dir"/*.o >/dev/null 2>&1 || continue
	src=${dir#"$B"/}
	for o in "$dir"/*.o; do
		f=$(basename "$o" .o)
		[ -f "$src/$f.c" ] || continue   # left over from a source that is gone
		seen=1
		for sym in $(nm --defined-only -g "$o" | awk '$2 == "T" { print $3 }'); do
			case $sym in main | __*) continue ;; esac
			where=$(grep -lE "^[a-z].*[ *]$sym\(" "$src"/*.h 2>/dev/null | tr '\n' ' ')
			[ "$where" = "$src/$f.h " ] || bad="$bad
$src/$f.c: $sym declared in: ${where:-no header}"
		done
	done
done
[ "$seen" = 1 ] || { echo "headers: no objects under $B" >&2; exit 1; }
if [ -n "$bad" ]; then
	echo "headers: functions not declared by their own file's header only:$bad" >&2
	exit 1
fi
echo "headers: each x.h declares x.c's functions"
