#!/bin/sh
# run.sh — the whole platform on localhost for `make run`: a private redis-server, lighttpd
# with skiff's FastCGI programs, skiff-dispatch and skiff-sse-bridge, all under ./var/. No root
# services are touched. Ctrl-C stops everything and ends with status 0.
#
# Environment:
#   SKIFF_PORT       HTTP port of the dashboard and the sites (default 8080)
#   SKIFF_SSE_PORT   loopback port of skiff-sse-bridge (default SKIFF_PORT + 1)
#   SKIFF_VAR        state directory (default ./var of this tree); a second `make run` on the
#                    same tree needs its own, and its own SKIFF_PORT
#   SKIFF_BUILD_DIR  where bin/ is (set by make; default build/debug)
#   SKIFF_SANDBOX    bwrap or none (see scripts/genconf.sh)
#   SKIFF_RUN_STORE     file (default) or s3: the s3 store on a local S3-compatible server
#                       (s3rver behind check/s3/endpoint.mjs, which checks every signature),
#                       with the blob cache, as production on AWS would run (`make run STORE=s3`)
#   SKIFF_RUN_LAUNCHER  local (default) or ecs: builds through the ECS stand-in of
#                       check/s3/endpoint.mjs, which runs each task's container command here
#                       (`make run LAUNCHER=ecs`)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
PORT=${SKIFF_PORT:-8080}
SSEPORT=${SKIFF_SSE_PORT:-$((PORT + 1))}
VARDIR=${SKIFF_VAR:-$ROOT/var}
: "${SKIFF_BUILD_DIR:=$ROOT/build/debug}"
export SKIFF_BUILD_DIR
BIN=$SKIFF_BUILD_DIR/bin

die() { echo "run: $*" >&2; exit 1; }

for p in skiff-create skiff-status skiff-serve skiff-dispatch skiff-build; do
	[ -x "$BIN/$p" ] || die "$BIN/$p is missing: build first (make run builds it)"
done
for tool in redis-server redis-cli lighttpd curl; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed: run 'make deps-run'"
done
STORE=${SKIFF_RUN_STORE:-file}
LAUNCHER=${SKIFF_RUN_LAUNCHER:-local}
case $STORE in file | s3) ;; *) die "STORE must be file or s3, not '$STORE'" ;; esac
case $LAUNCHER in local | ecs) ;; *) die "LAUNCHER must be local or ecs, not '$LAUNCHER'" ;; esac
STANDIN=0
[ "$STORE" = s3 ] || [ "$LAUNCHER" = ecs ] && STANDIN=1
if [ $STANDIN = 1 ]; then
	for tool in node npm; do
		command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed: run 'make deps-run'"
	done
fi

# Another `make run` on this state directory: its Redis answers on the socket. Checked before
# the ports, so that a second run on the same tree hears about SKIFF_VAR whatever its port.
if [ -S "$VARDIR/redis.sock" ] && redis-cli -s "$VARDIR/redis.sock" ping >/dev/null 2>&1; then
	die "another 'make run' is using the state directory $VARDIR (its redis-server answers on
     $VARDIR/redis.sock). Stop that one with Ctrl-C, or give this one its own state directory
     and port:  SKIFF_VAR=/tmp/skiff-2 SKIFF_PORT=$((PORT + 10)) make run"
fi

