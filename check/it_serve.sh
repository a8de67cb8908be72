#!/bin/sh
# it_serve.sh — skiff-serve through a real lighttpd (FastCGI over a unix socket, X-Sendfile
# limited to the blob store) and a real Redis: deployments written straight into the file
# store and Redis, observed with curl as a browser would see them.
. "$(dirname "$0")/lib.sh"

start_redis
write_config
PORT=$(free_port)
cat >>"$T/skiff.conf" <<CONF
site_port = $PORT
xsendfile = true
redis_timeout_ms = 500
CONF
. "$(dirname "$0")/serve_fixture.sh"

# ---- lighttpd with skiff-serve ----------------------------------------------------------
cat >"$T/lighttpd.conf" <<CONF
server.document-root = "$T/empty"
server.bind = "127.0.0.1"
server.port = $PORT
server.errorlog = "$T/lighttpd.log"
server.modules += ( "mod_fastcgi" )
fastcgi.server = ( "/" => ( (
	"socket" => "$T/serve.sock",
	"bin-path" => "$BIN/skiff-serve",
	"bin-environment" => ( "SKIFF_CONFIG" => "$T/skiff.conf" ),
	"check-local" => "disable",
	"max-procs" => 1,
	"x-sendfile" => "enable",
	"x-sendfile-docroot" => ( "$BLOBS" ),
) ) )
CONF
lighttpd -D -f "$T/lighttpd.conf" 2>"$T/lighttpd.stderr" &
PIDS="$PIDS $!"
U=http://127.0.0.1:$PORT
if ! wait_for 10 curl -sf -o /dev/null -H "Host: demo.localhost:$PORT" "$U/"; then
	fail "lighttpd with skiff-serve starts"
	cat "$T/lighttpd.stderr" "$T/lighttpd.log" >&2
	finish
	exit 1
fi

