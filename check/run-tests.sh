#!/bin/sh
# Runs skiff's tests: every Check unit binary, then every integration script check/it_*.sh,
# then the browser tests. Prints one line per suite and a closing "N passed, N failed".
#   check/run-tests.sh [unit|integration|browser]   (default: all)
set -u
cd "$(dirname "$0")/.." || exit 1
: "${SKIFF_BUILD_DIR:=$(pwd)/build/debug}"
export SKIFF_BUILD_DIR
what=${1:-all}
passed=0
failed=0
failures=""
mkdir -p check/out

run_one() { # name command...
	name=$1
	shift
	log="check/out/$(echo "$name" | tr '/ ' '__').log"
	start=$(date +%s)
	if "$@" >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "PASS  $name ($(($(date +%s) - start))s)"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "FAIL  $name ($(($(date +%s) - start))s), log: $log"
		tail -n 40 "$log" | sed 's/^/    | /'
	fi
}

if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in "$SKIFF_BUILD_DIR"/check/check_*; do
		[ -x "$t" ] || continue
		case "$t" in *.o | *.d) continue ;; esac
		run_one "unit/$(basename "$t")" "$t"
	done
fi
if [ "$what" = all ] || [ "$what" = integration ]; then
	for t in check/it_*.sh; do
		[ -f "$t" ] || continue
		run_one "integration/$(basename "$t" .sh)" sh "$t"
	done
fi
if [ "$what" = all ] || [ "$what" = browser ]; then
	for t in check/browser/*.test.mjs; do
		[ -f "$t" ] || continue
		run_one "browser/$(basename "$t" .test.mjs)" sh check/browser/run.sh "$t"
	done
fi
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
