#!/bin/sh
# check/bench/serve.sh — skiff-serve's speed next to its baselines, in one run, on loopback:
# wrk against one lighttpd that serves the same bytes four ways (skiff-serve with X-Sendfile,
# the fast path — lighttpd answering from skiff's tree through mod_skiff_fastpath when it is
# built (mk/lighttpd.mk), else through mod_magnet, as apache/lighttpd.conf.in does; with the
# module, mod_magnet's Lua fast path is measured beside it —, a no-op FastCGI responder with X-Sendfile under the same
# FastCGI settings, lighttpd's own static file handler with Debian's MIME types, so that it
# sends a type, ETag and Last-Modified as the fast path does), for a 4 KiB file, a 1 MiB file and
# 1,000 files spread over a 10,000-file deployment (BENCH_RANDOM=1: random ones of the 10,000). Prints requests/s, the ratios, and Redis commands
# per skiff-serve request. Then the same under Apache httpd (event MPM with Debian's settings,
# apache/skiff-sites.conf as shipped): skiff-serve alone (mod_proxy_fcgi, mod_xsendfile), the
# fast path (mod_rewrite and mod_headers reading skiff's tree), and Apache's own static file serving.
# Beside requests/s, the web server's CPU time per request (user + system of its processes,
# from /proc) for the fast path and static: on a shared machine req/s moves with the load of
# others, CPU per request much less; the fast path and static take turns, and each round's
# fast/static is printed beside the best runs'.
# Bounded: BENCH_SECONDS (default 10) per measurement, 24 measurements (BENCH_ROUNDS=2).
# BENCH_SERVERS="lighttpd apache" (the default) measures both web servers, or one of them.
# Not part of make check.
#   SKIFF_BUILD_DIR=build/debug sh check/bench/serve.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
: "${SKIFF_BUILD_DIR:=$ROOT/build/debug}"
BIN=$SKIFF_BUILD_DIR/bin
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-50}
PROCS=${BENCH_PROCS:-2}
for tool in wrk lighttpd redis-server python3; do
	command -v $tool >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done
for b in skiff-serve noop-fcgi; do
	[ -x "$BIN/$b" ] || { echo "bench: $BIN/$b missing (make first)" >&2; exit 1; }
done
T=$(mktemp -d /tmp/skiff-bench-serve.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	# FastCGI processes lighttpd spawned outlive it if it crashed: they carry $T in their
	# environment (SKIFF_CONFIG, NOOP_ROOT); stop exactly those.
	for p in $(grep -l -a -F "$T/" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do
		[ "$p" != "$$" ] && kill "$p" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

redis-server --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 --save '' --appendonly no \
	--dir "$T" --logfile "$T/redis.log" --daemonize no &
PIDS="$PIDS $!"
i=0
until redis-cli -s "$T/redis.sock" ping >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -gt 50 ] && { echo "bench: redis did not start" >&2; exit 1; }; sleep 0.1
done
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/store/blobs" "$T/store/manifests" "$T/static/many" "$T/work"
cat >"$T/skiff.conf" <<CONF
redis_socket = $T/redis.sock
store = file
store_path = $T/store
work_dir = $T/work
domain = localhost
site_port = $PORT
xsendfile = true
fastpath_dir = $T/fastpath
log_level = warn
CONF

# The same bytes as static files and as a deployment (blobs + manifest + current pointer).
python3 - "$T" <<'PY'
import hashlib, json, os, random, sys
t = sys.argv[1]
rnd = random.Random(4)
files = {"/file4k.html": bytes(rnd.getrandbits(8) for _ in range(4096)),
         "/file1m.bin": os.urandom(1 << 20)}
for i in range(10000):
    files["/many/f%05d.html" % i] = (b"<p>file %d</p>\n" % i) * 40
manifest = {"version": 1, "deployment": "benchbench22", "created": 1732270000000,
            "files": {}, "config": {}}
for path, data in files.items():
    h = hashlib.sha256(data).hexdigest()
    d = os.path.join(t, "store/blobs", h[:2])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, h), "wb") as f:
        f.write(data)
    with open(os.path.join(t, "static", path.lstrip("/")), "wb") as f:
        f.write(data)
    manifest["files"][path] = {"hash": h, "size": len(data)}