# get HOST PATH [CURL ARGS...]: headers to $T/h, body to $T/b; prints the status
get() {
	host=$1 path=$2
	shift 2
	: >"$T/b"
	curl -sS --path-as-is -m 10 -D "$T/h" -o "$T/b" -w '%{http_code}' -H "Host: $host" "$@" "$U$path"
}
hdr() { grep -i "^$1:" "$T/h" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'; }
H=demo.localhost:$PORT

# ---- files, headers, X-Sendfile ---------------------------------------------------------
check_eq "GET / serves index.html" 200 "$(get "$H" /)"
check_eq "the body is the blob's bytes" "$(cat "$S/index.html")" "$(cat "$T/b")"
check_eq "Content-Type has a charset" "text/html; charset=utf-8" "$(hdr Content-Type)"
check_eq "strong ETag from the content hash" "\"$(sha256sum "$S/index.html" | cut -c1-64)\"" "$(hdr ETag)"
check_eq "HTML revalidates" "public, max-age=0, must-revalidate" "$(hdr Cache-Control)"
check_eq "nosniff" "nosniff" "$(hdr X-Content-Type-Options)"
check_eq "_headers applied" "DENY" "$(hdr X-Frame-Options)"
check_eq "the X-Sendfile header does not reach the client" "" "$(hdr X-Sendfile)"
check_eq "Content-Length is the file's size" "$(size "$S/index.html")" "$(hdr Content-Length)"
cgi_out=$(env REQUEST_METHOD=GET REQUEST_URI=/ HTTP_HOST="$H" GATEWAY_INTERFACE=CGI/1.1 \
	SKIFF_CONFIG="$T/skiff.conf" "$BIN/skiff-serve" 2>/dev/null | tr -d '\r')
check_match "skiff-serve hands lighttpd the blob path (X-Sendfile)" \
	"X-Sendfile: $BLOBS/[0-9a-f]{2}/[0-9a-f]{64}" "$cgi_out"
check_eq "... and writes no body itself" "" "$(printf '%s\n' "$cgi_out" | sed '1,/^$/d')"
cgi_body=$(env REQUEST_METHOD=GET REQUEST_URI=/ HTTP_HOST="$H" GATEWAY_INTERFACE=CGI/1.1 \
	SKIFF_CONFIG="$T/skiff.conf" SKIFF_XSENDFILE=false "$BIN/skiff-serve" 2>/dev/null | tr -d '\r')
check_eq "without X-Sendfile the program streams the file itself" "$(cat "$S/index.html")" \
	"$(printf '%s\n' "$cgi_body" | sed '1,/^$/d')"
check_eq "a large file through X-Sendfile" 200 "$(get "$H" /assets/big.bin)"
check_eq "... byte for byte" "$(sha256sum <"$S/assets/big.bin")" "$(sha256sum <"$T/b")"
get "$H" /app.3f2a9c1e.js >/dev/null
check_eq "hashed names are immutable" "public, max-age=31536000, immutable" "$(hdr Cache-Control)"
check_eq "HEAD: status" 200 "$(get "$H" / -I)"
check_eq "HEAD: the length of the file" "$(size "$S/index.html")" "$(hdr Content-Length)"
check_eq "HEAD: no body (curl -I writes only the headers)" "$(size "$T/h")" "$(size "$T/b")"
check_eq "POST to a file is 405" 405 "$(get "$H" / -d x)"

# ---- conditional GET ----------------------------------------------------------------------
get "$H" / >/dev/null
etag=$(hdr ETag)
check_eq "If-None-Match with the ETag: 304" 304 "$(get "$H" / -H "If-None-Match: $etag")"
check_eq "... with no body" 0 "$(size "$T/b")"
check_eq "... and the ETag" "$etag" "$(hdr ETag)"
check_eq "If-None-Match with another tag: 200" 200 "$(get "$H" / -H 'If-None-Match: "other"')"
check_eq "one Last-Modified: the deployment's time" "1 Fri, 22 Nov 2024 10:06:40 GMT" \
	"$(get "$H" / >/dev/null; grep -ci '^last-modified:' "$T/h") $(hdr Last-Modified)"
check_eq "If-Modified-Since equal to it: 304" 304 "$(get "$H" / -H 'If-Modified-Since: Fri, 22 Nov 2024 10:06:40 GMT')"
# a browser that kept a newer deployment's copy (after a rollback) holds a later date: not 304,
# though lighttpd, given the blob by X-Sendfile, would compare the date with the file's mtime
check_eq "If-Modified-Since a day later: 200 (dates match exactly)" 200 \
	"$(get "$H" / -H 'If-Modified-Since: Sat, 23 Nov 2024 10:06:40 GMT')"
check_eq "... with the whole file" "$(size "$S/index.html")" "$(size "$T/b")"
check_eq "If-Modified-Since after the blob file's mtime: 200" 200 \
	"$(get "$H" / -H 'If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT')"
check_eq "... with the whole file" "$(size "$S/index.html")" "$(size "$T/b")"
check_eq "If-None-Match wins over If-Modified-Since" 200 \
	"$(get "$H" / -H 'If-None-Match: "other"' -H 'If-Modified-Since: Fri, 22 Nov 2024 10:06:40 GMT')"

# ---- Range --------------------------------------------------------------------------------
check_eq "Range: 206" 206 "$(get "$H" /assets/big.bin -H 'Range: bytes=10-19')"
check_eq "... Content-Range" "bytes 10-19/100000" "$(hdr Content-Range)"
check_eq "... the right bytes" "$(dd if="$S/assets/big.bin" bs=1 skip=10 count=10 2>/dev/null | sha256sum)" \
	"$(sha256sum <"$T/b")"
get "$H" /assets/big.bin -H 'Range: bytes=-10' >/dev/null
check_eq "suffix range" "bytes 99990-99999/100000" "$(hdr Content-Range)"
check_eq "unsatisfiable range: 416" 416 "$(get "$H" /assets/big.bin -H 'Range: bytes=200000-')"
check_eq "... Content-Range bytes */size" "bytes */100000" "$(hdr Content-Range)"

# ---- compression negotiation ------------------------------------------------------------
check_eq "gzip variant" 200 "$(get "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: gzip')"
check_eq "... Content-Encoding" gzip "$(hdr Content-Encoding)"
check_eq "... Vary" "Accept-Encoding" "$(hdr Vary)"
check_eq "... decompresses to the file" "$(sha256sum <"$S/app.js")" "$(gzip -dc <"$T/b" | sha256sum)"
get "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: gzip, br' >/dev/null
check_eq "br is preferred" br "$(hdr Content-Encoding)"
check_eq "... the br blob's bytes" "BROTLI-VARIANT-BYTES" "$(cat "$T/b")"
get "$H" /app.3f2a9c1e.js >/dev/null
check_eq "no Accept-Encoding: identity" "$(sha256sum <"$S/app.js")" "$(sha256sum <"$T/b")"
check_eq "... still Vary" "Accept-Encoding" "$(hdr Vary)"

# ---- rules: redirects, rewrites, 404 pages ---------------------------------------------
check_eq "redirect rule" "301 /new" "$(get "$H" /old) $(hdr Location)"
get "$H" '/old?a=1' >/dev/null
check_eq "redirect rule keeps the query" "/new?a=1" "$(hdr Location)"
check_eq "external redirect" "302 https://example.com/x/y" "$(get "$H" /go/x/y) $(hdr Location)"
check_eq "200 rewrite" 200 "$(get "$H" /app/some/route)"
check_eq "... serves the target" "$(cat "$S/index.html")" "$(cat "$T/b")"
check_eq "an existing file shadows a rule" 200 "$(get "$H" /index.html)"
get "$H" /new >/dev/null
check_eq "pretty URL /new serves new.html" "$(cat "$S/new.html")" "$(cat "$T/b")"
check_eq "directory without slash redirects" "301 /docs/" "$(get "$H" /docs) $(hdr Location)"
check_eq "nearest 404.html" 404 "$(get "$H" /docs/missing)"
check_eq "... its body" "$(cat "$S/docs/404.html")" "$(cat "$T/b")"
check_eq "top-level 404.html" "404 $(cat "$S/404.html")" "$(get "$H" /nothing/here) $(cat "$T/b")"

# ---- SPA fallback -------------------------------------------------------------------------
P=spa.localhost:$PORT
check_eq "SPA: a navigation gets index.html" "200 $(cat "$S/spa.html")" "$(get "$P" /dashboard/settings) $(cat "$T/b")"
check_eq "SPA: an asset is served" 200 "$(get "$P" /assets/app.js)"
check_eq "SPA: a missing asset stays 404" 404 "$(get "$P" /assets/missing.js -H 'Accept: */*')"

# ---- traversal and injection through the web server ------------------------------------
check_eq "/../ stays inside the deployment" 200 "$(get "$H" /../)"
check_eq "... serving its index" "$(cat "$S/index.html")" "$(cat "$T/b")"
st=$(get "$H" /%2e%2e/%2e%2e/etc/passwd)
check_match "/%2e%2e/%2e%2e/etc/passwd never leaves the deployment" '^(400|404)$' "$st"
check_nomatch "... and shows no system file" 'root:' "$(cat "$T/b")"
check_eq "/%252e%252e/ is a literal segment: 404" 404 "$(get "$H" /%252e%252e/)"
check_eq "encoded slash: 400" 400 "$(get "$H" /a%2fb)"
check_eq "NUL: 400" 400 "$(get "$H" /%00)"
check_eq "overlong UTF-8: 400" 400 "$(get "$H" /%c0%ae%c0%ae/)"
check_eq "backslash: 400" 400 "$(get "$H" '/a%5cb')"
long=$(head -c 3000 /dev/zero | tr '\0' a)
check_eq "over-long path: 414" 414 "$(get "$H" "/$long")"

# ---- hosts ----------------------------------------------------------------------------------
check_eq "unknown project: skiff's 404 page" 404 "$(get "nosuch.localhost:$PORT" /)"
check_eq "... as HTML" "text/html; charset=utf-8" "$(hdr Content-Type)"
check_eq "unknown project, JSON client: JSON 404" "404 application/json" \
	"$(get "nosuch.localhost:$PORT" / -H 'Accept: application/json') $(hdr Content-Type)"
check_eq "port mismatch: 404" 404 "$(get "demo.localhost:1" /)"
check_eq "Host a..b refused" 400 "$(get "a..b" /)"
check_eq "immutable URL" "200 $(cat "$S/index.html")" "$(get "demo--$D1.localhost:$PORT" /) $(cat "$T/b")"
check_eq "immutable URL of another project: 404" 404 "$(get "spa--$D1.localhost:$PORT" /)"
check_eq "expired deployment: 410" 410 "$(get "demo--$D2.localhost:$PORT" /)"
check_eq "a current naming another project's deployment serves nothing: 404" 404 \
	"$(get "other.localhost:$PORT" /)"
check_nomatch "... and none of that project's files" 'demo' "$(cat "$T/b")"
check_eq "... nor a file by its path" 404 "$(get "other.localhost:$PORT" /index.html)"
check_eq "the owner's host still serves it" 200 "$(get "$H" /index.html)"

# ---- Redis: at most one round trip a request; rollback shows within one second --------
redis_calls() {
	rcli info commandstats | awk -F'[=,:]' '/^cmdstat_/ && !/cmdstat_info/ { n += $3 } END { print n + 0 }'
}
get "$H" / >/dev/null
before=$(redis_calls)
i=0
while [ $i -lt 20 ]; do get "$H" "/new?i=$i" >/dev/null; i=$((i + 1)); done
after=$(redis_calls)
check_match "20 warm requests cost at most 20 Redis commands" '^([0-9]|1[0-9]|20)$' "$((after - before))"
body_is() { get "$H" / >/dev/null; [ "$(cat "$T/b")" = "$1" ]; }
rcli hset skiff:project:demo current $D2 >/dev/null
start=$(date +%s%N)
wait_for 3 body_is "$(cat "$S/index2.html")"
check_eq "a new current deployment shows" "$(cat "$S/index2.html")" "$(cat "$T/b")"
check_match "... within one second" '^([0-9]{1,3}|1000)$' "$((($(date +%s%N) - start) / 1000000))"
rcli hset skiff:project:demo current $D1 >/dev/null
wait_for 3 body_is "$(cat "$S/index.html")"
check_eq "... and rolls back" "$(cat "$S/index.html")" "$(cat "$T/b")"

# ---- Redis down: 503, not a hang (fresh answers may serve for up to half a second) ------
stop_redis
is_503() { [ "$(get "$H" /)" = 503 ]; }
wait_for 3 is_503
start=$(date +%s)
check_eq "Redis down: 503" 503 "$(get "$H" /)"
check_match "... answered within 3 s" '^[0-3]$' "$(($(date +%s) - start))"
check_eq "... with Retry-After" 5 "$(hdr Retry-After)"
check_eq "... as skiff's HTML page" "text/html; charset=utf-8" "$(hdr Content-Type)"
check_eq "Redis down, JSON client: JSON error" "503 application/json" \
	"$(get "$H" / -H 'Accept: application/json') $(hdr Content-Type)"
check_match "... naming the cause" '"code":"redis_unavailable"|"code":"[a-z_]*redis[a-z_]*"' "$(cat "$T/b")"
finish
