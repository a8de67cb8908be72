#!/bin/sh
# it_sse.sh — skiff-sse-bridge against a real Redis: late joiners, resume with Last-Event-ID,
# 200 concurrent clients, 300 over four event loops, a Redis restart mid-build, slow clients
# cut off and resuming, errors, keepalive, limits, unix socket, systemd notifications and
# clean shutdown.
# Log entries are written the way skiff-build writes them (the same Lua: XADD, then PUBLISH
# of the entry id on the events channel).
. "$(dirname "$0")/lib.sh"

BRIDGE=$BIN/skiff-sse-bridge
[ -x "$BRIDGE" ] || { echo "no $BRIDGE" >&2; exit 1; }
cc -O2 -o "$T/sse-client" "$ROOT/check/sse-client.c" -lhiredis || { echo "cannot build sse-client" >&2; exit 1; }
SSE=$T/sse-client

start_redis
write_config

# the builder's scripts (lib/model.c): a log line; a final state with its end entry
LOG_LUA="local eid = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'k', 'line', 's', ARGV[1], 'm', ARGV[2]) redis.call('PUBLISH', KEYS[2], eid) return eid"
END_LUA="redis.call('HSET', KEYS[3], 'state', ARGV[1]) redis.call('XADD', KEYS[1], '*', 'k', 'state', 's', 'system', 'm', ARGV[1]) local eid = redis.call('XADD', KEYS[1], '*', 'k', 'end', 's', 'system', 'm', ARGV[1]) redis.call('PUBLISH', KEYS[2], eid) return eid"
deployment() { rcli HSET "skiff:deployment:$1" state building project demo >/dev/null; }
logline() { rcli EVAL "$LOG_LUA" 2 "skiff:log:$1" "skiff:events:$1" "$2" "$3" 100000; }
# loglines ID FROM TO [SIZE]: lines "line N" (padded to SIZE bytes) through one redis-cli
loglines() {
	pad=""
	[ -n "${4:-}" ] && pad=$(head -c "$4" /dev/zero | tr '\0' 'x')
	i=$2
	while [ "$i" -le "$3" ]; do
		echo "EVAL \"$LOG_LUA\" 2 skiff:log:$1 skiff:events:$1 stdout \"line $i $pad\" 100000"
		i=$((i + 1))
	done | rcli >/dev/null
}
build_end() { rcli EVAL "$END_LUA" 3 "skiff:log:$1" "skiff:events:$1" "skiff:deployment:$1" "${2:-ready}" >/dev/null; }
ids() { rcli XRANGE "skiff:log:$1" - + | grep -E '^[0-9]+-[0-9]+$'; }
count() { grep -c . "$1" 2>/dev/null || echo 0; }
has_lines() { [ "$(count "$1")" -ge "$2" ]; }
in_log() { grep -q -- "$2" "$1"; }

# same_ids DESCRIPTION EXPECTED ACTUAL: two lists of ids (one per line) are equal; on a
# mismatch says how long each is and where they part
same_ids() {
	printf '%s\n' "$2" | grep . >"$T/ids.want"
	printf '%s\n' "$3" | grep . >"$T/ids.got"
	if cmp -s "$T/ids.want" "$T/ids.got"; then
		ok "$1"
	else
		TESTS_RUN=$((TESTS_RUN + 1))
		fail "$1: expected $(count "$T/ids.want") ids, got $(count "$T/ids.got"); first difference: $(diff "$T/ids.want" "$T/ids.got" | sed -n 1,3p | tr '\n' ' ')"
	fi
}

# start_bridge NAME [KEY=VALUE...]: a bridge with its own config and log $T/NAME.log
start_bridge() {
	name=$1
	shift
	cp "$SKIFF_CONFIG" "$T/$name.conf"
	for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}" >>"$T/$name.conf"; done
	# shellcheck disable=SC2086
	env ${BRIDGE_ENV:-} "$BRIDGE" -c "$T/$name.conf" 2>"$T/$name.log" &
	LAST_PID=$!
	PIDS="$PIDS $LAST_PID"
}

