#!/bin/sh
# it_csrf.sh — who may change and who may read. As plain CGI against a real redis-server:
# cross-site requests (an empty text/plain POST, a form, JSON, no Origin at all) to delete,
# redeploy, cancel and unpin are refused and change nothing, the same from the dashboard's
# own origin work, a bearer token needs no Origin, delete wants the typed slug on every path.
# Then the whole stack through lighttpd with public_reads = false: the API, the pages and
# /events/{id} answer 401 without credentials and work with the token, /healthz stays open,
# and the deployed site still serves.
. "$(dirname "$0")/lib.sh"

for p in skiff-create skiff-status skiff-serve; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done

start_redis
write_config

# req PROG METHOD PATH [BODY] [CONTENT_TYPE]: one CGI request; STATUS and $T/body
req() {
	cgi "$@" >"$T/resp" 2>>"$T/stderr.log"
	STATUS=$(sed -n '1s/^Status: \([0-9][0-9][0-9]\).*/\1/p' "$T/resp")
	sed '1,/^\r\{0,1\}$/d' "$T/resp" >"$T/body"
}
code() { python3 -c 'import json,sys
try: print(json.load(open(sys.argv[1]))["error"]["code"])
except Exception: print("")' "$T/body"; }
field() { python3 -c 'import json,sys
v = json.load(open(sys.argv[2]))
for k in sys.argv[1].split("."): v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" "$T/body" 2>/dev/null; }
snapshot() {
	for k in $(rcli --scan | sort); do
		echo "== $k $(rcli type "$k")"
		case $(rcli type "$k") in
		hash) rcli hgetall "$k" ;;
		zset) rcli zrange "$k" 0 -1 withscores ;;
		list) rcli lrange "$k" 0 -1 ;;
		string) rcli get "$k" ;;
		esac
	done
}

# a project with a queued deployment, pinned as after a rollback
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/victim.git","slug":"victim"}'
check_eq "setup: the project is created from the dashboard's origin" 202 "$STATUS"
ID=$(field data.deploymentId)
rcli hset skiff:project:victim pinned 1 >/dev/null
req skiff-create POST /api/projects/victim/tokens '{"name":"ci"}'
check_eq "setup: a deploy token is created from the dashboard's origin" 201 "$STATUS"
TID=$(field id)

# ---- cross-site requests change nothing ------------------------------------------------------
BEFORE=$(snapshot)
for target in "/api/projects/victim/delete" "/api/projects/victim/deployments" \
	"/api/deployments/$ID/cancel" "/api/projects/victim/unpin" "/api/projects/victim/tokens" \
	"/api/projects/victim/tokens/$TID/revoke"; do
	# an HTML form with enctype=text/plain and no fields, on any site
	HTTP_ORIGIN=http://evil.example req skiff-create POST "$target" '' text/plain
	check_eq "cross-site empty text/plain POST $target: 415" "415 unsupported_media_type" "$STATUS $(code)"
	# the same without any Origin (old browsers, privacy proxies)
	HTTP_ORIGIN= req skiff-create POST "$target" '' text/plain
	check_eq "empty text/plain POST $target without Origin: 415" 415 "$STATUS"
	# a form that fills the confirmation field
	HTTP_ORIGIN=http://evil.example req skiff-create POST "$target" 'confirm=victim' \
		application/x-www-form-urlencoded
	check_eq "cross-site form POST $target: 403 cross_origin" "403 cross_origin" "$STATUS $(code)"
	HTTP_ORIGIN=null req skiff-create POST "$target" 'confirm=victim' application/x-www-form-urlencoded
	check_eq "form POST $target from an opaque origin (null): 403" 403 "$STATUS"
	# JSON, with neither Origin nor Sec-Fetch-Site, under auth_disabled
	HTTP_ORIGIN= req skiff-create POST "$target" '{"confirm":"victim"}'
	check_eq "JSON POST $target with neither Origin nor Sec-Fetch-Site: 403" "403 cross_origin" "$STATUS $(code)"
	HTTP_ORIGIN= HTTP_SEC_FETCH_SITE=cross-site req skiff-create POST "$target" '{"confirm":"victim"}'
	check_eq "JSON POST $target with Sec-Fetch-Site: cross-site: 403" 403 "$STATUS"
	HTTP_ORIGIN= HTTP_SEC_FETCH_SITE=none req skiff-create POST "$target" '{"confirm":"victim"}'
	check_eq "JSON POST $target with Sec-Fetch-Site: none: 403" 403 "$STATUS"
