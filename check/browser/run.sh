#!/bin/sh
# check/browser/run.sh — runs one browser test (default: every *.test.mjs here) against the
# whole stack started by start_stack (check/lib.sh), configured as `make run` configures it.
#   sh check/browser/run.sh [check/browser/NAME.test.mjs ...]
# Needs node and Debian's chromium (CHROMIUM=/path overrides); installs playwright-core from
# the committed package-lock.json with `npm ci` when node_modules is missing. Never downloads
# a browser.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
: "${SKIFF_BUILD_DIR:=$REPO/build/debug}"
export SKIFF_BUILD_DIR
# shellcheck source=../lib.sh
. "$REPO/check/lib.sh"
# lib.sh derives ROOT from $0, which is one directory deeper here; start_stack uses it.
# shellcheck disable=SC2034
ROOT=$REPO

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "browser tests need chromium at $CHROMIUM (apt-get install chromium)" >&2; exit 1; }
command -v node >/dev/null 2>&1 || { echo "browser tests need node" >&2; exit 1; }
if [ ! -d "$HERE/node_modules/playwright-core" ]; then
	(cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) ||
		{ echo "npm ci failed in $HERE" >&2; exit 1; }
fi

if [ $# -eq 0 ]; then set -- "$HERE"/*.test.mjs; fi
mkdir -p "$REPO/check/out"
start_stack || exit 1
echo "stack: $STACK_URL (state in $T)"
rc=0
for t in "$@"; do
	echo "== $t"
	STACK_URL=$STACK_URL STACK_PORT=$STACK_PORT SKIFF_TMP=$T SKIFF_OUT=$REPO/check/out \
		CHROMIUM=$CHROMIUM timeout 300 node "$t" || rc=1
done
[ $rc -eq 0 ] || stack_logs
exit $rc
