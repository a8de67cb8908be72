#!/bin/sh
# check/fuzz/run.sh — builds the libFuzzer targets with clang (ASan + UBSan) and runs each
# for a bounded time (FUZZ_TIME seconds, default 60) from its seed corpus. Used by `make fuzz`;
# never part of `make check`. A crash leaves its input in build/fuzz/ and fails.
# FUZZ_TARGETS="fuzz_http fuzz_hook" runs a subset; FUZZ_TIME=0 only builds.
set -u
cd "$(dirname "$0")/../.." || exit 1
FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-"fuzz_path fuzz_rules fuzz_http fuzz_hook fuzz_detect fuzz_dnstxt"}
CC=${FUZZ_CC:-clang}
OUT=build/fuzz
pkgs="fcgi libgit2 libcurl hiredis jansson libevent libcrypto zlib libbrotlienc libbrotlidec libsystemd"
mkdir -p "$OUT/lib"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
flags="-g -O1 $san -std=c11 -D_GNU_SOURCE -DSKIFF_VERSION=\"fuzz\" -Ilib $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -lresolv -lpthread -lm"
# every lib/ source once (the targets reach into http, hook, detect and what they use); an
# object is rebuilt when its source or any header is newer
objs=
for src in lib/*.c; do
	obj=$OUT/lib/$(basename "$src" .c).o
	if [ ! -f "$obj" ] || [ -n "$(find "$src" lib -maxdepth 1 -name '*.[ch]' -newer "$obj" | head -n 1)" ]; then
		# shellcheck disable=SC2086
		$CC $flags -fsanitize=fuzzer-no-link -c -o "$obj" "$src" || exit 1
	fi
	objs="$objs $obj"
done
status=0
for target in $FUZZ_TARGETS; do
	# shellcheck disable=SC2086
	$CC $flags -fsanitize=fuzzer -o "$OUT/$target" "check/fuzz/$target.c" $objs $libs || exit 1
	[ "$FUZZ_TIME" -gt 0 ] || continue
	corpus=$OUT/corpus-$target
	mkdir -p "$corpus"
	cp check/fuzz/seeds/$target/* "$corpus/" 2>/dev/null
	echo "fuzz: $target for ${FUZZ_TIME}s"
	if ! (cd "$OUT" && "./$target" -max_total_time="$FUZZ_TIME" -max_len=4096 -timeout=10 \
		-print_final_stats=1 "corpus-$target" >"$target.log" 2>&1); then
		echo "fuzz: $target FAILED, see $OUT/$target.log" >&2
		tail -n 30 "$OUT/$target.log" >&2
		status=1
	else
		grep -E '^stat::number_of_executed_units' "$OUT/$target.log" | sed "s/^/fuzz: $target /"
	fi
done
exit $status
