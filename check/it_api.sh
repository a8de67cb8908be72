#!/bin/sh
# it_api.sh — the API of skiff-create and skiff-status driven as plain CGI against a real
# redis-server: the documented 202 answer and the records behind it, status reads with
# pagination, form posts (303, same-origin rule), every kind of bad input with its status and
# JSON error, nothing half-written in Redis, auth with a token or REMOTE_USER, and Redis down
# or hung answering 503 quickly instead of hanging.
. "$(dirname "$0")/lib.sh"

for p in skiff-create skiff-status; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done
command -v python3 >/dev/null 2>&1 || { echo "python3 is missing" >&2; exit 1; }

start_redis
write_config

# ---- helpers -----------------------------------------------------------------------

# req PROG METHOD PATH [BODY] [CONTENT_TYPE]: one CGI request. Sets STATUS (from the
# "Status:" line) and ELAPSED_MS; the headers are in $T/headers, the body in $T/body.
req() {
	t0=$(date +%s%N)
	cgi "$@" >"$T/resp" 2>>"$T/stderr.log"
	t1=$(date +%s%N)
	ELAPSED_MS=$(((t1 - t0) / 1000000))
	sed -n '1,/^\r\{0,1\}$/p' "$T/resp" | tr -d '\r' >"$T/headers"
	sed '1,/^\r\{0,1\}$/d' "$T/resp" >"$T/body"
	STATUS=$(sed -n '1s/^Status: \([0-9][0-9][0-9]\).*/\1/p' "$T/headers")
	[ -n "$STATUS" ] || STATUS="none($(head -c 80 "$T/resp" | tr '\n' ' '))"
}
# hdr NAME: a response header's value
hdr() { grep -i "^$1:" "$T/headers" | head -n 1 | sed 's/^[^:]*: *//'; }
# jlen PATH: length of an array in the body
jlen() {
	python3 -c 'import json, sys
v = json.load(open(sys.argv[2]))
for k in [k for k in sys.argv[1].split(".") if k]:
    v = v[k]
print(len(v))' "$1" "$T/body" 2>/dev/null || echo "?"
}
# check_error DESCRIPTION STATUS CODE: the response is that status with a JSON error of that code
check_error() {
	check_eq "$1: status" "$2" "$STATUS"
	check_eq "$1: JSON content type" "application/json" "$(hdr Content-Type)"
	check_eq "$1: error code" "$3" "$(jget error.code)"
	check_match "$1: error message" '.....' "$(jget error.message)"
}
# snapshot: every key with its type and contents, to prove a refused request wrote nothing
snapshot() {
	for k in $(rcli --scan | sort); do
		ty=$(rcli type "$k")
		echo "== $k $ty"
		case $ty in
		hash) rcli hgetall "$k" ;;
		zset) rcli zrange "$k" 0 -1 withscores ;;
		list) rcli lrange "$k" 0 -1 ;;
		stream) rcli xrange "$k" - + ;;
		string) rcli get "$k" ;;
		esac
	done
}
ID_RE='^[a-z2-7]{12}$'

# ---- -n: the configuration check ------------------------------------------------------
out=$("$BIN/skiff-create" -n 2>&1)
check_eq "skiff-create -n with a good configuration exits 0" "0" "$?"
out=$(SKIFF_STORE=xyz "$BIN/skiff-status" -n 2>&1)
rc=$?
check_eq "skiff-status -n with store=xyz exits 1" "1" "$rc"
check_match "skiff-status -n names the bad key" "store" "$out"

