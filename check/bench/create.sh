#!/bin/sh
# check/bench/create.sh — skiff-create accepting deployments (validate, write, enqueue) under
# 50 concurrent clients through lighttpd, next to a no-op FastCGI responder under the same
# lighttpd FastCGI settings. DESIGN.md 8: p99 under 5 ms. Prints latency percentiles and the
# ratio to the no-op. Bounded: BENCH_SECONDS (default 10) per measurement. Not in make check.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/check/lib.sh"
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-50}
command -v wrk >/dev/null || { echo "bench: wrk is not installed" >&2; exit 1; }
SKIFF_LOG_LEVEL=warn start_stack || exit 1
kill "$DISPATCH_PID" 2>/dev/null # measure the accept path only: nothing builds

# a no-op responder under the same lighttpd, on its own host name
sed -i "s|^# ---- any other host name.*|else \$HTTP[\"host\"] =~ \"^noop\\\\.test\" { fastcgi.server = ( \"/\" => ( \"noop\" => ( \"socket\" => \"$T/fcgi-noop.sock\", \"bin-path\" => \"$BIN/noop-fcgi\", \"max-procs\" => 2, \"check-local\" => \"disable\" ))) }\n&|" "$T/lighttpd.conf"
stop_lighttpd
start_lighttpd || exit 1

cat >"$T/create.lua" <<'LUA'
-- every request creates a new project: slug from the thread's id and a counter
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end
counter = 0
shown = 0
request = function()
	counter = counter + 1
	local body = string.format('{"gitURL":"https://git.example.com/o/site.git","slug":"b%d-%d"}',
		tid, counter)
	return wrk.format("POST", "/api/projects",
		{ ["Content-Type"] = "application/json", ["Host"] = "localhost" }, body)
end
response = function(status, headers, body)
	if status >= 300 and shown < 3 then
		shown = shown + 1
		io.write("unexpected answer " .. status .. ": " .. body .. "\n")
	end
end
function done(summary, latency, requests)
	io.write(string.format("RESULT p50_us=%d p90_us=%d p99_us=%d requests=%d non2xx=%d\n",
		latency:percentile(50), latency:percentile(90), latency:percentile(99),
		summary.requests, summary.errors.status))
end
LUA
cat >"$T/noop.lua" <<'LUA'
request = function()
	return wrk.format("POST", "/", { ["Content-Type"] = "application/json", ["Host"] = "noop.test" }, "{}")
end
function done(summary, latency, requests)
	io.write(string.format("RESULT p50_us=%d p90_us=%d p99_us=%d requests=%d non2xx=%d\n",
		latency:percentile(50), latency:percentile(90), latency:percentile(99),
		summary.requests, summary.errors.status))
end
LUA
run() { # lua → RESULT line
	wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$1" "http://127.0.0.1:$STACK_PORT/" 2>&1 | grep -E '^(RESULT|unexpected)'
}
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
noop=$(run "$T/noop.lua")
create=$(run "$T/create.lua")
queued=$(rcli llen skiff:queue)
echo "no-op FastCGI : $noop"
echo "skiff-create  : $create"
echo "deployments queued: $queued"
p99=$(field "$create" p99_us)
np99=$(field "$noop" p99_us)
awk -v a="$p99" -v b="$np99" -v q="$queued" -v n="$(field "$create" requests)" -v e="$(field "$create" non2xx)" 'BEGIN {
	printf "create p99 %.2f ms (target < 5 ms: %s); no-op p99 %.2f ms; create/no-op p99 ratio %.2f\n",
		a / 1000, a < 5000 ? "met" : "NOT met", b / 1000, b ? a / b : 0
	printf "requests %d, non-2xx %d, queued %d\n", n, e, q
}'
