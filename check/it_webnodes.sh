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
# WEBNODES_SERVER=apache (it_webnodes_apache.sh): each node's sites are served by a real
# Apache httpd from the shipped apache/skiff-sites.conf (its fast path: mod_rewrite reading
# the node's live tree) with its own skiff-serve behind mod_proxy_fcgi, started as
# it_fastpath.sh starts them (check/apache_sites.sh); every site request goes to the nodes'
# Apaches, the API and the dashboard stay on each node's lighttpd. The same checks (the
# waits of 1.1 s for lighttpd's fast path's next second stay too; Apache does not need them).
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
export SKIFF_CONFIG="$T/skiff.conf"
export SKIFF_DOMAIN_CHECK_RESOLVE="www.flip.test:127.0.0.1"
for dir in "$T" "$T/b"; do
	lighttpd -tt -f "$dir/lighttpd.conf" >"$dir/lighttpd-check.log" 2>&1 ||
		{ cat "$dir/lighttpd-check.log" >&2; exit 1; }
	lighttpd -D -f "$dir/lighttpd.conf" >>"$dir/lighttpd.log" 2>&1 &
	PIDS="$PIDS $!"
	SKIFF_CONFIG=$dir/skiff.conf "$BIN/skiff-sse-bridge" >>"$dir/sse-bridge.log" 2>&1 &
	PIDS="$PIDS $!"
	BRIDGE_B=$!
done
"$BIN/skiff-dispatch" >>"$T/dispatch.log" 2>&1 &
PIDS="$PIDS $!"
for p in $PA $PB; do
	wait_for 20 curl -fsS -o /dev/null "http://localhost:$p/healthz" ||
		{ fail "node on $p is healthy"; stack_logs; tail -n 20 "$T"/b/*.log >&2; finish; exit 1; }
done
for dir in "$T" "$T/b"; do
	wait_for 10 grep -q 'fastpath switches subscribed' "$dir/sse-bridge.log" ||
		fail "the bridge of $dir listens for switches"
done

# ---- the sites' web servers: each node's lighttpd, or each node's Apache -------------------
# WA, WB: the ports of node A's and node B's sites (the public name stays {slug}.localhost:$PA);
# SERVE_LOG: the log, in a node's directory, of the skiff-serve behind them (a debug line per
# request it answers)
WA=$PA WB=$PB SERVE_LOG=lighttpd.log
if [ "$SERVER" = apache ]; then
	. "$ROOT/check/apache_sites.sh"
	PORT=$PA   # the port of the sites' names (apache_sites_vhost)
	WA=$(free_port)
	WB=$(free_port)
	while [ "$WB" = "$WA" ]; do WB=$(free_port); done
	SERVE_LOG=apache-serve.log
	# apache_node DIR HTTPPORT: Apache httpd on HTTPPORT with the shipped skiff-sites.conf and its
	# own skiff-serve, for the node in DIR, as it_fastpath.sh starts them (node B's store is A's)
	apache_node() {
		_top=$T
		T=$1
		if apache_skiff_serve; then
			{
				apache_load mpm_event authz_core mime headers deflate filter proxy proxy_fcgi xsendfile rewrite asis
				apache_common
				echo "Listen 127.0.0.1:$2"
				# Debian's default: mod_deflate on for text
				echo "AddOutputFilterByType DEFLATE text/html text/plain text/css text/javascript application/json"
				apache_sites_vhost "$2"
			} | sed "s|$_top/b/store/|$_top/store/|g" >"$T/apache/apache2.conf"
			if apache2 -t -f "$T/apache/apache2.conf" >"$T/apache/t.out" 2>&1; then
				apache2 -DFOREGROUND -f "$T/apache/apache2.conf" >>"$T/apache/stdout.log" 2>&1 &
				PIDS="$PIDS $!"
			fi
		else
			echo "skiff-serve -s did not start for Apache in $T" >"$T/apache/t.out"
		fi
		T=$_top
	}
	apache_node "$T" "$WA"
	apache_node "$T/b" "$WB"
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
# public name's); the body into $T/body, the status printed
api() {
	curl -sS -o "$T/body" -w '%{http_code}' -X "$2" -H "Origin: http://localhost:$PA" \
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
code=$(curl -s -o /dev/null -w "%{http_code}" -X DELETE -H "Origin: http://localhost:$PA" \
	-H "Content-Type: application/json" -d "{\"confirm\":\"flip\"}" \
	"http://localhost:$PA/api/projects/flip?confirm=flip")
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
	check_eq "no site request reached a node's lighttpd: Apache served them all" "0 0" \
		"$(grep -c 'served host=' "$T/lighttpd.log") $(grep -c 'served host=' "$T/b/lighttpd.log")"
fi
finish
