#!/bin/sh
# it_webnodes.sh — skiff on two web nodes (doc/operators.md, "Several web nodes"): two
# lighttpds from the shipped apache/lighttpd.conf.in (genconf), each spawning its own
# skiff-create/-status/-serve and running its own skiff-sse-bridge, each with its own
# fastpath_dir, sharing one Redis, one file store (it_webnodes_s3.sh: the s3 store, each
# node with its own blob cache) and one secret key; one skiff-dispatch.
# Both answer the sites' one public name (Host: {slug}.localhost:$PA, as behind a load
# balancer). A user of either node must see the same site: a deployment served alike by both,
# from each node's fast path once warm; a promote or rollback through one node served by the
# other within the bound below, never a mixed or failed response while clients hammer both;
# a deletion through one node ending the site on the other; a custom domain added through one
# node served by the other.
#
# WEBNODES_SERVER=apache (it_webnodes_apache.sh): each node is one real Apache httpd, no
# lighttpd: the shipped apache/skiff-sites.conf (its fast path: mod_rewrite reading the node's
# live tree) and apache/skiff-dashboard.conf (the pages, the API, /events/ to the node's own
# bridge), with the node's own skiff-serve, skiff-create and skiff-status behind
# mod_proxy_fcgi (check/apache_sites.sh), and the shipped files' authentication: one password
# file and one api_token on both nodes. Every request of the test goes to the nodes' Apaches
# (checked against their access logs). The same checks (the waits of 1.1 s for lighttpd's
# fast path's next second stay too; Apache does not need them), and what an operator of two
# Apache nodes behind one balancer needs besides: without credentials both nodes refuse; the
# password's user, the api_token and a deploy token made through A are accepted by both;
# both list the project alike; the project page's form, posted with the public name's Origin,
# works on either node, with another Origin or none on neither (skiff's defence against
# cross-site forms is the Origin, there is no per-session form token); a secret set through B
# is opened by a build queued through A; that build's live log streamed through B's Apache
# from B's bridge, cut after two lines and resumed through A with Last-Event-ID, adds up to
# the whole log, nothing missing or twice.
#
# The bound of a switch made through the other node: the writer announces it on Redis and
# each node's skiff-sse-bridge drops its link at once (milliseconds).
# lighttpd: its fast path notices at its next look, once a second, through lighttpd's stat
# cache, which keeps a stat for the rest of its own second (on another clock than the
# script's tick): up to 2 s, 1.97 s seen here. Then skiff-serve may answer from its memo of
# current for up to SITE_FRESH_MS = 500 ms (fcgi/skiff-serve/site.c). 2.5 s, with 1 s of room
# for a loaded machine: 3.5 s.
# Apache: mod_rewrite reads the entry on every request (no stat cache), so the next request
# after the drop misses and reaches skiff-serve, whose memo of current may be up to 500 ms
# old. 0.5 s, with 1 s of room for a loaded machine: 1.5 s. (11 to 97 ms seen here: while the
# site's hits are on the fast path skiff-serve is not asked, so it has no fresh memo.)
. "$(dirname "$0")/lib.sh"

SERVER=${WEBNODES_SERVER:-lighttpd}
case $SERVER in
lighttpd) BOUND_MS=3500 ;;
apache) BOUND_MS=1500 ;;
*) echo "WEBNODES_SERVER must be lighttpd or apache" >&2; exit 2 ;;
esac
start_redis
PA=$(free_port)
PB=$(free_port)
while [ "$PB" = "$PA" ]; do PB=$(free_port); done
SA=$(free_port)
SB=$(free_port)
for n in a b; do
	dir=$T port=$PA sse=$SA
	[ $n = b ] && dir=$T/b port=$PB sse=$SB
	SKIFF_SANDBOX=none SKIFF_LOG_LEVEL=debug sh "$ROOT/scripts/genconf.sh" "$dir" "$port" "$sse" \
		>>"$T/genconf.log" 2>&1 || { cat "$T/genconf.log" >&2; exit 1; }
done
# node B: A's Redis, store and key; the sites' port of the public name (A's here)
sed -i -e "s|^redis_socket = .*|redis_socket = $T/redis.sock|" \
	-e "s|^store_path = .*|store_path = $T/store|" \
	-e "s|^secret_key_file = .*|secret_key_file = $T/secret.key|" \
	-e "s|^site_port = .*|site_port = $PA|" \
	-e "s|^dashboard_url = .*|dashboard_url = http://localhost:$PA|" "$T/b/skiff.conf"
