#!/bin/sh
# Fails when two object files of one directory (lib/ or a program's) call each other both ways.
# usage: scripts/cycles.sh [build dir]   (default build/debug; the objects must be built)
set -u
export LC_ALL=C
B=${1:-build/debug}
allow=$(dirname "$0")/cycles.allow   # known pairs, one a line, each to be fixed by its owner
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for dir in "$B"/lib "$B"/fcgi/* "$B"/builder/* "$B"/cli/* "$B"/sse-bridge/*; do
	ls "$dir"/*.o >/dev/null 2>&1 || continue
	: >"$tmp/def"
	: >"$tmp/use"
	for o in "$dir"/*.o; do
		f=$(basename "$o" .o)
		[ -f "${dir#"$B"/}/$f.c" ] || continue   # left over from a source that is gone
		nm --defined-only -g "$o" | awk -v f="$f" 'NF == 3 { print $3, f }' >>"$tmp/def"
		nm -u "$o" | awk -v f="$f" '{ print $NF, f }' >>"$tmp/use"
	done
	sort -o "$tmp/def" "$tmp/def"
	sort -o "$tmp/use" "$tmp/use"
	# file that uses → file that defines
	join "$tmp/use" "$tmp/def" | awk '$2 != $3 { print $2, $3 }' | sort -u >"$tmp/edges"
	rel=${dir#"$B"/}
	awk -v d="$rel" '{ e[$1 " " $2] = 1 }
		END { for (k in e) { split(k, p, " "); if (p[1] < p[2] && ((p[2] " " p[1]) in e))
			print d "/" p[1] ".c <-> " d "/" p[2] ".c" } }' "$tmp/edges" | sort >>"$tmp/pairs"
done
[ -f "$tmp/pairs" ] || { echo "cycles: no objects under $B" >&2; exit 1; }
new=$(grep -vxF -f "$allow" "$tmp/pairs" 2>/dev/null || true)
[ -f "$allow" ] || new=$(cat "$tmp/pairs")
if [ -n "$new" ]; then
	echo "cycles: files that call each other both ways (doc/hacking.md: no cycle between files):" >&2
	echo "$new" >&2
	exit 1
fi
if [ -f "$allow" ]; then
	gone=$(grep -vxF -f "$tmp/pairs" "$allow" | grep . || true)
	[ -z "$gone" ] || echo "cycles: no longer found, remove from $allow: $gone" >&2
fi
n=$(grep -c . "$tmp/pairs")
if [ "$n" -gt 0 ]; then
	echo "cycles: only the $n known pair(s) of scripts/cycles.allow"
else
	echo "cycles: none"
fi