# ---- create: the documented answer and the records behind it ---------------------------
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/site.git","slug":"alpha","branch":"main","buildCommand":"npm run build","outputDirectory":"dist"}'
check_eq "create: 202" "202" "$STATUS"
check_eq "create: JSON" "application/json" "$(hdr Content-Type)"
check_eq "create: status queued" "queued" "$(jget status)"
ID=$(jget data.deploymentId)
check_match "create: deploymentId is an id" "$ID_RE" "$ID"
check_eq "create: projectSlug" "alpha" "$(jget data.projectSlug)"
check_eq "create: url" "http://alpha.localhost/" "$(jget data.url)"
check_eq "create: deploymentUrl" "http://alpha--$ID.localhost/" "$(jget data.deploymentUrl)"
check_match "create: statusUrl" "^https?://[^/]+/api/deployments/$ID\$" "$(jget data.statusUrl)"
check_eq "create: eventsUrl, absolute like statusUrl" "http://localhost/events/$ID" "$(jget data.eventsUrl)"
check_eq "create: Location" "/api/deployments/$ID" "$(hdr Location)"
check_eq "create: Content-Length matches the body" "$(wc -c <"$T/body" | tr -d ' ')" "$(hdr Content-Length)"

check_eq "redis: project git_url" "https://github.com/o/site.git" "$(rcli hget skiff:project:alpha git_url)"
check_eq "redis: project branch" "main" "$(rcli hget skiff:project:alpha branch)"
check_eq "redis: project build_command" "npm run build" "$(rcli hget skiff:project:alpha build_command)"
check_eq "redis: project output_dir" "dist" "$(rcli hget skiff:project:alpha output_dir)"
check_match "redis: projects zset has the slug" '^[0-9]+$' "$(rcli zscore skiff:projects alpha)"
check_eq "redis: deployment state" "queued" "$(rcli hget "skiff:deployment:$ID" state)"
check_eq "redis: deployment project" "alpha" "$(rcli hget "skiff:deployment:$ID" project)"
check_eq "redis: deployment trigger" "api" "$(rcli hget "skiff:deployment:$ID" trigger)"
check_eq "redis: deployment ref" "main" "$(rcli hget "skiff:deployment:$ID" ref)"
check_eq "redis: project deployments" "$ID" "$(rcli zrange skiff:project:alpha:deployments 0 -1)"
check_eq "redis: queued" "$ID" "$(rcli lrange skiff:queue 0 -1)"
check_eq "redis: log stream says queued" "k state s system m queued" \
	"$(rcli xrange "skiff:log:$ID" - + | tail -n 6 | tr '\n' ' ' | sed 's/ $//')"

# ---- status reads ----------------------------------------------------------------------
req skiff-status GET "/api/deployments/$ID"
check_eq "deployment: 200" "200" "$STATUS"
check_eq "deployment: id" "$ID" "$(jget data.id)"
check_eq "deployment: state queued" "queued" "$(jget data.state)"
check_eq "deployment: project" "alpha" "$(jget data.project)"
check_eq "deployment: not current yet" "false" "$(jget data.current)"
check_eq "deployment: logUrl, absolute" "http://localhost/api/deployments/$ID/log" "$(jget data.logUrl)"

req skiff-status GET "/api/deployments/$ID/log"
check_eq "log: 200" "200" "$STATUS"
check_match "log: text/plain" "^text/plain" "$(hdr Content-Type)"
check_eq "log: the queued state" "==> queued" "$(cat "$T/body")"

req skiff-status GET /api/projects
check_eq "projects: 200" "200" "$STATUS"
check_eq "projects: one" "1" "$(jlen data)"
check_eq "projects: alpha" "alpha" "$(jget data.0.slug)"

req skiff-status GET /api/projects/alpha
check_eq "project: 200" "200" "$STATUS"
check_eq "project: slug" "alpha" "$(jget data.slug)"
check_eq "project: gitUrl" "https://github.com/o/site.git" "$(jget data.gitUrl)"
check_eq "project: branch" "main" "$(jget data.branch)"
check_eq "project: url" "http://alpha.localhost/" "$(jget data.url)"
check_eq "project: latest" "$ID" "$(jget data.latest)"

req skiff-status GET /api/projects/alpha/
check_eq "project with a trailing slash: 200" "200" "$STATUS"

req skiff-status HEAD /api/projects/alpha
check_eq "HEAD project: 200" "200" "$STATUS"
check_eq "HEAD project: no body" "0" "$(wc -c <"$T/body" | tr -d ' ')"