# start_tcp_bridge NAME [KEY=VALUE...]: a bridge on a free loopback port, in BRIDGE_PORT;
# another test may take the port between free_port and bind, so it tries again
start_tcp_bridge() {
	name=$1
	shift
	for attempt in 1 2 3 4 5; do
		BRIDGE_PORT=$(free_port)
		start_bridge "$name" "sse_listen=127.0.0.1:$BRIDGE_PORT" "$@"
		wait_for 10 sh -c "grep -q 'listening on=' '$T/$name.log' || ! kill -0 $LAST_PID"
		grep -q 'listening on=' "$T/$name.log" && kill -0 "$LAST_PID" 2>/dev/null && return 0
		echo "bridge $name: attempt $attempt failed: $(cat "$T/$name.log")" >&2
	done
	return 1
}

# ---- flags ------------------------------------------------------------------------------
check_match "--version names the program" '^skiff-sse-bridge [0-9]' "$("$BRIDGE" --version)"
check_match "--help shows usage" 'usage: skiff-sse-bridge' "$("$BRIDGE" --help)"
"$BRIDGE" -n -c "$SKIFF_CONFIG" >/dev/null 2>&1
check_eq "-n accepts a valid configuration" 0 $?
cp "$SKIFF_CONFIG" "$T/bad.conf"
echo "sse_listen = nowhere" >>"$T/bad.conf"
"$BRIDGE" -n -c "$T/bad.conf" >/dev/null 2>"$T/bad.err"
check_eq "-n refuses a bad sse_listen" 1 $?
check_match "-n says what is wrong" 'sse_listen' "$(cat "$T/bad.err")"
for addr in 0.0.0.0:8081 192.0.2.1:8081 '[::]:8081'; do
	sed -i '/^sse_listen/d' "$T/bad.conf"
	echo "sse_listen = $addr" >>"$T/bad.conf"
	"$BRIDGE" -n -c "$T/bad.conf" 2>"$T/bad.err"
	check_eq "-n refuses sse_listen = $addr: the bridge has no authentication" 1 $?
	check_match "... and says it wants a loopback address" 'loopback' "$(cat "$T/bad.err")"
done
for addr in 127.0.0.1:8081 '[::1]:8081'; do
	sed -i '/^sse_listen/d' "$T/bad.conf"
	echo "sse_listen = $addr" >>"$T/bad.conf"
	"$BRIDGE" -n -c "$T/bad.conf" 2>"$T/bad.err"
	check_eq "-n accepts sse_listen = $addr" 0 $?
done

# ---- the main bridge ----------------------------------------------------------------------
start_tcp_bridge main || { echo "bridge did not start" >&2; exit 1; }
MAIN=$LAST_PID
PORT=$BRIDGE_PORT
URL=http://127.0.0.1:$PORT

# errors
out=$(curl -s -i --max-time 5 "$URL/events/nosuchdeplo2")
check_match "unknown deployment: 404" '^HTTP/1.1 404' "$out"
check_match "unknown deployment: JSON not_found" '"error":\{"code":"not_found"' "$out"
check_match "unknown deployment: JSON type" 'Content-Type: application/json' "$out"
out=$(curl -s -i --max-time 5 "$URL/events/NOT-AN-ID")
check_match "invalid id: 400" '^HTTP/1.1 400' "$out"
check_match "invalid id: JSON invalid_id" '"code":"invalid_id"' "$out"
check_match "id too long: 400" '^HTTP/1.1 400' "$(curl -s -i --max-time 5 "$URL/events/abcdefghijkmn")"
check_match "other path: 404" '^HTTP/1.1 404' "$(curl -s -i --max-time 5 "$URL/api/events/x/y")"
check_match "bare /events/: 404" '^HTTP/1.1 404' "$(curl -s -i --max-time 5 "$URL/events/")"
out=$(curl -s -i --max-time 5 -X POST "$URL/events/abcdefghijkm")
check_match "POST: 405" '^HTTP/1.1 405' "$out"
check_match "405 names the allowed method" 'Allow: GET' "$out"
deployment errdeploymen
check_match "malformed Last-Event-ID: 400" '"code":"invalid_last_event_id"' \
	"$(curl -s -i --max-time 5 -H 'Last-Event-ID: 12x-1' "$URL/events/errdeploymen")"
