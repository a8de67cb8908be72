#!/bin/sh
# it_lifecycle.sh — the life of a project on the whole stack (lighttpd, skiff-dispatch building
# from real git repositories, Redis, the file store): redeploy after a new commit serves the
# new content; rollback serves the old content within a second without rebuilding (no new log
# entry, no new blob); pinning; cancel of a queued and of a running build (its processes are
# gone, by pid); two quick redeploys build only the newest; a verified webhook push deploys
# its commit; retention expires the eleventh-oldest ready deployment and the sweep
# (skiff-dispatch --gc-once) reclaims exactly its unique blobs once the grace period has
# passed since it expired; delete removes everything and
# stops a build still running; a watched project deploys a new commit within two polling
# intervals. The rollback record (from, by, at) is shown and goes when a build goes live;
# history pages stay stable while deployments are created; the dashboard's forms (redeploy,
# rollback, unpin, cancel, delete with confirmation) answer 303 back to a page.
. "$(dirname "$0")/lib.sh"

for tool in curl python3 git redis-server lighttpd; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
for p in skiff-create skiff-status skiff-serve skiff-dispatch skiff-build skiff-hook; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done

# one build at a time (so builds queue), cancel noticed by the build within a second, watched
# projects polled every 5 s (the shortest interval skiff allows)
export SKIFF_CONCURRENCY=1 SKIFF_LEASE_TTL=3 SKIFF_POLL_INTERVAL=5
start_stack || { TESTS_RUN=$((TESTS_RUN + 1)); fail "the stack starts"; finish; exit 1; }
U="http://127.0.0.1:$STACK_PORT"
H="Host: localhost:$STACK_PORT"
P=skiff:
SLUG=life