# pagination: four older deployments of alpha written straight into Redis
OLDER=""
for i in 1 2 3 4; do
	oid=$(printf 'olderdeploy%s' "$(echo "$i" | tr 1234 abcd)")
	rcli hset "skiff:deployment:$oid" id "$oid" project alpha state error trigger api \
		created "$i" >/dev/null
	rcli zadd skiff:project:alpha:deployments "$i" "$oid" >/dev/null
	OLDER="$oid $OLDER"
done
# newest first: $ID, olderdeployd, c, b, a
req skiff-status GET "/api/projects/alpha/deployments?limit=2"
check_eq "page 1: 200" "200" "$STATUS"
check_eq "page 1: two" "2" "$(jlen data)"
check_eq "page 1: newest first" "$ID" "$(jget data.0.id)"
check_eq "page 1: then" "olderdeployd" "$(jget data.1.id)"
CURSOR=$(jget nextCursor)
check_match "page 1: nextCursor" '.' "$CURSOR"
req skiff-status GET "/api/projects/alpha/deployments?limit=2&cursor=$CURSOR"
check_eq "page 2: 200" "200" "$STATUS"
check_eq "page 2: two" "2" "$(jlen data)"
check_eq "page 2: continues" "olderdeployc olderdeployb" "$(jget data.0.id) $(jget data.1.id)"
CURSOR=$(jget nextCursor)
req skiff-status GET "/api/projects/alpha/deployments?limit=2&cursor=$CURSOR"
check_eq "page 3: the last one" "1" "$(jlen data)"
check_eq "page 3: oldest" "olderdeploya" "$(jget data.0.id)"
check_eq "page 3: no nextCursor" "null" "$(jget nextCursor)"
req skiff-status GET "/api/projects/alpha/deployments"
check_eq "deployments default page: all five" "5" "$(jlen data)"
check_eq "deployments default page: no nextCursor" "null" "$(jget nextCursor)"
req skiff-status GET "/api/projects/alpha/deployments?limit=0"
check_error "limit=0" 400 invalid_limit
req skiff-status GET "/api/projects/alpha/deployments?limit=101"
check_error "limit=101" 400 invalid_limit
req skiff-status GET "/api/projects/alpha/deployments?cursor=abc"
check_error "cursor=abc" 400 invalid_cursor
req skiff-status GET "/api/projects/nope/deployments"
check_error "deployments of an unknown project" 404 not_found

# ---- the seed-compatible POST /project, JSON and form ------------------------------------
req skiff-create POST /project '{"gitURL":"https://github.com/o/beta.git","slug":"beta"}'
check_eq "POST /project JSON: 202" "202" "$STATUS"
check_eq "POST /project JSON: slug" "beta" "$(jget data.projectSlug)"

export HTTP_ORIGIN=http://localhost
req skiff-create POST /project 'gitURL=https%3A%2F%2Fgithub.com%2Fo%2Fgamma.git&slug=gamma&branch=' \
	application/x-www-form-urlencoded
unset HTTP_ORIGIN
check_eq "form post: 303" "303" "$STATUS"
FID=$(hdr Location | sed -n 's|^/deployments/||p')
check_match "form post: Location /deployments/{id}" "$ID_RE" "$FID"
check_eq "form post: deployment queued" "queued" "$(rcli hget "skiff:deployment:$FID" state)"
check_eq "form post: trigger form" "form" "$(rcli hget "skiff:deployment:$FID" trigger)"
check_eq "form post: empty branch means the default" "" "$(rcli hget skiff:project:gamma branch)"

export HTTP_ORIGIN=http://localhost
req skiff-create POST /api/projects 'gitURL=https%3A%2F%2Fgithub.com%2Fo%2Fdelta.git&slug=delta' \
	application/x-www-form-urlencoded
unset HTTP_ORIGIN
check_eq "form post to /api/projects: 303" "303" "$STATUS"