done
HTTP_ORIGIN= req skiff-create DELETE "/api/projects/victim?confirm=victim"
check_eq "DELETE with neither Origin nor Sec-Fetch-Site: 403" 403 "$STATUS"
# the web server's user is ambient too: browsers resend Basic credentials
HTTP_ORIGIN=http://evil.example REMOTE_USER=alice SKIFF_AUTH_DISABLED=false \
	req skiff-create POST /api/projects/victim/delete 'confirm=victim' application/x-www-form-urlencoded
check_eq "cross-site form POST with a REMOTE_USER: 403" 403 "$STATUS"
check_eq "the refused requests wrote nothing: project, deployment, pin, queue untouched" \
	"$BEFORE" "$(snapshot)"

# ---- a JSON body without its type: 415 with a hint, before anything ----------------------------
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/r.git"}' application/x-www-form-urlencoded
check_eq "JSON sent as a form (curl -d): 415" "415 unsupported_media_type" "$STATUS $(code)"
check_match "…with a hint naming the header" "Content-Type: application/json" "$(field error.message)"
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/r.git"}' ''
check_eq "JSON without a content type: 415 with the hint" "415" "$STATUS"
check_match "…the hint" "Content-Type: application/json" "$(field error.message)"
check_eq "…and nothing written" "$BEFORE" "$(snapshot)"

# ---- delete wants the typed slug on every path ----------------------------------------------
req skiff-create DELETE /api/projects/victim
check_eq "DELETE without the confirmation: 400" "400 confirmation_required" "$STATUS $(code)"
req skiff-create POST /api/projects/victim/delete '{}'
check_eq "JSON delete without confirm: 400" 400 "$STATUS"
req skiff-create POST /api/projects/victim/delete '{"confirm":"victi"}'
check_eq "JSON delete with the wrong name: 400" 400 "$STATUS"
req skiff-create DELETE "/api/projects/victim?confirm=other"
check_eq "DELETE ?confirm= with the wrong name: 400" 400 "$STATUS"
check_eq "…the project is still there" 1 "$(rcli exists skiff:project:victim)"

# ---- the project page's token forms from the dashboard's own origin --------------------------
req skiff-create POST /api/projects/victim/tokens 'name=from+the+page&scope=preview' application/x-www-form-urlencoded
check_eq "create a token with the page's form: 201, a page" "201" "$STATUS"
check_match "…that shows the secret once" 'id="token-secret"[^>]*value="skiff_[a-z2-7]{32}"' "$(cat "$T/body")"
check_match "…and is never cached" '^Cache-Control: no-store' "$(tr -d '\r' <"$T/resp")"
req skiff-create POST "/api/projects/victim/tokens/$TID/revoke" '' application/x-www-form-urlencoded
check_eq "revoke with the page's form: 303 to the project's tokens" "303 /projects/victim#tokens" \
	"$STATUS $(sed -n 's/^Location: \([^\r]*\).*/\1/p' "$T/resp")"
check_eq "…revoked" 0 "$(rcli exists "skiff:token:$TID")"

# ---- the same from the dashboard's own origin works -------------------------------------------
req skiff-create POST /api/projects/victim/unpin '' application/x-www-form-urlencoded
check_eq "unpin (an empty form from the dashboard): 303" 303 "$STATUS"
check_eq "…unpinned" "" "$(rcli hget skiff:project:victim pinned | tr -d 0)"
req skiff-create POST /api/deployments/$ID/cancel '' application/x-www-form-urlencoded
check_eq "cancel from the dashboard: 303" 303 "$STATUS"
check_eq "…canceled" canceled "$(rcli hget skiff:deployment:$ID state)"
HTTP_ORIGIN= HTTP_SEC_FETCH_SITE=same-origin req skiff-create POST /api/projects/victim/deployments '{}'
check_eq "redeploy with Sec-Fetch-Site: same-origin and no Origin: 202" 202 "$STATUS"
req skiff-create POST /api/projects/victim/delete 'confirm=victim' application/x-www-form-urlencoded
check_eq "delete from the dashboard with the typed name: 303" 303 "$STATUS"
check_eq "…deleted" 0 "$(rcli exists skiff:project:victim)"

# ---- a bearer token is the way around the origin rule ------------------------------------------
export SKIFF_AUTH_DISABLED=false SKIFF_API_TOKEN=csrf-token-$$
HTTP_ORIGIN= req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/tok.git","slug":"tok"}'
check_eq "no token, no Origin: 401" 401 "$STATUS"
HTTP_ORIGIN= HTTP_AUTHORIZATION="Bearer csrf-token-$$" \
	req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/tok.git","slug":"tok"}'