sed -i "s|$T/b/store/|$T/store/|g" "$T/b/lighttpd.conf"
rm -rf "$T/b/store" "$T/b/secret.key"
# it_webnodes_s3.sh: the s3 store (check/s3's stand-in) in place of the file store, each node
# with its own blob cache, which its fast-path tree points into
if [ -n "${WEBNODES_S3:-}" ]; then
	. "$ROOT/check/s3/peers.sh"
	peers_install
	start_endpoint
	for dir in "$T" "$T/b"; do
		sed -i -e '/^store *=/d' -e '/^store_path *=/d' "$dir/skiff.conf"
		printf '%s\ncache_path = %s/cache\n' "$(s3_settings)" "$dir" >>"$dir/skiff.conf"
	done
fi
# WEBNODES_SERVER=apache: the shipped files' authentication, the same on both nodes: one password
# file (HTTP Basic), one api_token (skiff.conf, and the bridge's in apache-token.conf)
BASIC=""
if [ "$SERVER" = apache ]; then
	APITOKEN=webnodes-api-token-$$
	BASIC=admin:webnodes-pass
	htpasswd -c -b -B "$T/htpasswd" admin webnodes-pass 2>/dev/null
	for dir in "$T" "$T/b"; do
		sed -i -e '/^auth_disabled *=/d' -e '/^public_reads *=/d' "$dir/skiff.conf"
		printf 'auth_disabled = false\npublic_reads = false\napi_token = %s\n' "$APITOKEN" >>"$dir/skiff.conf"
		[ "$dir" = "$T" ] || cp "$T/htpasswd" "$dir/htpasswd"
		chmod 0644 "$dir/htpasswd"
		echo "Define SKIFF_API_TOKEN $APITOKEN" >"$dir/apache-token.conf"
	done
fi
export SKIFF_CONFIG="$T/skiff.conf"
export SKIFF_DOMAIN_CHECK_RESOLVE="www.flip.test:127.0.0.1"
for dir in "$T" "$T/b"; do
	if [ "$SERVER" = lighttpd ]; then
		lighttpd $(lighttpd_m "$dir/lighttpd.conf") -tt -f "$dir/lighttpd.conf" >"$dir/lighttpd-check.log" 2>&1 ||
			{ cat "$dir/lighttpd-check.log" >&2; exit 1; }
		lighttpd $(lighttpd_m "$dir/lighttpd.conf") -D -f "$dir/lighttpd.conf" >>"$dir/lighttpd.log" 2>&1 &
		PIDS="$PIDS $!"
	fi
	SKIFF_CONFIG=$dir/skiff.conf "$BIN/skiff-sse-bridge" >>"$dir/sse-bridge.log" 2>&1 &
	PIDS="$PIDS $!"
	BRIDGE_B=$!
done
"$BIN/skiff-dispatch" >>"$T/dispatch.log" 2>&1 &
PIDS="$PIDS $!"
# ---- the web servers: each node's lighttpd, or each node's Apache -----------------------------
# WA, WB: the ports of node A's and node B's sites (the public name stays {slug}.localhost:$PA);
# SERVE_LOG: the log, in a node's directory, of the skiff-serve behind them (a debug line per
# request it answers)
WA=$PA WB=$PB SERVE_LOG=lighttpd.log
if [ "$SERVER" = apache ]; then
	. "$ROOT/check/apache_sites.sh"
	PORT=$PA   # the port of the sites' names (apache_sites_vhost)
	SERVE_LOG=apache-serve.log
	# apache_node DIR HTTPPORT SSEPORT: Apache httpd on HTTPPORT for the node in DIR with the
	# shipped skiff-sites.conf (first: the host of every name but the dashboard's, custom
	# domains too) and skiff-dashboard.conf (its /events/ to the node's bridge on SSEPORT); the
	# node's skiff-serve, skiff-create, skiff-status (and skiff-hook) on their own sockets, as
	# it_fastpath.sh starts skiff-serve (node B's store is A's)
	apache_node() {
		_top=$T
		T=$1
		if apache_skiff_serve && apache_fcgi skiff-create && apache_fcgi skiff-status &&
			{ [ ! -x "$BIN/skiff-hook" ] || apache_fcgi skiff-hook; }; then
			{
				apache_load mpm_event authz_core authz_host authz_user authn_core authn_file auth_basic \
					mime dir env alias headers deflate filter proxy proxy_fcgi proxy_http xsendfile rewrite asis
				apache_common
				echo "Listen 127.0.0.1:$2"
				echo 'LogFormat "%v %h %u \"%r\" %>s %b" combined'
				# Debian's default: mod_deflate on for text
				echo "AddOutputFilterByType DEFLATE text/html text/plain text/css text/javascript application/json"
				apache_sites_vhost "$2"
				apache_dashboard_vhost "$2" "$3"
			} | sed "s|$_top/b/store/|$_top/store/|g" >"$T/apache/apache2.conf"
			if apache2 -t -f "$T/apache/apache2.conf" >"$T/apache/t.out" 2>&1; then
				apache2 -DFOREGROUND -f "$T/apache/apache2.conf" >>"$T/apache/stdout.log" 2>&1 &
				PIDS="$PIDS $!"
			fi
		else
			echo "skiff-serve, -create, -status or -hook (-s) did not start for Apache in $T" >"$T/apache/t.out"
		fi
		T=$_top
	}
	apache_node "$T" "$WA" "$SA"
	apache_node "$T/b" "$WB" "$SB"
	for dir in "$T" "$T/b"; do
		p=$WA
		[ "$dir" = "$T/b" ] && p=$WB
		wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$p/" || {
			fail "the Apache of $dir starts"
			cat "$dir/apache/t.out" >&2
			tail -n 5 "$dir/apache/error.log" >&2
			finish
			exit 1
		}
	done
	check_eq "both Apaches have the shipped fast path" "2" \
		"$(grep -l 'RewriteRule .*SKIFF_BLOB' "$T/apache/apache2.conf" "$T/b/apache/apache2.conf" | wc -l | tr -d ' ')"
