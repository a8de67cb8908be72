#!/bin/sh
# Fails when project code (lib, fcgi, builder, sse-bridge) calls a banned function (the list is
# below; each has a bounded or checked replacement: buf_printf (lib/buf.h) or snprintf,
# strtoull with an end-pointer check, proc_run (lib/proc.h) with an argument vector), names a
# store key outside lib/store*.c or a Redis key outside lib/model*.c (each schema has one owner).
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
# (An API path such as /api/deployments/{id}/blobs/{sha256} is a URL, not a store key.)
keys='"([^"]*/)?(blobs|manifests|logs)(/|")'
hits=$(grep -rnE --include='*.c' "$keys" lib fcgi builder sse-bridge 2>/dev/null |
	grep -vE '^lib/store[a-z0-9_]*\.c:' | grep -vE '^\S+:[0-9]+:\s*(/\*|\*|//)' |
	grep -vE '"[^"]*/api/[^"]*(blobs|manifests|logs)')
if [ -n "$hits" ]; then
	echo "lint: store keys outside lib/store*.c:" >&2
	echo "$hits" >&2
	exit 1
fi
echo "lint: store keys only in lib/store*.c"

# Redis keys: the calls that build a key or send a command, a key fragment in a string
# ("deployment:%s", "poll:lock:%s", "gc:sweep", ":deployments", Lua's .. 'queue'), and the
# key prefix itself, anywhere but in the model (and redis.c, config.c, which define them).
keypat='\<redis_(key|prefix|cmd|cmdv|eval)[[:space:]]*\('
keypat="$keypat"'|"([^"]*[^a-z_"]|[^"]*%s)?(deployment|project|lease|log|events|orphan_task|hookrepo|delivery|poll|gc|queue):[a-z%'"'"'"]'
keypat="$keypat"'|"[^"]*:deployments\>'
keypat="$keypat"'|\.\.[[:space:]]*'"'"'(queue|projects|watch)'"'"
keypat="$keypat"'|\<redis_prefix\>'
hits=$(grep -rnE --include='*.c' --include='*.h' "$keypat" lib fcgi builder sse-bridge 2>/dev/null |
	grep -vE '^lib/(model[a-z_]*|redis|config)\.[ch]:' |
	grep -vE '^\S+:[0-9]+:\s*(/\*|\*|//)' |
	grep -v 'SKIFF_REDIS_PREFIX')
if [ -n "$hits" ]; then
	echo "lint: Redis keys named outside lib/model*.c:" >&2
	echo "$hits" >&2
	exit 1
fi
echo "lint: Redis keys only in lib/model*.c"
