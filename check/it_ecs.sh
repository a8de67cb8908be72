#!/bin/sh
# it_ecs.sh — the ECS launcher against the stand-in endpoint (check/s3/endpoint.mjs), which
# verifies every SigV4 signature and, on RunTask, starts skiff-build as a local process with
# exactly the task definition's and the container overrides' environment, the way Fargate
# starts the container. The task gets the API's URL and a build token, nothing of Redis or the
# store: skiff-build --remote speaks the deploy protocol to skiff-create behind lighttpd, and
# its Redis settings point at a trap that records any connection. A build launched this way
# ends ready with its files in s3rver and is served by skiff-serve; its build token works for
# its own deployment only and only while its build lives; failures[], throttling, a crashing
# container, a task that never starts, cancel (StopTask) and RunTask pacing are each observed
# from the outside. ECS is tested here only against this stand-in, never against AWS.
. "$(dirname "$0")/lib.sh"
. "$ROOT/check/s3/peers.sh"

peers_install
peers_tools
start_redis
unset SKIFF_REDIS_SOCKET # the stand-in passes its own environment on to nothing, but be sure
mkdir -p "$T/work" "$T/cache" "$T/task-work"
# the Redis trap: a unix socket and a TCP port that record every connection in $T/trap.hits
TRAP_PORT=$(free_port)
python3 -c 'import os, socket, sys, threading
def serve(s):
    while True:
        c, _ = s.accept()
        with open(sys.argv[3], "a") as f:
            f.write("connection\n")
        c.close()
u = socket.socket(socket.AF_UNIX); u.bind(sys.argv[1]); u.listen(16)
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", int(sys.argv[2]))); t.listen(16)
threading.Thread(target=serve, args=(u,), daemon=True).start()
serve(t)' "$T/trap.sock" "$TRAP_PORT" "$T/trap.hits" 2>>"$T/trap.log" &
PIDS="$PIDS $!"
wait_for 10 test -S "$T/trap.sock" || fail "the Redis trap listens"
trap_hits() { wc -l <"$T/trap.hits" 2>/dev/null | tr -d ' ' || echo 0; }
# the trap catches a skiff-build that reaches for Redis (so that 0 below means something)
SKIFF_CONFIG=/dev/null SKIFF_REDIS_SOCKET="$T/trap.sock" SKIFF_REDIS_TIMEOUT_MS=300 \
	timeout 10 "$BIN/skiff-build" aaaaaaaaaaaa >/dev/null 2>&1
check_eq "the Redis trap sees a skiff-build that uses Redis" yes "$([ "$(trap_hits)" -ge 1 ] && echo yes || echo no)"
: >"$T/trap.hits"
# lighttpd with skiff-create: the API the tasks speak the deploy protocol to
STACK_PORT=$(free_port)
SKIFF_LOG_LEVEL=debug sh "$ROOT/scripts/genconf.sh" "$T" "$STACK_PORT" "$(free_port)" >/dev/null ||
	fail "genconf writes the lighttpd configuration"
API="http://localhost:$STACK_PORT"
# the task definition as registered on AWS (doc/aws.md), with the image's entry point
# replaced by the binary under test; its Redis settings (which a real task does not have)
# point at the trap
cat >"$T/taskdef.json" <<JSON
{"family": "skiff-build", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
 "cpu": "1024", "memory": "2048",
 "taskRoleArn": "arn:aws:iam::123456789012:role/skiff-build-task",
 "executionRoleArn": "arn:aws:iam::123456789012:role/skiff-build-execution",
 "containerDefinitions": [{"name": "skiff-build", "image": "skiff-build:test", "essential": true,
   "entryPoint": ["$BIN/skiff-build"],
   "environment": [{"name": "SKIFF_CONFIG", "value": "/dev/null"},
                   {"name": "SKIFF_SANDBOX", "value": "none"},
                   {"name": "SKIFF_WORK_DIR", "value": "$T/task-work"},
                   {"name": "SKIFF_ALLOW_LOCAL_GIT", "value": "true"},
                   {"name": "SKIFF_REDIS_SOCKET", "value": "$T/trap.sock"},
                   {"name": "SKIFF_REDIS_HOST", "value": "127.0.0.1"},
                   {"name": "SKIFF_REDIS_PORT", "value": "$TRAP_PORT"},
                   {"name": "SKIFF_LOG_LEVEL", "value": "debug"}]},
   {"name": "log-router", "image": "fluent-bit:test", "essential": false}]}
JSON
start_endpoint "$T/taskdef.json"
cat >"$T/skiff.conf" <<CONF
redis_socket = $T/redis.sock
store = s3
s3_endpoint = $EP
s3_bucket = $BUCKET
s3_region = us-east-1
s3_prefix = ecs
s3_access_key = $SKIFF_TEST_ACCESS_KEY
s3_secret_key = $SKIFF_TEST_SECRET_KEY
cache_path = $T/cache
work_dir = $T/work
launcher = ecs
auth_disabled = true
allow_local_git = true
domain = localhost
log_level = debug
dashboard_url = $API
# (also here: skiff-create under lighttpd sees only this file)
ecs_endpoint = $EP/
ecs_cluster = skiff-test
ecs_task_definition = skiff-build
ecs_subnets = subnet-0aaa, subnet-0bbb
ecs_security_groups = sg-0ccc
rate_limit_create = 0
rate_limit_deploy = 0
rate_limit_deploy_project = 0
secret_key_file = $T/secret.key
CONF
(umask 077 && head -c 32 /dev/urandom >"$T/secret.key")
export SKIFF_CONFIG="$T/skiff.conf"
export HTTP_ORIGIN="$API" # cgi's requests come from the dashboard's own pages
start_lighttpd || { fail "lighttpd starts"; finish; exit 1; }
export SKIFF_ECS_ENDPOINT="$EP/" SKIFF_ECS_CLUSTER=skiff-test SKIFF_ECS_TASK_DEFINITION=skiff-build
export SKIFF_ECS_SUBNETS="subnet-0aaa, subnet-0bbb" SKIFF_ECS_SECURITY_GROUPS=sg-0ccc
ECSTOOL=$T/ecstool
jget() {
	python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("|"):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" 2>/dev/null
}
body() { sed '1,/^\r*$/d'; }
field() { rcli hget "skiff:deployment:$1" "$2"; }
# project SLUG [SKIFF_JSON]: a repository and a project; prints the first deployment's id
project() {
	r=$T/repo-$1
	mkdir -p "$r"
	git -C "$r" init -q -b main
	echo "<h1>$1 built on ecs</h1>" >"$r/index.html"
	[ -n "${2:-}" ] && printf '%s' "$2" >"$r/skiff.json"
	git -C "$r" add -A && git -C "$r" -c user.email=t@e -c user.name=t commit -qm "$1"
	cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$r\",\"slug\":\"$1\"}" 2>/dev/null |
		body | jget "data|deploymentId"
}
task() { # ARN EXPR: a value of the stand-in's view of the task (python expression over t)
	stat "[t for t in s['tasks'] if t['taskArn'] == '$1'][0]$2"
}
task_stopped() { [ "$(task "$1" '["lastStatus"]')" = STOPPED ]; }
in_build_phase() { # ID: waits until deployment ID's build runs its commands
	wait_for 30 sh -c "[ \"\$(redis-cli -s $T/redis.sock hget skiff:deployment:$1 phase)\" = build ]" ||
		fail "the slow build did not reach its build phase"
}