fi

for p in $PA $PB; do
	wait_for 20 curl -fsS -o /dev/null "http://localhost:$p/healthz" ||
		{ fail "node on $p is healthy"; stack_logs; tail -n 20 "$T"/b/*.log >&2; finish; exit 1; }
done
for dir in "$T" "$T/b"; do
	wait_for 10 grep -q 'fastpath switches subscribed' "$dir/sse-bridge.log" ||
		fail "the bridge of $dir listens for switches"
done

# ---- the site: versions v0..v9, each file naming its version -------------------------------
python3 - "$T" <<'PY'
import os, sys
t = sys.argv[1]
for n in range(10):
    d = os.path.join(t, "site", "v%d" % n)
    os.makedirs(d)
    for name, lines in (("index.html", 20), ("page.html", 20), ("app.js", 200)):
        head = "flip %s v%d\n" % (name, n)
        open(os.path.join(d, name), "w").write(head + "".join("%s line %d\n" % (name, i) for i in range(lines)))
    open(os.path.join(d, "common.css"), "w").write("flip common.css all\nbody { color: #123 }\n")
PY
mkdir -p "$T/git"
cp "$T/site/v0/"* "$T/git/"
git -C "$T/git" init -q -b main
git -C "$T/git" -c user.email=t@example.com -c user.name=t add -A
git -C "$T/git" -c user.email=t@example.com -c user.name=t commit -q -m v0

# api NODE_PORT METHOD PATH [JSON]: a request to a node's API from the dashboard's origin (the
# public name's), as the user of the Apaches' password file in Apache mode; the body into
# $T/body, the status printed; each one listed in $T/api.sent
api() {
	echo "$1 $2 $3" >>"$T/api.sent"
	curl -sS -o "$T/body" -w '%{http_code}' -X "$2" -H "Origin: http://localhost:$PA" ${BASIC:+-u $BASIC} \
		-H 'Content-Type: application/json' ${4:+--data-binary "$4"} "http://localhost:$1$3"
}
# req NODE_PORT TAG PATH [HOST]: a site request; headers to $T/TAG.h, body to $T/TAG.b,
# status printed
req() {
	: >"$T/$2.b"
	curl -sS -m 10 -D "$T/$2.h" -o "$T/$2.b" -w '%{http_code}' -H "Host: ${4:-flip.localhost:$PA}" \
		"http://127.0.0.1:$1$3"
}
header() { grep -i "^$1:" "$T/$2.h" | sed 's/^[^:]*: *//' | tr -d '\r'; }
# version NODE_PORT: the version of flip's page a node serves ("-" when not a 200 of one)
version() {
	[ "$(req "$1" v /page.html)" = 200 ] && sed -n '1s/^flip page.html //p' "$T/v.b" || echo -
}
# served DIR: requests that node's skiff-serve answered (its debug line per request, on
# lighttpd's stderr, or in apache-serve.log)
served() { grep -c 'served host=' "$1/$SERVE_LOG"; }
# switch_seen NODE_PORT VERSION: milliseconds until the node serves VERSION (polled every
# 50 ms), or "never" after 6 s
switch_seen() {
	t0=$(date +%s%3N)
	while [ "$(version "$1")" != "$2" ]; do
		[ $(($(date +%s%3N) - t0)) -gt 6000 ] && { echo never; return; }
		sleep 0.05
	done
	echo $(($(date +%s%3N) - t0))
}
within() { [ "$2" != never ] && [ "$2" -le $BOUND_MS ] && ok "$1 (${2} ms)" || fail "$1: after $2 ms, bound $BOUND_MS ms"; }

# ---- a project created through A and built by the dispatcher; a deploy through B ------------
code=$(api $PA POST /api/projects "{\"gitURL\":\"file://$T/git\",\"slug\":\"flip\",\"webhookSecret\":false}")
check_eq "node A: the project is created" 202 "$code"
D0=$(jget data.deploymentId)
wait_for 30 sh -c "[ \"\$(redis-cli -s '$T/redis.sock' hget skiff:deployment:$D0 state)\" = ready ]" ||
	fail "the first build is ready: $(rcli hget skiff:deployment:$D0 state)"
api $PA POST /api/projects/flip/tokens '{"name":"ci"}' >/dev/null
TOKEN=$(jget token)
# deploy N NODE_PORT: `skiff deploy` of version N through a node; prints the deployment id
deploy() {
	SKIFF_URL=http://localhost:$2 SKIFF_TOKEN=$TOKEN "$BIN/skiff" deploy "$T/site/v$1" --project flip \
		--json 2>>"$T/deploy.err" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d["deploymentId"] if d.get("state") == "ready" else "failed")' 2>/dev/null || echo failed
}
D1=$(deploy 1 $PB)
check_match "skiff deploy through node B: ready" '^[a-z2-7]{12}$' "$D1"