# a refused form post answers a page that says why, with the status of the error
export HTTP_ORIGIN=http://localhost
req skiff-create POST /project 'gitURL=http%3A%2F%2Fexample.com%2Fx&slug=epsilon' \
	application/x-www-form-urlencoded
unset HTTP_ORIGIN
check_eq "form post with a bad URL: 400" "400" "$STATUS"
check_match "form post with a bad URL: an HTML page" '^text/html' "$(hdr Content-Type)"
check_match "form post with a bad URL: the page names the reason by the field's label" \
	'data-code="invalid_git_url" data-field="gitURL"><strong>Could not deploy: </strong>Git repository URL must be an https:// URL' \
	"$(cat "$T/body")"
check_match "form post with a bad URL: the form keeps what was typed" \
	'id="gitURL" name="gitURL" [^>]*value="http://example.com/x".*id="slug" name="slug" [^>]*value="epsilon"' \
	"$(tr -d '\n' < "$T/body")"
check_eq "form post with a bad URL: no project" "0" "$(rcli exists skiff:project:epsilon)"

BEFORE=$(snapshot)
export HTTP_ORIGIN=
req skiff-create POST /project 'gitURL=https%3A%2F%2Fgithub.com%2Fo%2Fevil.git&slug=evil' \
	application/x-www-form-urlencoded
unset HTTP_ORIGIN
check_eq "form post without Origin: 403" "403" "$STATUS"
export HTTP_ORIGIN=http://evil.example
req skiff-create POST /project 'gitURL=https%3A%2F%2Fgithub.com%2Fo%2Fevil.git&slug=evil' \
	application/x-www-form-urlencoded
unset HTTP_ORIGIN
check_eq "form post from another origin: 403" "403" "$STATUS"
check_eq "cross-origin form posts wrote nothing" "$BEFORE" "$(snapshot)"

# ---- bad input -----------------------------------------------------------------------------
BEFORE=$(snapshot)
BIG=$(python3 -c 'import json; print(json.dumps({"gitURL": "https://github.com/o/r", "buildCommand": "x" * 70000}))')
req skiff-create POST /api/projects "$BIG"
check_error "body over max_body" 413 body_too_large
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/r"}' text/plain
check_error "text/plain" 415 unsupported_media_type
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/r"}' application/octet-stream
check_error "application/octet-stream" 415 unsupported_media_type
req skiff-create POST /api/projects '{"gitURL":'
check_error "malformed JSON" 400 invalid_json
req skiff-create POST /api/projects '["https://github.com/o/r"]'
check_error "a JSON array" 400 invalid_json
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/r","slug":"a","slug":"b"}'
check_error "duplicate keys" 400 invalid_json
req skiff-create POST /api/projects '{}'
check_error "gitURL missing" 400 invalid_git_url
req skiff-create POST /api/projects ''
check_error "empty body" 400 invalid_git_url
req skiff-create POST /api/projects '{"gitURL":42}'
check_error "gitURL not a string" 400 invalid_field
req skiff-create POST /api/projects '{"gitURL":["https://github.com/o/r"]}'
check_error "gitURL an array" 400 invalid_field
req skiff-create POST /api/projects '{"gitURL":"http://example.com/x"}'
check_error "gitURL http:// to a public host" 400 invalid_git_url
req skiff-create POST /api/projects '{"gitURL":"git://github.com/o/r.git"}'
check_error "gitURL git://" 400 invalid_git_url
req skiff-create POST /api/projects '{"gitURL":"ssh://git:hunter3@github.com/o/r.git"}'
check_error "gitURL ssh:// with a password" 400 invalid_git_url
check_nomatch "the ssh password is not echoed" "hunter3" "$(cat "$T/body")"
req skiff-create POST /api/projects '{"gitURL":"https://user:hunter2@github.com/o/r.git"}'
check_error "gitURL with credentials" 400 invalid_git_url
check_nomatch "the password is not echoed" "hunter2" "$(cat "$T/body")"
check_nomatch "the password is not logged" "hunter2" "$(cat "$T/stderr.log")"
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/r","extra":1}'
check_error "unknown field" 400 unknown_field
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/r","slug":"Bad--Slug"}'
check_error "bad slug" 400 invalid_slug
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/r","slug":7}'
check_error "slug not a string" 400 invalid_field
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/r","branch":"a..b"}'
check_error "bad branch" 400 invalid_branch
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/r","outputDirectory":"../etc"}'
check_error "output directory outside the repository" 400 invalid_output_directory
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/r","buildCommand":"a\nb"}'
check_error "build command with a newline" 400 invalid_command
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/r","slug":"a\u0000b"}'
check_error "NUL in a string" 400 invalid_json
check_eq "refused requests wrote nothing" "$BEFORE" "$(snapshot)"