with open(os.path.join(t, "store/manifests/benchbench22.json"), "w") as f:
    json.dump(manifest, f)
manifest["deployment"] = "fastfastfa22"      # the same files, served by the fast path
with open(os.path.join(t, "store/manifests/fastfastfa22.json"), "w") as f:
    json.dump(manifest, f)
manifest["deployment"] = "lualualua222"      # and again, by the Lua fast path
with open(os.path.join(t, "store/manifests/lualualua222.json"), "w") as f:
    json.dump(manifest, f)
PY
redis-cli -s "$T/redis.sock" hset skiff:project:bench current benchbench22 >/dev/null
redis-cli -s "$T/redis.sock" hset skiff:deployment:benchbench22 project bench state ready >/dev/null
redis-cli -s "$T/redis.sock" hset skiff:project:fast current fastfastfa22 >/dev/null
redis-cli -s "$T/redis.sock" hset skiff:deployment:fastfastfa22 project fast state ready >/dev/null
# "lua": the same files through mod_magnet's fast path, beside the module's on "fast"
redis-cli -s "$T/redis.sock" hset skiff:project:lua current lualualua222 >/dev/null
redis-cli -s "$T/redis.sock" hset skiff:deployment:lualualua222 project lua state ready >/dev/null

# lighttpd's fast path: its own module when built (mk/lighttpd.mk) on the host "fast", and
# mod_magnet's Lua on "lua"; without the module, "fast" is the Lua one and "lua" is not asked.
MODDIR=$SKIFF_BUILD_DIR/lighttpd
LUA_FAST="magnet.attract-raw-url-to = ( \"$ROOT/apache/skiff-fastpath-lighttpd.lua\" )
	magnet.attract-physical-path-to = ( \"$ROOT/apache/skiff-fastpath-lighttpd.lua\" )"
if [ -f "$MODDIR/mod_skiff_fastpath.so" ] &&
	[ "$(cat "$MODDIR/version" 2>/dev/null)" = "$(lighttpd -v | sed -n 's|^lighttpd/\([0-9.]*\).*|\1|p')" ]; then
	FASTMOD=1 MODULES='"mod_skiff_fastpath", ' MFLAG="-m $MODDIR"
	FAST="skiff.fastpath-dir = \"$T/fastpath\""
else
	FASTMOD= MODULES= MFLAG= FAST=$LUA_FAST
fi

# lighttpd's static speed is that of a static site as Debian's lighttpd.conf serves it: with
# mimetype.assign from /etc/mime.types, hence a Content-Type, ETag and Last-Modified as the
# fast path sends them (with no type, application/octet-stream, lighttpd sends neither).
MIME=/usr/share/lighttpd/create-mime.conf.pl
if [ -x "$MIME" ]; then
	MIME="include_shell \"$MIME\""
else
	MIME='mimetype.assign = ( ".html" => "text/html", ".bin" => "application/octet-stream" )'
fi
cat >"$T/lighttpd.conf" <<CONF
server.document-root = "$T/static"
server.bind = "127.0.0.1"
server.port = $PORT
server.errorlog = "$T/lighttpd.log"
server.modules += ( "mod_setenv", "mod_magnet", $MODULES"mod_fastcgi" )
\$HTTP["host"] =~ "^noop\\." {
	fastcgi.server = ( "/" => ( (
		"socket" => "$T/noop.sock", "bin-path" => "$BIN/noop-fcgi",
		"bin-environment" => ( "NOOP_ROOT" => "$T/static" ),
		"check-local" => "disable", "max-procs" => $PROCS,
		"x-sendfile" => "enable", "x-sendfile-docroot" => ( "$T/static" ) ) ) )
}
else \$HTTP["host"] =~ "^(fast|lua)\\." {
	server.document-root = "$T/fastpath"
	\$HTTP["host"] =~ "^fast\\." {
		$FAST
	}
	else \$HTTP["host"] =~ "^lua\\." {
		$LUA_FAST
	}
	fastcgi.server = ( "/" => ( (
		"socket" => "$T/fast.sock", "bin-path" => "$BIN/skiff-serve",
		"bin-environment" => ( "SKIFF_CONFIG" => "$T/skiff.conf" ),
		"check-local" => "disable", "max-procs" => $PROCS,
		"x-sendfile" => "enable", "x-sendfile-docroot" => ( "$T/store/blobs" ) ) ) )
}
else \$HTTP["host"] =~ "^bench\\." {
	fastcgi.server = ( "/" => ( (
		"socket" => "$T/serve.sock", "bin-path" => "$BIN/skiff-serve",
		"bin-environment" => ( "SKIFF_CONFIG" => "$T/skiff.conf" ),
		"check-local" => "disable", "max-procs" => $PROCS,
		"x-sendfile" => "enable", "x-sendfile-docroot" => ( "$T/store/blobs" ) ) ) )
}
else \$HTTP["host"] =~ "^static\\." {
	# as Debian's lighttpd.conf sets it: without a type lighttpd sends no ETag or Last-Modified
	$MIME
}
CONF
lighttpd $MFLAG -D -f "$T/lighttpd.conf" 2>"$T/lighttpd.stderr" &
LIGHTTPD=$!
PIDS="$PIDS $LIGHTTPD"
U=http://127.0.0.1:$PORT
i=0
until curl -sf -o /dev/null -H "Host: bench.localhost:$PORT" "$U/file4k.html"; do
	i=$((i + 1))
	[ $i -gt 50 ] && { echo "bench: lighttpd did not start" >&2; cat "$T/lighttpd.stderr" "$T/lighttpd.log" >&2; exit 1; }
	sleep 0.1
done
# The first request of the fast site reaches skiff-serve, which links its tree.
curl -s -o /dev/null -H "Host: fast.localhost:$PORT" "$U/file4k.html"
[ -L "$T/fastpath/sites/fast" ] || { echo "bench: skiff-serve did not link the fast path" >&2; exit 1; }
if [ -n "$FASTMOD" ]; then
	curl -s -o /dev/null -H "Host: lua.localhost:$PORT" "$U/file4k.html"
	[ -L "$T/fastpath/sites/lua" ] || { echo "bench: skiff-serve did not link the Lua site" >&2; exit 1; }
fi
for h in bench fast noop static ${FASTMOD:+lua}; do
	got=$(curl -sS -H "Host: $h.localhost:$PORT" "$U/file4k.html" | sha256sum)
	want=$(sha256sum <"$T/static/file4k.html")
	[ "$got" = "$want" ] || { echo "bench: $h does not serve the same bytes" >&2; exit 1; }
done
curl -sS -o /dev/null -D "$T/static.head" -H "Host: static.localhost:$PORT" "$U/file4k.html"
grep -qi '^ETag:' "$T/static.head" && grep -qi '^Content-Type: text/html' "$T/static.head" ||
	{ echo "bench: static lacks its ETag or type: $(cat "$T/static.head")" >&2; exit 1; }
# The 10,000-file deployment: 1,000 distinct files spread over the whole table, in turn.
# (10,000 random paths make lighttpd 1.4.69 itself stall, and sometimes crash, with
# X-Sendfile, for the no-op responder as much as for skiff-serve: BENCH_RANDOM=1 runs them.)
if [ -n "${BENCH_RANDOM:-}" ]; then
	cat >"$T/many.lua" <<'LUA'
math.randomseed(7)
request = function()
	return wrk.format(nil, string.format("/many/f%05d.html", math.random(0, 9999)))
end
LUA
else
	cat >"$T/many.lua" <<'LUA'
local i = 0
request = function()
	i = (i + 1) % 1000
	return wrk.format(nil, string.format("/many/f%05d.html", i * 10 + 7))
end
LUA
fi

# BENCH_HOLD=1: set up lighttpd, print its address, and wait (for a profiler) instead of measuring
if [ -n "${BENCH_HOLD:-}" ]; then
	echo "holding: $U (Host: fast|bench|noop|static.localhost:$PORT), lighttpd pid $LIGHTTPD, dir $T"
	wait "$LIGHTTPD"
	exit 0
fi
redis_calls() {
	redis-cli -s "$T/redis.sock" info commandstats |
		awk -F'[=,:]' '/^cmdstat_/ && !/cmdstat_info/ { n += $3 } END { print n + 0 }'
}
# ticks PID...: CPU clock ticks (user + system) the processes PID and their children used
ticks() {
	for p in "$@"; do
		echo "$p"
		pgrep -P "$p"
	done | sort -u | while read -r p; do
		cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null
	done | awk '{ n += $1 + $2 } END { print n + 0 }'
}
HZ=$(getconf CLK_TCK)
# rps HOSTPREFIX PATH|many: requests per second of one wrk run (after a 1 s warm-up) against
# $U; the web server's CPU microseconds per request (processes $SERVER_PIDS) in $T/cpu.out
rps() {
	if [ "$2" = many ]; then set -- "$1" / -s "$T/many.lua"; fi
	host=$1 path=$2
	shift 2
	wrk -t2 -c"$CONNS" -d1s -H "Host: $host.localhost:$PORT" "$@" "$U$path" >/dev/null 2>&1
	t0=$(ticks $SERVER_PIDS)
	wrk -t2 -c"$CONNS" -d"${SECS}s" -H "Host: $host.localhost:$PORT" "$@" "$U$path" >"$T/wrk.out" 2>&1
	t1=$(ticks $SERVER_PIDS)
	# (a server closing a keep-alive connection is a "read" socket error to wrk: Apache does
	# after MaxKeepAliveRequests, 100 as Debian ships it)
	if grep -qE 'Non-2xx|Socket errors: connect [1-9]|write [1-9]|timeout [1-9]' "$T/wrk.out"; then
		echo "bench: $host$path answered errors" >&2
		cat "$T/wrk.out" >&2
	fi
	awk -v a="$t0" -v b="$t1" -v hz="$HZ" '/ requests in / {
		if ($1 > 0) printf "%.1f", (b - a) * 1000000 / hz / $1 }' "$T/wrk.out" >"$T/cpu.out"
	awk '/^Requests\/sec:/ { printf "%d", $2 }' "$T/wrk.out"
}
# best HOSTPREFIX PATH: the better of two runs in requests/s
best() {
	a=$(rps "$@")
	b=$(rps "$@")
	max "$a" "$b"
}
# least A B: the smaller of two CPU figures, either of which may be empty
least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "" && (b == "" || a + 0 <= b + 0)) ? a : b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
max() { [ "${1:-0}" -ge "${2:-0}" ] 2>/dev/null && echo "${1:-0}" || echo "${2:-0}"; }
# versus PATH STATIC_URL FAST_URL: static and the fast path measured in turn, ROUNDS times each
# (a shared machine's load moves between runs; taking turns spreads it over both). Sets st and
# f (the better requests/s of each), sc and fc (the lower CPU per request of each), and pairs
# (fast/static of each round).
versus() {
	st=0 f=0 sc= fc= pairs=
	k=0
	while [ $k -lt "$ROUNDS" ]; do
		U=$2
		a=$(rps static "$1")
		sc=$(least "$sc" "$(cat "$T/cpu.out")")
		U=$3
		b=$(rps fast "$1")
		fc=$(least "$fc" "$(cat "$T/cpu.out")")
		st=$(max "$st" "$a")
		f=$(max "$f" "$b")
		pairs="$pairs $(ratio "$b" "$a")"
		k=$((k + 1))
	done
}
SERVERS=${BENCH_SERVERS:-lighttpd apache}
# Machines are noisy: each measurement runs BENCH_ROUNDS times, in turn with what it is
# compared with, and the best run of each counts.
ROUNDS=${BENCH_ROUNDS:-2}
status=0
case " $SERVERS " in *" lighttpd "*) ;; *) SKIP_LIGHTTPD=1 ;; esac
[ -n "${SKIP_LIGHTTPD:-}" ] || {
echo "skiff-serve benchmark: wrk -c$CONNS, ${SECS}s each, lighttpd with $PROCS FastCGI processes, $(nproc) cores"
echo "lighttpd's fast path: $([ -n "$FASTMOD" ] && echo "mod_skiff_fastpath ($MODDIR)" || echo "mod_magnet (apache/skiff-fastpath-lighttpd.lua; the module is not built)")"
printf '%-14s %11s %11s %11s %11s %10s %12s %11s\n' "case" "skiff-serve" "fast path" "noop-fcgi" \
	"static" "serve/noop" "serve/static" "fast/static"
SERVER_PIDS=$LIGHTTPD
for c in file4k.html file1m.bin many; do
	p=/$c
	[ "$c" = many ] && p=many
	s=0 n=0 calls= scpu= ncpu=
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		before=$(redis_calls)
		x=$(rps bench "$p")
		scpu=$(least "$scpu" "$(cat "$T/cpu.out")")
		after=$(redis_calls)
		reqs=$(awk '/requests in/ { print $1 }' "$T/wrk.out")
		calls=$(awk -v a="$before" -v b="$after" -v r="$reqs" 'BEGIN { if (r > 0) printf "%.4f", (b - a) / r }')
		s=$(max "$s" "$x")
		n=$(max "$n" "$(rps noop "$p")")
		ncpu=$(least "$ncpu" "$(cat "$T/cpu.out")")
		r=$((r + 1))
	done
	versus "$p" "$U" "$U"
	printf '%-14s %11s %11s %11s %11s %10s %12s %11s\n' "$c" "$s" "$f" "$n" "$st" "$(ratio "$s" "$n")" \
		"$(ratio "$s" "$st")" "$(ratio "$f" "$st")"
	echo "  redis commands per skiff-serve request (last run, incl. its warm-up): $calls"
	echo "  lighttpd CPU per request: fast path $fc us, static $sc us (static/fast $(ratio "$sc" "$fc"));" \
		"fast/static in each round:$pairs"
	echo "  lighttpd + responders CPU per request: skiff-serve $scpu us, noop-fcgi $ncpu us (noop/serve $(ratio "$ncpu" "$scpu"))"
	if [ -n "$FASTMOD" ]; then
		l=$(rps lua "$p")
		lcpu=$(cat "$T/cpu.out")
		echo "  the fast path above is mod_skiff_fastpath; mod_magnet's (Lua) on the same lighttpd:" \
			"$l requests/s, lua/static $(ratio "$l" "$st"), CPU $lcpu us per request"
	fi
	if [ "$c" = file4k.html ]; then
		q=$(ratio "$s" "$n")
		awk -v r="$q" 'BEGIN { exit !(r >= 0.9) }' || { echo "  target missed: serve/noop $q < 0.9"; status=1; }
	fi
	q=$(ratio "$f" "$st")
	awk -v r="$q" 'BEGIN { exit !(r >= 0.8) }' || { echo "  target missed: fast/static $q < 0.8"; status=1; }
done
}