# ---- Apache mode: the API, the pages, the forms and the live log through either node ---------
if [ "$SERVER" = apache ]; then
	# both METHOD PATH [CURL ARGS...]: the statuses of one request to A, then to B; bodies in
	# $T/both.PORT
	both() {
		_m=$1 _p=$2
		shift 2
		_r=""
		for _n in $PA $PB; do
			_r="$_r${_r:+ }$(echo "$_n $_m $_p" >>"$T/api.sent"
				curl -sS -o "$T/both.$_n" -w '%{http_code}' -X "$_m" "$@" "http://localhost:$_n$_p")"
		done
		echo "$_r"
	}
	check_eq "the API without credentials: refused by both nodes" "401 401" "$(both GET /api/projects)"
	check_eq "the password file's user (HTTP Basic): accepted by both" "200 200" "$(both GET /api/projects -u "$BASIC")"
	check_eq "... which list the project created through A and deployed through B the same" \
		"$(cat "$T/both.$PA")" "$(cat "$T/both.$PB")"
	check_match "... with the deployment made through B" "\"slug\":\"flip\".*$D1" "$(cat "$T/both.$PB")"
	check_eq "the project's dashboard page from both" "200 200" "$(both GET /projects/flip -u "$BASIC")"
	cp "$T/both.$PA" "$T/page.a"
	check_eq "... each naming the deployment made through B" "1 1" \
		"$(grep -c "$D1" <"$T/both.$PA" | sed 's/^[1-9][0-9]*$/1/') $(grep -c "$D1" <"$T/both.$PB" | sed 's/^[1-9][0-9]*$/1/')"
	check_eq "the shared api_token (bearer): accepted by both" "200 200" \
		"$(both GET /api/projects -H "Authorization: Bearer $APITOKEN")"
	check_eq "another bearer token: refused by both" "401 401" \
		"$(both GET /api/projects -H "Authorization: Bearer not-$APITOKEN")"
	check_eq "the deploy token created through A: known to both" "200 200" \
		"$(both GET /api/whoami -H "Authorization: Bearer $TOKEN")"
	check_eq "... as flip's" "flip flip" \
		"$(grep -o '"project":"[a-z]*"' "$T/both.$PA" | cut -d'"' -f4) $(grep -o '"project":"[a-z]*"' "$T/both.$PB" | cut -d'"' -f4)"
	# A dashboard form (the project page's "new token"): skiff's defence against cross-site
	# forms is the Origin (dashboard_url's, the balancer's public name), not a per-session
	# token, so a form from the page either node served works on either node.
	grep -q 'id="token-form" action="/api/projects/flip/tokens"' "$T/page.a" && ok "node A's project page has the new-token form" ||
		fail "node A's project page has the new-token form"
	ntok=$(rcli --scan --pattern 'skiff:token:*' | wc -l)
	# form NAME [CURL ARGS...]: the new-token form posted to A, then to B
	form() {
		_name=$1
		shift
		both POST /api/projects/flip/tokens -u "$BASIC" --data-urlencode "name=$_name" "$@"
	}
	check_eq "the form from the dashboard's pages: accepted by both" "201 201" \
		"$(form from-the-page -H "Origin: http://localhost:$PA")"
	check_eq "the form from another site: refused by both" "403 403" \
		"$(form forged -H "Origin: http://evil.example")"
	check_eq "the form with neither Origin nor Sec-Fetch-Site: refused by both" "403 403" "$(form no-origin)"
	check_eq "... which wrote nothing: two tokens more, from the accepted forms" "$((ntok + 2))" \
		"$(rcli --scan --pattern 'skiff:token:*' | wc -l)"

	# A build's live log: a project whose build prints ticks, created through A; a secret set
	# through B (sealed with B's key) opened by the build, queued through A; its log streamed
	# through B's Apache from B's bridge, the stream cut after two ticks and resumed through A
	# with Last-Event-ID.
	mkdir -p "$T/logs"
	printf '{"buildCommand": "sh build.sh", "outputDirectory": "out"}\n' >"$T/logs/skiff.json"
	cat >"$T/logs/build.sh" <<'EOF'
