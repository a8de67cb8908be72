#!/bin/sh
# it_socket.sh — the FastCGI programs started the way systemd starts them: a listening unix
# socket passed as fd 3 (systemd-socket-activate, as skiff-*.socket does), each answering
# FastCGI requests through cgi-fcgi; a deployment created, built and served that way; many
# requests on one process; SIGTERM; the program's own -s SOCKET; start-up failure.
. "$(dirname "$0")/lib.sh"

for tool in systemd-socket-activate cgi-fcgi git; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
for p in skiff-create skiff-status skiff-serve skiff-build; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done

start_redis
write_config
CONF=$SKIFF_CONFIG

# activate PROGRAM: PROGRAM behind a socket passed by systemd-socket-activate, as the unit
# starts it (ExecStart=... -c /etc/skiff/skiff.conf). Sets PID_<name>.
activate() {
	systemd-socket-activate -l "$T/$1.sock" --fdname="$1" -E ASAN_OPTIONS -E UBSAN_OPTIONS \
		"$BIN/$1" -c "$CONF" >>"$T/$1.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	eval "PID_$(echo "$1" | tr - _)=$pid"
	wait_for 10 test -S "$T/$1.sock" || { echo "$1: no socket" >&2; return 1; }
}
# fcgi SOCKET METHOD URI [BODY] [CONTENT_TYPE] [HOST]: one request through cgi-fcgi, from the
# dashboard's own origin (auth_disabled has no token); prints the FastCGI response (CGI
# headers, blank line, body)
fcgi() {
	sock=$1 method=$2 uri=$3 body=${4:-} ctype=${5:-application/json} host=${6:-localhost}
	printf '%s' "$body" | env -i PATH="$PATH" REQUEST_METHOD="$method" REQUEST_URI="$uri" \
		SCRIPT_NAME= PATH_INFO="${uri%%\?*}" QUERY_STRING= CONTENT_LENGTH=${#body} \
		CONTENT_TYPE="$ctype" HTTP_HOST="$host" HTTP_ORIGIN=http://localhost SERVER_PROTOCOL=HTTP/1.1 \
		GATEWAY_INTERFACE=CGI/1.1 cgi-fcgi -bind -connect "$sock" 2>>"$T/cgi-fcgi.err"
}
status_of() { printf '%s\n' "$1" | sed -n 's/^Status: \([0-9]*\).*/\1/p' | head -n 1; }
header_of() { printf '%s\n' "$2" | tr -d '\r' | sed -n "s/^$1: //Ip" | head -n 1; }
body_of() { printf '%s\n' "$1" | tr -d '\r' | sed '1,/^$/d'; }
jget() {
	python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" 2>/dev/null
}

for p in skiff-create skiff-status skiff-serve skiff-hook; do
	activate "$p" || { fail "$p listens behind systemd-socket-activate"; finish; exit 1; }
done

# ---- skiff-status -----------------------------------------------------------------------------
check_eq "nothing runs before the first connection (socket activation waits)" "systemd-socket-activate" \
	"$(basename "$(readlink "/proc/$PID_skiff_status/exe")")"
r=$(fcgi "$T/skiff-status.sock" GET /healthz)
check_eq "skiff-status answers GET /healthz through the passed socket" "200" "$(status_of "$r")"
check_eq "the answer is JSON" "application/json" "$(header_of Content-Type "$r")"
check_eq "the first connection started skiff-status in place of the activator (same pid)" "skiff-status" \
	"$(basename "$(readlink "/proc/$PID_skiff_status/exe")")"
check_match "skiff-status took fd 3 from LISTEN_FDS as its FastCGI socket" "serving FastCGI fd=3" \
	"$(cat "$T/skiff-status.log")"
n=0
for i in $(seq 1 20); do
	[ "$(status_of "$(fcgi "$T/skiff-status.sock" GET /api/projects)")" = 200 ] && n=$((n + 1))
done
check_eq "one process answers 20 requests in a row" "20" "$n"
for i in 1 2 3 4 5 6; do fcgi "$T/skiff-status.sock" GET /healthz >"$T/par.$i" & done
wait_for 10 sh -c "[ \$(grep -l '^Status: 200' $T/par.* 2>/dev/null | wc -l) -eq 6 ]"
check_eq "six concurrent connections are all answered" "6" "$(grep -l '^Status: 200' "$T"/par.* | wc -l | tr -d ' ')"
r=$(fcgi "$T/skiff-status.sock" GET /api/deployments/zzzzzzzzzzzz)
check_eq "an unknown deployment: 404 JSON" "404 not_found" "$(status_of "$r") $(body_of "$r" | jget error.code)"

# ---- skiff-create -----------------------------------------------------------------------------
repo=$T/repo
mkdir -p "$repo"
echo '<h1>socket test</h1>' >"$repo/index.html"
(cd "$repo" && git init -q -b main && git add -A &&
	git -c user.name=t -c user.email=t@skiff.invalid commit -q -m first) || fail "git repository"
r=$(fcgi "$T/skiff-create.sock" POST /api/projects "{\"gitURL\":\"file://$repo\",\"slug\":\"sock\"}")
check_eq "skiff-create accepts POST /api/projects through its socket" "202" "$(status_of "$r")"
id=$(body_of "$r" | jget data.deploymentId)
check_match "it names the new deployment" '^[a-z2-7]{12}$' "$id"
check_eq "the deployment is queued in Redis" "$id" "$(rcli lrange skiff:queue 0 -1 | grep -x "$id")"
r=$(fcgi "$T/skiff-create.sock" POST /api/projects '{"gitURL":')
check_eq "malformed JSON: 400" "400" "$(status_of "$r")"
r=$(fcgi "$T/skiff-create.sock" POST /api/projects 'gitURL' text/plain)
check_eq "a wrong content type: 415" "415" "$(status_of "$r")"
r=$(fcgi "$T/skiff-create.sock" GET /api/projects)
check_eq "GET on skiff-create: 405 (reads are skiff-status's)" "405" "$(status_of "$r")"

# ---- the build, then skiff-serve --------------------------------------------------------------
rcli lrem skiff:queue 0 "$id" >/dev/null
"$BIN/skiff-build" -c "$CONF" "$id" >>"$T/build.log" 2>&1
check_eq "skiff-build builds the deployment" "0 ready" "$? $(rcli hget "skiff:deployment:$id" state)"
r=$(fcgi "$T/skiff-serve.sock" GET / '' '' sock.localhost)
check_eq "skiff-serve answers for sock.localhost through its socket" "200" "$(status_of "$r")"
blob=$(header_of X-Sendfile "$r")
check_match "with X-Sendfile naming a blob" "^$T/store/blobs/" "$blob"
check_eq "that blob is the page" "$(cat "$repo/index.html")" "$(cat "$blob" 2>/dev/null)"
r=$(fcgi "$T/skiff-serve.sock" GET / '' '' nobody.localhost)
check_eq "a host without a project: 404" "404" "$(status_of "$r")"

# ---- skiff-hook -------------------------------------------------------------------------------
r=$(fcgi "$T/skiff-hook.sock" POST /api/hooks/github '{}')
check_match "skiff-hook refuses an unsigned delivery with a JSON error" '^4[0-9][0-9]$' "$(status_of "$r")"
check_match "  (an error object)" '.' "$(body_of "$r" | jget error.code)"

# ---- stopping, and the other ways to listen -------------------------------------------------
kill -TERM "$PID_skiff_status"
wait_for 10 sh -c "! kill -0 $PID_skiff_status" && wait "$PID_skiff_status"
check_eq "SIGTERM stops skiff-status with status 0" "0" "$?"
"$BIN/skiff-status" -c "$CONF" -s "$T/own.sock" >>"$T/own.log" 2>&1 &
own=$!
PIDS="$PIDS $own"
wait_for 10 test -S "$T/own.sock"
check_eq "-s SOCKET: a socket of mode 0660" "660" "$(stat -c %a "$T/own.sock" 2>/dev/null)"
check_eq "-s SOCKET: it answers there" "200" "$(status_of "$(fcgi "$T/own.sock" GET /healthz)")"
kill -TERM "$own"
wait_for 10 sh -c "! kill -0 $own"
check_eq "-s SOCKET: removed on SIGTERM" "gone" "$([ -e "$T/own.sock" ] && echo there || echo gone)"
"$BIN/skiff-status" -c "$CONF" -s "$T/no/such/dir/x.sock" >>"$T/own.log" 2>&1
check_eq "a socket that cannot be opened: exit status 3 (start-up failure)" "3" "$?"
finish