check_eq "a bearer token without Origin: 202" 202 "$STATUS"
HTTP_ORIGIN= HTTP_AUTHORIZATION="Bearer csrf-token-$$" req skiff-create DELETE "/api/projects/tok?confirm=tok"
check_eq "a bearer token deletes with ?confirm=: 200" "200 deleted" "$STATUS $(field status)"
HTTP_ORIGIN= HTTP_AUTHORIZATION="Bearer wrong" req skiff-create DELETE "/api/projects/tok?confirm=tok"
check_eq "a wrong bearer token: 401 invalid_token" "401 invalid_token" "$STATUS $(code)"
unset SKIFF_AUTH_DISABLED SKIFF_API_TOKEN
stop_redis

# ---- public_reads = false through lighttpd ---------------------------------------------------
start_stack || { fail "the stack starts"; finish; exit 1; }
U="http://127.0.0.1:$STACK_PORT"
H="Host: localhost:$STACK_PORT"
O="Origin: http://localhost:$STACK_PORT"
repo=$T/repo
mkdir -p "$repo"
echo '<h1>private reads, public site</h1>' >"$repo/index.html"
(cd "$repo" && git init -q -b main && git add -A &&
	git -c user.name=t -c user.email=t@skiff.invalid commit -q -m first) || fail "git repository"
id=$(curl -sS -H "$H" -H "$O" -H 'Content-Type: application/json' \
	-d "{\"gitURL\":\"file://$repo\",\"slug\":\"quiet\"}" "$U/api/projects" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["deploymentId"])' 2>/dev/null)
check_match "setup: a deployment through lighttpd" '^[a-z2-7]{12}$' "$id"
wait_for 60 sh -c "[ \"\$(redis-cli -s '$T/redis.sock' hget skiff:deployment:$id state)\" = ready ]"
check_eq "setup: it is ready" ready "$(rcli hget skiff:deployment:$id state)"

# the operator closes the reads: lighttpd and the bridge start again on the new skiff.conf
TOKEN=reads-token-$$
sed -i -e 's/^public_reads = true$/public_reads = false/' -e 's/^auth_disabled = true$/auth_disabled = false/' \
	"$T/skiff.conf"
echo "api_token = $TOKEN" >>"$T/skiff.conf"
stop_lighttpd
kill "$BRIDGE_PID" 2>/dev/null
wait "$BRIDGE_PID" 2>/dev/null
start_lighttpd || fail "lighttpd starts again"
"$BIN/skiff-sse-bridge" >>"$T/sse-bridge.log" 2>&1 &
BRIDGE_PID=$!
PIDS="$PIDS $BRIDGE_PID"
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $SSE_PORT), 1)"

get() { curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -H "$H" "$@"; }
for path in /api/projects /api/projects/quiet /api/projects/quiet/deployments "/api/deployments/$id" \
	"/api/deployments/$id/log" /projects /projects/quiet "/deployments/$id" "/events/$id"; do
	check_eq "public_reads = false: GET $path without credentials: 401" 401 "$(get "$U$path")"
	check_eq "public_reads = false: GET $path with a wrong token: 401" 401 \
		"$(get -H "Authorization: Bearer not-$TOKEN" "$U$path")"
done
for path in /api/projects /projects/quiet "/api/deployments/$id/log"; do
	check_eq "public_reads = false: GET $path with the token: 200" 200 \
		"$(get -H "Authorization: Bearer $TOKEN" "$U$path")"
done
r=$(curl -sS --max-time 10 -H "$H" -H "Authorization: Bearer $TOKEN" "$U/events/$id")
check_match "public_reads = false: /events/{id} with the token streams the log" '^event: end' \
	"$(printf '%s\n' "$r" | grep '^event: end')"
check_eq "/healthz stays open" 200 "$(get "$U/healthz")"
check_eq "the deployed site still serves without credentials" "<h1>private reads, public site</h1>" \
	"$(curl -sS --max-time 5 -H "Host: quiet.localhost:$STACK_PORT" "$U/")"
check_eq "a write without credentials is still 401" 401 \
	"$(curl -sS -o /dev/null -w '%{http_code}' -H "$H" -H "$O" -H 'Content-Type: application/json' \
		-d '{}' "$U/api/projects/quiet/deployments")"
[ "$TESTS_FAILED" -eq 0 ] || stack_logs
finish