# A port somebody listens on (any address, IPv4 or IPv6): say so instead of failing obscurely
# later. /proc/net/tcp* list the sockets of this network namespace; state 0A is LISTEN.
port_free() {
	! awk -v p="$(printf '%04X' "$1")" '$4 == "0A" && substr($2, index($2, ":") + 1) == p { f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
port_free "$PORT" || die "port $PORT is already in use (another 'make run'?); choose another port,
     and for a second 'make run' on this tree another state directory too:
     SKIFF_PORT=$((PORT + 10)) SKIFF_VAR=/tmp/skiff-2 make run"
port_free "$SSEPORT" || die "port $SSEPORT (the log bridge) is already in use; choose another: SKIFF_SSE_PORT=$((PORT + 11)) make run"

mkdir -p "$VARDIR" || die "cannot create $VARDIR"
chmod 700 "$VARDIR"
VARDIR=$(cd "$VARDIR" && pwd)
# Redis keeps its data between runs: deployments stored in one store are missing from the
# other, so a state directory keeps the store it was first run with.
SHAPE="store=$STORE"
if [ -s "$VARDIR/shape" ] && [ "$(cat "$VARDIR/shape")" != "$SHAPE" ]; then
	die "the state directory $VARDIR was made with $(cat "$VARDIR/shape"), not $SHAPE:
     its deployments are in the other store. Give this shape its own state directory and port:
     SKIFF_VAR=$VARDIR-$STORE SKIFF_PORT=$((PORT + 10)) make run STORE=$STORE LAUNCHER=$LAUNCHER"
fi
echo "$SHAPE" >"$VARDIR/shape"
sh "$ROOT/scripts/genconf.sh" "$VARDIR" "$PORT" "$SSEPORT" || die "configuration failed"
# the sites' fast path as lighttpd's own module (mk/lighttpd.mk) when genconf chose it
LIGHTTPD_M=""
grep -q '"mod_skiff_fastpath"' "$VARDIR/lighttpd.conf" && LIGHTTPD_M="-m $SKIFF_BUILD_DIR/lighttpd"
lighttpd $LIGHTTPD_M -tt -f "$VARDIR/lighttpd.conf" >"$VARDIR/lighttpd-check.log" 2>&1 ||
	{ cat "$VARDIR/lighttpd-check.log" >&2; die "lighttpd refuses $VARDIR/lighttpd.conf"; }
export SKIFF_CONFIG="$VARDIR/skiff.conf"

PIDS=""
PROCS=""   # name=pid of each service, for the message when one dies
stopping=0
stop() {
	[ $stopping -eq 1 ] && return
	stopping=1
	trap '' INT TERM HUP
	echo
	echo "run: stopping"
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	echo "run: stopped (state kept in $VARDIR)"
}
# Ctrl-C is the normal way to stop: stop the services and end with status 0 (also on SIGTERM,
# and SIGHUP when the terminal goes away).
trap 'stop; exit 0' INT TERM HUP
trap stop EXIT

# Under `make run` in a terminal, Ctrl-C reaches make as well as this script, and make then
# kills itself with SIGINT whatever this script does ("make: *** ... Interrupt", status 130).
# With job control this shell becomes the terminal's foreground process group, so Ctrl-C
# reaches only this script and its foreground command; make sees a clean exit 0. Only when
# this script is in the foreground of a terminal: elsewhere there is no Ctrl-C to route, and
# a background shell asking for the terminal would be stopped.
in_foreground() {
	[ -t 0 ] || return 1
	# fields 5 and 8 of /proc/PID/stat: process group, terminal's foreground process group
	read -r _ _ _ _ pgrp _ _ tpgid _ </proc/$$/stat 2>/dev/null || return 1
	[ "$pgrp" = "$tpgid" ]
}
if in_foreground; then
	set -m
fi

# start NAME COMMAND...: runs COMMAND in the background, output in $VARDIR/NAME.log
start() {
	name=$1
	shift
	"$@" >>"$VARDIR/$name.log" 2>&1 &
	PIDS="$PIDS $!"
	PROCS="$PROCS $name=$!"
}

wait_for() { # SECONDS COMMAND...
	n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -le 0 ] && return 1
		sleep 0.1
	done
}

start redis redis-server --port 0 --unixsocket "$VARDIR/redis.sock" --unixsocketperm 700 \
	--dir "$VARDIR" --appendonly yes --save '' --daemonize no
wait_for 10 redis-cli -s "$VARDIR/redis.sock" ping || die "redis-server did not start: $VARDIR/redis.log"

