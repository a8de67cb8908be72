# check/lib.sh — shared helpers for integration tests (sourced by check/it_*.sh).
# Each test gets a private directory $T, real servers on temporary sockets, and stops them on exit.
set -u
: "${ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SKIFF_BUILD_DIR:=$ROOT/build/debug}"
BIN=$SKIFF_BUILD_DIR/bin
T=$(mktemp -d /tmp/skiff-test.XXXXXX)
PIDS=""
TESTS_RUN=0
TESTS_FAILED=0
# Rate limits off for every program a test starts, whatever configuration it writes: tests
# make many requests from one address in seconds, and prove that a refused request writes
# nothing (a counter is a write). it_api.sh and it_hook.sh turn them on where they test them.
export SKIFF_RATE_LIMIT_CREATE=0 SKIFF_RATE_LIMIT_DEPLOY=0 SKIFF_RATE_LIMIT_DEPLOY_PROJECT=0 \
	SKIFF_RATE_LIMIT_HOOK=0 SKIFF_RATE_LIMIT_HOOK_PROJECT=0

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM  # the EXIT trap then cleans up

# every check counts once: ok or fail
fail() { echo "FAIL: $*" >&2; TESTS_RUN=$((TESTS_RUN + 1)); TESTS_FAILED=$((TESTS_FAILED + 1)); }
ok() { TESTS_RUN=$((TESTS_RUN + 1)); echo "ok: $*"; }
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
# check_match DESCRIPTION REGEX TEXT
check_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else fail "$1: '$3' does not match /$2/"; fi
}
check_nomatch() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then fail "$1: '$3' matches /$2/"; else ok "$1"; fi
}
# jget PATH: a value of the JSON body in $T/body ("data.deploymentId", "data.0.id"); lists and
# objects as JSON, "null" for JSON null, empty when absent, <not json> when the body is not JSON.
jget() {
	python3 -c 'import json, sys
try:
    v = json.load(open(sys.argv[2]))
except Exception:
    print("<not json>"); sys.exit(0)
for k in sys.argv[1].split("."):
    if isinstance(v, list) and k.isdigit() and int(k) < len(v):
        v = v[int(k)]
    elif isinstance(v, dict) and k in v:
        v = v[k]
    else:
        print(""); sys.exit(0)
print("null" if v is None else json.dumps(v) if isinstance(v, (list, dict)) else str(v).lower() if isinstance(v, bool) else v)' "$1" "$T/body"
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

# free_port: a TCP port on loopback that no socket uses. Chosen below the kernel's ephemeral
# range (ip_local_port_range), so no outgoing connection of another test can hold it, and
# checked against every socket, not only listening ones.
free_port() {
	lo=10000
	hi=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	while :; do
		p=$(( $(od -An -N2 -tu2 /dev/urandom) % (hi - lo) + lo ))
		ss -Htan "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

# start_redis: a private redis-server on a unix socket $T/redis.sock; exports SKIFF_REDIS_SOCKET
# fastpath_conf LEVEL: PORT (a sites' web server with the fast path) and PLAIN (one without
# it), and $T/skiff.conf generated for them (no sandbox, log level LEVEL)
fastpath_conf() {
	PORT=$(free_port)
	PLAIN=$(free_port)
	while [ "$PLAIN" = "$PORT" ]; do PLAIN=$(free_port); done
	SKIFF_SANDBOX=none SKIFF_LOG_LEVEL=$1 sh "$ROOT/scripts/genconf.sh" "$T" "$PORT" "$(free_port)" \
		>"$T/genconf.log" 2>&1 || { cat "$T/genconf.log" >&2; exit 1; }
}

size() { wc -c <"$1" | tr -d ' '; }
# entry PATH FILE [GZIP_FILE [BR_FILE]]: one manifest "files" member; each hash is what the
# caller's `blob FILE` prints (storing the file as it goes, or only hashing it)
entry() {
	e="\"$1\":{\"hash\":\"$(blob "$2")\",\"size\":$(size "$2")"
	[ -n "${3:-}" ] && e="$e,\"gzip\":{\"hash\":\"$(blob "$3")\",\"size\":$(size "$3")}"
	[ -n "${4:-}" ] && e="$e,\"br\":{\"hash\":\"$(blob "$4")\",\"size\":$(size "$4")}"
	printf '%s}' "$e"
}
# fixture_app DIR: DIR/app.js (a 300-line bundle), its gzip variant and a stand-in br variant
fixture_app() {
	_n=0
	: >"$1/app.js"
	while [ $_n -lt 300 ]; do echo "console.log('line $_n of the app bundle');" >>"$1/app.js"; _n=$((_n + 1)); done
	gzip -9 -n -c "$1/app.js" >"$1/app.js.gz"
	printf 'BROTLI-VARIANT-BYTES' >"$1/app.js.br"
}

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
# redis_text: everything Redis holds, as text: every key's name and value whatever its type
# (not DUMP, whose strings and encoded hashes may be LZF-compressed and so hide a value)
redis_text() {
	rcli --scan | while read -r k; do
		echo "KEY $k"
		case $(rcli type "$k") in
		string) rcli --raw get "$k" ;;
		hash) rcli --raw hgetall "$k" ;;
		list) rcli --raw lrange "$k" 0 -1 ;;
		set) rcli --raw smembers "$k" ;;
		zset) rcli --raw zrange "$k" 0 -1 ;;
		stream) rcli --raw xrange "$k" - + ;;
		none) ;; # expired since the scan (a lease)
		*) echo "redis_text: $k has an unknown type" >&2; return 1 ;;
		esac
	done
}