mkdir -p out && echo '<h1>logs</h1>' >out/index.html
[ -n "${SEALED:-}" ] || exit 0
[ "$SEALED" = "sealed through node B" ] && echo "the secret opened" || echo "the secret did not open"
sleep 1
for i in 1 2 3 4 5 6; do echo "tick $i"; sleep 0.5; done
EOF
	git -C "$T/logs" init -q -b main
	git -C "$T/logs" -c user.email=t@example.com -c user.name=t add -A
	git -C "$T/logs" -c user.email=t@example.com -c user.name=t commit -q -m logs
	code=$(api $PA POST /api/projects "{\"gitURL\":\"file://$T/logs\",\"slug\":\"logs\",\"webhookSecret\":false}")
	check_eq "node A: a project with a logging build" 202 "$code"
	L0=$(jget data.deploymentId)
	wait_for 30 sh -c "[ \"\$(redis-cli -s '$T/redis.sock' hget skiff:deployment:$L0 state)\" = ready ]" ||
		fail "its first build is ready: $(rcli hget skiff:deployment:$L0 state)"
	check_eq "node B: a secret variable" 200 \
		"$(api $PB PUT /api/projects/logs/env/SEALED '{"value":"sealed through node B","secret":true}')"
	code=$(api $PA POST /api/projects/logs/deployments '{}')
	check_eq "node A: a build" 202 "$code"
	L1=$(jget data.deploymentId)
	# sse PORT LAST_EVENT_ID STOP OUT: /events/L1 through a node's Apache as the password's user;
	# each event as "id<TAB>event<TAB>data" into OUT, up to the end or the first whose data has STOP
	sse() {
		echo "$1 GET /events/$L1" >>"$T/api.sent"
		python3 - "$1" "localhost:$PA" "/events/$L1" "$BASIC" "$2" "$3" "$4" <<'PY'
import base64, http.client, sys, time
port, host, path, user, last, stop, out = sys.argv[1:8]
h = {"Host": host, "Accept": "text/event-stream",
     "Authorization": "Basic " + base64.b64encode(user.encode()).decode()}
if last:
    h["Last-Event-ID"] = last
c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
c.request("GET", path, headers=h)
r = c.getresponse()
ev = {}
with open(out, "w") as f:
    f.write("status\t%d\t%s\n" % (r.status, r.getheader("Content-Type")))
    deadline = time.time() + 40
    while time.time() < deadline:
        line = r.readline()
        if not line:
            break
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        if line == "":
            if ev:
                f.write("%s\t%s\t%s\n" % (ev.get("id", ""), ev.get("event", "message"), ev.get("data", "")))
                f.flush()
                if ev.get("event") == "end" or (stop and stop in ev.get("data", "")):
                    break
            ev = {}
        elif not line.startswith(":"):
            k, _, v = line.partition(":")
            ev[k] = v[1:] if v.startswith(" ") else v
PY
	}
	sse $PB "" '"tick 2"' "$T/sse.b"
	last=$(tail -n 1 "$T/sse.b" | cut -f1)
	check_match "the live log through node B's Apache: an event stream up to tick 2" \
		'^status 200 text/event-stream .*tick 1.*tick 2"' "$(tr '\t\n' '  ' <"$T/sse.b")"
	check_eq "... cut before the build's end" 0 "$(cut -f2 "$T/sse.b" | grep -c '^end$')"
	sse $PA "$last" "" "$T/sse.a"
	check_match "resumed through node A with Last-Event-ID: the rest, to the end" \
		'^status 200 text/event-stream .*tick 6.* end ' "$(tr '\t\n' '  ' <"$T/sse.a")"
	check_eq "... served by each node's own bridge (B's, then A's)" "1 1" \
		"$(grep -c "client connected deployment=$L1" "$T/b/sse-bridge.log") $(grep -c "client connected deployment=$L1" "$T/sse-bridge.log")"
	sse $PA "" "" "$T/sse.all"
	check_eq "the two connections missed nothing and repeated nothing: the whole log, replayed" \
		"$(sed 1d "$T/sse.all" | cut -f1-3)" "$(sed 1d "$T/sse.b"; sed 1d "$T/sse.a")"
	check_match "... where the build opened the secret set through node B" '"the secret opened' "$(cat "$T/sse.all")"
	check_eq "the build is ready" ready "$(rcli hget skiff:deployment:$L1 state)"
