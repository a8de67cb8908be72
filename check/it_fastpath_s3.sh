#!/bin/sh
# it_fastpath_s3.sh — the serving fast path with the s3 store behind it: the sites' trees point
# into skiff-serve's blob cache (cache_path), which starts empty, is filled by skiff-serve as
# it verifies each blob, and loses files to eviction. Under lighttpd (mod_skiff_fastpath when
# built, and mod_magnet's Lua) and Apache
# (mod_rewrite), each against a lighttpd without the fast path and with its own cache: a cold
# cache's first requests, warm hits that never reach skiff-serve, a cache file evicted (also
# within the second lighttpd trusts a stat) or truncated, a fill in progress, a blob whose
# bytes in the bucket are wrong. Every answer must be skiff-serve's own (status, body, headers).
. "$(dirname "$0")/lib.sh"
. "$ROOT/check/s3/peers.sh"
. "$ROOT/check/apache_sites.sh"

peers_install
peers_tools
start_redis
start_endpoint
fastpath_conf debug
# the generated configuration with the s3 store in place of the file store
sed -i -e '/^store *=/d' -e '/^store_path *=/d' "$T/skiff.conf"
cat >>"$T/skiff.conf" <<CONF
redis_timeout_ms = 500
$(s3_settings)
s3_timeout = 2
cache_path = $T/cache
cache_max_mb = 1
CONF
export SKIFF_CONFIG="$T/skiff.conf"
# skiff-serve alone: its own cache, no tree
sed -e '/^fastpath_dir/d' -e "s|^cache_path = .*|cache_path = $T/plain-cache|" "$T/skiff.conf" >"$T/plain-skiff.conf"
S3TOOL=$T/s3tool
mkdir -p "$T/cache"
sha() { sha256sum "$1" | cut -c1-64; }
cpath() { echo "$T/cache/$(echo "$1" | cut -c1-2)/$1"; }

# ---- a deployment whose blobs are only in the bucket ----------------------------------------
S=$T/site
mkdir -p "$S/assets"
printf '<!doctype html><h1>s3 home</h1>\n' >"$S/index.html"
printf '<h1>a page</h1>\n' >"$S/page.html"
fixture_app "$S"
head -c 600000 /dev/urandom >"$S/assets/big.bin"
head -c 600000 /dev/urandom >"$S/assets/big2.bin"
printf 'good bytes\n' >"$S/evil.txt"
# entry (lib.sh) hashes only: the blobs go to the bucket below
blob() { sha "$1"; }
D=sssssssssss2
cat >"$T/m.json" <<JSON
{"version":1,"deployment":"$D","created":1732270000000,"files":{
$(entry /index.html "$S/index.html"),
$(entry /page.html "$S/page.html"),
$(entry /app.3f2a9c1e.js "$S/app.js" "$S/app.js.gz" "$S/app.js.br"),
$(entry /assets/big.bin "$S/assets/big.bin"),
$(entry /assets/big2.bin "$S/assets/big2.bin"),
$(entry /evil.txt "$S/evil.txt")},
"config":{"redirects":[{"from":"/old","to":"/page.html","status":301,"force":false,"line":1}],
 "headers":[{"for":"/page.html","set":[["X-Frame-Options","DENY"]],"unset":[],"line":1}]}}
JSON
"$S3TOOL" blobs "$S/index.html" "$S/page.html" "$S/app.js" "$S/app.js.gz" "$S/app.js.br" \
	"$S/assets/big.bin" "$S/assets/big2.bin" >"$T/upload.out" 2>>"$T/tool.log"
check_match "the deployment's blobs are in the bucket" "^uploaded 7 " "$(cat "$T/upload.out")"
# evil.txt: the bucket holds other bytes under its hash (a corrupted or forged object)
he=$(sha "$S/evil.txt")
"$S3TOOL" putmem "blobs/$(echo "$he" | cut -c1-2)/$he" "evil bytes" text/plain 2>>"$T/tool.log"
"$S3TOOL" putmem "manifests/$D.json" "$(cat "$T/m.json")" application/json 2>>"$T/tool.log"
check_eq "... and its manifest" "$(printf %s "$(cat "$T/m.json")" | wc -c | tr -d ' ') application/json" \
	"$("$S3TOOL" head "manifests/$D.json" 2>>"$T/tool.log")"
