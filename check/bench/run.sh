#!/bin/sh
# make bench: every benchmark under check/bench/, one after the other, each printing its
# figures and ratios measured side by side in the same run. Never part of make check.
#   check/bench/run.sh [serve|sse|build|create|scale|cache|deploy]   (default: all)
set -u
cd "$(dirname "$0")/../.." || exit 1
: "${SKIFF_BUILD_DIR:=$(pwd)/build/debug}"
export SKIFF_BUILD_DIR
status=0
for b in ${1:-serve sse build create scale cache deploy}; do
	[ -f "check/bench/$b.sh" ] || { echo "bench: no check/bench/$b.sh"; continue; }
	echo "==== bench: $b"
	sh "check/bench/$b.sh" || { echo "bench: $b failed"; status=1; }
done
exit $status