fi

# ---- both nodes serve it alike, and from their fast path once warm --------------------------
for p in $WA $WB; do req $p x / >/dev/null; done
check_eq "each node linked its own tree" "../deployments/$D1 ../deployments/$D1" \
	"$(readlink "$T/fastpath/sites/flip") $(readlink "$T/b/fastpath/sites/flip")"
check_match "... through its own skiff-serve (whose log counts the answers below)" '^[1-9][0-9]* [1-9][0-9]*$' \
	"$(served "$T") $(served "$T/b")"
if [ -n "${WEBNODES_S3:-}" ]; then
	check_eq "each node's tree points into its own blob cache" "$T/cache/ $T/b/cache/" \
		"$(cut -f5 "$T/fastpath/sites/flip/@" | sed 's|[0-9a-f]*/[0-9a-f]*$||') $(cut -f5 "$T/b/fastpath/sites/flip/@" | sed 's|[0-9a-f]*/[0-9a-f]*$||')"
	h=$(sha256sum <"$T/site/v1/index.html" | cut -c1-64)
	check_eq "... and each node's skiff-serve filled its own cache" "$h $h" \
		"$(sha256sum <"$T/cache/$(echo "$h" | cut -c1-2)/$h" | cut -c1-64) $(sha256sum <"$T/b/cache/$(echo "$h" | cut -c1-2)/$h" | cut -c1-64)"
fi
summary() { # NODE_PORT PATH: what a user sees of a response
	s=$(req "$1" s "$2")
	printf '%s %s' "$s" "$(sha256sum <"$T/s.b" | cut -c1-64)"
	for h in ETag Content-Type Cache-Control Content-Length Vary X-Content-Type-Options; do
		printf ' %s=%s' "$h" "$(header "$h" s)"
	done
}
# a first request of each file on each node (with the s3 store, one that fills its cache),
# then into the fast path's next second
for p in $WA $WB; do for path in / /index.html /page.html /app.js /common.css; do req $p x $path >/dev/null; done; done
sleep 1.1
na=$(served "$T") nb=$(served "$T/b")
for path in / /index.html /page.html /app.js /common.css; do
	a=$(summary $WA "$path")
	check_eq "both nodes answer $path alike" "$a" "$(summary $WB "$path")"
done
check_match "... with version v1 and an ETag" '^200 [0-9a-f]{64} ETag="[0-9a-f]{64}" Content-Type=text/javascript' \
	"$(summary $WA /app.js)"
check_eq "... all of them warm hits: none reached skiff-serve on either node" "0 0" \
	"$(($(served "$T") - na)) $(($(served "$T/b") - nb))"

