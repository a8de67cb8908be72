#!/bin/sh
# check/valgrind.sh — the long-running programs under valgrind through a short real workload:
# skiff-create, skiff-status and skiff-serve as FastCGI servers on unix sockets (answering
# through cgi-fcgi), skiff-dispatch as a daemon running a real build, skiff-sse-bridge
# streaming that build's log to clients (one from the start, one resuming, bad requests) and
# taking fast-path switch messages (a real one and malformed ones), lighttpd with skiff's fast
# path module (when it is built) serving the site, then SIGTERM. Passes
# when every program reports no errors and nothing definitely or indirectly lost.
# Slow (minutes); run by hand or `make valgrind`, not part of make check.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/check/lib.sh"
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
command -v cgi-fcgi >/dev/null || { echo "cgi-fcgi (libfcgi-bin) is not installed" >&2; exit 1; }
start_redis
write_config
SSE=$(free_port)
printf 'sse_listen = 127.0.0.1:%s\nfastpath_dir = %s/fastpath\n' "$SSE" "$T" >>"$T/skiff.conf"
VG="valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --suppressions=$ROOT/check/valgrind.supp"

for p in skiff-create skiff-status skiff-serve; do
	$VG --log-file="$T/vg-$p.log" "$BIN/$p" -s "$T/$p.sock" 2>>"$T/$p.err" &
	eval "PID_$(echo $p | tr - _)=$!"
	PIDS="$PIDS $!"
done
$VG --log-file="$T/vg-skiff-dispatch.log" "$BIN/skiff-dispatch" 2>>"$T/dispatch.err" &
PID_dispatch=$!
PIDS="$PIDS $PID_dispatch"
$VG --log-file="$T/vg-skiff-sse-bridge.log" "$BIN/skiff-sse-bridge" 2>>"$T/sse-bridge.err" &
PID_bridge=$!
PIDS="$PIDS $PID_bridge"
wait_for 60 grep -q 'fastpath switches subscribed' "$T/sse-bridge.err" ||
	{ echo "skiff-sse-bridge did not start under valgrind" >&2; cat "$T/sse-bridge.err" >&2; exit 1; }
for p in skiff-create skiff-status skiff-serve; do
	wait_for 60 test -S "$T/$p.sock" || { echo "$p did not start under valgrind" >&2; exit 1; }
done