# write_config: a skiff.conf for tests in $T; exports SKIFF_CONFIG
write_config() {
	mkdir -p "$T/store" "$T/work"
	[ -e "$T/secret.key" ] || (umask 077 && head -c 32 /dev/urandom >"$T/secret.key")
	cat >"$T/skiff.conf" <<CONF
redis_socket = $T/redis.sock
store = file
store_path = $T/store
work_dir = $T/work
build_cache_path = $T/build-cache
build_program = $BIN/skiff-build
sandbox = none
allow_local_git = true
secret_key_file = $T/secret.key
auth_disabled = true
public_reads = true
domain = localhost
log_level = debug
# rate limits off, as in the environment above
rate_limit_create = 0
rate_limit_deploy = 0
rate_limit_deploy_project = 0
rate_limit_hook = 0
rate_limit_hook_project = 0
CONF
	export SKIFF_CONFIG="$T/skiff.conf"
}

# cgi PROGRAM METHOD PATH [BODY] [CONTENT_TYPE]: one request as plain CGI; prints the response
# (CONTENT_TYPE defaults to application/json; '' sends none).
# It comes from the dashboard's own pages: Origin is $HTTP_ORIGIN when set, else http://localhost
# (write_config's dashboard_url); HTTP_ORIGIN= (empty) sends none.
cgi() {
	prog=$1 method=$2 path=$3 body=${4:-} ctype=${5-application/json}
	printf '%s' "$body" | env REQUEST_METHOD="$method" REQUEST_URI="$path" \
		CONTENT_LENGTH=${#body} CONTENT_TYPE="$ctype" HTTP_HOST=localhost \
		HTTP_ORIGIN="${HTTP_ORIGIN-http://localhost}" \
		GATEWAY_INTERFACE=CGI/1.1 "$BIN/$prog"
}

# start_git_http USERS_FILE: git http-backend under its own lighttpd on loopback, serving the
# bare repositories of $T/gitroot at http://127.0.0.1:$GIT_HTTP_PORT/git/NAME.git behind HTTP
# basic auth (USERS_FILE: "user:password" lines). A private repository as a git host serves it.
start_git_http() {
	[ -x /usr/lib/git-core/git-http-backend ] || { echo "FAIL: git-http-backend missing" >&2; exit 1; }
	GIT_HTTP_PORT=$(free_port)
	mkdir -p "$T/gitroot"
	cat >"$T/git-lighttpd.conf" <<CONF
server.document-root = "$T/gitroot"
server.bind = "127.0.0.1"
server.port = $GIT_HTTP_PORT
server.errorlog = "$T/git-lighttpd-error.log"
server.modules = ("mod_alias", "mod_auth", "mod_authn_file", "mod_cgi", "mod_setenv")
alias.url = ("/git" => "/usr/lib/git-core/git-http-backend")
\$HTTP["url"] =~ "^/git" {
	cgi.assign = ("" => "")
	setenv.set-environment = ("GIT_PROJECT_ROOT" => "$T/gitroot", "GIT_HTTP_EXPORT_ALL" => "1",
				  "PATH" => "/usr/bin:/bin")
}
auth.backend = "plain"
auth.backend.plain.userfile = "$1"
auth.require = ("/git" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
CONF
	lighttpd -D -f "$T/git-lighttpd.conf" >>"$T/git-lighttpd.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$GIT_HTTP_PORT/" ||
		{ echo "git lighttpd did not start" >&2; exit 1; }
}

# ---- the whole stack, configured exactly as `make run` (scripts/genconf.sh) ---------------
# lighttpd_m CONF: lighttpd's -m option for a configuration that loads the fast path's own
# module (scripts/genconf.sh, mk/lighttpd.mk), nothing for another
lighttpd_m() { grep -q '"mod_skiff_fastpath"' "$1" && echo "-m $SKIFF_BUILD_DIR/lighttpd"; }

# lighttpd_lua_conf PORT: $T/lua.conf, a copy of $T/lighttpd.conf (written by genconf with the
# fast path's module) on PORT with mod_magnet's Lua fast path in the module's place and its
# own FastCGI sockets and logs; 1 when lighttpd.conf has no module to replace
lighttpd_lua_conf() {
	grep -q '"mod_skiff_fastpath"' "$T/lighttpd.conf" || return 1
	lua="$ROOT/apache/skiff-fastpath-lighttpd.lua"
	sed -e 's|"mod_skiff_fastpath"|"mod_magnet"|' \
		-e "s|^\([[:space:]]*\)skiff\.fastpath-dir = .*|\1magnet.attract-raw-url-to = ( \"$lua\" )\n\1magnet.attract-physical-path-to = ( \"$lua\" )|" \
		-e "s|^server.port *= *$PORT|server.port = $1|" \
		-e "s|$T/fcgi-|$T/lua-fcgi-|g" -e "s|$T/lighttpd|$T/lua-lighttpd|g" \
		"$T/lighttpd.conf" >"$T/lua.conf"
}

# start_lighttpd: lighttpd on $T/lighttpd.conf (written by genconf); waits until it answers.
start_lighttpd() {
	lighttpd $(lighttpd_m "$T/lighttpd.conf") -tt -f "$T/lighttpd.conf" >"$T/lighttpd-check.log" 2>&1 ||
		{ cat "$T/lighttpd-check.log" >&2; echo "lighttpd refuses $T/lighttpd.conf" >&2; return 1; }
	lighttpd $(lighttpd_m "$T/lighttpd.conf") -D -f "$T/lighttpd.conf" >>"$T/lighttpd.log" 2>&1 &
	LIGHTTPD_PID=$!
	PIDS="$PIDS $LIGHTTPD_PID"
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$STACK_PORT/" ||
		{ echo "lighttpd did not start: $T/lighttpd-error.log" >&2; return 1; }
}
stop_lighttpd() { kill "$LIGHTTPD_PID" 2>/dev/null; wait "$LIGHTTPD_PID" 2>/dev/null; }

# start_stack: redis, lighttpd (spawning skiff-create/-status/-serve/-hook), skiff-dispatch and
# skiff-sse-bridge (when built) in $T on free ports, with the configuration `make run` uses.
# Sets STACK_PORT, SSE_PORT, STACK_URL (http://localhost:PORT), SITE_SUFFIX (.localhost:PORT);
# exports SKIFF_CONFIG. Returns nonzero (after printing the logs) when the stack is not healthy.
start_stack() {
	STACK_PORT=$(free_port)
	SSE_PORT=$(free_port)
	while [ "$SSE_PORT" = "$STACK_PORT" ]; do SSE_PORT=$(free_port); done
	STACK_URL="http://localhost:$STACK_PORT"
	SITE_SUFFIX=".localhost:$STACK_PORT"
	SKIFF_LOG_LEVEL=${SKIFF_LOG_LEVEL:-debug} sh "$ROOT/scripts/genconf.sh" "$T" "$STACK_PORT" "$SSE_PORT" ||
		return 1
	export SKIFF_CONFIG="$T/skiff.conf"
	start_redis
	start_lighttpd || { stack_logs; return 1; }
	"$BIN/skiff-dispatch" >>"$T/dispatch.log" 2>&1 &
	DISPATCH_PID=$!
	PIDS="$PIDS $DISPATCH_PID"
	BRIDGE_PID=""
	if [ -x "$BIN/skiff-sse-bridge" ]; then
		"$BIN/skiff-sse-bridge" >>"$T/sse-bridge.log" 2>&1 &
		BRIDGE_PID=$!
		PIDS="$PIDS $BRIDGE_PID"
	fi
	wait_for 20 curl -fsS -o /dev/null "$STACK_URL/healthz" ||
		{ echo "the stack did not become healthy" >&2; stack_logs; return 1; }
	if [ -n "$BRIDGE_PID" ]; then
		wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $SSE_PORT), 1)" ||
			{ echo "skiff-sse-bridge did not listen on $SSE_PORT" >&2; stack_logs; return 1; }
	fi
}
# stop_stack: stops what start_stack started (cleanup does it too on exit).
stop_stack() {
	for p in $BRIDGE_PID $DISPATCH_PID $LIGHTTPD_PID $REDIS_PID; do kill "$p" 2>/dev/null; done
	for p in $BRIDGE_PID $DISPATCH_PID $LIGHTTPD_PID $REDIS_PID; do wait "$p" 2>/dev/null; done
}
# stack_logs: the last lines of every log of the stack, for a failing test's output.
stack_logs() {
	for f in "$T"/*.log; do
		[ -s "$f" ] || continue
		echo "--- $f" >&2
		tail -n 30 "$f" >&2
	done
}

# stack_api METHOD PATH [BODY]: a JSON request to start_stack's API from the dashboard's origin;
# STATUS and $T/body
stack_api() {
	STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
		-H "Origin: $STACK_URL" ${3:+--data "$3"} "$STACK_URL$2")
}

# seed_site SLUG DEPLOYMENT HTML [CREATED]: a project SLUG whose current deployment DEPLOYMENT
# (ready) serves HTML as /index.html, from the file store in $T/store; CREATED (ms) goes into
# the manifest (the fast path writes entries only for a manifest that has it)
seed_site() {
	printf '%s\n' "$3" >"$T/index.html"
	h=$(sha256sum "$T/index.html" | cut -c1-64)
	mkdir -p "$T/store/blobs/$(echo "$h" | cut -c1-2)" "$T/store/manifests"
	cp "$T/index.html" "$T/store/blobs/$(echo "$h" | cut -c1-2)/$h"
	printf '{"version":1,"deployment":"%s",%s"files":{"/index.html":{"hash":"%s","size":%s}}}' \
		"$2" "${4:+\"created\":$4,}" "$h" "$(wc -c <"$T/index.html" | tr -d ' ')" \
		>"$T/store/manifests/$2.json"
	now=$(date +%s%3N)
	rcli hset "skiff:project:$1" created "$now" git_url "https://example.com/$1.git" \
		branch main current "$2" >/dev/null
	rcli zadd skiff:projects "$now" "$1" >/dev/null
	rcli hset "skiff:deployment:$2" project "$1" state ready created "$now" >/dev/null
}

# start_dns NAME...: dnsmasq on a free loopback port ($DNS_PORT) answering A queries for each
# NAME with 127.0.0.1 and nothing else (no upstream, no /etc/hosts; other names under .test do
# not exist); dns_txt adds TXT records.
start_dns() {
	: >"$T/dnsmasq.names"
	for n in "$@"; do echo "address=/$n/127.0.0.1" >>"$T/dnsmasq.names"; done
	: >"$T/dnsmasq.txt"
	DNS_PORT=$(free_port)
	while ss -Huan "sport = :$DNS_PORT" | grep -q .; do DNS_PORT=$(free_port); done   # UDP too
	dns_run
}
# dns_txt NAME VALUE: serve a TXT record VALUE at NAME too (dnsmasq restarts to read it);
# dns_txt with no arguments drops every TXT record.
dns_txt() {
	if [ $# = 0 ]; then : >"$T/dnsmasq.txt"; else echo "txt-record=$1,$2" >>"$T/dnsmasq.txt"; fi
	kill "$DNS_PID" 2>/dev/null
	wait "$DNS_PID" 2>/dev/null
	dns_run
}
dns_run() {
	cat "$T/dnsmasq.names" "$T/dnsmasq.txt" - >"$T/dnsmasq.conf" <<CONF
port=$DNS_PORT
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
local=/test/
no-negcache
user=root
pid-file=
log-queries
log-facility=$T/dnsmasq.log
CONF
	dnsmasq --keep-in-foreground --conf-file="$T/dnsmasq.conf" 2>>"$T/dnsmasq.log" &
	DNS_PID=$!
	PIDS="$PIDS $DNS_PID"
	wait_for 10 sh -c "ss -Hlun 'sport = :$DNS_PORT' | grep -q ." ||
		{ echo "dnsmasq did not start" >&2; cat "$T/dnsmasq.log" >&2; return 1; }
}

# start_pebble HTTP_PORT HTTPS_PORT [VALIDITY_S]: Pebble, Debian's ACME test server, on a TLS
# certificate of its own made here, validating challenges for real: it resolves names through
# start_dns's server (call that first) and fetches http-01 challenges from HTTP_PORT of the
# address. Certificates it issues last VALIDITY_S seconds (default: Pebble's five years). Sets
# PEBBLE_DIR (https://localhost:PORT/dir), PEBBLE_TLS (the CA file of its directory's TLS) and
# PEBBLE_ROOT (the root of the certificates it issues, fetched from its management port).
start_pebble() {
	acme_port=$(free_port)
	mgmt_port=$(free_port)
	mkdir -p "$T/pebble"
	validity=""
	[ -z "${3:-}" ] || validity=", \"certificateValidityPeriod\": $3"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
		-keyout "$T/pebble/key.pem" -out "$T/pebble/cert.pem" 2>/dev/null
	cat >"$T/pebble/pebble.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$acme_port", "managementListenAddress": "127.0.0.1:$mgmt_port",
 "certificate": "$T/pebble/cert.pem", "privateKey": "$T/pebble/key.pem",
 "httpPort": $1, "tlsPort": $2, "ocspResponderURL": "", "externalAccountBindingRequired": false$validity}}
JSON
	PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
		pebble -config "$T/pebble/pebble.json" -dnsserver "127.0.0.1:$DNS_PORT" \
		>"$T/pebble.log" 2>&1 &
	PIDS="$PIDS $!"
	PEBBLE_DIR="https://localhost:$acme_port/dir"
	PEBBLE_TLS="$T/pebble/cert.pem"
	PEBBLE_ROOT="$T/pebble/root.pem"
	wait_for 20 curl -s --cacert "$PEBBLE_TLS" -o /dev/null "$PEBBLE_DIR" ||
		{ echo "pebble did not start" >&2; cat "$T/pebble.log" >&2; return 1; }
	curl -s --cacert "$PEBBLE_TLS" "https://localhost:$mgmt_port/roots/0" >"$PEBBLE_ROOT"
	grep -q 'BEGIN CERTIFICATE' "$PEBBLE_ROOT" || { echo "no root from pebble" >&2; return 1; }
}