# ---- a switch through one node is served by the other within the bound ---------------------
# warm NAME DIR PORT: the node answers flip from its fast path: a request links its tree (and
# fills the cache), and from the fast path's next second on hits no longer reach skiff-serve
warm() {
	req "$3" x /page.html >/dev/null
	req "$3" x / >/dev/null
	sleep 1.1
	n=$(served "$2")
	req "$3" x /page.html >/dev/null
	req "$3" x / >/dev/null
	check_eq "node $1 answers from its fast path" 0 "$(($(served "$2") - n))"
}
warm B "$T/b" $WB
code=$(api $PA POST /api/projects/flip/rollback "{\"deploymentId\":\"$D0\"}")
check_eq "node A: rollback to the git build" 200 "$code"
within "node B serves the rollback" "$(switch_seen $WB v0)"
check_eq "... as node A does" v0 "$(version $WA)"
warm A "$T" $WA
D2=$(deploy 2 $PB)
check_match "skiff deploy through node B again" '^[a-z2-7]{12}$' "$D2"
within "node A serves B's deploy" "$(switch_seen $WA v2)"
check_eq "... as node B does" v2 "$(version $WB)"
warm A "$T" $WA
code=$(api $PB POST /api/projects/flip/rollback "{\"deploymentId\":\"$D1\"}")
check_eq "node B: rollback" 200 "$code"
within "node A serves B's rollback" "$(switch_seen $WA v1)"
check_eq "... as node B does" v1 "$(version $WB)"
# both back on their fast path, each from its own tree of the current deployment
for p in $WA $WB; do for path in / /page.html /app.js; do req $p x $path >/dev/null; done; done
sleep 1.1
na=$(served "$T") nb=$(served "$T/b")
for p in $WA $WB; do for path in / /page.html /app.js; do req $p x $path >/dev/null; done; done
check_eq "after the switches both nodes answer from their fast path again" "0 0" \
	"$(($(served "$T") - na)) $(($(served "$T/b") - nb))"
check_eq "... from the tree of the current deployment" "../deployments/$D1 ../deployments/$D1" \
	"$(readlink "$T/fastpath/sites/flip") $(readlink "$T/b/fastpath/sites/flip")"

# ---- clients hammer both nodes through rollbacks made through either ------------------------
python3 - "$T" "flip.localhost:$PA" "$WA" "$WB" >"$T/hammer.out" 2>&1 <<'PY' &
import hashlib, http.client, os, sys, threading, time
t, host, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
paths = ["/", "/index.html", "/page.html", "/app.js", "/common.css"]
names = {"/": "index.html", "/index.html": "index.html", "/page.html": "page.html",
         "/app.js": "app.js", "/common.css": "common.css"}
def whole(path, body):
    """the version of body when it is a whole file of one version of path, else None"""
    first = body.split(b"\n", 1)[0].decode("ascii", "replace").split(" ")
    if len(first) != 3 or first[:2] != ["flip", names[path]]:
        return None
    key = first[2]
    f = os.path.join(t, "site", "v0" if key == "all" else key, names[path])
    return key if os.path.exists(f) and open(f, "rb").read() == body else None