jget() {
	python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    if isinstance(v, list):
        v = v[int(k)] if k.isdigit() and int(k) < len(v) else None
    else:
        v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" 2>/dev/null
}
api() { # METHOD PATH [JSON]: the body; the status in $T/status
	curl -sS -o "$T/api.out" -w '%{http_code}' -X "$1" -H "$H" -H "Origin: $STACK_URL" \
		-H 'Content-Type: application/json' \
		${3:+-d "$3"} "$U$2" >"$T/status"
	cat "$T/api.out"
}
status() { cat "$T/status"; }
site() { curl -sS -H "Host: $SLUG.localhost:$STACK_PORT" "$U/"; }
site_status() { curl -sS -o /dev/null -w '%{http_code}' -H "Host: $SLUG.localhost:$STACK_PORT" "$U/"; }
# site_soon EXPECTED: the site's body once it is EXPECTED, or after one second (skiff-serve
# reuses Redis answers for half a second: a rollback shows within one second)
site_soon() {
	t=$(($(date +%s%N) / 1000000 + 1000))
	while b=$(site) && [ "$b" != "$1" ] && [ $(($(date +%s%N) / 1000000)) -lt $t ]; do :; done
	printf '%s' "$b"
}
state() { rcli HGET "${P}deployment:$1" state; }
phase() { rcli HGET "${P}deployment:$1" phase; }
is_state() { [ "$(state "$1")" = "$2" ]; }
launched() { grep -c "build launched deployment=$1" "$T/dispatch.log"; }
blobs() { find "$T/store/blobs" -type f | sort; }
log_lengths() { for d in $(rcli ZRANGE "${P}project:$SLUG:deployments" 0 -1); do echo "$d $(rcli XLEN "${P}log:$d")"; done; }
commit() { # MESSAGE: commits the work tree of $REPO
	(cd "$REPO" && git add -A && git -c user.name=t -c user.email=t@skiff.invalid commit -q -m "$1")
}
redeploy() { api POST "/api/projects/$SLUG/deployments" '{}' | jget data.deploymentId; }
# descendants PID: every process below PID
descendants() {
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}
alive_any() { for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
# running PIDS: those still running (a zombie has ended, only its parent has not reaped it)
running() { for p in "$@"; do s=$(sed 's/.*) \(.\).*/\1/' "/proc/$p/stat" 2>/dev/null) &&
	[ "$s" != Z ] && echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline")"; done; }
all_gone() { ! alive_any "$@"; }
phase_is() { [ "$(phase "$1")" = "$2" ]; }
page() { curl -sS -H "$H" -H 'Accept: text/html' "$U$1"; }
# form PATH BODY: a plain form post through lighttpd as the dashboard sends it; prints
# "STATUS LOCATION" (the body in $T/form.out)
form() {
	curl -sS -o "$T/form.out" -D "$T/form.hdr" -H "$H" -H "Origin: http://localhost:$STACK_PORT" \
		-H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$2" "$U$1" >/dev/null
	printf '%s %s' "$(sed -n 's|^HTTP/[0-9.]* \([0-9]*\).*|\1|p' "$T/form.hdr" | tail -n 1)" \
		"$(sed -n 's/^[Ll]ocation: *//p' "$T/form.hdr" | tr -d '\r' | tail -n 1)"
}
# ids: the deployment ids of a history page (JSON on stdin), space-separated
ids() { python3 -c 'import json, sys; print(" ".join(d["id"] for d in json.load(sys.stdin)["data"]))'; }

REPO=$T/repo
mkdir -p "$REPO"
(cd "$REPO" && git init -q -b main)
echo '<h1>version one</h1>' >"$REPO/index.html"
echo 'body { color: #123456; } /* a stylesheet every version shares */' >"$REPO/style.css"
echo 'one' >"$REPO/version.txt"
commit "version one"

# ---- first deployment -------------------------------------------------------------------------
d1=$(api POST /api/projects "{\"gitURL\":\"file://$REPO\",\"slug\":\"$SLUG\",\"branch\":\"main\"}" | jget data.deploymentId)
check_eq "project created" 202 "$(status)"
wait_for 60 is_state "$d1" ready
check_eq "first deployment ready" ready "$(state "$d1")"
check_eq "the site serves version one" "<h1>version one</h1>" "$(site_soon "<h1>version one</h1>")"

# ---- redeploy after a new commit serves the new content -----------------------------------------
echo '<h1>version two</h1>' >"$REPO/index.html"
echo 'two' >"$REPO/version.txt"
commit "version two"
d2=$(redeploy)
check_eq "redeploy accepted" 202 "$(status)"
wait_for 60 is_state "$d2" ready
check_eq "redeploy ready" ready "$(state "$d2")"
check_eq "the site serves version two" "<h1>version two</h1>" "$(site_soon "<h1>version two</h1>")"
check_eq "the new deployment is current" "$d2" "$(rcli HGET "${P}project:$SLUG" current)"
check_eq "its manifest is in the store" yes "$([ -s "$T/store/manifests/$d2.json" ] && echo yes)"
check_eq "its commit is the new head" "$(cd "$REPO" && git rev-parse HEAD)" "$(rcli HGET "${P}deployment:$d2" commit)"

# ---- rollback: one write, no build ---------------------------------------------------------------
blobs >"$T/blobs.before"
log_lengths >"$T/logs.before"
ndep=$(rcli ZCARD "${P}project:$SLUG:deployments")
nlaunch=$(grep -c 'build launched' "$T/dispatch.log")
t0=$(date +%s%N)
api POST "/api/projects/$SLUG/rollback" "{\"deploymentId\":\"$d1\"}" >/dev/null
check_eq "rollback answers 200" 200 "$(status)"
served=""
while [ $((($(date +%s%N) - t0) / 1000000)) -lt 1000 ]; do
	served=$(site)
	[ "$served" = "<h1>version one</h1>" ] && break
done
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "the old content is served after the rollback" "<h1>version one</h1>" "$served"
check_eq "within one second (${ms} ms)" yes "$([ "$ms" -lt 1000 ] && echo yes)"
sleep 1 # give a (wrong) rebuild the chance to show up
blobs >"$T/blobs.after"
log_lengths >"$T/logs.after"
check_eq "rollback created no deployment" "$ndep" "$(rcli ZCARD "${P}project:$SLUG:deployments")"
check_eq "rollback launched no build" "$nlaunch" "$(grep -c 'build launched' "$T/dispatch.log")"
check_eq "rollback wrote no blob" "" "$(diff "$T/blobs.before" "$T/blobs.after")"
check_eq "rollback added no log entry" "" "$(diff "$T/logs.before" "$T/logs.after")"
check_eq "the project records where it rolled back from" "$d2" "$(rcli HGET "${P}project:$SLUG" rolled_back_from)"
check_eq "the API shows the rolled back deployment as current" "$d1" \
	"$(curl -sS -H "$H" "$U/api/projects/$SLUG" | jget data.current)"
api POST "/api/projects/$SLUG/rollback" "{\"deploymentId\":\"nosuchdeploy\"}" >/dev/null
check_eq "rollback to an unknown deployment is refused" 404 "$(status)"
pj=$(curl -sS -H "$H" "$U/api/projects/$SLUG")
check_eq "the API says where the project rolled back from" "$d2" "$(echo "$pj" | jget data.rolledBackFrom)"
check_eq "…by whom" api "$(echo "$pj" | jget data.rolledBackBy)"
rb_at=$(echo "$pj" | jget data.rolledBackAt)
now_ms=$(($(date +%s) * 1000))
check_eq "…and when ($rb_at, ms since the epoch)" yes \
	"$([ -n "$rb_at" ] && [ $((now_ms - rb_at)) -lt 60000 ] && [ $((now_ms - rb_at)) -gt -5000 ] && echo yes)"
check_match "the current deployment's page says rolled back from where, by whom and when" \
	"id=\"rolled-back\">rolled back from <code>$d2</code> by <span id=\"rolled-back-by\">api</span> at <time" \
	"$(page "/deployments/$d1")"
api POST "/api/projects/$SLUG/rollback" "{\"deploymentId\":\"$d1\"}" >/dev/null
check_eq "rolling back to the deployment already current answers 200" 200 "$(status)"
check_eq "…and records no rollback from itself" "$d1 $d2 $rb_at" \
	"$(rcli HGET "${P}project:$SLUG" current) $(rcli HGET "${P}project:$SLUG" rolled_back_from) $(rcli HGET "${P}project:$SLUG" rolled_back_at)"

# ---- pinned: a later build does not replace the current deployment -----------------------------------
api POST "/api/projects/$SLUG/rollback" "{\"deploymentId\":\"$d1\",\"pin\":true}" >/dev/null
echo '<h1>version three</h1>' >"$REPO/index.html"
echo 'three' >"$REPO/version.txt"
commit "version three"
d3=$(redeploy)
wait_for 60 is_state "$d3" ready
check_eq "a build while pinned becomes ready" ready "$(state "$d3")"
check_eq "…but the pinned deployment stays current" "$d1" "$(rcli HGET "${P}project:$SLUG" current)"
check_eq "…and is served" "<h1>version one</h1>" "$(site)"
api POST "/api/projects/$SLUG/unpin" '{}' >/dev/null
check_eq "unpin answers 200" 200 "$(status)"
api POST "/api/projects/$SLUG/rollback" "{\"deploymentId\":\"$d3\"}" >/dev/null
check_eq "version three is served again" "<h1>version three</h1>" "$(site_soon "<h1>version three</h1>")"

# ---- another project's deployment; the dashboard's forms through lighttpd ------------------------------
O=other
(cd "$REPO" && git checkout -q -b slow &&
	printf '{"buildCommand":"sleep 30; mkdir -p out; cp index.html out/","outputDirectory":"out"}\n' >skiff.json)
commit "a slow build on its own branch"
(cd "$REPO" && git checkout -q main)
o1=$(api POST /api/projects "{\"gitURL\":\"file://$REPO\",\"slug\":\"$O\",\"branch\":\"main\"}" | jget data.deploymentId)
check_eq "a second project is created" 202 "$(status)"
wait_for 60 is_state "$o1" ready
check_eq "its first deployment is ready" ready "$(state "$o1")"
api POST "/api/projects/$SLUG/rollback" "{\"deploymentId\":\"$o1\"}" >/dev/null
check_eq "rollback to another project's deployment is refused" "409 wrong_project" \
	"$(status) $(jget error.code <"$T/api.out")"
check_eq "…and changes nothing" "$d3" "$(rcli HGET "${P}project:$SLUG" current)"

opage=$(page "/projects/$O")
check_match "the project page offers redeploy as a form" \
	"<form method=\"post\" class=\"inline\" action=\"/api/projects/$O/deployments\">" "$opage"
r=$(form "/api/projects/$O/deployments" "")
o2=$(rcli HGET "${P}project:$O" latest)
check_eq "the redeploy form answers 303 to the new deployment's page" "303 /deployments/$o2" "$r"
check_nomatch "…a new deployment" "^$o1\$" "$o2"
wait_for 60 is_state "$o2" ready
check_eq "…that builds and goes live" "ready $o2" "$(state "$o2") $(rcli HGET "${P}project:$O" current)"

check_match "the project page offers a rollback to the earlier deployment" \
	"action=\"/api/projects/$O/rollback\"><input type=\"hidden\" name=\"deploymentId\" value=\"$o1\">" \
	"$(page "/projects/$O")"
r=$(form "/api/projects/$O/rollback" "deploymentId=$o1&pin=on")
check_eq "the rollback form answers 303 to the project page" "303 /projects/$O" "$r"
check_eq "…and made the earlier deployment current, pinned" "$o1 1" \
	"$(rcli HGET "${P}project:$O" current) $(rcli HGET "${P}project:$O" pinned)"
check_match "the project page then offers to unpin" "action=\"/api/projects/$O/unpin\"" "$(page "/projects/$O")"
r=$(form "/api/projects/$O/unpin" "")
check_eq "the unpin form answers 303 to the project page" "303 /projects/$O" "$r"
check_eq "…and unpinned" 0 "$(rcli HGET "${P}project:$O" pinned)"
r=$(form "/api/projects/$O/rollback" "deploymentId=$d1")
check_eq "the rollback form to another project's deployment answers 409" 409 "${r%% *}"
check_match "…an error page saying why" 'data-code="wrong_project"' "$(cat "$T/form.out")"

o3=$(api POST "/api/projects/$O/deployments" '{"ref":"slow"}' | jget data.deploymentId)
wait_for 60 phase_is "$o3" build
check_match "the page of a running build offers cancel" \
	"id=\"cancel-form\" action=\"/api/deployments/$o3/cancel\"" "$(page "/deployments/$o3")"
r=$(form "/api/deployments/$o3/cancel" "")
check_eq "the cancel form answers 303 to the deployment's page" "303 /deployments/$o3" "$r"
check_eq "…and canceled the build" canceled "$(state "$o3")"
idle() { [ "$(rcli LLEN "${P}queue:active")" = 0 ]; }
wait_for 10 idle
check_eq "…which stopped" 0 "$(rcli LLEN "${P}queue:active")"

check_match "the project page offers delete with a confirmation field" \
	"id=\"delete-form\" action=\"/api/projects/$O/delete\">.*name=\"confirm\"" "$(page "/projects/$O" | tr -d '\n')"
r=$(form "/api/projects/$O/delete" "confirm=wrong")
check_eq "the delete form without the project's name answers 400" 400 "${r%% *}"
check_match "…an error page saying why" 'data-code="confirmation_required"' "$(cat "$T/form.out")"
check_eq "…and deletes nothing" 1 "$(rcli EXISTS "${P}project:$O")"
r=$(form "/api/projects/$O/delete" "confirm=$O")
check_eq "the confirmed delete form answers 303 to the projects page" "303 /projects" "$r"
check_eq "…and the project is gone" "0 0" "$(rcli EXISTS "${P}project:$O") $(rcli EXISTS "${P}deployment:$o1")"

# ---- cancel: a running build and a queued one; two quick redeploys build only the newest ------------
printf '{"buildCommand":"sleep 30; mkdir -p out; cp index.html out/","outputDirectory":"out"}\n' >"$REPO/skiff.json"
commit "a slow build"
running=$(redeploy)
wait_for 30 phase_is "$running" build
check_eq "the slow build is running its command" "building build" "$(state "$running") $(phase "$running")"
bpid=$(sed -n "s/.*build launched deployment=$running pid=\([0-9]*\).*/\1/p" "$T/dispatch.log" | head -n 1)
has_sleep() { for p in $(descendants "$bpid"); do tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'sleep 30' && return 0; done; return 1; }
wait_for 10 has_sleep
cmd_pids=$(descendants "$bpid")   # the command's processes (and slirp4netns), not skiff-build
pids=$(echo $bpid $cmd_pids)
check_match "the build's processes are known by pid ($pids)" '[0-9]+ [0-9]+' "$pids"
check_match "…and the build command is among them" 'sleep 30' "$(for p in $pids; do cat /proc/$p/cmdline 2>/dev/null | tr '\0' ' '; echo; done)"

rm "$REPO/skiff.json"
echo '<h1>version four</h1>' >"$REPO/index.html"
echo 'four' >"$REPO/version.txt"
commit "version four"
queued=$(redeploy)
check_eq "a redeploy behind the running build is queued" queued "$(state "$queued")"
api POST "/api/deployments/$queued/cancel" '{}' >/dev/null
check_eq "cancel of the queued build answers 200" 200 "$(status)"
check_eq "the queued build is canceled" canceled "$(state "$queued")"
check_eq "and left the queue" "" "$(rcli LPOS "${P}queue" "$queued")"
api POST "/api/deployments/$queued/cancel" '{}' >/dev/null
check_eq "cancel is idempotent" 200 "$(status)"

first=$(redeploy)
second=$(redeploy)
check_eq "the first of two quick redeploys is superseded" canceled "$(state "$first")"
check_eq "…by the second" "$second" "$(rcli HGET "${P}deployment:$first" superseded_by)"

t0=$(date +%s)
api POST "/api/deployments/$running/cancel" '{}' >/dev/null
check_eq "cancel of the running build answers 200" 200 "$(status)"
# the answer comes once the build's processes are gone: no waiting here
left_at_answer=$(running $cmd_pids)
check_eq "the running build is canceled when the cancel answers" canceled "$(state "$running")"
check_eq "every process of the canceled build is gone when its state says canceled ($(($(date +%s) - t0)) s)" "" \
	"$left_at_answer"
check_nomatch "the canceled build never became current" "$running" "$(rcli HGET "${P}project:$SLUG" current)"

wait_for 60 is_state "$second" ready
check_eq "the newest redeploy is built" ready "$(state "$second")"
check_eq "the site serves its commit" "<h1>version four</h1>" "$(site_soon "<h1>version four</h1>")"
check_eq "the superseded redeploy was never launched" 0 "$(launched "$first")"
check_eq "the canceled queued build was never launched" 0 "$(launched "$queued")"
check_eq "the canceled build stays canceled" canceled "$(state "$running")"
pj=$(curl -sS -H "$H" "$U/api/projects/$SLUG")
check_eq "once a build goes live the API no longer says the project rolled back" "||" \
	"$(echo "$pj" | jget data.rolledBackFrom)|$(echo "$pj" | jget data.rolledBackBy)|$(echo "$pj" | jget data.rolledBackAt)"
check_nomatch "…nor does the live deployment's page" 'rolled-back|rolled back' "$(page "/deployments/$second")"
check_nomatch "…nor the project page" 'rolled back' "$(page "/projects/$SLUG")"

# ---- history pages stay put while deployments are created ----------------------------------------
all=$(rcli ZREVRANGE "${P}project:$SLUG:deployments" 0 -1 | tr '\n' ' ' | sed 's/ $//')
h=$(curl -sS -H "$H" "$U/api/projects/$SLUG/deployments?limit=2")
seen=$(echo "$h" | ids)
check_eq "the first page holds the two newest" "$(echo "$all" | cut -d' ' -f1-2)" "$seen"
cursor=$(echo "$h" | jget nextCursor)
check_match "…and a cursor to the next" '.' "$cursor"
new=$(redeploy)
api POST "/api/deployments/$new/cancel" '{}' >/dev/null
round=0
while [ -n "$cursor" ] && [ $round -lt 10 ]; do
	round=$((round + 1))
	h=$(curl -sS -H "$H" "$U/api/projects/$SLUG/deployments?limit=2&cursor=$cursor")
	seen="$seen $(echo "$h" | ids)"
	cursor=$(echo "$h" | jget nextCursor)
done
check_eq "paging on after a deployment was created: each earlier one once, no repeat, no gap" "$all" "$seen"
check_eq "a new first page starts with the new deployment" "$new" \
	"$(curl -sS -H "$H" "$U/api/projects/$SLUG/deployments?limit=1" | jget data.0.id)"
api GET "/api/projects/$SLUG/deployments?limit=2&cursor=2" >/dev/null
check_eq "a cursor this API did not return is refused" "400 invalid_cursor" "$(status) $(jget error.code <"$T/api.out")"

# ---- a webhook push through lighttpd deploys the branch head, and says it is not the pushed commit ----
SECRET=lifecycle-webhook-secret-0001
rcli HSET "${P}project:$SLUG" webhook_secret "$SECRET" >/dev/null
echo '<h1>version five</h1>' >"$REPO/index.html"
commit "version five"
head5=$(cd "$REPO" && git rev-parse HEAD)
echo '<h1>version six (not pushed)</h1>' >"$REPO/index.html"
commit "version six"
head6=$(cd "$REPO" && git rev-parse HEAD)
python3 - "$REPO" "$head5" >"$T/push.json" <<'PY'
import json, sys
repo, after = sys.argv[1:3]
print(json.dumps({"ref": "refs/heads/main", "after": after, "deleted": False,
                  "head_commit": {"id": after, "message": "version five"},
                  "repository": {"clone_url": "file://" + repo + ".git", "default_branch": "main"}}))
PY
sig=$(python3 -c 'import hmac, hashlib, sys
print("sha256=" + hmac.new(sys.argv[1].encode(), open(sys.argv[2], "rb").read(), hashlib.sha256).hexdigest())' "$SECRET" "$T/push.json")
r=$(curl -sS -w '\n%{http_code}' -H "$H" -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
	-H "X-GitHub-Delivery: life-1" -H "X-Hub-Signature-256: $sig" --data-binary @"$T/push.json" \
	"$U/api/hooks/github?project=$SLUG")
check_eq "the webhook answers 202 through lighttpd" 202 "$(printf '%s\n' "$r" | tail -n 1)"
d5=$(printf '%s\n' "$r" | sed '$d' | jget data.deployments.0.deploymentId)
wait_for 60 is_state "$d5" ready
check_eq "the branch head is deployed, not the older commit the payload names" \
	"<h1>version six (not pushed)</h1>" "$(site_soon "<h1>version six (not pushed)</h1>")"
check_eq "the deployment records the head's commit" "$head6" "$(rcli HGET "${P}deployment:$d5" commit)"
check_match "its log says the head is not the pushed commit" \
	"branch head is $(echo "$head6" | cut -c1-12), not the pushed commit $(echo "$head5" | cut -c1-12)" \
	"$(rcli --raw XRANGE "${P}log:$d5" - +)"

# ---- retention and the sweep ----------------------------------------------------------------------------
round=0 # (wait_for uses $i)
while [ "$(for d in $(rcli ZRANGE "${P}project:$SLUG:deployments" 0 -1); do state "$d"; done | grep -c '^ready$')" -lt 11 ] && [ $round -lt 12 ]; do
	round=$((round + 1))
	echo "<h1>round $round</h1>" >"$REPO/index.html"
	echo "round $round" >"$REPO/version.txt"
	commit "round $round"
	d=$(redeploy)
	wait_for 60 is_state "$d" ready || fail "round $round did not become ready"
done
# the expected outcome, from the records and manifests as they are now
python3 - "$T" "$P" "$SLUG" >"$T/expect" <<'PY'
import json, subprocess, sys, os
T, P, slug = sys.argv[1:4]
def r(*a):
    return subprocess.run(["redis-cli", "-s", T + "/redis.sock"] + list(a), capture_output=True, text=True).stdout.split()
ids = r("ZREVRANGE", P + "project:" + slug + ":deployments", "0", "-1")
cur = (r("HGET", P + "project:" + slug, "current") or [""])[0]
ready = [d for d in ids if (r("HGET", P + "deployment:" + d, "state") or [""])[0] == "ready"]
expire = [d for d in ready[10:] if d != cur]
def names(d):
    m = json.load(open(os.path.join(T, "store/manifests", d + ".json")))
    s = set()
    for f in m["files"].values():
        s.add(f["hash"])
        for v in ("gzip", "br"):
            if f.get(v): s.add(f[v]["hash"])
    return s
kept = set()
for d in ids:
    if d not in expire and os.path.exists(os.path.join(T, "store/manifests", d + ".json")):
        kept |= names(d)
unique = set()
for d in expire:
    unique |= names(d) - kept
print(" ".join(expire))
print(" ".join(sorted(unique)))
PY
expired=$(sed -n 1p "$T/expect")
unique=$(sed -n 2p "$T/expect")
check_eq "exactly one ready deployment is beyond the newest ten" 1 "$(echo "$expired" | wc -w)"
check_match "it has blobs no other deployment names" '[0-9a-f]{64}' "$unique"
blobs >"$T/blobs.before"
# every blob is past the grace period (a build uploads only younger ones)
find "$T/store/blobs" "$T/store/manifests" "$T/store/logs" -type f -exec touch -d '3 hours ago' {} +
"$BIN/skiff-dispatch" --gc-once >"$T/gc.log" 2>&1
check_eq "skiff-dispatch --gc-once succeeds" 0 "$?"
check_eq "the eleventh-oldest ready deployment is expired" expired "$(state "$expired")"
blobs >"$T/blobs.expired"
check_eq "its manifest and blobs stay for the grace period after it expired" "yes same" \
	"$([ -e "$T/store/manifests/$expired.json" ] && echo yes || echo no) $(cmp -s "$T/blobs.before" "$T/blobs.expired" && echo same)"
# hours pass
rcli HSET "${P}deployment:$expired" expired $((($(date +%s) - 10800) * 1000)) >/dev/null
"$BIN/skiff-dispatch" --gc-once >>"$T/gc.log" 2>&1
check_eq "its manifest left the store" no "$([ -e "$T/store/manifests/$expired.json" ] && echo yes || echo no)"
check_eq "its log stream was trimmed" 0 "$(rcli EXISTS "${P}log:$expired")"
check_eq "its archived log stays" yes "$([ -s "$T/store/logs/$expired.log" ] && echo yes)"
blobs >"$T/blobs.after"
gone=$(comm -23 "$T/blobs.before" "$T/blobs.after" | sed 's|.*/||' | sort | tr '\n' ' ' | sed 's/ $//')
check_eq "the sweep reclaimed exactly its unique blobs" "$(echo "$unique" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" "$gone"
check_match "the sweep logs what it reclaimed" 'gc swept .*deleted=[1-9]' "$(cat "$T/gc.log")"
check_eq "the site still serves" "<h1>round $round</h1>" "$(site_soon "<h1>round $round</h1>")"
check_eq "the expired deployment's own URL answers 410" 410 \
	"$(curl -sS -o /dev/null -w '%{http_code}' -H "Host: $SLUG--$expired.localhost:$STACK_PORT" "$U/")"

# ---- delete removes everything and stops the build still running ------------------------------------------
slow=$(api POST "/api/projects/$SLUG/deployments" '{"ref":"slow"}' | jget data.deploymentId)
wait_for 60 phase_is "$slow" build
check_eq "a slow build runs its command" "building build" "$(state "$slow") $(phase "$slow")"
bpid=$(sed -n "s/.*build launched deployment=$slow pid=\([0-9]*\).*/\1/p" "$T/dispatch.log" | head -n 1)
wait_for 10 has_sleep
cmd_pids=$(echo $(descendants "$bpid"))
check_match "…with its command's processes known by pid ($cmd_pids)" '[0-9]+ [0-9]+' "$cmd_pids"
ids=$(rcli ZRANGE "${P}project:$SLUG:deployments" 0 -1)
t0=$(date +%s)
api DELETE "/api/projects/$SLUG?confirm=$SLUG" >/dev/null
check_eq "delete answers 200" 200 "$(status)"
check_eq "the project is gone" 404 "$(curl -sS -o /dev/null -w '%{http_code}' -H "$H" "$U/api/projects/$SLUG")"
wait_for 5 all_gone $cmd_pids
check_eq "every process of the deleted project's build command is gone ($(($(date +%s) - t0)) s)" no \
	"$(alive_any $cmd_pids && echo yes || echo no)"
wait_for 5 all_gone $bpid
check_eq "…and skiff-build has exited ($(($(date +%s) - t0)) s)" no "$(alive_any $bpid && echo yes || echo no)"
check_eq "its log stream was not created again" 0 "$(rcli EXISTS "${P}log:$slow")"
left=0
for d in $ids; do left=$((left + $(rcli EXISTS "${P}deployment:$d" "${P}log:$d" "${P}lease:$d"))); done
check_eq "no deployment record, log stream or lease is left" 0 "$left"
site_gone() { [ "$(site_status)" = 404 ]; }
wait_for 2 site_gone
check_eq "the site is gone" 404 "$(site_status)"
find "$T/store/blobs" "$T/store/manifests" "$T/store/logs" -type f -exec touch -d '3 hours ago' {} +
"$BIN/skiff-dispatch" --gc-once >>"$T/gc.log" 2>&1
check_eq "no blob is left in the store" 0 "$(find "$T/store/blobs" -type f | wc -l)"
check_eq "no manifest is left" 0 "$(find "$T/store/manifests" -type f | wc -l)"
check_eq "no archived log is left" 0 "$(find "$T/store/logs" -type f | wc -l)"

# ---- commit polling by skiff-dispatch ------------------------------------------------------------
WREPO=$T/watched
mkdir -p "$WREPO"
(cd "$WREPO" && git init -q -b main)
echo '<h1>watched one</h1>' >"$WREPO/index.html"
(cd "$WREPO" && git add -A && git -c user.name=t -c user.email=t@skiff.invalid commit -q -m one)
w1=$(api POST /api/projects "{\"gitURL\":\"file://$WREPO\",\"slug\":\"watched\",\"watch\":true}" | jget data.deploymentId)
check_eq "a watched project is created" 202 "$(status)"
wait_for 60 is_state "$w1" ready
check_eq "the project is watched" 1 "$(rcli HGET "${P}project:watched" watch)"
echo '<h1>watched two</h1>' >"$WREPO/index.html"
(cd "$WREPO" && git add -A && git -c user.name=t -c user.email=t@skiff.invalid commit -q -m two)
head2=$(cd "$WREPO" && git rev-parse HEAD)
t0=$(date +%s)
polled() { [ "$(rcli HGET "${P}deployment:$(rcli HGET "${P}project:watched" latest)" trigger)" = poll ]; }
wait_for 15 polled
secs=$(($(date +%s) - t0))
check_eq "a new commit is noticed within two intervals (${secs} s)" yes "$(polled && [ $secs -le 10 ] && echo yes)"
wp=$(rcli HGET "${P}project:watched" latest)
check_eq "the poll queued exactly the new commit" "$head2" "$(rcli HGET "${P}deployment:$wp" ref)"
wait_for 60 is_state "$wp" ready
check_eq "…and it is deployed" "<h1>watched two</h1>" \
	"$(curl -sS -H "Host: watched.localhost:$STACK_PORT" "$U/")"

[ "$TESTS_FAILED" -eq 0 ] || stack_logs
finish
