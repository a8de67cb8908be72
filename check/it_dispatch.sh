#!/bin/sh
# it_dispatch.sh — two skiff-dispatch daemons on one Redis: a stream of builds is shared
# between them and each build runs exactly once; `kill -9` of one dispatcher together with its
# build (a host that died) gets the build queued again and built by the other within the lease
# time; `kill -9` of a dispatcher alone leaves its build running to the end, once.
# "Recovered" means: queued again (state queued, a line in its log), built by the surviving
# dispatcher, ready; after MODEL_QUEUE_ATTEMPTS lost attempts it would end in error instead.
. "$(dirname "$0")/lib.sh"

for p in skiff-create skiff-dispatch skiff-build; do
	[ -x "$BIN/$p" ] || { echo "SKIP: $BIN/$p not built" >&2; exit 77; }
done

start_redis
write_config
LEASE=3
cat >>"$T/skiff.conf" <<CONF
lease_ttl = $LEASE
concurrency = 2
CONF

RUNS=$T/runs.txt
: >"$RUNS"
body() { sed '1,/^\r*$/d'; }
jv() { python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["deploymentId"])' 2>/dev/null; }
field() { rcli hget "skiff:deployment:$1" "$2"; }
state_is() { [ "$(field "$1" state)" = "$2" ]; }
# every build appends its work directory (work/{id}/repo) to $RUNS: one line per run
new_site() { # DIR SECONDS
	mkdir -p "$1" && git -C "$1" init -q -b main
	cat >"$1/skiff.json" <<JSON
{ "buildCommand": "pwd >> $RUNS; sleep $2; mkdir -p public; echo ok > public/index.html",
  "outputDirectory": "public" }
JSON
	git -C "$1" add -A && git -C "$1" -c user.email=t@example.com -c user.name=t commit -qm site
}
create() { # DIR SLUG
	cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$1\",\"slug\":\"$2\"}" 2>/dev/null | body | jv
}
redeploy() { cgi skiff-create POST "/api/projects/$1/deployments" '{}' 2>/dev/null | body | jv; }
runs() { grep -c "/$1/" "$RUNS"; }
start_dispatcher() { # NAME
	"$BIN/skiff-dispatch" >>"$T/$1.log" 2>&1 &
	eval "PID_$1=\$!"
	PIDS="$PIDS $!"
	wait_for 10 grep -q "dispatcher started" "$T/$1.log"
}
start_dispatcher A
start_dispatcher B

# ---- a stream of builds: each runs exactly once ------------------------------------------------
new_site "$T/quick" 1
ids=""
# nine projects (a redeploy would supersede its project's queued build)
for s in p1 p2 p3 p4 p5 p6 p7 p8 p9; do ids="$ids $(create "$T/quick" "$s")"; done
all_final() {
	for x in $ids; do
		case $(field "$x" state) in ready | error | canceled) ;; *) return 1 ;; esac
	done
}
wait_for 120 all_final || fail "the builds did not all end in 120 s"
nready=0
once=0
for x in $ids; do
	state_is "$x" ready && nready=$((nready + 1))
	state_is "$x" ready || echo "not ready: $x $(field "$x" state) $(field "$x" error)" >&2
	[ "$(runs "$x")" = 1 ] && once=$((once + 1))
done
check_eq "all nine builds are ready" 9 "$nready"
check_eq "each of the nine ran exactly once" 9 "$once"
na=$(grep -c "build launched" "$T/A.log")
nb=$(grep -c "build launched" "$T/B.log")
check_eq "the two dispatchers launched nine builds between them" 9 "$((na + nb))"
check_match "both dispatchers took work (A $na, B $nb)" '^[1-9][0-9]* [1-9]' "$na $nb"
check_eq "no build was queued again" "" "$(grep -h 'queued again\|build lost' "$T/A.log" "$T/B.log")"
active_empty() { [ "$(rcli llen skiff:queue:active)" = 0 ]; }
wait_for 5 active_empty
check_eq "the active list is empty" 0 "$(rcli llen skiff:queue:active)"
check_eq "both dispatchers beat" 2 "$(rcli scard skiff:dispatchers)"

# ---- kill -9 of a dispatcher and its build (a host that died) ---------------------------------
new_site "$T/slow" 6
victim=$(create "$T/slow" slow)
wait_for 20 state_is "$victim" building || fail "the slow build did not start"
wait_for 10 sh -c "grep -q '/$victim/' '$RUNS'"
if grep -q "build launched deployment=$victim" "$T/A.log"; then dead=A live=B; else dead=B live=A; fi
eval "dpid=\$PID_$dead"
bpid=$(sed -n "s/.*build launched deployment=$victim pid=\([0-9]*\).*/\1/p" "$T/$dead.log" | head -n 1)
t0=$(date +%s)
kill -9 "$dpid" "-$bpid" 2>/dev/null
wait_for 20 grep -q "build launched deployment=$victim" "$T/$live.log" ||
	fail "dispatcher $live did not take the build over"
t1=$(date +%s)
took=$((t1 - t0))
# the lease expires within LEASE s; the scan runs every LEASE/3 s
if [ "$took" -le $((LEASE + 3)) ]; then ok "taken over by $live after ${took} s (lease ${LEASE} s)"
else fail "taken over after ${took} s, more than lease ${LEASE} s + 3"; fi
wait_for 30 state_is "$victim" ready || fail "the recovered build did not become ready"
check_eq "the recovered build is ready" ready "$(field "$victim" state)"
check_eq "it ran twice: the killed run and the recovered one" 2 "$(runs "$victim")"
check_match "its log says it was queued again" "queued again, attempt 2 of 3" \
	"$(rcli --raw xrange "skiff:log:$victim" - + | tr '\n' ' ')"
check_eq "it is the project's current deployment" "$victim" "$(rcli hget skiff:project:slow current)"
wait_for 5 active_empty
check_eq "the active list is empty" 0 "$(rcli llen skiff:queue:active)"
wait_for 10 sh -c "[ \$(redis-cli -s '$T/redis.sock' scard skiff:dispatchers) = 1 ]"
check_eq "the dead dispatcher left the set of dispatchers" 1 "$(rcli scard skiff:dispatchers)"

# ---- kill -9 of a dispatcher alone: its build goes on and finishes once -----------------------
start_dispatcher C
other=$(redeploy slow)
wait_for 20 state_is "$other" building || fail "the second slow build did not start"
owner=""
for n in C $live; do grep -q "build launched deployment=$other" "$T/$n.log" && owner=$n; done
eval "opid=\$PID_$owner"
kill -9 "$opid"
wait_for 30 state_is "$other" ready || fail "the orphaned build did not finish"
check_eq "the orphaned build finished ready" ready "$(field "$other" state)"
check_eq "it ran once" 1 "$(runs "$other")"
wait_for 10 active_empty
check_eq "the surviving dispatcher dropped it from the active list" 0 "$(rcli llen skiff:queue:active)"
check_eq "nothing was queued again" 1 "$(grep -h 'queued again' "$T"/*.log | wc -l)"

finish