check_match "malformed ?lastEventId=: 400" '^HTTP/1.1 400' \
	"$(curl -s -i --max-time 5 "$URL/events/errdeploymen?lastEventId=-1-2")"
big=$(head -c 9000 /dev/zero | tr '\0' 'a')
check_match "oversized headers: 431" '^HTTP/1.1 431' \
	"$(curl -s -i --max-time 5 -H "X-Big: $big" "$URL/events/errdeploymen")"

# ---- late joiner: a finished build, the whole log, then end, retry: and close ---------------
D=latejoiner22
deployment $D
logline $D system "cloning" >/dev/null
logline $D stdout "hello from the build" >/dev/null
logline $D stderr "warning: something" >/dev/null
logline $D stdout 'quote " backslash \ tab	end' >/dev/null
build_end $D ready
curl -s -i --max-time 5 -N --max-time 10 "$URL/events/$D" >"$T/late.txt"
check_eq "late joiner: the server closes the stream" 0 $?
tr -d '\r' <"$T/late.txt" >"$T/late.lf"
check_match "late joiner: 200" '^HTTP/1.1 200' "$(head -n 1 "$T/late.lf")"
check_match "late joiner: text/event-stream" '^Content-Type: text/event-stream$' "$(cat "$T/late.lf")"
check_match "late joiner: Cache-Control: no-cache" '^Cache-Control: no-cache$' "$(cat "$T/late.lf")"
check_match "late joiner: X-Accel-Buffering: no" '^X-Accel-Buffering: no$' "$(cat "$T/late.lf")"
check_eq "late joiner: a comment comes first" ": ok" "$(sed -n '/^$/,$p' "$T/late.lf" | sed -n 2p)"
same_ids "late joiner: every entry, in order" "$(ids $D)" "$(sed -n 's/^id: //p' "$T/late.lf")"
check_eq "late joiner: event kinds" "line line line line state end" \
	"$(sed -n 's/^event: //p' "$T/late.lf" | tr '\n' ' ' | sed 's/ $//')"
id2=$(ids $D | sed -n 2p)
check_eq "late joiner: payload has stream, text and time from the id" \
	"data: {\"s\":\"stdout\",\"m\":\"hello from the build\",\"t\":${id2%-*}}" \
	"$(grep -A2 "^id: $id2\$" "$T/late.lf" | sed -n 3p)"
check_match "late joiner: stderr is marked" '"s":"stderr","m":"warning: something"' "$(cat "$T/late.lf")"
check_match "late joiner: text is JSON-escaped" '"m":"quote \\" backslash \\\\ tab\\tend"' "$(cat "$T/late.lf")"
check_match "late joiner: end carries the final state" '^data: \{"s":"system","m":"ready",.*"state":"ready"\}$' \
	"$(grep -A2 '^event: end' "$T/late.lf")"
check_eq "late joiner: retry: follows end, then the stream closes" "retry: 86400000" "$(tail -n 2 "$T/late.lf" | head -n 1)"
# behind a proxy prefix, and over an HTTP/1.0 request
check_eq "a proxy prefix before /events/ works" 6 \
	"$(curl -s -N --max-time 10 "$URL/skiff/events/$D" | grep -c '^id: ')"
lastid=$(ids $D | tail -n 1)
check_match "resuming after the end: 204 stops EventSource" '^HTTP/1.1 204' \
	"$(curl -s -i --max-time 5 --max-time 5 -H "Last-Event-ID: $lastid" "$URL/events/$D")"