# ---- the RunTask request -----------------------------------------------------------------
req=$("$ECSTOOL" request aaaaaaaaaaaa)
check_eq "overrides carry only the deployment id, the API, a build token and the build's limits" \
	"SKIFF_API_URL SKIFF_BUILD_TIMEOUT SKIFF_BUILD_TOKEN SKIFF_DEPLOYMENT_ID SKIFF_MAX_FILES SKIFF_MAX_FILE_MB SKIFF_MAX_OUTPUT_MB" \
	"$(echo "$req" | python3 -c 'import json, sys
r = json.load(sys.stdin)
print(" ".join(sorted(e["name"] for e in r["overrides"]["containerOverrides"][0]["environment"])))')"
check_nomatch "no credential in the request" "$SKIFF_TEST_SECRET_KEY|$SKIFF_TEST_ACCESS_KEY" "$req"
check_nomatch "... and nothing of Redis or the store" "REDIS|SKIFF_S3|SKIFF_STORE|$EP" "$req"
check_eq "... the task runs skiff-build --remote" '["--remote", "aaaaaaaaaaaa"]' \
	"$(echo "$req" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["overrides"]["containerOverrides"][0]["command"]))')"

# ---- a build on ECS, end to end ---------------------------------------------------------
id1=$(project web)
check_match "a deployment is queued" '^[a-z2-7]{12}$' "$id1"
"$ECSTOOL" launch "$id1" 2>>"$T/ecstool.log"
check_eq "RunTask succeeds" 0 $?
arn=$(field "$id1" task_arn)
check_match "the task ARN is in the deployment record" "^arn:aws:ecs:us-east-1:[0-9]+:task/skiff-test/[0-9a-f]+$" "$arn"
check_eq "... with the launcher" ecs "$(field "$id1" launcher)"
check_eq "RunTask asked for Fargate" FARGATE "$(stat 's["last_runtask"]["launchType"]')"
check_match "... with the deployment id and a hash of the parameters as client token" "^$id1-[0-9a-f]{16}\$" \
	"$(stat 's["last_runtask"]["clientToken"]')"
check_eq "... started by skiff" skiff "$(stat 's["last_runtask"]["startedBy"]')"
check_eq "... in the configured subnets" "['subnet-0aaa', 'subnet-0bbb'] ['sg-0ccc'] DISABLED" \
	"$(stat '" ".join(str(s["last_runtask"]["networkConfiguration"]["awsvpcConfiguration"][k]) for k in ("subnets", "securityGroups", "assignPublicIp"))')"
"$ECSTOOL" wait 90 "$id1" 2>>"$T/ecstool.log"
check_eq "the build launched on ECS ends ready" ready "$(field "$id1" state)"
# the build records ready before its process (the task) has exited: archive, cleanup, exit
wait_for 20 task_stopped "$arn"
check_eq "the task ran and exited 0" "STOPPED 0" \
	"$(task "$arn" '["lastStatus"]') $(task "$arn" '["containers"][1]["exitCode"]')"
check_eq "... ECS listing a sidecar before the build container" "log-router skiff-build" \
	"$(task "$arn" '["containers"][0]["name"]') $(task "$arn" '["containers"][1]["name"]')"
check_eq "the build needed no AWS credentials (the task role needs nothing of S3)" 0 "$(stat 's["creds_fetched"]')"
check_eq "... and never connected to Redis" 0 "$(trap_hits)"
check_match "its log came through the protocol, as a local build's" "Cloning file://.*Checked out commit.*Collected 1 files" \
	"$(cgi skiff-status GET "/api/deployments/$id1/log" 2>/dev/null | tr '\n' ' ')"
check_eq "... with the phases and the commit recorded" "yes $(git -C "$T/repo-web" rev-parse HEAD)" \
	"$([ -n "$(field "$id1" started)" ] && [ -n "$(field "$id1" cloned)" ] && echo yes) $(field "$id1" commit)"
check_eq "... and it is production" "$id1" "$(rcli hget skiff:project:web current)"
check_eq "... with what it uploaded recorded, as a local build's" "$(wc -c <"$T/repo-web/index.html" | tr -d ' ') 1" \
	"$(field "$id1" bytes_uploaded) $(field "$id1" files)"
"$T/s3tool" head "manifests/$id1.json" >"$T/head" 2>>"$T/tool.log"
check_match "its manifest is in the bucket" "application/json" "$(cat "$T/head")"
out=$(env REQUEST_METHOD=GET REQUEST_URI=/ HTTP_HOST=web.localhost GATEWAY_INTERFACE=CGI/1.1 \
	SKIFF_XSENDFILE=false "$BIN/skiff-serve" 2>>"$T/serve.log" | tr -d '\r' | sed '1,/^$/d')
check_eq "skiff-serve serves it from the bucket" "<h1>web built on ecs</h1>" "$out"
n=$(stat 'len(s["tasks"])')
"$ECSTOOL" launch "$id1" 2>>"$T/ecstool.log"
check_eq "launching the same deployment again starts no second task" "$n $arn" \
	"$(stat 'len(s["tasks"])') $(field "$id1" task_arn)"
check_eq "no request was refused for its signature" 0 "$(stat 's["rejected_signature"] + s["rejected_payload"]')"

# ---- a remote build's failure and its site configuration, as a local build records them ------
id=$(project failing '{"buildCommand":"echo about to fail; exit 3","outputDirectory":"."}')
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
"$ECSTOOL" wait 60 "$id" 2>>"$T/ecstool.log"
check_eq "a build command that fails on ECS: error, with its exit code" "error 3" \
	"$(field "$id" state) $(field "$id" exit_code)"
log=$(cgi skiff-status GET "/api/deployments/$id/log" 2>/dev/null)
check_match "... its output and the error in the log, in order" "about to fail.*Error: .*exit.* 3.*==> error" \
	"$(echo "$log" | tr '\n' ' ')"