# The AWS stand-in (check/s3/endpoint.mjs, the test peer of the S3 and ECS tests): its
# Node modules come from the committed lockfile; the key pair is made for this run.
if [ $STANDIN = 1 ]; then
	S3DIR=$ROOT/check/s3
	if [ ! -d "$S3DIR/node_modules/s3rver" ]; then
		echo "run: installing the AWS stand-in's Node modules (npm ci in check/s3)"
		(cd "$S3DIR" && npm ci --no-audit --no-fund --loglevel=error) >"$VARDIR/npm.log" 2>&1 ||
			die "npm ci in check/s3 failed: $VARDIR/npm.log"
	fi
	mkdir -p "$VARDIR/aws" "$VARDIR/cache" "$VARDIR/task-work"
	rm -f "$VARDIR/aws/port"
	if [ ! -s "$VARDIR/aws/keys" ]; then
		umask 077
		printf 'AKIASKIFFRUN%s %s\n' "$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)" \
			"$(od -An -N30 -tx1 /dev/urandom | tr -d ' \n')" >"$VARDIR/aws/keys"
		umask 022
	fi
	read -r AKID SECRET <"$VARDIR/aws/keys"
	# a task runs skiff-build here, configured only by its environment, as on Fargate
	cat >"$VARDIR/taskdef.json" <<JSON
{"family": "skiff-build", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
 "cpu": "1024", "memory": "2048",
 "taskRoleArn": "arn:aws:iam::123456789012:role/skiff-build-task",
 "containerDefinitions": [{"name": "skiff-build", "image": "skiff-build:local", "essential": true,
   "entryPoint": ["$BIN/skiff-build"],
   "environment": [{"name": "SKIFF_CONFIG", "value": "/dev/null"},
                   {"name": "SKIFF_SANDBOX", "value": "$(sed -n 's/^sandbox = //p' "$VARDIR/skiff.conf")"},
                   {"name": "SKIFF_WORK_DIR", "value": "$VARDIR/task-work"},
                   {"name": "SKIFF_ALLOW_LOCAL_GIT", "value": "true"},
                   {"name": "SKIFF_LOG_LEVEL", "value": "${SKIFF_LOG_LEVEL:-info}"}]}]}
JSON
	start aws env SKIFF_TEST_ACCESS_KEY="$AKID" SKIFF_TEST_SECRET_KEY="$SECRET" \
		node "$S3DIR/endpoint.mjs" --dir "$VARDIR/aws" --port-file "$VARDIR/aws/port" \
		--bucket skiff --cluster skiff --taskdef "$VARDIR/taskdef.json"
	wait_for 20 test -s "$VARDIR/aws/port" || die "the AWS stand-in did not start: $VARDIR/aws.log"
	EP=http://localhost:$(cat "$VARDIR/aws/port")
	{
		echo "# make run: the AWS stand-in at $EP"
		echo "s3_access_key = $AKID"
		echo "s3_secret_key = $SECRET"
		echo "s3_region = us-east-1"
		if [ "$STORE" = s3 ]; then
			echo "store = s3"
			echo "s3_endpoint = $EP"
			echo "s3_bucket = skiff"
			echo "s3_path_style = true"
			echo "cache_path = $VARDIR/cache"
			echo "cache_max_mb = 256"
		fi
		if [ "$LAUNCHER" = ecs ]; then
			echo "launcher = ecs"
			echo "ecs_endpoint = $EP/"
			echo "ecs_cluster = skiff"
			echo "ecs_task_definition = skiff-build"
			echo "ecs_subnets = subnet-local"
		fi
	} >>"$VARDIR/skiff.conf"
fi

start lighttpd lighttpd $LIGHTTPD_M -D -f "$VARDIR/lighttpd.conf"
start dispatch "$BIN/skiff-dispatch"
if [ -x "$BIN/skiff-sse-bridge" ]; then
	start sse-bridge "$BIN/skiff-sse-bridge"
else
	echo "run: $BIN/skiff-sse-bridge is not built: the dashboard falls back to polling for logs"
fi

URL="http://localhost:$PORT"
if ! wait_for 20 curl -fsS -o /dev/null "$URL/healthz"; then
	echo "run: the stack did not become healthy; last lines of the logs:" >&2
	for f in "$VARDIR"/*.log; do echo "--- $f" >&2; tail -n 15 "$f" >&2; done
	exit 1
fi

cat <<EOF

  skiff is running.

  Dashboard   $URL/
  Sites       http://{name}.localhost:$PORT/
  Logs        $VARDIR/*.log
  Store       $STORE$([ "$STORE" = s3 ] && echo " (bucket skiff on the stand-in at $EP, blob cache $VARDIR/cache)")
  Builds      $LAUNCHER$([ "$LAUNCHER" = ecs ] && echo " (tasks through the ECS stand-in at $EP)")

  Deploy from the command line:

    curl -X POST -H 'Content-Type: application/json' \\
         -d '{"gitURL":"file:///path/to/repo"}' $URL/api/projects

  Press Ctrl-C to stop.

EOF

# Stay until Ctrl-C, or until one of the services dies.
while :; do
	for np in $PROCS; do
		if ! kill -0 "${np#*=}" 2>/dev/null; then
			echo "run: ${np%%=*} exited unexpectedly; see $VARDIR/${np%%=*}.log" >&2
			exit 1
		fi
	done
	sleep 1
done
