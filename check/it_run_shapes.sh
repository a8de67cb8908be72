#!/bin/sh
# it_run_shapes.sh — the scale-out shapes of `make run` on one machine: `make run STORE=s3`
# keeps deployments on a local S3-compatible server (s3rver behind check/s3/endpoint.mjs, which
# checks every signature) and serves them through the blob cache; `make run LAUNCHER=ecs` runs
# each build as a task of the ECS stand-in. For each: a project deploys and its site answers,
# the files are where the shape says, SIGTERM stops everything (the stand-in too). A state
# directory made with one store refuses the other and names SKIFF_VAR.
. "$(dirname "$0")/lib.sh"

command -v node >/dev/null 2>&1 || { echo "SKIP: node is not installed" >&2; exit 77; }

repo=$T/repo
mkdir -p "$repo"
git -C "$repo" init -q -b main
echo '<h1>hello from a shape</h1>' >"$repo/index.html"
git -C "$repo" add -A && git -C "$repo" -c user.email=t@example.com -c user.name=t commit -qm site

# shape NAME ARGS...: `make run ARGS` in $T/NAME until "Press Ctrl-C"; sets PORT, RUN_PID
shape() {
	name=$1
	shift
	PORT=$(free_port)
	SKIFF_PORT=$PORT SKIFF_SSE_PORT=$(free_port) SKIFF_VAR=$T/$name \
		make -C "$ROOT" --no-print-directory B="$SKIFF_BUILD_DIR" run "$@" </dev/null \
		>"$T/$name.out" 2>&1 &
	RUN_PID=$!
	PIDS="$PIDS $RUN_PID"
	wait_for 180 grep -q "Press Ctrl-C" "$T/$name.out"
}
# deploy SLUG: creates the project through the dashboard's API; prints the deployment id
deploy() {
	curl -s -X POST -H "Origin: http://localhost:$PORT" -H 'Content-Type: application/json' \
		-d "{\"gitURL\":\"file://$repo\",\"slug\":\"$1\"}" "http://localhost:$PORT/api/projects" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["deploymentId"])'
}
state() {
	curl -s "http://localhost:$PORT/api/deployments/$1" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["state"])' 2>/dev/null
}
ready() { [ "$(state "$1")" = ready ]; }
site() { curl -s -H "Host: $1.localhost:$PORT" "http://127.0.0.1:$PORT/"; }
# stop_shape: SIGTERM to scripts/run.sh (under make's shell), as a service manager would
# stop it; returns make's status
descendants() { for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$c"; descendants "$c"; done; }
stop_shape() {
	for c in $(descendants "$RUN_PID"); do
		{ tr '\0' ' ' <"/proc/$c/cmdline"; } 2>/dev/null | grep -q "^sh scripts/run.sh" &&
			kill -TERM "$c"
	done
	wait "$RUN_PID"
}
stand_in_stat() { # VAR EXPR
	curl -fsS "http://localhost:$(cat "$T/$1/aws/port")/__admin/stats" | python3 -c 'import json, sys
s = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$2"
}

# ---- STORE=s3 ------------------------------------------------------------------------------
if shape s3 STORE=s3; then
	ok "make run STORE=s3 starts"
	check_match "it says where the store is" "Store +s3 \(bucket skiff on the stand-in" "$(cat "$T/s3.out")"
	id=$(deploy web)
	wait_for 60 ready "$id" || fail "the deployment on the s3 store did not become ready"
	check_eq "the deployment is ready" ready "$(state "$id")"
	check_match "the site answers from the s3 store" "hello from a shape" "$(site web)"
	check_eq "its manifest is in the bucket" 1 \
		"$(find "$T/s3/aws/s3rver/skiff/manifests" -name "$id.json._S3rver_object" | wc -l)"
	check_eq "nothing is in the file store" 0 "$(find "$T/s3/store" -type f | wc -l)"
	check_match "the blob was served from the blob cache" "^[1-9]" \
		"$(find "$T/s3/cache" -path '*/[0-9a-f][0-9a-f]/*' -type f | wc -l)"
	check_eq "the stand-in refused no signature" 0 "$(stand_in_stat s3 's["rejected_signature"]')"
	check_eq "builds ran locally" 0 "$(stand_in_stat s3 's["ecs"].get("RunTask", 0)')"
	ep_port=$(cat "$T/s3/aws/port")
	stop_shape
	check_eq "SIGTERM stops it with status 0" 0 "$?"
	check_eq "... and the stand-in" "" "$(ss -Hltn "sport = :$ep_port")"
else
	fail "make run STORE=s3 starts"
	cat "$T/s3.out" >&2
fi

# the same state directory with the file store: refused, naming SKIFF_VAR
out=$(SKIFF_PORT=$(free_port) SKIFF_SSE_PORT=$(free_port) SKIFF_VAR=$T/s3 \
	make -C "$ROOT" --no-print-directory B="$SKIFF_BUILD_DIR" run </dev/null 2>&1)
check_match "a state directory of the s3 store refuses the file store, naming SKIFF_VAR" \
	"made with store=s3, not store=file.*SKIFF_VAR=" "$(printf '%s' "$out" | tr '\n' ' ')"

# ---- LAUNCHER=ecs (with the file store) ---------------------------------------------------
if shape ecs LAUNCHER=ecs; then
	ok "make run LAUNCHER=ecs starts"
	id=$(deploy tasks)
	wait_for 90 ready "$id" || fail "the deployment built on the ECS stand-in did not become ready"
	check_eq "the deployment is ready" ready "$(state "$id")"
	check_match "the site answers" "hello from a shape" "$(site tasks)"
	check_eq "the build ran as one ECS task" 1 "$(stand_in_stat ecs 's["ecs"].get("RunTask", 0)')"
	check_match "the dispatcher launched it on ecs" "build launched on ecs deployment=$id" \
		"$(cat "$T/ecs/dispatch.log")"
	check_eq "its manifest is in the file store" 1 "$(find "$T/ecs/store" -name "$id.json" | wc -l)"
	stop_shape
	check_eq "SIGTERM stops it with status 0" 0 "$?"
else
	fail "make run LAUNCHER=ecs starts"
	cat "$T/ecs.out" >&2
fi
finish