seen, bad, n = set(), [], [0]
lock = threading.Lock()
def client(port, k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    i = k
    while not os.path.exists(os.path.join(t, "hammer.stop")):
        path = paths[i % len(paths)]
        i += 1
        try:
            c.request("GET", path, headers={"Host": host})
            r = c.getresponse()
            body = r.read()
        except (http.client.HTTPException, OSError):
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        key = whole(path, body) if r.status == 200 else None
        if key and r.getheader("ETag") != '"%s"' % hashlib.sha256(body).hexdigest():
            key = None
        with lock:
            n[0] += 1
            if key:
                seen.add((port, key))
            else:
                bad.append((port, path, r.status, r.getheader("ETag"), body[:40]))
threads = [threading.Thread(target=client, args=(p, k)) for p in ports for k in range(2)]
for th in threads:
    th.start()
for th in threads:
    th.join()
print("versions seen", " ".join("%d" % len([1 for q, v in seen if q == p and v != "all"]) for p in ports))
for b in bad[:8]:
    print("bad", b)
print("requests", n[0], "bad", len(bad))
PY
HAMMER=$!
: >"$T/switches"
i=0
for to in $D0 $D2 $D1 $D0 $D2 $D1; do
	node=$PA
	[ $((i % 2)) = 1 ] && node=$PB
	echo "rollback via $node $(api $node POST /api/projects/flip/rollback "{\"deploymentId\":\"$to\"}")" >>"$T/switches"
	sleep 1.5
	i=$((i + 1))
done
touch "$T/hammer.stop"
wait "$HAMMER"
check_eq "six rollbacks, alternately through A and B" 6 "$(grep -c ' 200$' "$T/switches")"
check_eq "the clients of both nodes saw only whole versions (body and ETag), never an error" "bad 0" \
	"$(tail -n 1 "$T/hammer.out" | sed 's/.* bad /bad /')"
grep '^bad\|Traceback\|Error' "$T/hammer.out" | head -n 8 >&2
check_match "... over many requests" '^requests [0-9]{3,}' "$(tail -n 1 "$T/hammer.out")"
check_eq "... and the three versions on both nodes" "versions seen 3 3" "$(head -n 1 "$T/hammer.out")"
within "after the last rollback both nodes serve it" \
	"$(a=$(switch_seen $WA v1); b=$(switch_seen $WB v1); [ "$a" = never ] || [ "$b" = never ] && echo never || echo $((a > b ? a : b)))"

# ---- a node whose bridge is down keeps its trees until the bridge subscribes again -----------
warm B "$T/b" $WB
kill "$BRIDGE_B"
wait "$BRIDGE_B" 2>/dev/null
code=$(api $PA POST /api/projects/flip/rollback "{\"deploymentId\":\"$D2\"}")
check_eq "node A: rollback while node B's bridge is down" 200 "$code"
sleep 2.5
check_eq "... node B still serves the tree it had (the limit doc/operators.md states)" "v1 v2" \
	"$(version $WB) $(version $WA)"
SKIFF_CONFIG=$T/b/skiff.conf "$BIN/skiff-sse-bridge" >>"$T/b/sse-bridge.log" 2>&1 &
PIDS="$PIDS $!"
within "... and serves the rollback once its bridge is back (it drops every link)" "$(switch_seen $WB v2)"

# ---- a custom domain added through A is served by B -----------------------------------------
DOM=www.flip.test
check_eq "node B: the custom domain serves nothing before it is added" 404 "$(req $WB d / "$DOM:$PA")"
code=$(api $PA POST /api/projects/flip/domains "{\"name\":\"$DOM\"}")
check_eq "node A: the custom domain is added" 201 "$code"
wait_for 20 sh -c "[ \"\$(redis-cli -s '$T/redis.sock' hget skiff:domain:$DOM state)\" = verified ]" ||
	fail "the dispatcher verifies the domain: $(rcli hget skiff:domain:$DOM state)"
wait_for 3 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: $DOM:$PA' http://127.0.0.1:$WB/page.html)\" = 200 ]"
check_eq "node B serves the custom domain with the current deployment" "200 flip page.html v2" \
	"$(req $WB d /page.html "$DOM:$PA") $(head -n 1 "$T/d.b")"

# ---- a deletion through A ends the site on B ------------------------------------------------
sleep 1.1
nb=$(served "$T/b")
req $WB x /page.html >/dev/null
check_eq "before the deletion B answers from its fast path" "0 yes" \
	"$(($(served "$T/b") - nb)) $([ -L "$T/b/fastpath/sites/flip" ] && echo yes || echo no)"
code=$(api $PA DELETE "/api/projects/flip?confirm=flip" '{"confirm":"flip"}')
check_eq "node A: the project is deleted" 200 "$code"
t0=$(date +%s%3N)
while [ "$(req $WB x /page.html)" != 404 ] && [ $(($(date +%s%3N) - t0)) -le 6000 ]; do sleep 0.05; done
within "node B stops serving it" "$(s=$(req $WB x /page.html); [ "$s" = 404 ] && echo $(($(date +%s%3N) - t0)) || echo never)"
check_eq "... with skiff-serve's answer, as node A gives it" "$(req $WA y /page.html) $(sha256sum <"$T/y.b")" \
	"$(req $WB x /page.html) $(sha256sum <"$T/x.b")"
check_eq "... its link and trees are gone from B's fast path" "no 0" \
	"$([ -e "$T/b/fastpath/sites/flip" ] || [ -L "$T/b/fastpath/sites/flip" ] && echo yes || echo no) $(ls -A "$T/b/fastpath/deployments" | wc -l | tr -d ' ')"
check_eq "... and its custom domain on B" 404 "$(req $WB d /page.html "$DOM:$PA")"
if [ "$SERVER" = apache ]; then
	# each request api() sent, in the access log of the Apache it was sent to
	check_eq "every API request of the test reached the node's Apache" "$(wc -l <"$T/api.sent" | tr -d ' ') missing 0" \
		"$(python3 - "$T" "$PA" "$PB" <<'PY'
import collections, sys
t, pa, pb = sys.argv[1:4]
logs = {pa: t + "/apache/skiff-access.log", pb: t + "/b/apache/skiff-access.log"}
seen = {p: collections.Counter(l.split('"')[1] for l in open(f) if '"' in l) for p, f in logs.items()}
sent = [l.split() for l in open(t + "/api.sent")]
missing = 0
for port, method, path in sent:
    key = "%s %s HTTP/1.1" % (method, path)
    if seen[port][key] > 0:
        seen[port][key] -= 1
    else:
        missing += 1
        print("not in the access log:", port, key, file=sys.stderr)
print("%d missing %d" % (len(sent), missing))
PY
)"
fi
finish