fcgi() { # socket method uri [body] [host]
	body=${4:-}
	printf '%s' "$body" | env -i REQUEST_METHOD="$2" REQUEST_URI="$3" CONTENT_TYPE=application/json HTTP_ORIGIN=http://localhost \
		CONTENT_LENGTH=${#body} HTTP_HOST="${5:-localhost}" HTTP_ACCEPT="${6:-*/*}" SERVER_PROTOCOL=HTTP/1.1 \
		cgi-fcgi -bind -connect "$T/$1.sock"
}
repo=$T/repo
mkdir -p "$repo/docs"
echo '<h1>valgrind</h1>' >"$repo/index.html"
echo 'body { color: red }' >"$repo/docs/site.css"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=v -c user.email=v@skiff.invalid commit -qm first

out=$(fcgi skiff-create POST /api/projects "{\"gitURL\":\"file://$repo\",\"slug\":\"vg\"}")
check_match "create answers 202 under valgrind" '^Status: 202' "$out"
id=$(printf '%s' "$out" | sed -n 's/.*"deploymentId":"\([a-z2-7]*\)".*/\1/p')
# the build's log through the bridge, from the start to its end event
curl -s -N --max-time 120 "http://127.0.0.1:$SSE/events/$id" >"$T/events.txt" &
EVENTS=$!
fcgi skiff-create POST /api/projects '{"gitURL":"ftp://x"}' >/dev/null
fcgi skiff-create POST /api/projects '{not json' >/dev/null
wait_for 120 sh -c "[ \"\$(redis-cli -s $T/redis.sock hget skiff:deployment:$id state)\" = ready ]"
check_eq "the build ends ready under valgrind" "ready" "$(rcli hget "skiff:deployment:$id" state)"
wait_for 60 grep -q '^event: end' "$T/events.txt"
check_match "the bridge streamed the build's log to its end" '^event: end' "$(cat "$T/events.txt")"
kill "$EVENTS" 2>/dev/null
first=$(sed -n 's/^id: //p' "$T/events.txt" | head -n 1)
resumed=$(curl -s --max-time 20 -H "Last-Event-ID: $first" "http://127.0.0.1:$SSE/events/$id")
check_match "a client resuming after the first event gets the rest" '^event: end' "$resumed"
curl -s --max-time 5 "http://127.0.0.1:$SSE/events/NOT-AN-ID" >/dev/null
curl -s --max-time 5 -X POST "http://127.0.0.1:$SSE/events/$id" >/dev/null
curl -s --max-time 5 "http://127.0.0.1:$SSE/events/zzzzzzzzzzzz?lastEventId=-1-2" >/dev/null
# switch messages: the site's own, then malformed ones (a NUL inside, too long, not a slug)
rcli publish skiff:switch vg >/dev/null
printf 'vg\000x' | rcli -x publish skiff:switch >/dev/null
rcli publish skiff:switch "$(printf '%070d' 0)" >/dev/null
rcli publish skiff:switch ../vg >/dev/null
wait_for 20 sh -c "[ \$(grep -c 'fastpath switch ignored' '$T/sse-bridge.err') -ge 3 ]"
check_eq "the bridge ignored the three malformed switch messages" 3 \
	"$(grep -c 'fastpath switch ignored' "$T/sse-bridge.err")"
for uri in /api/projects /api/projects/vg /api/projects/vg/deployments "/api/deployments/$id" \
	"/api/deployments/$id/log" /healthz /api/deployments/zzzzzzzzzzzz /nope; do
	fcgi skiff-status GET "$uri" >/dev/null
done
page=$(fcgi skiff-status GET "/deployments/$id" "" localhost text/html)
check_match "the deployment page renders" 'id="log"' "$page"
i=0
while [ $i -lt 20 ]; do
	fcgi skiff-serve GET / "" vg.localhost >/dev/null
	fcgi skiff-serve GET /docs/site.css "" "vg--$id.localhost" >/dev/null
	fcgi skiff-serve GET /missing "" vg.localhost >/dev/null
	i=$((i + 1))
done
site=$(fcgi skiff-serve GET / "" vg.localhost)
check_match "the site is served" 'X-Sendfile: .*/blobs/' "$site"

# lighttpd's fast path module (mk/lighttpd.mk), when built, inside a lighttpd under valgrind:
# the site's warm hits, 304s, HEADs, misses, a Range and an unknown host, with at most 3 sites
# and entries kept (so it forgets everything again and again); skiff-serve (above) answers
# what it leaves.
LIGHTTPD_VG=
if [ -f "$SKIFF_BUILD_DIR/lighttpd/mod_skiff_fastpath.so" ] && command -v lighttpd >/dev/null; then
	LPORT=$(free_port)
	cat >"$T/vg-lighttpd.conf" <<CONF
server.document-root = "$T/fastpath"
server.bind = "127.0.0.1"
server.port = $LPORT
server.errorlog = "$T/vg-lighttpd-error.log"
server.modules += ( "mod_skiff_fastpath", "mod_fastcgi" )
server.stat-cache-engine = "simple"
skiff.fastpath-dir = "$T/fastpath"
skiff.fastpath-keep = 3
fastcgi.server = ( "/" => ( ( "socket" => "$T/skiff-serve.sock", "check-local" => "disable",
	"x-sendfile" => "enable", "x-sendfile-docroot" => ( "$T/store/" ) ) ) )
CONF
	$VG --log-file="$T/vg-lighttpd.log" lighttpd -m "$SKIFF_BUILD_DIR/lighttpd" -D -f "$T/vg-lighttpd.conf" \
		2>>"$T/vg-lighttpd.err" &
	LIGHTTPD_VG=$!
	PIDS="$PIDS $LIGHTTPD_VG"
	L=http://127.0.0.1:$LPORT
	wait_for 60 curl -s -o /dev/null "$L/" || { echo "lighttpd did not start under valgrind" >&2; exit 1; }
	etag=$(curl -s -D - -o /dev/null -H 'Host: vg.localhost' "$L/" | sed -n 's/^ETag: *//ip' | tr -d '\r')
	# entries skiff never writes (a size that is no number, too few fields, another format):
	# not served from, skiff-serve answers
	tree=$T/fastpath/sites/vg
	printf '2\t0\ttext/html\t%064d\t%s\tbig\t-\t-\t-\t-\t-\t-\n' 0 "$T/x" >"$tree/bad@"
	printf '2\t0\ttext/html\n' >"$tree/short@"
	printf '1\t0\ttext/html\t%064d\t%s\t1\t-\t-\t-\t-\t-\t-\n' 0 "$T/x" >"$tree/old@"
	i=0
	while [ $i -lt 10 ]; do
		for u in / /index.html /docs/site.css /missing '/index.html?x=1' /%2e/ /docs/ /bad /short /old; do
			curl -s -o /dev/null -H 'Host: vg.localhost' -H 'Accept-Encoding: gzip, br' "$L$u"
		done
		curl -s -o /dev/null -H 'Host: vg.localhost' -H "If-None-Match: W/\"x\", $etag" "$L/"
		curl -s -o /dev/null -I -H 'Host: vg.localhost' "$L/docs/site.css"
		curl -s -o /dev/null -H 'Host: vg.localhost' -H 'Range: bytes=0-3' "$L/"
		curl -s -o /dev/null -H 'Host: nosuch.localhost' "$L/"
		curl -s -o /dev/null -H 'Host: VG.LOCALHOST' -H 'Accept-Encoding: br;q=0.5' "$L/"
		i=$((i + 1))
	done
	check_eq "lighttpd's fast path module serves the site under valgrind" \
		"200 $(sha256sum <"$repo/index.html" | cut -c1-64) 304" "$(curl -s -o "$T/vg-index" -w '%{http_code}' \
			-H 'Host: vg.localhost' "$L/") $(sha256sum <"$T/vg-index" | cut -c1-64) $(curl -s -o /dev/null \
			-w '%{http_code}' -H 'Host: vg.localhost' -H "If-None-Match: $etag" "$L/")"
	kill "$LIGHTTPD_VG"
	wait "$LIGHTTPD_VG"
fi
fcgi skiff-create POST /api/projects/vg/deployments '{}' >/dev/null
sleep 5

ALL="$PID_skiff_create $PID_skiff_status $PID_skiff_serve $PID_dispatch $PID_bridge"
for pid in $ALL; do kill "$pid"; done
for pid in $ALL; do wait "$pid"; done
for p in skiff-create skiff-status skiff-serve skiff-dispatch skiff-sse-bridge ${LIGHTTPD_VG:+lighttpd}; do
	log=$T/vg-$p.log
	errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
	check_eq "$p: valgrind reports no errors" "0" "$errs"
	lost=$(grep -E 'definitely lost: [1-9]|indirectly lost: [1-9]' "$log" | head -n 1)
	check_eq "$p: nothing definitely or indirectly lost" "" "$lost"
	[ "$errs" = 0 ] && [ -z "$lost" ] || sed -n '/ERROR SUMMARY/q;p' "$log" | tail -n 60 >&2
done
finish