rcli hset skiff:project:s3site current $D >/dev/null
rcli hset skiff:deployment:$D project s3site state ready >/dev/null
H=s3site.localhost:$PORT

# ---- the web servers: lighttpd with and without the fast path, Apache with it ---------------
sed -e '/magnet\.attract/d' -e '/skiff\.fastpath-dir/d' -e "s|^server.port *= *$PORT|server.port = $PLAIN|" \
	-e "s|$T/fcgi-|$T/plain-fcgi-|g" -e "s|$T/lighttpd|$T/plain-lighttpd|g" \
	-e "s|$T/skiff.conf|$T/plain-skiff.conf|g" -e "s|$T/cache/|$T/plain-cache/|g" \
	"$T/lighttpd.conf" >"$T/plain.conf"
# beside the module (when genconf used it), mod_magnet's Lua fast path, on the same cache
CONFS="lighttpd.conf plain.conf"
LUA=$(free_port)
if lighttpd_lua_conf "$LUA"; then CONFS="$CONFS lua.conf"; else LUA=; fi
for conf in $CONFS; do
	lighttpd $(lighttpd_m "$T/$conf") -tt -f "$T/$conf" >"$T/$conf.check" 2>&1 || { cat "$T/$conf.check" >&2; exit 1; }
	lighttpd $(lighttpd_m "$T/$conf") -D -f "$T/$conf" >>"$T/$conf.log" 2>&1 &
	PIDS="$PIDS $!"
done
for p in $PORT $PLAIN $LUA; do
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$p/" ||
		{ fail "lighttpd on $p starts"; cat "$T"/*.log >&2; finish; exit 1; }
done
apache_skiff_serve || fail "skiff-serve -s did not start for Apache"
AFAST=$(free_port)
{
	apache_load mpm_event authz_core mime headers deflate filter proxy proxy_fcgi xsendfile rewrite asis
	apache_common
	cat <<CONF
Listen 127.0.0.1:$AFAST
# Debian's default: mod_deflate on for text
AddOutputFilterByType DEFLATE text/html text/plain text/css text/javascript application/json
CONF
	apache_sites_vhost "$AFAST"
} >"$T/apache/apache2.conf"
apache2 -t -f "$T/apache/apache2.conf" >"$T/apache/t.out" 2>&1 ||
	{ fail "apache2 -t accepts the configuration: $(cat "$T/apache/t.out")"; finish; exit 1; }
apache2 -DFOREGROUND -f "$T/apache/apache2.conf" >>"$T/apache/stdout.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$AFAST/" ||
	{ fail "apache starts: $(tail -n 5 "$T/apache/error.log")"; finish; exit 1; }

# req PORT TAG PATH [CURL ARGS...]: headers to $T/TAG.h, body to $T/TAG.b; prints the status
req() {
	port=$1 tag=$2 path=$3
	shift 3
	: >"$T/$tag.b"
	curl -sS -m 20 -D "$T/$tag.h" -o "$T/$tag.b" -w '%{http_code}' -H "Host: $H" "$@" \
		"http://127.0.0.1:$port$path"
}
HEADERS="ETag Content-Type Content-Encoding Vary Cache-Control Location X-Frame-Options
Last-Modified X-Content-Type-Options Accept-Ranges Content-Length"
# (Content-Length only where the fast path's server sends one: Apache streams what
# skiff-serve sends itself, its pages and precompressed variants, chunked)
summary() {
	printf 'status %s\nbody %s\n' "$1" "$(sha256sum <"$T/$2.b" | cut -c1-64)"
	for h in $HEADERS; do
		[ "$h" = Content-Length ] && ! grep -qi '^content-length:' "$T/f.h" && continue
		printf '%s: %s\n' "$h" "$(grep -i "^$h:" "$T/$2.h" | sed 's/^[^:]*: *//' | tr -d '\r' | sort | tr '\n' ' ')"
	done
}
# same DESCRIPTION PATH [CURL ARGS...]: $FAST_AT answers as skiff-serve alone does, with a
# body that matches the ETag it sends (the hash of the bytes as sent)
same() {
	desc=$1 path=$2
	shift 2
	sf=$(req "$FAST_AT" f "$path" "$@")
	sp=$(req "$PLAIN" p "$path" "$@")
	summary "$sf" f >"$T/f.sum"
	summary "$sp" p >"$T/p.sum"
	etag=$(grep -i '^etag:' "$T/f.h" | sed 's/^[^:]*: *//' | tr -d '\r"')
	if ! cmp -s "$T/f.sum" "$T/p.sum"; then
		fail "$SERVER: same answer: $desc: $(diff "$T/p.sum" "$T/f.sum" | grep '^[<>]' | tr '\n' ' ')"
	elif [ "$sf" = 200 ] && [ "$etag" != "$(sha "$T/f.b")" ]; then
		fail "$SERVER: same answer: $desc: the body does not match the ETag $etag"
	else
		ok "$SERVER: same answer: $desc ($sf)"
	fi
}
# every question of this deployment
suite() {
	same "GET /" /
	same "GET /index.html" /index.html
	same "a page" /page.html
	same "a large file" /assets/big.bin
	same "identity of a file with variants" /app.3f2a9c1e.js
	same "its gzip variant" /app.3f2a9c1e.js -H 'Accept-Encoding: gzip'
	same "its br variant" /app.3f2a9c1e.js -H 'Accept-Encoding: gzip, deflate, br'
	same "If-None-Match" / -H "If-None-Match: \"$(sha "$S/index.html")\""
	same "a redirect rule" /old
	same "a missing file" /nothing
	same "a blob whose bytes in the bucket are wrong (503, never its bytes)" /evil.txt
}
# cache_entries: the blob files in the fast path's cache
cache_entries() { find "$T/cache" -path "$T/cache/tmp" -prune -o -type f -name '[0-9a-f]*' -print | wc -l | tr -d ' '; }
# served: how many requests the fast path's skiff-serve answered (its debug line per request)
# (lighttpd's skiff-serve writes to lighttpd's stderr)
served() { cat "$T/lighttpd.conf.log" "$T/apache-serve.log" 2>/dev/null | grep -c 'served host='; }
# tick: wait into the next second (lighttpd's fast path looks at files again once a second)
tick() { sleep 1.1; }