# a slug that is taken: 409, and nothing half-written
BEFORE=$(snapshot)
KEYS_BEFORE=$(rcli dbsize)
req skiff-create POST /api/projects '{"gitURL":"https://github.com/other/x.git","slug":"alpha"}'
check_error "slug taken" 409 slug_taken
check_eq "slug taken: key count unchanged" "$KEYS_BEFORE" "$(rcli dbsize)"
check_eq "slug taken: nothing changed in Redis" "$BEFORE" "$(snapshot)"
check_eq "slug taken: the project still points at its repository" "https://github.com/o/site.git" \
	"$(rcli hget skiff:project:alpha git_url)"

# a derived slug that is taken gets a suffix
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/My_Site.git"}'
check_eq "derived slug: 202" "202" "$STATUS"
check_eq "derived slug: from the repository name" "my-site" "$(jget data.projectSlug)"
req skiff-create POST /api/projects '{"gitURL":"https://github.com/someone-else/my-site"}'
check_eq "derived slug taken: 202" "202" "$STATUS"
SUFFIXED=$(jget data.projectSlug)
check_match "derived slug taken: a suffix" '^my-site-[a-z0-9]{2,8}$' "$SUFFIXED"
check_eq "derived slug taken: its own project" "https://github.com/someone-else/my-site" \
	"$(rcli hget "skiff:project:$SUFFIXED" git_url)"
check_eq "derived slug taken: the first is untouched" "https://github.com/o/My_Site.git" \
	"$(rcli hget skiff:project:my-site git_url)"

# unknown and invalid names
req skiff-status GET /api/deployments/abcdefgh2345
check_error "unknown deployment" 404 not_found
req skiff-status GET /api/deployments/abcdefgh2345/log
check_error "log of an unknown deployment" 404 not_found
req skiff-status GET /api/deployments/NOT-AN-ID
check_error "invalid deployment id" 400 invalid_deployment_id
req skiff-status GET /api/deployments/..%2f..%2fetc
check_error "deployment id with an encoded path" 400 invalid_deployment_id
req skiff-status GET /api/projects/nope
check_error "unknown project" 404 not_found
req skiff-status GET /api/projects/Bad_Slug
check_error "invalid slug" 400 invalid_slug
req skiff-status GET /api/nothing
check_error "unknown endpoint (status)" 404 not_found
req skiff-create POST /api/nothing '{}'
check_error "unknown endpoint (create)" 404 not_found
req skiff-create GET /api/projects
check_error "GET on create" 405 method_not_allowed
check_eq "GET on create: Allow names every method of the path" "GET, HEAD, POST" "$(hdr Allow)"
req skiff-status DELETE /api/projects
check_error "DELETE on status" 405 method_not_allowed
check_eq "DELETE on status: Allow names every method of the path" "GET, HEAD, POST" "$(hdr Allow)"
req skiff-status POST /healthz '{}'
check_error "POST /healthz" 405 method_not_allowed
check_eq "POST /healthz: Allow" "GET, HEAD" "$(hdr Allow)"
# the web server sends every GET to skiff-status: a mutation's path is 405 there, not 404
req skiff-status GET /api/projects/alpha/rollback
check_error "GET on rollback" 405 method_not_allowed
check_eq "GET on rollback: Allow" "POST" "$(hdr Allow)"
req skiff-status GET /api/deployments/abcdefgh2345/cancel
check_error "GET on cancel" 405 method_not_allowed
req skiff-status PUT /api/projects/alpha '{}'
check_error "PUT on a project" 405 method_not_allowed
check_eq "PUT on a project: Allow" "GET, HEAD, PATCH, DELETE" "$(hdr Allow)"

