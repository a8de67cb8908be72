#!/bin/sh
# Fails when project code calls a function STYLE.md bans.
set -u
pat='(^|[^_a-z0-9.>])(sprintf|vsprintf|strcpy|strcat|strncpy|gets|atoi|atol|strtok|system|popen|alloca|signal)[[:space:]]*\('
hits=$(grep -rnE --include='*.c' --include='*.h' "$pat" lib fcgi builder sse-bridge 2>/dev/null |
	grep -vE '^\S+:[0-9]+:\s*(/\*|\*|//)')
if [ -n "$hits" ]; then
	echo "lint: banned functions in project code:" >&2
	echo "$hits" >&2
	exit 1
fi
echo "lint: no banned functions"

# Only lib/store*.c names a store key (blobs/.., manifests/{id}.json, logs/{id}.log): everyone
# else asks for a blob by hash and a manifest or log by deployment id.
keys='"[^"]*(blobs|manifests|logs)(/|")'
hits=$(grep -rnE --include='*.c' "$keys" lib fcgi builder sse-bridge 2>/dev/null |
	grep -vE '^lib/store[a-z0-9_]*\.c:' | grep -vE '^\S+:[0-9]+:\s*(/\*|\*|//)')
if [ -n "$hits" ]; then
	echo "lint: store keys outside lib/store*.c:" >&2
	echo "$hits" >&2
	exit 1
fi
echo "lint: store keys only in lib/store*.c"