for SERVER in lighttpd ${LUA:+lighttpd-lua} apache; do
	FAST_AT=$PORT
	[ $SERVER = apache ] && FAST_AT=$AFAST
	[ $SERVER = lighttpd-lua ] && FAST_AT=$LUA
	# ---- a cold cache: every first request answered by skiff-serve, which fills the cache ----
	find "$T/cache" -path "$T/cache/tmp" -prune -o -type f -name '[0-9a-f]*' -exec rm -f {} +
	check_eq "$SERVER: the cache starts empty" 0 "$(cache_entries)"
	suite
	check_eq "$SERVER: the tree points into the cache" "$(cpath "$(sha "$S/index.html")")" \
		"$(cut -f5 "$T/fastpath/sites/s3site/index.html@")"
	check_eq "$SERVER: skiff-serve filled the cache with the blobs asked for" 6 "$(cache_entries)"
	# ---- warm: the same questions, the files now from the fast path --------------------------
	tick
	n0=$(served)
	for path in / /index.html /page.html /assets/big.bin /app.3f2a9c1e.js; do
		req "$FAST_AT" f "$path" >/dev/null
	done
	req "$FAST_AT" f /app.3f2a9c1e.js -H 'Accept-Encoding: br' >/dev/null
	req "$FAST_AT" f /app.3f2a9c1e.js -H 'Accept-Encoding: gzip' >/dev/null
	check_eq "$SERVER: warm hits of every file and variant never reach skiff-serve" 0 "$(($(served) - n0))"
	suite
	# ---- eviction: a cache file unlinked under the tree --------------------------------------
	hi=$(sha "$S/index.html")
	rm "$(cpath "$hi")"
	tick
	same "an evicted file" /
	check_eq "$SERVER: ... is in the cache again" "$hi" "$(sha "$(cpath "$hi")")"
	# within the second the fast path saw it present: the file goes between two requests
	tick
	req "$FAST_AT" f /page.html >/dev/null
	python3 -c 'import time; time.sleep(1 - time.time() % 1 + 0.05)'
	req "$FAST_AT" f /page.html >/dev/null
	rm "$(cpath "$(sha "$S/page.html")")"
	same "a file evicted within the second the fast path saw it" /page.html
	# ... and when the fast path has only answered 304s of it in that second (no file opened)
	tick
	req "$FAST_AT" f /page.html >/dev/null
	python3 -c 'import time; time.sleep(1 - time.time() % 1 + 0.05)'
	req "$FAST_AT" f /page.html -H "If-None-Match: \"$(sha "$S/page.html")\"" >/dev/null
	rm "$(cpath "$(sha "$S/page.html")")"
	same "a file evicted within the second the fast path answered a 304 of it" /page.html
	# ---- a cache file cut short on disk: never sent under the blob's ETag --------------------
	# (Apache: a file without variants or other headers, and one with variants, take two
	# different sets of rules)
	hb=$(sha "$S/assets/big.bin")
	ha=$(sha "$S/app.js")
	tick
	truncate -s 1000 "$(cpath "$hb")"
	truncate -s 1000 "$(cpath "$ha")"
	tick
	same "a truncated cache file" /assets/big.bin
	same "a truncated cache file of a file with variants" /app.3f2a9c1e.js
	check_eq "$SERVER: ... both fetched again whole" "$hb $ha" "$(sha "$(cpath "$hb")") $(sha "$(cpath "$ha")")"