# ---- Apache httpd: the shipped apache/skiff-sites.conf (with and without its fast path) ---
# skiff-serve runs as Apache's vhost expects it (xsendfile_plain_only), one process on its own
# socket; Apache's workers (www-data) reach it and read the trees, blobs and static files.
case " $SERVERS " in *" apache "*) ;; *) exit $status ;; esac
. "$ROOT/check/apache_sites.sh"
if ! command -v apache2 >/dev/null || [ ! -f "$APACHE_MODS/mod_rewrite.so" ] ||
	[ ! -f "$APACHE_MODS/mod_xsendfile.so" ]; then
	echo "bench: apache2 with mod_rewrite and mod_xsendfile is not installed: no Apache figures"
	exit 1
fi
apache_skiff_serve || { echo "bench: skiff-serve -s did not start" >&2; exit 1; }
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
AFAST=$(free_port) APLAIN=$(free_port) ASTATIC=$(free_port)
{
	apache_load mpm_event authz_core mime headers proxy proxy_fcgi xsendfile rewrite asis
	apache_common
	cat <<CONF
Include /etc/apache2/mods-available/mpm_event.conf
Listen 127.0.0.1:$AFAST
Listen 127.0.0.1:$APLAIN
Listen 127.0.0.1:$ASTATIC
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
<VirtualHost *:$ASTATIC>
	ServerName localhost
	DocumentRoot $T/static
	CustomLog $T/apache/static-access.log combined
	<Directory $T/static>
		Require all granted
	</Directory>
</VirtualHost>
CONF
	apache_sites_vhost "$AFAST"
	apache_sites_vhost_plain "$APLAIN"
} >"$T/apache/apache2.conf"
apache2 -t -f "$T/apache/apache2.conf" >"$T/apache/t.out" 2>&1 ||
	{ echo "bench: apache2 -t: $(cat "$T/apache/t.out")" >&2; exit 1; }