check_eq "... production untouched" "$id1" "$(rcli hget skiff:project:web current)"
r=$T/repo-rules
mkdir -p "$r"
git -C "$r" init -q -b main
echo '<h1>rules</h1>' >"$r/index.html"
echo '<h1>about</h1>' >"$r/about.html"
printf '/old /about 301\n' >"$r/_redirects"
printf '{"cleanUrls": true}' >"$r/skiff.json"
git -C "$r" add -A && git -C "$r" -c user.email=t@e -c user.name=t commit -qm rules
id=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$r\",\"slug\":\"rules\"}" 2>/dev/null | body | jget "data|deploymentId")
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
"$ECSTOOL" wait 60 "$id" 2>>"$T/ecstool.log"
check_eq "a build with _redirects and skiff.json on ECS ends ready" ready "$(field "$id" state)"
"$T/s3tool" manifest "$id" >"$T/manifest" 2>>"$T/tool.log"
check_eq "... its manifest: cleanUrls from skiff.json, the _redirects rule, neither file served" \
	"True 1 /about False False" "$(python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
c = m["config"]
print(c["cleanUrls"], len(c["redirects"]), c["redirects"][0].get("to", c["redirects"][0].get("destination")),
      "/_redirects" in m["files"], "/skiff.json" in m["files"])' "$T/manifest" 2>&1)"
check_match "... with the content type of each file" '"/about.html":\{[^}]*"type":"text/html' "$(cat "$T/manifest")"

# ---- the project's variables reach the remote build through the protocol --------------------
r=$T/repo-vars
mkdir -p "$r"
git -C "$r" init -q -b main
echo '<h1>vars</h1>' >"$r/index.html"
printf '{"buildCommand":"echo greeting=$GREETING context=$SKIFF_CONTEXT","outputDirectory":"."}' >"$r/skiff.json"
git -C "$r" add -A && git -C "$r" -c user.email=t@e -c user.name=t commit -qm vars
id=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$r\",\"slug\":\"vars\",\"env\":[{\"name\":\"GREETING\",\"value\":\"hello-from-the-api\"}]}" 2>/dev/null | body | jget "data|deploymentId")
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
"$ECSTOOL" wait 60 "$id" 2>>"$T/ecstool.log"
check_eq "a project's variable reaches its build on ECS" "ready 1" \
	"$(field "$id" state) $(cgi skiff-status GET "/api/deployments/$id/log" 2>/dev/null | grep -c 'greeting=hello-from-the-api context=production')"

# task_token ARN: the build token the task of ARN was given (as user code in it could read it)
task_token() {
	task "$1" '["overrides"]["containerOverrides"][0]["environment"]' | python3 -c 'import ast, sys
print([e["value"] for e in ast.literal_eval(sys.stdin.read()) if e["name"] == "SKIFF_BUILD_TOKEN"][0])'
}
# as TOKEN METHOD PATH [JSON]: a request to the API with TOKEN; the status into $T/status, the
# body into $T/body
as() {
	curl -sS -o "$T/body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/json' ${4:+--data-binary "$4"} "$API$3" >"$T/status"
}
answer() { echo "$(cat "$T/status") $(jget "error|code" <"$T/body")"; }

# ---- a private repository and a secret variable: the credentials call ----------------------
# the repository behind basic auth (git http-backend), the token set for the project, a secret
# the build prints: the task gets both from the API with its build token, over loopback here
SECRET="sk_live_EcsSecretValue0123456789"
GTOKEN="ghp_EcsRepoTokenValue0123456789abcdef"
printf 'x-access-token:%s\n' "$GTOKEN" >"$T/git-users"
start_git_http "$T/git-users"
r=$T/repo-secret
mkdir -p "$r"
git -C "$r" init -q -b main
echo '<h1>private on ecs</h1>' >"$r/index.html"
printf '{"buildCommand":"echo secret=$API_SECRET plain=$GREETING","outputDirectory":"."}' >"$r/skiff.json"
git -C "$r" add -A && git -C "$r" -c user.email=t@e -c user.name=t commit -qm secret
git clone -q --bare "$r" "$T/gitroot/secret.git"
SURL="http://127.0.0.1:$GIT_HTTP_PORT/git/secret.git"
id=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"$SURL\",\"slug\":\"secret\",\"env\":[{\"name\":\"API_SECRET\",\"value\":\"$SECRET\",\"secret\":true},{\"name\":\"GREETING\",\"value\":\"hi\"}]}" 2>/dev/null | body | jget "data|deploymentId")
cgi skiff-create POST /api/projects/secret/repository/token "{\"token\":\"$GTOKEN\"}" >/dev/null 2>&1
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
sarn=$(field "$id" task_arn)
"$ECSTOOL" wait 60 "$id" 2>>"$T/ecstool.log"
log=$(cgi skiff-status GET "/api/deployments/$id/log" 2>/dev/null)
check_eq "a private repository with a secret variable builds on ECS" ready "$(field "$id" state)"
check_match "... its clone used the project's token" "With the project's access token" "$log"
check_eq "... and its log shows the secret as ***" 1 "$(echo "$log" | grep -c 'secret=\*\*\* plain=hi')"
check_eq "... the task never connected to Redis" 0 "$(trap_hits)"
out=$(env REQUEST_METHOD=GET REQUEST_URI=/ HTTP_HOST=secret.localhost GATEWAY_INTERFACE=CGI/1.1 \
	SKIFF_XSENDFILE=false "$BIN/skiff-serve" 2>>"$T/serve.log" | tr -d '\r' | sed '1,/^$/d')
check_eq "... and its site is served" "<h1>private on ecs</h1>" "$out"
as "$(task_token "$sarn")" POST "/api/deployments/$id/credentials" '{}'
check_eq "once its build ended, its token gets no credentials" "403 build_ended" "$(answer)"
# a second build whose task stays pending: the test speaks for it with its token
id2=$(cgi skiff-create POST /api/projects/secret/deployments '{}' 2>/dev/null | body | jget "data|deploymentId")
fault '{"ecs_pending":1}'
"$ECSTOOL" launch "$id2" 2>>"$T/ecstool.log"
tok2=$(task_token "$(field "$id2" task_arn)")
as "$tok2" POST "/api/deployments/$id2/credentials" '{}'
check_eq "before start, no credentials" "409 not_started" "$(answer)"
as "$tok2" POST "/api/deployments/$id2/start" '{}'
check_eq "start says there are credentials to fetch, and carries no secret" "200 True" \
	"$(cat "$T/status") $(jget credentials <"$T/body")"
check_nomatch "... (start's answer)" "$SECRET|$GTOKEN" "$(cat "$T/body")"
as "$tok2" POST "/api/deployments/$id2/credentials" '{}'
check_eq "the credentials call over loopback answers its own token" 200 "$(cat "$T/status")"
check_eq "... with the secret's value and the repository token" "API_SECRET $SECRET $GTOKEN" \
	"$(python3 -c 'import json, sys
