# check/lib.sh — shared helpers for integration tests (sourced by check/it_*.sh).
# Each test gets a private directory $T, real servers on temporary sockets, and stops them on exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${SKIFF_BUILD_DIR:=$ROOT/build/debug}"
BIN=$SKIFF_BUILD_DIR/bin
T=$(mktemp -d /tmp/skiff-test.XXXXXX)
PIDS=""
TESTS_RUN=0
TESTS_FAILED=0

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; TESTS_FAILED=$((TESTS_FAILED + 1)); }
ok() { TESTS_RUN=$((TESTS_RUN + 1)); echo "ok: $*"; }
# check DESCRIPTION EXPECTED ACTUAL
check_eq() {
	TESTS_RUN=$((TESTS_RUN + 1))
	if [ "$2" = "$3" ]; then echo "ok: $1"; else fail "$1: expected '$2', got '$3'"; fi
}
# check_match DESCRIPTION REGEX TEXT
check_match() {
	TESTS_RUN=$((TESTS_RUN + 1))
	if printf '%s' "$3" | grep -Eq -- "$2"; then echo "ok: $1"; else fail "$1: '$3' does not match /$2/"; fi
}
check_nomatch() {
	TESTS_RUN=$((TESTS_RUN + 1))
	if printf '%s' "$3" | grep -Eq -- "$2"; then fail "$1: '$3' matches /$2/"; else echo "ok: $1"; fi
}
finish() {
	echo "$((TESTS_RUN - TESTS_FAILED)) passed, $TESTS_FAILED failed"
	[ "$TESTS_FAILED" -eq 0 ]
}

# wait_for SECONDS COMMAND...: retries every 0.1 s until COMMAND succeeds
wait_for() {
	limit=$(($1 * 10))
	shift
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $limit ] && return 1
		sleep 0.1
	done
}

# free_port: a TCP port on loopback nobody listens on
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_redis: a private redis-server on a unix socket $T/redis.sock; exports SKIFF_REDIS_SOCKET
start_redis() {
	redis-server --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 --save '' \
		--appendonly no --dir "$T" --logfile "$T/redis.log" --daemonize no &
	REDIS_PID=$!
	PIDS="$PIDS $REDIS_PID"
	wait_for 10 redis-cli -s "$T/redis.sock" ping || { echo "redis did not start" >&2; exit 1; }
	export SKIFF_REDIS_SOCKET="$T/redis.sock"
}
stop_redis() { kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; }
rcli() { redis-cli -s "$T/redis.sock" "$@"; }

# write_config: a skiff.conf for tests in $T; exports SKIFF_CONFIG
write_config() {
	mkdir -p "$T/store" "$T/work"
	cat >"$T/skiff.conf" <<CONF
redis_socket = $T/redis.sock
store = file
store_path = $T/store
work_dir = $T/work
build_program = $BIN/skiff-build
sandbox = none
allow_local_git = true
auth_disabled = true
domain = localhost
log_level = debug
CONF
	export SKIFF_CONFIG="$T/skiff.conf"
}

# cgi PROGRAM METHOD PATH [BODY] [CONTENT_TYPE]: one request as plain CGI; prints the response
cgi() {
	prog=$1 method=$2 path=$3 body=${4:-} ctype=${5:-application/json}
	printf '%s' "$body" | env REQUEST_METHOD="$method" REQUEST_URI="$path" \
		CONTENT_LENGTH=${#body} CONTENT_TYPE="$ctype" HTTP_HOST=localhost \
		GATEWAY_INTERFACE=CGI/1.1 "$BIN/$prog"
}
