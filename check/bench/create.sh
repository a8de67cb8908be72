#!/bin/sh
# check/bench/create.sh — skiff-create accepting deployments (validate, write, enqueue) under
# 50 concurrent clients through lighttpd, next to a no-op FastCGI responder under the same
# lighttpd FastCGI settings. Target (doc/status.md): p99 under 5 ms. Prints latency percentiles and the
# ratio to the no-op. Bounded: BENCH_SECONDS (default 10) per measurement. Not in make check.
#
# Two loads, each on both responders:
#  - paced: the 50 clients each send their next request a random 0 to 2 x BENCH_PACE_MS
#    (default 25, so 25 on average) after the previous answer, 2,000 requests a second at
#    most: the latency of one accept on a machine that is busy but not overloaded. The
#    target is checked on this one.
#  - saturated: the 50 clients send back to back. On a small machine that runs wrk,
#    lighttpd and Redis as well, every core is busy and p99 is queueing (Little's law:
#    50 clients / throughput), so this load reports throughput; its p99 is printed as seen.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/check/lib.sh"
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-50}
PACE=${BENCH_PACE_MS:-25}
command -v wrk >/dev/null || { echo "bench: wrk is not installed" >&2; exit 1; }
SKIFF_LOG_LEVEL=warn start_stack || exit 1
kill "$DISPATCH_PID" 2>/dev/null # measure the accept path only: nothing builds

# rate limits off: the benchmark creates thousands of projects a minute from one address, and
# measures the accept path, not the limiter's refusals (lighttpd passes no SKIFF_* variable on)
sed -i 's/^rate_limit_\([a-z_]*\) = .*/rate_limit_\1 = 0/' "$T/skiff.conf"
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
	local body = string.format('{"gitURL":"https://git.example.com/o/site.git","slug":"%s%d-%d"}',
		run, tid, counter)
	return wrk.format("POST", "/api/projects",
		{ ["Content-Type"] = "application/json", ["Host"] = "localhost", ["Origin"] = origin }, body)
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
# the dashboard's origin (dashboard_url): make run has no token, so a change needs it
sed -i "1i origin = \"$STACK_URL\"" "$T/create.lua"
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
for l in create noop; do # the paced variants: the same script with a pause between requests
	# a random pause (mean PACE ms) keeps the 50 clients from moving in lockstep: they all
	# start at once, and a fixed pause would keep them in bursts of 50 that no real set of
	# independent users sends
	{ echo 'run = "p"'; cat "$T/$l.lua"; printf 'function delay() return math.random(0, %d) end\n' "$((2 * PACE))"; } >"$T/$l-paced.lua"
done
sed -i '1i run = "s"' "$T/create.lua" # every run creates slugs of its own
run() { # lua → RESULT line
	wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$1" "http://127.0.0.1:$STACK_PORT/" 2>&1 | grep -E '^(RESULT|unexpected)'
}
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
report() { # LOAD NOOP CREATE
	echo "$1 no-op FastCGI : $2"
	echo "$1 skiff-create  : $3"
	awk -v l="$1" -v a="$(field "$3" p99_us)" -v b="$(field "$2" p99_us)" \
		-v n="$(field "$3" requests)" -v nn="$(field "$2" requests)" -v e="$(field "$3" non2xx)" -v s="$SECS" 'BEGIN {
		printf "%s: create p99 %.2f ms, no-op p99 %.2f ms, create/no-op p99 ratio %.2f; ", l, a / 1000, b / 1000, b ? a / b : 0
		printf "%.0f vs %.0f requests/s (ratio %.2f), non-2xx %d\n", n / s, nn / s, nn ? n / nn : 0, e
	}'
}
noop=$(run "$T/noop-paced.lua")
create=$(run "$T/create-paced.lua")
report "paced ($CONNS clients, a random pause of $PACE ms on average)" "$noop" "$create"
p99=$(field "$create" p99_us)
awk -v a="$p99" 'BEGIN { printf "target (p99 < 5 ms under 50 clients, paced load): %s\n", a < 5000 ? "met" : "NOT met" }'
noop=$(run "$T/noop.lua")
create=$(run "$T/create.lua")
report "saturated ($CONNS clients back to back)" "$noop" "$create"
echo "deployments queued: $(rcli llen skiff:queue)"