# ---- auth: a token or an authenticated user -----------------------------------------------
export SKIFF_AUTH_DISABLED=false SKIFF_API_TOKEN=test-token-$$
BEFORE=$(snapshot)
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/auth.git","slug":"auth1"}'
check_error "no token" 401 unauthorized
export HTTP_AUTHORIZATION="Bearer wrong-token"
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/auth.git","slug":"auth1"}'
check_error "wrong token" 401 invalid_token
check_eq "refused by auth: nothing written" "$BEFORE" "$(snapshot)"
export HTTP_AUTHORIZATION="Bearer test-token-$$"
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/auth.git","slug":"auth1"}'
check_eq "right Bearer token: 202" "202" "$STATUS"
unset HTTP_AUTHORIZATION
export REMOTE_USER=alice
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/auth.git","slug":"auth2"}'
check_eq "REMOTE_USER: 202" "202" "$STATUS"
unset REMOTE_USER
check_nomatch "the token is not logged" "test-token-$$" "$(cat "$T/stderr.log")"
unset SKIFF_AUTH_DISABLED SKIFF_API_TOKEN

# ---- health, and Redis down or hung ----------------------------------------------------------
req skiff-status GET /healthz
check_eq "healthz with Redis up: 200" "200" "$STATUS"
check_eq "healthz with Redis up: ok" "ok" "$(jget status)"

# ---- the deployment page: the log so far, and the id it resumes after ---------------------
# page_last: data-last-event-id of the page in $T/body; last_line: N of its last "line N" line
page_last() { sed -n 's/.*data-last-event-id="\([^"]*\)".*/\1/p' "$T/body" | head -n 1; }
last_line() { grep -o '<span class="line stdout">line [0-9]*' "$T/body" | tail -n 1 | sed 's/.*line //'; }
req skiff-status GET "/deployments/$ID"
check_eq "page: 200" "200" "$STATUS"
check_eq "page: resumes after the stream's last entry" \
	"$(rcli xrevrange "skiff:log:$ID" + - COUNT 1 | head -n 1)" "$(page_last)"
check_nomatch "page: a whole log is not marked as cut" 'id="log-cut"' "$(cat "$T/body")"

# logs too long for one page (16 MiB of HTML, 20000 entries): the page shows a prefix, says
# so where it stops, and resumes after the last line it shows, so the live view skips none.
# big_log SLUG COUNT SIZE: a deployment whose stream holds COUNT lines "line N xxx…" of SIZE
# bytes with ids 1-N; prints its id
big_log() {
	req skiff-create POST /api/projects "{\"gitURL\":\"https://github.com/o/$1.git\",\"slug\":\"$1\"}"
	bid=$(jget data.deploymentId)
	rcli del "skiff:log:$bid" >/dev/null
	python3 -c 'import sys
key, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = sys.stdout.buffer
def cmd(*args):
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        a = a.encode()
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
for i in range(1, n + 1):
    m = ("line %d " % i).ljust(size, "x")
    cmd("XADD", key, "1-%d" % i, "k", "line", "s", "stdout", "m", m)' "skiff:log:$bid" "$2" "$3" |
		rcli --pipe >/dev/null
	echo "$bid"
}
for spec in "bytes 2200 8000" "lines 20050 10"; do
	set -- $spec
	BIG=$(big_log "big-$1" "$2" "$3")
	req skiff-status GET "/deployments/$BIG"
	check_eq "page cut by $1: 200" "200" "$STATUS"
	n=$(last_line)
	check_match "page cut by $1: shows a prefix of the log" '^[0-9]+$' "$n"
	[ -n "$n" ] || n=0
	check_eq "page cut by $1: stops before the end" "yes" "$([ "$n" -gt 100 ] && [ "$n" -lt "$2" ] && echo yes || echo "no: last line $n of $2")"
	check_eq "page cut by $1: resumes after the last line shown" "1-$n" "$(page_last)"
	check_match "page cut by $1: says where the log is cut" \
		"line $n x*</span>.<span class=\"line system log-cut\" id=\"log-cut\">The log is cut here" \
		"$(tr '\n' '.' <"$T/body" | grep -o "line $n x*</span>.<span [^>]*>The log is cut here")"
	rcli del "skiff:log:$BIG" >/dev/null