apache2 -DFOREGROUND -f "$T/apache/apache2.conf" >>"$T/apache/stdout.log" 2>&1 &
APACHE=$!
PIDS="$PIDS $APACHE"
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$ASTATIC/file4k.html"; do
	i=$((i + 1))
	[ $i -gt 50 ] && { echo "bench: apache did not start: $(tail -n 5 "$T/apache/error.log")" >&2; exit 1; }
	sleep 0.1
done
for hp in "bench $APLAIN" "fast $AFAST" "static $ASTATIC"; do
	set -- $hp
	got=$(curl -sS -H "Host: $1.localhost:$PORT" "http://127.0.0.1:$2/file4k.html" | sha256sum)
	[ "$got" = "$(sha256sum <"$T/static/file4k.html")" ] ||
		{ echo "bench: apache $1 does not serve the same bytes" >&2; exit 1; }
done
echo
echo "Apache httpd $(apache2 -v | sed -n 's|^Server version: Apache/\([^ ]*\).*|\1|p'), event MPM (Debian's settings), one skiff-serve process, wrk -c$CONNS, ${SECS}s each"
printf '%-14s %11s %11s %11s %12s %11s\n' "case" "skiff-serve" "fast path" "static" "serve/static" "fast/static"
SERVER_PIDS=$APACHE
for c in file4k.html file1m.bin many; do
	p=/$c
	[ "$c" = many ] && p=many
	U=http://127.0.0.1:$APLAIN
	s=$(best bench "$p")
	versus "$p" "http://127.0.0.1:$ASTATIC" "http://127.0.0.1:$AFAST"
	printf '%-14s %11s %11s %11s %12s %11s\n' "$c" "$s" "$f" "$st" "$(ratio "$s" "$st")" "$(ratio "$f" "$st")"
	echo "  Apache CPU per request: fast path $fc us, static $sc us (static/fast $(ratio "$sc" "$fc"));" \
		"fast/static in each round:$pairs"
	q=$(ratio "$f" "$st")
	awk -v r="$q" 'BEGIN { exit !(r >= 0.8) }' || { echo "  target missed: fast/static $q < 0.8"; status=1; }
done
exit $status