a = json.load(open(sys.argv[1]))
print(" ".join(v["name"] + " " + v["value"] for v in a["variables"]), a["repository"]["token"])' "$T/body")"
as "$(task_token "$sarn")" POST "/api/deployments/$id2/credentials" '{}'
check_eq "another deployment's build token gets 403" "403 token_scope" "$(answer)"
as "$tok2" POST "/api/deployments/$id/credentials" '{}'
check_eq "... and this one gets nothing of another deployment" "403 token_scope" "$(answer)"
cred() { # REMOTE_ADDR HTTPS: the credentials call as the web server hands it to skiff-create
	(
		export HTTP_AUTHORIZATION="Bearer $tok2" REMOTE_ADDR="$1"
		[ -z "$2" ] || export HTTPS="$2"
		cgi skiff-create POST "/api/deployments/$id2/credentials" '{}' 2>>"$T/create.log" >"$T/resp"
	)
	st=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$T/resp")
	printf '%s %s' "${st:-200}" "$(body <"$T/resp" | jget "error|code")"
}
check_eq "over plain HTTP from another host: 403" "403 insecure_channel" "$(cred 10.0.0.5 '')"
check_nomatch "... without the secret" "$SECRET|$GTOKEN" "$(cat "$T/resp")"
check_eq "over TLS (HTTPS=on) from another host: answered" "200 " "$(cred 10.0.0.5 on)"
as "$tok2" POST "/api/deployments/$id2/progress" '{"phase":"install"}'
check_eq "the build moves on to its install command" 200 "$(cat "$T/status")"
as "$tok2" POST "/api/deployments/$id2/credentials" '{}'
check_eq "after the clone, its own token gets no credentials: its commands may hold it" \
	"409 not_cloning" "$(answer)"
check_nomatch "... without the secret or the repository token" "$SECRET|$GTOKEN" "$(cat "$T/body")"
as "$tok2" POST "/api/deployments/$id2/fail" '{"error":"the test is done with it"}'
as "$tok2" POST "/api/deployments/$id2/credentials" '{}'
check_eq "after its build ended: 403" "403 build_ended" "$(answer)"
# a fork's pull request: start says there is nothing, and the call has nothing either
id3=$(cgi skiff-create POST /api/projects/secret/deployments '{}' 2>/dev/null | body | jget "data|deploymentId")
rcli hset "skiff:deployment:$id3" fork 1 >/dev/null
fault '{"ecs_pending":1}'
"$ECSTOOL" launch "$id3" 2>>"$T/ecstool.log"
tok3=$(task_token "$(field "$id3" task_arn)")
as "$tok3" POST "/api/deployments/$id3/start" '{}'
check_eq "a fork's build: start says no credentials" "200 False" "$(cat "$T/status") $(jget credentials <"$T/body")"
as "$tok3" POST "/api/deployments/$id3/credentials" '{}'
check_eq "... and the call hands over nothing" "200 [] None" "$(cat "$T/status") $(python3 -c 'import json, sys
a = json.load(open(sys.argv[1])); print(a["variables"], a["repository"])' "$T/body")"
as "$tok3" POST "/api/deployments/$id3/fail" '{"error":"done"}'
# an ssh repository's host key, seen by the task's clone on first use, is pinned through the API
# while the build is in its clone phase, as a local build pins it
id4=$(cgi skiff-create POST /api/projects '{"gitURL":"ssh://git@127.0.0.1:1/pin.git","slug":"sshpin"}' 2>/dev/null | body | jget "data|deploymentId")
fault '{"ecs_pending":1}'
"$ECSTOOL" launch "$id4" 2>>"$T/ecstool.log"
tok4=$(task_token "$(field "$id4" task_arn)")
as "$tok4" POST "/api/deployments/$id4/start" '{}'
FP1="SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
FP2="SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"
as "$tok4" POST "/api/deployments/$id4/progress" '{"hostKeyType":"ssh-ed25519","hostKey":"'"$FP1"'"}'
check_eq "the host key a task's clone saw is pinned" "200 True" "$(cat "$T/status") $(jget pinned <"$T/body")"
check_eq "... for the URL's host, as the API shows it" "127.0.0.1:1 $FP1" \
	"$(cgi skiff-status GET /api/projects/sshpin/repository 2>/dev/null | body | python3 -c 'import json, sys
h = json.load(sys.stdin)["data"]["hostKey"]; print(h["host"], h["fingerprint"])')"
as "$tok4" POST "/api/deployments/$id4/progress" '{"hostKeyType":"ssh-ed25519","hostKey":"'"$FP2"'"}'
check_eq "another key for that host is refused" "409 host_key_changed" "$(answer)"
as "$tok4" POST "/api/deployments/$id4/progress" '{"hostKeyType":"ssh-ed25519"}'
check_eq "... a type without a key too" "400 invalid_host_key" "$(answer)"
as "$tok4" POST "/api/deployments/$id4/progress" '{"phase":"install","extra":1}'
check_eq "progress with an unknown field: 400" "400 unknown_field" "$(answer)"
check_eq "... and the phase is still the clone" clone "$(field "$id4" phase)"
as "$tok4" POST "/api/deployments/$id4/files" '{"files":{},"extra":1}'
check_eq "files with an unknown field: 400" "400 unknown_field" "$(answer)"
as "$tok4" POST "/api/deployments/$id4/progress" '{"phase":"install"}'
rcli hdel skiff:project:sshpin:repo host host_key host_key_type host_key_pinned >/dev/null
as "$tok4" POST "/api/deployments/$id4/progress" '{"hostKeyType":"ssh-ed25519","hostKey":"'"$FP2"'"}'
check_eq "once the repository's code may run (phase install), nothing is pinned" "409 not_cloning" "$(answer)"
as "$tok4" POST "/api/deployments/$id4/fail" '{"error":"done"}'