# ---- a NUL inside an entry's kind or field name: not that kind ---------------------------------
# (Redis strings carry their length: "end\0x" is not "end", a field "k\0x" is not k)
D=nulkindentry
deployment $D
logline $D stdout before >/dev/null
# xadd_raw NAME_ARG VALUE_ARG ARG: an entry NAME=VALUE (s system, m ready) where ARGV[1] is ARG
# and ARGV[2] the bytes of stdin, published as the builder does
xadd_raw() {
	rcli -x EVAL "local eid = redis.call('XADD', KEYS[1], '*', $1, $2, 's', 'system', 'm', 'ready') redis.call('PUBLISH', KEYS[2], eid) return eid" \
		2 "skiff:log:$D" "skiff:events:$D" "$3" >/dev/null
}
printf 'end\0x' | xadd_raw 'ARGV[1]' 'ARGV[2]' k
printf 'k\0x' | xadd_raw 'ARGV[2]' 'ARGV[1]' end
logline $D stdout after >/dev/null
build_end $D ready
curl -s -N --max-time 10 "$URL/events/$D" | tr -d '\r' >"$T/nul.lf"
check_eq "entries of kind end<NUL>x and of a field k<NUL>x make no event; the stream goes on to the end" \
	"line line state end" "$(sed -n 's/^event: //p' "$T/nul.lf" | tr '\n' ' ' | sed 's/ $//')"
check_match "... and its line after them" '"m":"after"' "$(cat "$T/nul.lf")"