done
check_eq "page cut by lines: shows 20000 lines" "20000" "$(last_line)"

stop_redis
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/down.git","slug":"down"}'
check_error "create with Redis down" 503 redis_unavailable
echo "info: create with Redis down answered in $ELAPSED_MS ms"
check_eq "create with Redis down: answered within 5 s" "yes" "$([ "$ELAPSED_MS" -lt 5000 ] && echo yes || echo "no: ${ELAPSED_MS} ms")"
req skiff-status GET "/api/deployments/$ID"
check_error "status with Redis down" 503 redis_unavailable
check_eq "status with Redis down: answered within 5 s" "yes" "$([ "$ELAPSED_MS" -lt 5000 ] && echo yes || echo "no: ${ELAPSED_MS} ms")"
req skiff-status GET /api/projects
check_error "project list with Redis down" 503 redis_unavailable
req skiff-status GET /healthz
check_eq "healthz with Redis down: 503" "503" "$STATUS"
check_eq "healthz with Redis down: JSON" "application/json" "$(hdr Content-Type)"
check_eq "healthz with Redis down: unavailable" "unavailable" "$(jget status)"
check_eq "healthz with Redis down: the store is fine" "ok" "$(jget store)"

# a Redis that accepts connections but never answers (stopped with SIGSTOP)
start_redis
kill -STOP "$REDIS_PID"
export SKIFF_REDIS_TIMEOUT_MS=1000
req skiff-create POST /api/projects '{"gitURL":"https://github.com/o/hung.git","slug":"hung"}'
check_error "create with Redis hung" 503 redis_unavailable
echo "info: create with Redis hung answered in $ELAPSED_MS ms (redis_timeout_ms 1000)"
check_eq "create with Redis hung: answered within 5 s" "yes" "$([ "$ELAPSED_MS" -lt 5000 ] && echo yes || echo "no: ${ELAPSED_MS} ms")"
req skiff-status GET /healthz
check_eq "healthz with Redis hung: 503" "503" "$STATUS"
check_eq "healthz with Redis hung: answered within 5 s" "yes" "$([ "$ELAPSED_MS" -lt 5000 ] && echo yes || echo "no: ${ELAPSED_MS} ms")"
unset SKIFF_REDIS_TIMEOUT_MS
kill -CONT "$REDIS_PID"
req skiff-status GET /healthz
check_eq "healthz after Redis recovers: 200" "200" "$STATUS"

# ---- git URLs are checked after name resolution (allow_local_git = false) -----------------
BEFORE=$(snapshot)
(export SKIFF_ALLOW_LOCAL_GIT=false
 req skiff-create POST /api/projects '{"gitURL":"https://nowhere.invalid/x.git"}'
 echo "$STATUS" >"$T/status")
