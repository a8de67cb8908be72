#!/bin/sh
# check/fuzz/run.sh — builds the libFuzzer targets with clang (ASan + UBSan) and runs each
# for a bounded time (FUZZ_TIME seconds, default 60) from its seed corpus. Used by `make fuzz`;
# never part of `make check`. A crash leaves its input in build/fuzz/ and fails.
set -u
cd "$(dirname "$0")/../.." || exit 1
FUZZ_TIME=${FUZZ_TIME:-60}
CC=${FUZZ_CC:-clang}
OUT=build/fuzz
mkdir -p "$OUT"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags jansson)"
libs=$(pkg-config --libs jansson)
lib_src="lib/path.c lib/percent.c lib/hex.c lib/rules.c lib/rules_match.c lib/arena.c lib/buf.c lib/error.c"
status=0
for target in fuzz_path fuzz_rules; do
	# shellcheck disable=SC2086
	$CC $flags -o "$OUT/$target" "check/fuzz/$target.c" $lib_src $libs || exit 1
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
