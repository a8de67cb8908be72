#!/bin/sh
# check/bench/scale.sh — the figures doc/scale.md builds its model on, measured here:
#  1. Redis memory per million log lines: INFO memory before and after appending 1,000,000
#     lines (1,000 deployments × 1,000 lines, each XADD exactly as model_log_append writes it,
#     MAXLEN ~ the default log_max_entries), for two line lengths;
#  2. S3 requests per deploy, counted by the AWS stand-in (check/s3/endpoint.mjs) for a site of
#     SCALE_FILES files (default 100) on the stack of `make run STORE=s3`: the first deploy,
#     an unchanged redeploy, a redeploy with one file changed, then serving every file once
#     through lighttpd and skiff-serve with a cold blob cache and once more warm.
# Not in make check. Needs node (the stand-in) like check/it_s3.sh.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/check/lib.sh"
. "$ROOT/check/s3/peers.sh"
FILES=${SCALE_FILES:-100}

# ---- 1. Redis memory per million log lines ---------------------------------------------------
start_redis
used() { rcli info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }
# lines LEN: 1,000,000 XADD commands in RESP on stdout, lines of LEN bytes on average
# (uniformly LEN/4 .. 7*LEN/4), the fields model_log_append writes
lines() {
	python3 - "$1" <<'PY'
import random, sys
avg = int(sys.argv[1])
random.seed(1)
out = sys.stdout.buffer
def cmd(*a):
    b = [b"*%d\r\n" % len(a)]
    for x in a:
        x = x if isinstance(x, bytes) else x.encode()
        b.append(b"$%d\r\n%s\r\n" % (len(x), x))
    return b"".join(b)
words = b"npm WARN deprecated added packages audited vulnerabilities found building webpack compiled successfully in chunk main.js bytes emitted asset".split()
for d in range(1000):
    key = b"skiff:log:bench%07d" % d
    buf = []
    for i in range(1000):
        n = random.randint(avg // 4, avg * 7 // 4)
        text = b""
        while len(text) < n:
            text += random.choice(words) + b" "
        buf.append(cmd(b"XADD", key, b"MAXLEN", b"~", b"100000", b"*", b"k", b"line",
                       b"s", random.choice([b"stdout", b"stdout", b"stderr"]), b"m", text[:n]))
    out.write(b"".join(buf))
PY
}
for len in ${SCALE_LINE_BYTES:-80 200}; do
	rcli flushall >/dev/null
	before=$(used)
	lines "$len" | rcli --pipe >"$T/pipe.log" 2>&1 || { cat "$T/pipe.log" >&2; exit 1; }
	after=$(used)
	n=$(rcli eval "local n = 0 for _, k in ipairs(redis.call('KEYS', 'skiff:log:*')) do n = n + redis.call('XLEN', k) end return n" 0)
	echo "redis: $n log lines of about $len bytes: used_memory $before -> $after bytes:" \
		"$(( (after - before) / 1048576 )) MiB per million lines," \
		"$(( (after - before) / n )) bytes per line"
done
stop_redis

# ---- 2. S3 requests per deploy ---------------------------------------------------------------
# on the stack of `make run STORE=s3` (scripts/run.sh): lighttpd, FastCGI, the blob cache
peers_install
unset SKIFF_REDIS_SOCKET  # start_redis's, for part 1: run.sh starts its own
PORT=$(free_port)
SKIFF_RUN_STORE=s3 SKIFF_PORT=$PORT SKIFF_SSE_PORT=$(free_port) SKIFF_VAR=$T/run \
	SKIFF_LOG_LEVEL=warn sh "$ROOT/scripts/run.sh" </dev/null >"$T/run.out" 2>&1 &
RUN_PID=$!
PIDS="$PIDS $RUN_PID"
wait_for 120 grep -q "Press Ctrl-C" "$T/run.out" || { cat "$T/run.out" >&2; exit 1; }
EP=http://localhost:$(cat "$T/run/aws/port")
URL=http://localhost:$PORT
repo=$T/repo
mkdir -p "$repo"
i=0
while [ $i -lt "$FILES" ]; do
	printf '<!doctype html><title>%d</title><p>page %d of the scale benchmark\n' $i $i >"$repo/p$i.html"
	i=$((i + 1))
done
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=b -c user.email=b@skiff.invalid commit -qm bench
api() { # PATH BODY: POST, prints the deployment id
	curl -fsS -X POST -H "Origin: $URL" -H 'Content-Type: application/json' -d "$2" "$URL$1" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["deploymentId"])'
}
state() {
	curl -fsS "$URL/api/deployments/$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["state"])'
}
final() { case $(state "$1") in ready | error | canceled) return 0 ;; esac; return 1; }
counts() { stat '" ".join("%s=%d" % (m, s["s3"][m]) for m in ("GET", "HEAD", "PUT", "DELETE", "POST")) + " total=%d" % sum(s["s3"].values())'; }
deploy() { # WHAT PATH BODY
	stats_reset
	id=$(api "$2" "$3")
	wait_for 120 final "$id"
	echo "s3: $1 ($FILES files): $(counts), $(state "$id")"
}
deploy "first deploy" /api/projects "{\"gitURL\":\"file://$repo\",\"slug\":\"scale\"}"
deploy "unchanged redeploy" /api/projects/scale/deployments '{}'
echo changed >>"$repo/p0.html"
git -C "$repo" -c user.name=b -c user.email=b@skiff.invalid commit -qam change
deploy "redeploy, one file changed" /api/projects/scale/deployments '{}'
serve_all() {
	i=0
	while [ $i -lt "$FILES" ]; do
		curl -fsS -o /dev/null -H "Host: scale.localhost:$PORT" "http://127.0.0.1:$PORT/p$i.html"
		i=$((i + 1))
	done
}
rm -rf "$T/run/cache"/[0-9a-f][0-9a-f]
stats_reset
serve_all
echo "s3: serving each of the $FILES files once through lighttpd, cold blob cache: $(counts)"
stats_reset
serve_all
echo "s3: serving them again, warm blob cache: $(counts)"
kill -TERM "$RUN_PID"
wait "$RUN_PID"