# ---- reconnect with Last-Event-ID gets exactly the missing events ---------------------------
D=resumeresume
deployment $D
loglines $D 1 3
"$SSE" -p "$PORT" -P "/events/$D" -o "$T/r1.txt" -t 30 >"$T/r1.res" 2>&1 &
R1=$!
wait_for 10 has_lines "$T/r1.txt" 3
loglines $D 4 6
wait_for 10 has_lines "$T/r1.txt" 6
check_eq "live: new lines reach a connected client" 6 "$(count "$T/r1.txt")"
kill $R1
wait $R1 2>/dev/null
seen=$(tail -n 1 "$T/r1.txt" | cut -f1)
loglines $D 7 9 # written while the client is away
build_end $D ready
"$SSE" -p "$PORT" -P "/events/$D" -l "$seen" -o "$T/r2.txt" -t 30 >"$T/r2.res" 2>&1
check_eq "resume: the stream ends normally" 0 $?
same_ids "resume: exactly the missing events" "$(ids $D | tail -n +7)" "$(cut -f1 "$T/r2.txt")"
check_eq "resume: the first missing line comes first" "line 7 " \
	"$(head -n 1 "$T/r2.txt" | sed 's/.*"m":"\([^"]*\)".*/\1/')"
id5=$(ids $D | sed -n 5p)
"$SSE" -p "$PORT" -P "/events/$D?lastEventId=$id5" -o "$T/r3.txt" -t 30 >/dev/null 2>&1
same_ids "?lastEventId= resumes the same way" "$(ids $D | tail -n +6)" "$(cut -f1 "$T/r3.txt")"

# ---- 200 concurrent clients on one deployment -------------------------------------------------
D=twohundred22
deployment $D
loglines $D 1 10
"$SSE" -p "$PORT" -P "/events/$D" -n 200 -o "$T/c200.txt" -r "$T/c200.ready" -t 60 >"$T/c200.res" 2>&1 &
C200=$!
wait_for 20 test -f "$T/c200.ready"
loglines $D 11 300
build_end $D ready
wait $C200
check_eq "200 clients: every client got every event, in order, then end" 0 $?
check_match "200 clients: summary" 'connections=200 status200=200 events=302 identical=200 ordered=200 ended=200' \
	"$(cat "$T/c200.res")"
same_ids "200 clients: the events are the log" "$(ids $D)" "$(cut -f1 "$T/c200.txt")"
check_match "one subscription per deployment" '^1$' \
	"$(grep -c "feed started deployment=$D" "$T/main.log")"

# ---- several event loops: every client of a stream gets every line once, in order --------------
# clients join before, during and after lines are written, some resuming from the middle, so
# that each loop gets batches its clients are behind of, ahead of and in the middle of
start_tcp_bridge loops sse_threads=4 log_level=debug || { echo "bridge did not start" >&2; exit 1; }
LOOPS=$LAST_PID
D=fourloops222
deployment $D
loglines $D 1 20
"$SSE" -p "$BRIDGE_PORT" -P "/events/$D" -n 120 -o "$T/l1.txt" -r "$T/l1.ready" -t 60 >"$T/l1.res" 2>&1 &
L1=$!
wait_for 20 test -f "$T/l1.ready"
loglines $D 21 600 &
W=$!
"$SSE" -p "$BRIDGE_PORT" -P "/events/$D" -n 120 -o "$T/l2.txt" -t 60 >"$T/l2.res" 2>&1 &
L2=$!
mid=$(ids $D | sed -n 10p)
"$SSE" -p "$BRIDGE_PORT" -P "/events/$D" -l "$mid" -n 60 -o "$T/l3.txt" -t 60 >"$T/l3.res" 2>&1 &
L3=$!
wait $W
# every client is streaming before the end, which lets them go (a deployment whose clients
# have all left stops its feed, and the next client starts it again)
wait_for 30 sh -c "[ \$(grep -c 'client connected deployment=$D' '$T/loops.log') -ge 300 ]"
check_match "4 loops: one subscription for the deployment's 300 clients" '^1$' \
	"$(grep -c "feed started deployment=$D" "$T/loops.log")"
build_end $D ready
wait $L1
check_eq "4 loops: clients connected first got every event once, in order, then end" 0 $?
check_match "4 loops: summary of the first" \
	'connections=120 status200=120 events=602 identical=120 ordered=120 ended=120' "$(cat "$T/l1.res")"
same_ids "4 loops: their events are the log" "$(ids $D)" "$(cut -f1 "$T/l1.txt")"
wait $L2
check_match "4 loops: clients connecting while lines are written get them all too" \
	'connections=120 status200=120 events=602 identical=120 ordered=120 ended=120' "$(cat "$T/l2.res")"
same_ids "4 loops: ... the log" "$(ids $D)" "$(cut -f1 "$T/l2.txt")"
wait $L3
check_match "4 loops: resuming clients get what follows their id" \
	'connections=60 status200=60 events=592 identical=60 ordered=60 ended=60' "$(cat "$T/l3.res")"
same_ids "4 loops: ... exactly the rest of the log" "$(ids $D | tail -n +11)" "$(cut -f1 "$T/l3.txt")"
check_eq "4 loops: the clients were spread over all four" "0 1 2 3" \
	"$(sed -n "s/.*client connected deployment=$D loop=\([0-9]*\).*/\1/p" "$T/loops.log" | sort -u | tr '\n' ' ' | sed 's/ $//')"
kill "$LOOPS"
wait "$LOOPS"
check_eq "4 loops: clean exit on SIGTERM" 0 $?

# ---- a Redis restart during a build loses nothing; clients stay connected -----------------------
D=redisrestart
deployment $D
loglines $D 1 5
"$SSE" -p "$PORT" -P "/events/$D" -n 20 -o "$T/rr.txt" -r "$T/rr.ready" -t 60 >"$T/rr.res" 2>&1 &
RR=$!
wait_for 20 test -f "$T/rr.ready"
loglines $D 6 10
wait_for 10 has_lines "$T/rr.txt" 10
rcli SAVE >/dev/null
kill -9 "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
wait_for 10 in_log "$T/main.log" 'redis disconnected role=subscriber'
check_eq "outage: the bridge notices" 0 $?
# a browser arriving during the outage waits for Redis instead of failing
curl -s -N --max-time 30 "$URL/events/$D" >"$T/rr-during.txt" &
DURING=$!
sleep 0.3 # the outage lasts a moment
start_redis
loglines $D 11 15 # written at once, before the bridge has even reconnected
wait_for 15 in_log "$T/main.log" 'redis reconnect'
wait_for 15 sh -c "[ \$(grep -c 'redis connected role=subscriber' '$T/main.log') -ge 2 ]"
check_eq "outage: the bridge reconnects" 0 $?
loglines $D 16 20
build_end $D ready
wait $RR
check_eq "outage: all 20 clients stayed connected and got every event once, in order" 0 $?
check_match "outage: summary" 'connections=20 status200=20 events=22 identical=20 ordered=20 ended=20' "$(cat "$T/rr.res")"
same_ids "outage: nothing lost" "$(ids $D)" "$(cut -f1 "$T/rr.txt")"
wait $DURING
same_ids "outage: a client that came during the outage got the whole log" \
	"$(ids $D)" "$(sed -n 's/^id: //p' "$T/rr-during.txt")"

# ---- a real build across a Redis restart: skiff-build holds its lines, appends them after ------
# (the first Redis restart above is the bridge's side; this one is the builder's)
rr=$T/rr-repo
mkdir -p "$rr"
(cd "$rr" && git init -q -b main && echo '<h1>restart</h1>' >index.html &&
	printf '{"buildCommand":"for i in $(seq 1 40); do echo build line $i; sleep 0.05; done; mkdir -p out; cp index.html out/","outputDirectory":"out"}\n' >skiff.json &&
	git add -A && git -c user.name=t -c user.email=t@t commit -qm restart)
rid=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$rr\",\"slug\":\"restart\"}" 2>/dev/null |
	sed '1,/^\r*$/d' | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["deploymentId"])')
"$BIN/skiff-build" "$rid" >"$T/rr-build.log" 2>&1 &
RB=$!
wait_for 30 sh -c "redis-cli -s '$T/redis.sock' XRANGE skiff:log:$rid - + | grep -q 'build line 5\$'"
rcli SHUTDOWN SAVE >/dev/null 2>&1 # saves and stops in one step: no write falls between
wait "$REDIS_PID" 2>/dev/null
sleep 1 # the build goes on printing while Redis is away
start_redis
wait $RB
check_eq "a build across a Redis restart ends ready" "0 ready" "$? $(rcli HGET "skiff:deployment:$rid" state)"
check_match "... it held its lines while Redis was away" 'holding lines' "$(cat "$T/rr-build.log")"
got=$(rcli XRANGE "skiff:log:$rid" - + | grep '^build line ' | tr '\n' ' ')
check_eq "... and its log has every line exactly once, in order" "$(seq 1 40 | sed 's/^/build line /' | tr '\n' ' ')" "$got"
check_eq "... the archived log too" "$(seq 1 40 | sed 's/^/build line /' | tr '\n' ' ')" \
	"$(grep '^build line ' "$T/store/logs/$rid.log" | tr '\n' ' ')"

# ---- slow clients: cut off at the limit, resume with Last-Event-ID -----------------------------
start_tcp_bridge slow sse_soft_limit=16384 sse_hard_limit=1048576 sse_soft_seconds=1 \
	sse_keepalive=1 || { echo "slow bridge did not start" >&2; exit 1; }
SPORT=$BRIDGE_PORT
D=slowslowslow
deployment $D
cat >"$T/slow.py" <<'PY'
import os, socket, sys, time
where, dep, ready, go, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
if where.startswith("/"):
    s = socket.socket(socket.AF_UNIX)
    s.connect(where)
else:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # keep the kernel from absorbing it all
    s.connect(("127.0.0.1", int(where)))
s.sendall(b"GET /events/%s HTTP/1.1\r\nHost: localhost\r\n\r\n" % dep.encode())
open(ready, "w").close()
while not os.path.exists(go):                              # a client that does not read
    time.sleep(0.05)
s.settimeout(5)
data, deadline = b"", time.time() + 30
while time.time() < deadline:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
open(out, "wb").write(data)
PY
python3 "$T/slow.py" "$SPORT" $D "$T/slow.ready" "$T/slow.go" "$T/slow.out" &
SLOW=$!
wait_for 10 test -f "$T/slow.ready"
wait_for 10 in_log "$T/slow.log" "client connected deployment=$D"
# 6 MB of log for a client that reads nothing (loopback TCP buffers take about 3 MB)
loglines $D 1 10000 600
wait_for 20 in_log "$T/slow.log" "client closed deployment=$D reason=soft_limit"
check_eq "slow client: closed after the soft limit held for sse_soft_seconds" 0 $?
touch "$T/slow.go"
wait $SLOW
tr -d '\r' <"$T/slow.out" >"$T/slow.lf"
got=$(grep -c '^event: line' "$T/slow.lf")
check_match "slow client: got part of the log before the cut" '^[1-9][0-9]*$' "$got"
check_eq "slow client: not all of it" yes "$([ "$got" -lt 10000 ] && echo yes || echo no)"
# the last complete event is what EventSource would send as Last-Event-ID
seen=$(awk '/^id: /{id=$2} /^$/{if (id) last=id; id=""} END{print last}' "$T/slow.lf")
build_end $D ready
"$SSE" -p "$SPORT" -P "/events/$D" -l "$seen" -o "$T/slow2.txt" -t 30 >"$T/slow2.res" 2>&1
check_eq "slow client: resumes with Last-Event-ID and reaches the end" 0 $?
awk '/^id: /{id=$2} /^$/{if (id) print id; id=""}' "$T/slow.lf" >"$T/slow-ids.txt"
cut -f1 "$T/slow2.txt" >>"$T/slow-ids.txt"
same_ids "slow client: before and after the cut, every event exactly once" \
	"$(ids $D)" "$(cat "$T/slow-ids.txt")"
# a client that reads keeps up with the same limits
"$SSE" -p "$SPORT" -P "/events/$D" -o "$T/fast.txt" -t 30 >/dev/null 2>&1
check_eq "a reading client gets the whole log under the same limits" "$(ids $D | wc -l)" "$(count "$T/fast.txt")"

# keepalive comments (sse_keepalive = 1)
D=keepalive222
deployment $D
curl -s -N --max-time 10 "http://127.0.0.1:$SPORT/events/$D" >"$T/ka.txt" &
KA=$!
wait_for 5 grep -qx ':' "$T/ka.txt"
check_eq "keepalive: a comment line every sse_keepalive seconds" 0 $?
kill $KA 2>/dev/null
# a stream that carries lines gets no comments in between (each is a send per client, as
# costly as a line): 4 s of lines every 100 ms, with sse_keepalive = 1
D=kabusy222222
deployment $D
curl -s -N --max-time 20 "http://127.0.0.1:$SPORT/events/$D" >"$T/kab.txt" &
KA=$!
wait_for 5 in_log "$T/slow.log" "client connected deployment=$D"
i=0
while [ $i -lt 40 ]; do
	logline $D stdout "busy line $i" >/dev/null
	sleep 0.1
	i=$((i + 1))
done
wait_for 5 grep -q 'busy line 39' "$T/kab.txt"
kab=$(tr -d '\r' <"$T/kab.txt" | grep -cx ':')
check_eq "keepalive: at most one comment during 4 s of lines" yes "$([ "$kab" -le 1 ] && echo yes || echo "no ($kab)")"
# ... and comments again once the stream is quiet
wait_for 5 sh -c "[ \$(tr -d '\r' <'$T/kab.txt' | grep -cx ':') -gt $kab ]"
check_eq "keepalive: comments again once the lines stop" 0 $?
kill $KA 2>/dev/null

# ---- unix socket, max clients, hard limit, systemd notify, SIGTERM ------------------------------
cat >"$T/notify.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
        f.flush()
PY
python3 "$T/notify.py" "$T/notify.sock" "$T/notify.txt" &
PIDS="$PIDS $!"
wait_for 5 test -S "$T/notify.sock"
BRIDGE_ENV="NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000" start_bridge unix \
	"sse_listen=unix:$T/sse.sock" sse_max_clients=1 sse_soft_limit=1024 sse_hard_limit=4096
UNIXB=$LAST_PID
wait_for 5 grep -q 'READY=1' "$T/notify.txt"
check_eq "systemd: READY=1 once listening" 0 $?
check_eq "unix socket: listening at sse_listen" yes "$([ -S "$T/sse.sock" ] && echo yes || echo no)"
wait_for 5 grep -q 'WATCHDOG=1' "$T/notify.txt"
check_eq "systemd: WATCHDOG=1 within WATCHDOG_USEC" 0 $?
D=unixunixunix
deployment $D
logline $D stdout "over a unix socket" >/dev/null
curl -s -N --max-time 10 --unix-socket "$T/sse.sock" "http://localhost/events/$D" >"$T/u1.txt" &
U1=$!
wait_for 5 grep -q 'over a unix socket' "$T/u1.txt"
check_eq "unix socket: streams" 0 $?
out=$(curl -s -i --max-time 5 --max-time 5 --unix-socket "$T/sse.sock" "http://localhost/events/$D")
check_match "max clients: 503" '^HTTP/1.1 503' "$out"
check_match "max clients: Retry-After" 'Retry-After: [0-9]+' "$out"
check_match "max clients: JSON too_many_clients" '"code":"too_many_clients"' "$out"
kill $U1
wait_for 5 in_log "$T/unix.log" "client closed deployment=$D reason=eof"
# a client that reads nothing: once its socket buffer is full, 5 KB lines pass the hard limit
python3 "$T/slow.py" "$T/sse.sock" $D "$T/hard.ready" "$T/hard.go" "$T/hard.out" &
HARD=$!
wait_for 10 in_log "$T/unix.log" "client connected deployment=$D"
loglines $D 1 100 5000
wait_for 10 in_log "$T/unix.log" "client closed deployment=$D reason=hard_limit"
check_eq "hard limit: a client past sse_hard_limit is closed at once" 0 $?
check_nomatch "hard limit: before any soft-limit timer" "reason=soft_limit" "$(cat "$T/unix.log")"
touch "$T/hard.go"
wait $HARD
curl -s -N --max-time 30 --unix-socket "$T/sse.sock" "http://localhost/events/$D" >/dev/null &
wait_for 5 in_log "$T/unix.log" "client connected deployment=$D"
kill -TERM "$UNIXB"
wait "$UNIXB"
check_eq "SIGTERM with a client connected: exit 0" 0 $?
wait_for 5 grep -q 'STOPPING=1' "$T/notify.txt"
check_eq "systemd: STOPPING=1" 0 $?
check_match "SIGTERM: logged stopping and stopped" 'stopping signal=TERM.*stopped' "$(tr '\n' ' ' <"$T/unix.log")"
check_eq "SIGTERM: the unix socket is removed" no "$([ -e "$T/sse.sock" ] && echo yes || echo no)"

# ---- Redis AUTH: an ACL user, the password from redis_password_file ---------------------------
redis-server --port 0 --unixsocket "$T/acl.sock" --unixsocketperm 700 --save '' --appendonly no \
	--dir "$T" --logfile "$T/acl-redis.log" --user default off \
	--user skiff on '>acl-Pa55' '~*' '&*' '+@all' &
ACLR=$!
PIDS="$PIDS $ACLR"
wait_for 10 sh -c "redis-cli -s '$T/acl.sock' ping 2>&1 | grep -q NOAUTH"
printf 'wrong-password\n' >"$T/acl-bad.pw"
printf 'acl-Pa55\n' >"$T/acl-good.pw"
# SKIFF_REDIS_SOCKET (from start_redis) wins over the file: point it at the ACL server
BRIDGE_ENV="SKIFF_REDIS_SOCKET=$T/acl.sock" start_tcp_bridge aclbad redis_username=skiff \
	"redis_password_file=$T/acl-bad.pw" || { echo "bridge aclbad did not start" >&2; exit 1; }
wait_for 10 in_log "$T/aclbad.log" 'redis auth failed role=subscriber user="skiff" error="WRONGPASS'
check_eq "redis auth: a wrong password is logged with the user, retried" 0 $?
check_nomatch "redis auth: the password is never logged" 'wrong-password' "$(cat "$T/aclbad.log")"
check_nomatch "redis auth: refused credentials never count as connected" 'redis connected' \
	"$(cat "$T/aclbad.log")"
kill $LAST_PID
BRIDGE_ENV="SKIFF_REDIS_SOCKET=$T/acl.sock" start_tcp_bridge aclgood redis_username=skiff \
	"redis_password_file=$T/acl-good.pw" || { echo "bridge aclgood did not start" >&2; exit 1; }
wait_for 10 in_log "$T/aclgood.log" 'redis connected role=subscriber'
check_eq "redis auth: the right password connects" 0 $?
out=$(curl -s -i --max-time 5 "http://127.0.0.1:$BRIDGE_PORT/events/nosuchdeplo3")
check_match "redis auth: commands run as the ACL user (404 for an unknown deployment)" \
	'^HTTP/1.1 404' "$out"
check_nomatch "redis auth: the password is never logged (connected)" 'acl-Pa55' \
	"$(cat "$T/aclgood.log")"
kill $LAST_PID

kill -TERM "$MAIN"
wait "$MAIN"
check_eq "main bridge: clean exit on SIGTERM" 0 $?
finish