done

# ---- what the fast path's correctness rests on -----------------------------------------------
# 1. A blob file appears in the cache only whole and verified, by rename(2): while a fill is
# stalled halfway its bytes are in cache/tmp, and the blob's own name does not exist.
hb=$(sha "$S/assets/big.bin")
rm -f "$(cpath "$hb")"
tick
fault '{"s3_stall_get":1}'
req "$PORT" stall /assets/big.bin >"$T/stall.code" &
STALL=$!
wait_for 10 sh -c "find '$T/cache/tmp' -type f -size +1k | grep -q ."
check_eq "a fill stalled halfway: its bytes in cache/tmp, none at the blob's name" "yes no" \
	"$(find "$T/cache/tmp" -type f -size +1k | grep -q . && echo yes || echo no) $([ -e "$(cpath "$hb")" ] && echo yes || echo no)"
SERVER=lighttpd FAST_AT=$PORT
same "... meanwhile another request of it" /assets/big.bin
wait "$STALL"
check_eq "... the stalled request ends with the whole file" "200 $hb" "$(cat "$T/stall.code") $(sha "$T/stall.b")"
# 2. Eviction only unlinks: a file being read (a download in progress) keeps its bytes.
hb2=$(sha "$S/assets/big2.bin")
req "$PORT" f /assets/big.bin >/dev/null
req "$PORT" f /assets/big2.bin >/dev/null
rm -f "$(cpath "$hb2")"
touch -a -d '1 hour ago' "$(cpath "$hb")"
exec 3<"$(cpath "$hb")"
tick
same "a fill that takes the cache past cache_max_mb" /assets/big2.bin
check_eq "... evicted the least recently used file" no "$([ -e "$(cpath "$hb")" ] && echo yes || echo no)"
check_eq "... whose bytes an open descriptor still reads whole" "$hb" "$(sha256sum <&3 | cut -c1-64)"
exec 3<&-
tick
same "... and which is served again" /assets/big.bin
SERVER=apache FAST_AT=$AFAST
same "... by Apache too" /assets/big.bin

# ---- the fast path answers by itself ---------------------------------------------------------
# (the fill above evicted GET /'s blob too, which no request had used for a while: fetched again)
req "$PORT" f / >/dev/null
tick
stop_redis
sleep 0.6
check_eq "Redis down: skiff-serve alone answers 503" 503 "$(req "$PLAIN" p /)"
check_eq "... lighttpd's fast path serves GET / from the cache" "200 $(sha "$S/index.html")" \
	"$(req "$PORT" f /) $(sha "$T/f.b")"
check_eq "... Apache's too" "200 $(sha "$S/index.html")" "$(req "$AFAST" f /) $(sha "$T/f.b")"
[ -z "$LUA" ] || check_eq "... and mod_magnet's beside the module" "200 $(sha "$S/index.html")" \
	"$(req "$LUA" f /) $(sha "$T/f.b")"
finish