# ---- 3. Redis commands a second: what a running build and a log line cost ------------------
# redis-benchmark (50 clients) on a private redis-server: the lease renewal script
# (model_queue.c) and the log append script (model_log.c), as skiff sends them, and a plain
# HGET (the cancel check reads the deployment this way) for scale.
D=$T/rb
mkdir -p "$D"
redis-server --port 0 --unixsocket "$D/r.sock" --save '' --appendonly no --daemonize no \
	--logfile "$D/log" &
RB_PID=$!
PIDS="$PIDS $RB_PID"
wait_for 10 redis-cli -s "$D/r.sock" ping || exit 1
redis-cli -s "$D/r.sock" hset skiff:deployment:x claim tok state building >/dev/null
bench() { # NAME COMMAND...: prints requests per second
	name=$1
	shift
	rps=$(redis-benchmark -s "$D/r.sock" -n 200000 -c 50 --csv "$@" 2>/dev/null |
		python3 -c 'import csv, sys; print(list(csv.reader(sys.stdin))[-1][1])')
	echo "redis: $name: $rps requests a second"
}
bench "lease renewal (EVAL)" EVAL "if ARGV[1] ~= '' and redis.call('HGET', KEYS[2], 'claim') ~= ARGV[1] then return 0 end redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 1" 2 skiff:lease:x skiff:deployment:x tok 30
bench "log line append (EVAL)" EVAL "if redis.call('EXISTS', KEYS[3]) == 0 then return -2 end local eid = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'k', 'line', 's', ARGV[1], 'm', ARGV[2]) redis.call('PUBLISH', KEYS[2], eid) return eid" 3 skiff:log:x skiff:events:x skiff:deployment:x stdout "npm WARN deprecated some-package@1.2.3: a log line of about eighty bytes, as a build writes" 100000
bench "HGET" HGET skiff:deployment:x state