# the builder's own refusal: an API URL of plain http to a host that is loopback only by what
# its name resolves to (curl resolves *.localhost here), through a relay that records every
# request and hands it on to lighttpd as the dashboard's host, from loopback, so that the API
# itself would answer the credentials call: the builder must not make it
RELAY_PORT=$(free_port)
python3 -c 'import http.client, http.server, sys
port, up, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
class Relay(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def relay(self):
        with open(log, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
        n = int(self.headers.get("Content-Length") or 0)
        skip = ("host", "connection", "expect", "content-length")
        h = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        h["Host"] = "localhost:%d" % up
        c = http.client.HTTPConnection("127.0.0.1", up, timeout=60)
        c.request(self.command, self.path, self.rfile.read(n) if n else None, h)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = do_PUT = relay
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Relay).serve_forever()' \
	"$RELAY_PORT" "$STACK_PORT" "$T/relay.requests" 2>>"$T/relay.log" &
PIDS="$PIDS $!"
wait_for 10 curl -so /dev/null "http://127.0.0.1:$RELAY_PORT/api/whoami" || fail "the relay listens"
id5=$(cgi skiff-create POST /api/projects/secret/deployments '{}' 2>/dev/null | body | jget "data|deploymentId")
SKIFF_ECS_API_URL="http://api.localhost:$RELAY_PORT" "$ECSTOOL" launch "$id5" 2>>"$T/ecstool.log"
"$ECSTOOL" wait 60 "$id5" 2>>"$T/ecstool.log"
check_eq "a build whose API URL is plain http to a name, not a loopback address, fails" error \
	"$(field "$id5" state)"
check_match "... its log says why" "SKIFF_API_URL is plain http to another host" \
	"$(cgi skiff-status GET "/api/deployments/$id5/log" 2>/dev/null | tr '\n' ' ')"
check_match "... having spoken the protocol through the relay" "POST /api/deployments/$id5/start" \
	"$(cat "$T/relay.requests")"
check_nomatch "... but never asked for the credentials" "/credentials" "$(cat "$T/relay.requests")"

# the secret and the token nowhere in clear: Redis, logs, the API's answers
check_nomatch "neither secret nor token is in Redis" "$SECRET|$GTOKEN" "$(redis_text)"
check_eq "... nor in any log (the tasks' and the API's own)" "" \
	"$(grep -rlE -- "$SECRET|$GTOKEN" "$T"/*.log "$T"/aws/*.log 2>/dev/null)"
api=""
for p in /api/projects/secret /api/projects/secret/env /api/projects/secret/repository \
	/api/projects/secret/deployments "/api/deployments/$id" "/api/deployments/$id/log" \
	"/api/deployments/$id2/log"; do
	api="$api$(cgi skiff-status GET "$p" 2>/dev/null)"
done
check_match "... nor in the API's answers (read: $(echo "$api" | grep -c .) lines)" "secret=\*\*\*" "$api"
check_nomatch "... (none of them holds either)" "$SECRET|$GTOKEN" "$api"

# ---- a 200 with failures[] is a failure ----------------------------------------------------
id=$(project badattribute)
fault '{"ecs_failures":1,"ecs_failure_reason":"ATTRIBUTE"}'
"$ECSTOOL" launch "$id" 2>"$T/err" && fail "a RunTask with failures[] counted as launched"
check_eq "failures[] marks the deployment error" error "$(field "$id" state)"
check_match "... with ECS's reason" "ATTRIBUTE" "$(field "$id" error)"

# ---- a temporary capacity shortage is waited out -------------------------------------------
id=$(project nocapacity)
r0=$(stat 's["ecs"]["RunTask"]')
fault '{"ecs_failures":2,"ecs_failure_reason":"RESOURCE:MEMORY"}'
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
check_eq "no capacity (RESOURCE:MEMORY) is not a failure: the build stays queued" "0 queued" \
	"$? $(field "$id" state)"
check_match "... saying so in its log" "no ECS capacity for the build right now \(RESOURCE:MEMORY" \
	"$(cgi skiff-status GET "/api/deployments/$id/log" 2>/dev/null)"
"$ECSTOOL" wait 60 "$id" 2>>"$T/ecstool.log"
check_eq "... and is launched again until it runs: ready" ready "$(field "$id" state)"
check_eq "... after three RunTasks" $((r0 + 3)) "$(stat 's["ecs"]["RunTask"]')"
# (ecstool launch and ecstool wait are two processes, as a dispatcher before and after a
# restart: the second mints a new build token, so its RunTask is a new request)
check_eq "... the retries of one process with the same client token and parameters" 1 \
	"$(stat 'len(set(t for t in s["runtask_tokens"][-2:]))')"
id=$(project nevercapacity)
fault '{"ecs_failures":1000,"ecs_failure_reason":"Capacity is unavailable at this time. Please try again later or in a different availability zone"}'
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
SKIFF_ECS_START_TIMEOUT=3 "$ECSTOOL" wait 30 "$id" 2>>"$T/ecstool.log"
fault '{"ecs_failures":0}'
check_eq "a shortage that lasts beyond ecs_start_timeout fails the build" error "$(field "$id" state)"
check_match "... saying why" "did not start within 3 s: ECS had no capacity" "$(field "$id" error)"

# ---- Fargate Spot: a capacity provider strategy instead of a launch type ---------------------
id=$(project spot)
SKIFF_ECS_CAPACITY_PROVIDERS="FARGATE_SPOT:3, FARGATE:1:1" "$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
check_eq "RunTask with ecs_capacity_providers asks for the strategy, no launch type" \
	"FARGATE_SPOT:3:0 FARGATE:1:1 None" \
	"$(stat '" ".join("%s:%d:%d" % (c["capacityProvider"], c["weight"], c["base"]) for c in s["last_runtask"]["capacityProviderStrategy"]) + " " + str(s["last_runtask"].get("launchType"))')"
"$ECSTOOL" wait 90 "$id" 2>>"$T/ecstool.log"
check_eq "... and the build on Spot ends ready" ready "$(field "$id" state)"
SKIFF_ECS_CAPACITY_PROVIDERS="FARGATE_SPOT:x" "$ECSTOOL" request "$id" >/dev/null 2>"$T/err" &&
	fail "a malformed ecs_capacity_providers was accepted"
check_match "... a malformed one is refused at start" "ecs_capacity_providers: \"FARGATE_SPOT:x\"" "$(cat "$T/err")"

# ---- throttling is retried -----------------------------------------------------------------
id=$(project throttled)
f0=$(stat 's["faults_served"]')
fault '{"ecs_throttle":3}'
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
check_eq "RunTask succeeds after ThrottlingException" "0 $((f0 + 3))" "$? $(stat 's["faults_served"]')"
"$ECSTOOL" wait 90 "$id" 2>>"$T/ecstool.log"
check_eq "... and the build ends ready" ready "$(field "$id" state)"

# ---- a dispatcher clock an hour behind: "Signature expired", corrected by ECS's Date ---------
# (ECS's clock only: the task's S3 requests must not meet a server clock that jumps back)
id=$(project skewed)
k0=$(stat 's["rejected_skew"]')
fault '{"clock_offset_s":3600,"clock_offset_for":"ecs"}'
"$ECSTOOL" launch "$id" 2>"$T/skew.log"
check_eq "RunTask from a skewed clock succeeds" 0 $?
check_eq "... after one InvalidSignatureException (Signature expired)" $((k0 + 1)) "$(stat 's["rejected_skew"]')"
fault '{"clock_offset_s":0,"clock_offset_for":"all"}'
"$ECSTOOL" wait 90 "$id" 2>>"$T/ecstool.log"
check_eq "... and the build ends ready" ready "$(field "$id" state)"

# ---- a container that dies before the build finishes ---------------------------------------
id=$(project crash)
fault '{"ecs_crash":1}'
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
"$ECSTOOL" wait 30 "$id" 2>>"$T/ecstool.log"
check_eq "a task that stopped early marks the deployment error" error "$(field "$id" state)"
check_match "... with the stop reason and exit code" "Essential container in task exited.*exit code 1" "$(field "$id" error)"
check_eq "... and the exit code field" 1 "$(field "$id" exit_code)"

# ---- a build that never starts ----------------------------------------------------------------
id=$(project pending)
fault '{"ecs_pending":1}'
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
parn=$(field "$id" task_arn)
SKIFF_ECS_START_TIMEOUT=2 "$ECSTOOL" wait 30 "$id" 2>>"$T/ecstool.log"
check_eq "a build that never starts is marked error" error "$(field "$id" state)"
check_match "... saying so" "did not start within 2 s" "$(field "$id" error)"
check_eq "... and its task is stopped" "STOPPED UserInitiated" "$(task "$parn" '["desiredStatus"]') $(task "$parn" '["stopCode"]')"

# ---- cancel stops the task ------------------------------------------------------------------
id=$(project slow '{"buildCommand":"sleep 60","outputDirectory":"."}')
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
carn=$(field "$id" task_arn)
in_build_phase "$id"
cgi skiff-create POST "/api/deployments/$id/cancel" '{}' >/dev/null 2>&1
"$ECSTOOL" wait 30 "$id" 2>>"$T/ecstool.log"
check_eq "a canceled build stays canceled" canceled "$(field "$id" state)"
check_eq "... and its task was stopped" "STOPPED" "$(task "$carn" '["desiredStatus"]')"
wait_for 20 sh -c "curl -fsS $EP/__admin/stats | grep -q '\"lastStatus\":\"STOPPED\"'"
check_match "... by StopTask or by the build itself" "UserInitiated|EssentialContainerExited" "$(task "$carn" '["stopCode"]')"

# ---- the build token: its own deployment, while its build lives ------------------------------
id=$(project tokenslow '{"buildCommand":"echo built; sleep 60","outputDirectory":"."}')
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
tarn=$(field "$id" task_arn)
in_build_phase "$id"
tok=$(task_token "$tarn")
check_match "the task got a build token" '^skiffbuild_[a-z2-7]{40}$' "$tok"
check_eq "... stored only as its hash" "0 1" \
	"$(rcli --scan --pattern '*' | grep -c -- "$tok") $(rcli exists "skiff:buildtoken:$(printf '%s' "$tok" | sha256sum | cut -c1-64)")"
as "$tok" POST /api/projects/web/deployments '{"files":{"/index.html":"'"$(printf x | sha256sum | cut -c1-64)"'"}}'
check_eq "a stolen build token cannot deploy another project" "403 token_scope" "$(answer)"
as "$tok" POST /api/projects/tokenslow/deployments '{}'
check_eq "... nor create a deployment of its own project" "403 token_scope" "$(answer)"
as "$tok" POST /api/projects '{"gitURL":"https://example.com/x.git"}'
check_eq "... nor a project" "403 token_scope" "$(answer)"
as "$tok" POST "/api/deployments/$id1/finish" '{}'
check_eq "... nor finish another deployment" "403 token_scope" "$(answer)"
as "$tok" POST "/api/deployments/$id1/fail" '{"error":"x"}'
check_eq "... nor fail one" "403 token_scope" "$(answer)"
as "$tok" POST "/api/deployments/$id/cancel" '{}'
check_eq "... nor cancel its own (it only uploads, logs, finishes or fails)" "403 token_scope" "$(answer)"
as "$tok" DELETE /api/projects/tokenslow ''
check_eq "... nor delete its project" "403 token_scope" "$(answer)"
as "skiffbuild_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" POST "/api/deployments/$id/log" '{"lines":[]}'
check_eq "a build token never issued is refused" "401 invalid_token" "$(answer)"
batch='{"lines":[{"seq":1000000,"stream":"stdout","text":"a retried line"},{"seq":1000001,"stream":"system","text":"and its neighbour"}]}'
as "$tok" POST "/api/deployments/$id/log" "$batch"
r1="$(cat "$T/status") $(jget appended <"$T/body")"
as "$tok" POST "/api/deployments/$id/log" "$batch"
check_eq "a log batch sent twice by its build token is appended once" "200 2 200 0" \
	"$r1 $(cat "$T/status") $(jget appended <"$T/body")"
check_eq "... and appears once in the log" 1 \
	"$(cgi skiff-status GET "/api/deployments/$id/log" 2>/dev/null | grep -c 'a retried line')"
check_eq "... with the builder's own lines (system) also taken from a build token" 1 \
	"$(cgi skiff-status GET "/api/deployments/$id/log" 2>/dev/null | grep -c 'and its neighbour')"
check_match "... after the build's own output" "built" "$(cgi skiff-status GET "/api/deployments/$id/log" 2>/dev/null)"
rcli del "skiff:lease:$id" >/dev/null
as "$tok" POST "/api/deployments/$id/progress" '{}'
check_eq "once the build's lease expired its token is refused" "401 build_token_expired" "$(answer)"
"$ECSTOOL" wait 30 "$id" 2>>"$T/ecstool.log"
check_eq "... and the build, refused too, ends in error" error "$(field "$id" state)"
as "$tok" POST "/api/deployments/$id/log" '{"lines":[{"seq":2000000,"stream":"stdout","text":"late"}]}'
check_eq "after the build ended its token is refused" "403 build_ended" "$(answer)"
as "$tok" POST "/api/deployments/$id/finish" '{}'
check_eq "... also to finish" "403 build_ended" "$(answer)"
wait_for 20 task_stopped "$tarn"
# the finished web build's token: spent with its deployment
as "$(task_token "$arn")" POST "/api/deployments/$id1/log" '{"lines":[{"seq":9000000,"stream":"stdout","text":"x"}]}'
check_eq "the token of a build that ended ready is refused" "403 build_ended" "$(answer)"

# ---- a remote build's upload pins its blobs against the store sweep (lib/gc.h) -------------
# driven by hand with the task's token while the task sleeps in its build phase
id=$(project pinslow '{"buildCommand":"sleep 60","outputDirectory":"."}')
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
parn=$(field "$id" task_arn)
in_build_phase "$id"
ptok=$(task_token "$parn")
rcli set skiff:gc:sweep it-ecs-sweep PX 4000 >/dev/null
t0=$(date +%s%N)
as "$ptok" POST "/api/deployments/$id/progress" '{"phase":"upload"}'
t1=$(date +%s%N)
check_eq "a remote build entering its upload while a sweep runs is not held back" "200 yes" \
	"$(cat "$T/status") $([ $(((t1 - t0) / 1000000)) -lt 2000 ] && echo yes || echo "no: $(((t1 - t0) / 1000000)) ms")"
rcli del skiff:gc:sweep >/dev/null
printf 'a blob the build relies on\n' >"$T/pinned.txt"
phash=$(sha256sum <"$T/pinned.txt" | cut -c1-64)
as "$ptok" POST "/api/deployments/$id/files" '{"files":{"/index.html":"'"$phash"'"}}'
check_eq "its files call pins the blobs it names, stored or not" "200 $phash" \
	"$(cat "$T/status") $(rcli smembers "skiff:gc:pin:$id")"
check_eq "... with a deadline" 1 "$(rcli zscore skiff:gc:pins "$id" | grep -c .)"
curl -sS -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $ptok" \
	-H 'Content-Type: application/octet-stream' --data-binary @"$T/pinned.txt" "$API/api/deployments/$id/blobs/$phash" >"$T/status"
check_eq "... and the blob it then sends is stored" 201 "$(cat "$T/status")"
"$BIN/skiff-dispatch" --gc-once >"$T/gc-pin.log" 2>&1
check_match "a sweep during the upload keeps the pinned blob" "gc swept .* pinned=1 " "$(cat "$T/gc-pin.log")"
check_eq "... which is still in the bucket" "27 application/octet-stream" \
	"$("$T/s3tool" head "blobs/$(echo "$phash" | cut -c1-2)/$phash" 2>>"$T/tool.log")"
as "$ptok" POST "/api/deployments/$id/fail" '{"error":"given up by the test"}'
check_eq "the build's fail drops its pin" "200 0 " \
	"$(cat "$T/status") $(rcli exists "skiff:gc:pin:$id") $(rcli zscore skiff:gc:pins "$id")"
wait_for 20 task_stopped "$parn"

# ---- a remote build whose pin lapsed before its finish -------------------------------------
# the pin taken away as a sweep forgets one whose deadline passed (no heartbeat for ten
# minutes), then its blob deleted as that sweep would (a real one keeps a blob this young):
# finish checks every blob while it is recorded as finishing, writes nothing, and says why
id=$(project pinlapse '{"buildCommand":"sleep 60","outputDirectory":"."}')
"$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
larn=$(field "$id" task_arn)
in_build_phase "$id"
ltok=$(task_token "$larn")
as "$ltok" POST "/api/deployments/$id/progress" '{"phase":"upload"}'
printf 'a blob whose pin will lapse\n' >"$T/lapsed.txt"
lhash=$(sha256sum <"$T/lapsed.txt" | cut -c1-64)
as "$ltok" POST "/api/deployments/$id/files" '{"files":{"/index.html":"'"$lhash"'"}}'
curl -sS -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $ltok" \
	-H 'Content-Type: application/octet-stream' --data-binary @"$T/lapsed.txt" \
	"$API/api/deployments/$id/blobs/$lhash" >"$T/status"
check_eq "a build pins its files and sends its blob" "201 $lhash" "$(cat "$T/status") $(rcli smembers "skiff:gc:pin:$id")"
rcli zrem skiff:gc:pins "$id" >/dev/null
rcli del "skiff:gc:pin:$id" >/dev/null
"$T/s3tool" delete "blobs/$(echo "$lhash" | cut -c1-2)/$lhash" 2>>"$T/tool.log"
as "$ltok" POST "/api/deployments/$id/progress" '{}'
check_eq "its heartbeat still answers" "200 " "$(answer)"
as "$ltok" POST "/api/deployments/$id/finish" '{}'
check_eq "its finish is refused: the pin lapsed" "409 pin_lost" "$(answer)"
check_match "... saying so, and that the sweep took its blob" \
	"not kept pinned .*deleted 1 of them; deploy again" "$(jget "error|message" <"$T/body")"
check_eq "... naming the blob" "$lhash" "$(python3 -c 'import json, sys
print(" ".join(json.load(open(sys.argv[1]))["error"]["missing"]))' "$T/body")"
check_eq "no manifest is written" "missing" "$("$T/s3tool" head "manifests/$id.json" 2>>"$T/tool.log")"
check_eq "the deployment is still building and not current" "building " \
	"$(field "$id" state) $(rcli hget skiff:project:pinlapse current)"
check_match "skiff-create logs why" "upload finish refused: the build's pin lapsed .*deployment=$id" \
	"$(cat "$T"/lighttpd*.log 2>/dev/null)"
as "$ltok" POST "/api/deployments/$id/fail" '{"error":"given up by the test"}'
check_eq "its fail then ends it, with no pin left" "200 0 " \
	"$(cat "$T/status") $(rcli exists "skiff:gc:pin:$id") $(rcli zscore skiff:gc:pins "$id")"
wait_for 20 task_stopped "$larn"

# ---- RunTask pacing stays under the account's 20 calls/s ---------------------------------
ids=""
i=0
while [ $i -lt 25 ]; do ids="$ids $(project "burst$i")"; i=$((i + 1)); done
fault '{"ecs_pending":25}'
start=$(date +%s%N)
# shellcheck disable=SC2086
"$ECSTOOL" launch $ids 2>>"$T/ecstool.log"
check_eq "25 builds launched at once all start" 0 $?
ms=$((($(date +%s%N) - start) / 1000000))
check_eq "... without hitting the RunTask rate limit" 0 "$(stat 's["throttled_rate"]')"
check_eq "... paced by the token bucket (10/s after a burst of 10)" yes "$([ "$ms" -ge 1300 ] && echo yes || echo "no ($ms ms)")"

# ---- through skiff-dispatch -----------------------------------------------------------------
rcli del skiff:queue skiff:queue:active >/dev/null
id=$(project dispatched)
"$BIN/skiff-dispatch" --once >>"$T/dispatch.log" 2>&1
check_eq "skiff-dispatch with launcher = ecs: the build ends ready" ready "$(field "$id" state)"
check_match "... on its own task" "^arn:aws:ecs:" "$(field "$id" task_arn)"
check_eq "... and the queue is empty again" "0 0" "$(rcli llen skiff:queue) $(rcli llen skiff:queue:active)"
out=$(env REQUEST_METHOD=GET REQUEST_URI=/ HTTP_HOST=dispatched.localhost GATEWAY_INTERFACE=CGI/1.1 \
	SKIFF_XSENDFILE=false "$BIN/skiff-serve" 2>>"$T/serve.log" | tr -d '\r' | sed '1,/^$/d')
check_eq "... and it is served from the bucket" "<h1>dispatched built on ecs</h1>" "$out"
id=$(project dispatchwait)
fault '{"ecs_failures":1,"ecs_failure_reason":"RESOURCE:CPU"}'
"$BIN/skiff-dispatch" --once >>"$T/dispatch.log" 2>&1
check_eq "skiff-dispatch waits out a capacity shortage: the build ends ready" ready "$(field "$id" state)"
check_match "... having logged the wait" "ecs launch waits for capacity deployment=$id attempt=1" "$(cat "$T/dispatch.log")"
check_eq "... asking again with the same client token and build token" 1 \
	"$(stat 'len(set(t for t in s["runtask_tokens"][-2:]))')"

# ---- deleting a project stops its build's task ------------------------------------------------
# The delete removes the deployment record and leaves the task's ARN under orphan_task:{id};
# skiff-dispatch, finding the record gone, stops that task and drops the key.
# alive_any PID...: one of them runs (a zombie does not)
alive_any() {
	for p in "$@"; do
		s=$(sed 's/.*) //; s/ .*//' "/proc/$p/stat" 2>/dev/null) && [ "$s" != Z ] && return 0
	done
	return 1
}
all_gone() { ! alive_any "$@"; }
descendants() { for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$c"; descendants "$c"; done; }
# task_pid ID: the stand-in's local skiff-build process for deployment ID (the task's container)
task_pid() {
	for f in /proc/[0-9]*/cmdline; do
		[ "$(tr '\0' ' ' <"$f" 2>/dev/null)" = "$BIN/skiff-build --remote $1 " ] || continue
		p=${f#/proc/}
		echo "${p%/cmdline}"
	done
}
has_sleep() { for p in $(descendants "$1"); do tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'sleep 30' && return 0; done; return 1; }
id=$(project delslow '{"buildCommand":"sleep 30","outputDirectory":"."}')
"$BIN/skiff-dispatch" --once >>"$T/dispatch-del.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
building() { [ "$(field "$id" state) $(field "$id" phase)" = "building build" ]; }
wait_for 60 building || fail "the slow build did not reach its build phase on ECS"
darn=$(field "$id" task_arn)
check_match "skiff-dispatch runs the slow build on its own task" "^arn:aws:ecs:.*/[0-9a-f]+$" "$darn"
bpid=$(task_pid "$id")
wait_for 10 has_sleep "$bpid"
bpids=$(descendants "$bpid" | tr '\n' ' ')
bpids="$bpid $bpids"
bpids=${bpids% }
check_match "... as a local skiff-build running the build command ($bpids)" '^[0-9]+ [0-9]+' "$bpids"
stops0=$(stat 's["ecs"].get("StopTask", 0)')
kill -STOP "$DPID" # so the key is seen before skiff-dispatch takes it
out=$(cgi skiff-create DELETE "/api/projects/delslow?confirm=delslow" 2>>"$T/create.log")
check_match "deleting the project while its build runs on ECS answers 200" '^Status: 200' "$out"
check_eq "... leaves the task's ARN for skiff-dispatch" "$darn" "$(rcli get "skiff:orphan_task:$id")"
check_eq "... and removes the deployment record" 0 "$(rcli exists "skiff:deployment:$id")"
t0=$(date +%s)
kill -CONT "$DPID"
orphan_gone() { [ "$(rcli exists "skiff:orphan_task:$id")" = 0 ]; }
wait_for 10 orphan_gone
check_eq "skiff-dispatch drops the orphan key ($(($(date +%s) - t0)) s)" 0 "$(rcli exists "skiff:orphan_task:$id")"
check_eq "... having sent the stand-in exactly one StopTask" "$((stops0 + 1))" "$(stat 's["ecs"].get("StopTask", 0)')"
check_match "... for that task, saying why" \
	"ecs task stopped task=$darn reason=\"skiff: the project was deleted\"" "$(cat "$T/dispatch-del.log")"
wait_for 10 task_stopped "$darn"
check_eq "the stand-in's task is stopped" "STOPPED STOPPED" \
	"$(task "$darn" '["lastStatus"]') $(task "$darn" '["desiredStatus"]')"
# shellcheck disable=SC2086
wait_for 10 all_gone $bpids
# shellcheck disable=SC2086
check_eq "the task's skiff-build and its build command are gone ($(($(date +%s) - t0)) s)" no \
	"$(alive_any $bpids && echo yes || echo no)"
dispatch_done() { grep -q 'dispatcher stopped' "$T/dispatch-del.log"; }
wait_for 10 dispatch_done
check_eq "skiff-dispatch --once lets go of the deleted build and exits" "yes 0" \
	"$(dispatch_done && echo yes || echo no) $(rcli llen skiff:queue:active)"
sleep 1 # a late write by either would show now
check_eq "no deployment record, log stream or lease is created again" 0 \
	"$(rcli exists "skiff:deployment:$id" "skiff:log:$id" "skiff:lease:$id")"

# ---- every request shape as AWS's own service model (botocore) defines it ---------------------
shapes() { curl -fsS "$EP/__admin/stats" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["last_ecs"]))' |
	python3 "$ROOT/check/s3/ecs_shape.py" 2>&1 | tr '\n' ' ' | sed 's/ $//'; }
check_eq "RunTask, DescribeTasks and StopTask as sent are valid for botocore's ECS model" \
	"DescribeTasks ok RunTask ok StopTask ok" "$(shapes)"
id=$(project spotshape)
SKIFF_ECS_CAPACITY_PROVIDERS="FARGATE_SPOT:3,FARGATE:1:1" "$ECSTOOL" launch "$id" 2>>"$T/ecstool.log"
check_match "... and so is the Fargate Spot RunTask" "RunTask ok" "$(shapes)"
check_eq "... which carried the strategy" 2 "$(stat 'len(s["last_ecs"]["RunTask"]["capacityProviderStrategy"])')"
"$ECSTOOL" wait 90 "$id" 2>>"$T/ecstool.log"

check_eq "no task ever connected to Redis" 0 "$(trap_hits)"
check_eq "no secret in any log" "" "$(grep -rl -- "$SKIFF_TEST_SECRET_KEY" "$T"/*.log "$T"/aws/*.log 2>/dev/null)"
check_eq "no build token in any log (the tasks' own included)" "" \
	"$(grep -rlE -- "skiffbuild_[a-z2-7]{40}" "$T"/*.log "$T"/aws/*.log 2>/dev/null)"
finish