STATUS=$(cat "$T/status")
check_error "a host that does not resolve" 400 invalid_git_url
check_match "... says so" 'nowhere.invalid does not resolve' "$(jget error.message)"
# this machine's own name resolves to one of its addresses (loopback or a private one)
me=$(hostname)
if printf '%s' "$me" | grep -Eq '^[A-Za-z0-9-]+$' &&
	getent ahosts "$me" | awk '{ print $1 }' |
	grep -Eq '^(127\.|10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|::1$|f[cd])'; then
	(export SKIFF_ALLOW_LOCAL_GIT=false
	 req skiff-create POST /api/projects "{\"gitURL\":\"https://$me/x.git\"}"
	 echo "$STATUS" >"$T/status")
	STATUS=$(cat "$T/status")
	check_error "a name resolving to this machine ($me)" 400 invalid_git_url
	check_match "... names the host, not the address it resolved to" \
		'resolves to an address of this machine or a private network' "$(jget error.message)"
else
	echo "info: $me does not resolve to a local address here; that case is in check_validate"
fi
check_eq "refused URLs wrote nothing" "$BEFORE" "$(snapshot)"

# ---- rate limits (skiff.conf; SKIFF_* overrides here): 429, Retry-After, a JSON error --------
limited() { # ADDR PROGRAM METHOD PATH [BODY]: one request with the limits on, from ADDR
	a=$1
	shift
	(export REMOTE_ADDR="$a" SKIFF_RATE_LIMIT_CREATE=3 SKIFF_RATE_LIMIT_DEPLOY=100 \
		SKIFF_RATE_LIMIT_DEPLOY_PROJECT=2 SKIFF_RATE_LIMIT_WINDOW=600
	 req "$@"
	 echo "$STATUS" >"$T/status")
	STATUS=$(cat "$T/status")
}
for n in 1 2 3; do
	limited 192.0.2.10 skiff-create POST /api/projects "{\"gitURL\":\"https://github.com/rate/r$n\"}"
	check_eq "creation $n of 3 from one address: 202" 202 "$STATUS"
done
n_projects=$(rcli zcard skiff:projects)
limited 192.0.2.10 skiff-create POST /api/projects '{"gitURL":"https://github.com/rate/r4"}'
check_error "the fourth creation from that address" 429 rate_limited
check_match "... says which limit" 'project creations from this address' "$(jget error.message)"
check_match "... with Retry-After in seconds, at most the window" '^([1-9][0-9]{0,2})$' \
	"$(hdr Retry-After)"
check_eq "... and creates nothing" "$n_projects" "$(rcli zcard skiff:projects)"
check_eq "... no project of that repository" "" "$(rcli --scan --pattern 'skiff:project:r4*')"
limited 192.0.2.11 skiff-create POST /api/projects '{"gitURL":"https://github.com/rate/r5"}'
check_eq "another address still creates: 202" 202 "$STATUS"
limited 192.0.2.10 skiff-create POST /api/projects/r5/deployments '{}'
check_eq "redeploy 1 of 2 of a project: 202" 202 "$STATUS"
limited 192.0.2.12 skiff-create POST /api/projects/r5/deployments '{}'
check_eq "redeploy 2 of 2 of a project, from another address: 202" 202 "$STATUS"
limited 192.0.2.13 skiff-create POST /api/projects/r5/deployments '{}'
check_error "a third redeploy of that project, from any address" 429 rate_limited
check_match "... names the project limit" 'redeploys of this project' "$(jget error.message)"
limited 192.0.2.13 skiff-create POST /api/projects/r1/deployments '{}'
check_eq "another project still redeploys: 202" 202 "$STATUS"
check_match "the counters expire with the window" '^[1-9][0-9]*$' \
	"$(rcli ttl skiff:rate:create:addr:192.0.2.10)"
# 0 turns a limit off
(export REMOTE_ADDR=192.0.2.10 SKIFF_RATE_LIMIT_CREATE=0
 req skiff-create POST /api/projects '{"gitURL":"https://github.com/rate/r6"}'
 echo "$STATUS" >"$T/status")
check_eq "rate_limit_create = 0: no limit" 202 "$(cat "$T/status")"

# no program crashed on any request: every answer above had a Status line
check_nomatch "no sanitizer or crash reports" "AddressSanitizer|runtime error|Segmentation" "$(cat "$T/stderr.log")"

finish
