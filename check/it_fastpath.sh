#!/bin/sh
# it_fastpath.sh — the serving fast path (lib/fastpath.c's trees; for lighttpd
# apache/mod_skiff_fastpath.c and, beside it, apache/skiff-fastpath*.lua; apache/skiff-sites.conf)
# against skiff-serve alone: two lighttpds from the shipped apache/lighttpd.conf.in (genconf),
# one with the fast path and one without it, asked every question of the serving-rules suite
# (check/serve_fixture.sh, the cases of it_serve.sh) and all 10,000 paths of a generated
# deployment; status, body and the headers that matter must be the same, over HTTP/1.1 and
# over HTTP/2 (h2c); the same under Apache httpd (h2c through mod_http2). Then 100 promotes
# and rollbacks under load with retention and the store sweep running, and a deletion,
# through both.
. "$(dirname "$0")/lib.sh"

start_redis
fastpath_conf info
echo "redis_timeout_ms = 500" >>"$T/skiff.conf"
export SKIFF_CONFIG="$T/skiff.conf"
mkdir -p "$T/store/manifests" "$T/empty"
. "$(dirname "$0")/serve_fixture.sh"

# ---- "big": 10,000 files in 100 directories, a third of them text with variants ---------
D4=ddddddddddd2
python3 - "$T" "$D4" <<'PY'
import gzip, hashlib, json, os, sys
t, dep = sys.argv[1], sys.argv[2]
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    d = os.path.join(t, "store", "blobs", h[:2])
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, h)
    if not os.path.exists(p):
        open(p, "wb").write(data)
    return {"hash": h, "size": len(data)}
files = {}
for i in range(10000):
    d = "/d%02d" % (i % 100)
    if i % 3 == 0:
        body = ("body { color: #%06x } /* file %d */\n" % (i, i) * 40).encode()
        e = blob(body)
        e["gzip"] = blob(gzip.compress(body, 9, mtime=0))
        files["%s/s%05d.css" % (d, i)] = e
    elif i % 3 == 1:
        files["%s/p%05d.html" % (d, i)] = blob(("<h1>page %d</h1>\n" % i).encode())
    else:
        files["%s/i%05d.%08x.png" % (d, i, i)] = blob(os.urandom(64 + i % 512))
files["/index.html"] = blob(b"<h1>big</h1>\n")
m = {"version": 1, "deployment": dep, "created": 1732270000000, "files": files,
     "config": {"cleanUrls": True}}
json.dump(m, open(os.path.join(t, "store", "manifests", dep + ".json"), "w"))
open(os.path.join(t, "big-paths"), "w").write("\n".join(sorted(files)) + "\n")
PY
rcli hset skiff:project:big current $D4 >/dev/null
rcli hset skiff:deployment:$D4 project big state ready >/dev/null

# ---- the web servers --------------------------------------------------------------------
# lighttpd with the fast path as genconf chose it (its own module when built, else mod_magnet's
# Lua), without it, and, beside the module, with the Lua one too: both are compared.
sed -e '/magnet\.attract/d' -e '/skiff\.fastpath-dir/d' -e "s|^server.port *= *$PORT|server.port = $PLAIN|" \
	-e "s|$T/fcgi-|$T/plain-fcgi-|g" -e "s|$T/lighttpd|$T/plain-lighttpd|g" \
	"$T/lighttpd.conf" >"$T/plain.conf"
grep -q 'magnet.attract\|skiff.fastpath-dir' "$T/lighttpd.conf" || fail "the shipped lighttpd configuration has the fast path"
CONFS="lighttpd.conf plain.conf"
LUA=$(free_port)
if lighttpd_lua_conf "$LUA"; then
	check_eq "lua.conf: the Lua fast path in place of the module" "2 0" \
		"$(grep -v '^[[:space:]]*#' "$T/lua.conf" | grep -c 'magnet\.attract') $(
			grep -v '^[[:space:]]*#' "$T/lua.conf" | grep -c 'skiff\.fastpath-dir\|mod_skiff_fastpath')"
	CONFS="$CONFS lua.conf"
else
	LUA=
fi
for conf in $CONFS; do
	lighttpd $(lighttpd_m "$T/$conf") -tt -f "$T/$conf" >"$T/$conf.check" 2>&1 || { cat "$T/$conf.check" >&2; exit 1; }
	lighttpd $(lighttpd_m "$T/$conf") -D -f "$T/$conf" >>"$T/$conf.log" 2>&1 &
	PIDS="$PIDS $!"
done
H=demo.localhost:$PORT
for p in $PORT $PLAIN $LUA; do
	wait_for 10 curl -sf -o /dev/null -H "Host: $H" "http://127.0.0.1:$p/" ||
		{ fail "lighttpd on $p starts"; cat "$T"/*.log >&2; finish; exit 1; }
done

# The first request of a site reaches skiff-serve, which links its tree.
for site in demo spa big; do curl -s -o /dev/null -H "Host: $site.localhost:$PORT" "http://127.0.0.1:$PORT/"; done
check_eq "skiff-serve links the current deployment's tree" "../deployments/$D1 ../deployments/$D3 ../deployments/$D4" \
	"$(readlink "$T/fastpath/sites/demo") $(readlink "$T/fastpath/sites/spa") $(readlink "$T/fastpath/sites/big")"
check_eq "entries for a file, a page without .html (cleanUrls), the root" "ok ok ok" \
	"$(for e in d00/s00000.css@ d07/p00007@ @; do
		[ -f "$T/fastpath/deployments/$D4/$e" ] && printf 'ok '; done | sed 's/ $//')"
check_eq "none for the .html name that cleanUrls redirects" no "$([ -e "$T/fastpath/deployments/$D4/d07/p00007.html@" ] && echo yes || echo no)"
check_eq "no entry for a path a _redirects rule decides (/app/*, /old)" "" \
	"$(ls "$T/fastpath/deployments/$D1" | grep -E '^(app|old)@?$')"

# A preview's host never links the site's tree: its warm requests cost Redis what any host's
# do, nothing while skiff-serve's answer is fresh (not one command each asking whether its
# deployment is current). 20 requests on one connection take well under the 500 ms memo;
# each of skiff-serve's two processes may ask once or twice.
rcli hset skiff:project:demo:preview:b-topic current $D2 >/dev/null
curl -s -o /dev/null -H "Host: demo--b-topic.localhost:$PORT" "http://127.0.0.1:$PORT/"
redis_calls() {
	rcli info commandstats | awk -F'[=,:]' '/^cmdstat_/ && !/cmdstat_info/ { n += $3 } END { print n + 0 }'
}
before=$(redis_calls)
curl -s -H "Host: demo--b-topic.localhost:$PORT" "http://127.0.0.1:$PORT/?i=[1-20]" >"$T/preview.b"
check_match "20 warm requests of a preview cost fewer than 10 Redis commands" '^[0-9]$' \
	"$(($(redis_calls) - before))"
check_eq "... and serve its deployment" "$(for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	cat "$S/index2.html"; done | sha256sum)" "$(sha256sum <"$T/preview.b")"
check_eq "... and leave the site's link alone" "../deployments/$D1" "$(readlink "$T/fastpath/sites/demo")"
rcli del skiff:project:demo:preview:b-topic >/dev/null

# req PORT TAG HOST PATH [CURL ARGS...]: headers to $T/TAG.h, body to $T/TAG.b; prints the status
req() {
	port=$1 tag=$2 host=$3 path=$4
	shift 4
	: >"$T/$tag.b"
	curl -sS $PROTO --path-as-is -m 10 -D "$T/$tag.h" -o "$T/$tag.b" -w '%{http_code}' -H "Host: $host" "$@" \
		"http://127.0.0.1:$port$path"
}
PROTO=    # curl's protocol option: "" (HTTP/1.1) or --http2-prior-knowledge (h2c)
# what of a response must agree: status, body, and these headers (Date and Server aside)
HEADERS="ETag Content-Type Content-Encoding Vary Cache-Control Location X-Frame-Options Last-Modified
Content-Length Content-Range X-Content-Type-Options Accept-Ranges Allow Retry-After"
# (Content-Length only where skiff-serve alone sends one: under Apache it streams the
# precompressed variants itself, chunked, where the fast path gives their length.)
summary() {
	printf 'status %s\nbody %s\n' "$1" "$(sha256sum <"$T/$2.b" | cut -c1-64)"
	for h in $HEADERS; do
		[ "$h" = Content-Length ] && ! grep -qi '^content-length:' "$T/p.h" && continue
		printf '%s: %s\n' "$h" "$(grep -i "^$h:" "$T/$2.h" | sed 's/^[^:]*: *//' | tr -d '\r' | sort | tr '\n' ' ')"
	done
}
FASTCOUNT=0
# same DESCRIPTION HOST PATH [CURL ARGS...]: both servers answer alike
same() {
	desc=$1 host=$2 path=$3
	shift 3
	sf=$(req "$FAST_AT" f "$host" "$path" "$@")
	sp=$(req "$PLAIN_AT" p "$host" "$path" "$@")
	case " $* " in *" -I "*) : >"$T/f.b"; : >"$T/p.b" ;; esac   # HEAD: curl wrote headers there
	summary "$sf" f >"$T/f.sum"
	summary "$sp" p >"$T/p.sum"
	if cmp -s "$T/f.sum" "$T/p.sum"; then
		ok "$SERVER: same answer: $desc"
	else
		fail "$SERVER: same answer: $desc: $(diff "$T/p.sum" "$T/f.sum" | grep '^[<>]' | tr '\n' ' ')"
	fi
}

# big: big's comparison over the suite's protocol ($PROTO): HTTP/1.1 through http.client,
# h2c through Debian's python3-h2 (curl 7.88 fails to reuse an h2c connection; the Python on
# PATH may be another than Debian's). Into big.out: a line for each of the first five forms
# that differ, then "compared N differing M".
big() {
	/usr/bin/python3 - "$FAST_AT" "$PLAIN_AT" "big.localhost:$PORT" "$T/big-paths" "${PROTO:+h2c}" \
		>"$T/big.out" 2>&1 <<-'PY'
	import hashlib, http.client, socket, sys
	fast, plain, host, paths = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
	h2c = sys.argv[5] == "h2c"
	if h2c:
	    import h2.config, h2.connection, h2.events, h2.exceptions
	keep = ["etag", "content-type", "content-encoding", "vary", "cache-control", "location",
	        "last-modified", "content-length", "x-content-type-options", "accept-ranges"]
	class Http1:
	    """one HTTP/1.1 keep-alive connection, made again when the server ends it"""
	    def __init__(self, port):
	        self.port = port
	        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
	    def get(self, path, ae, again=True):
	        h = {"Host": host}
	        if ae:
	            h["Accept-Encoding"] = ae
	        try:
	            self.conn.request("GET", path, headers=h)
	            r = self.conn.getresponse()
	            body = r.read()
	        except (http.client.HTTPException, OSError):
	            if not again:
	                raise
	            self.conn.close()
	            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
	            return self.get(path, ae, False)
	        if r.getheader("connection", "").lower() == "close":
	            self.conn.close()
	        return (r.status, hashlib.sha256(body).hexdigest(), [(k, r.getheader(k)) for k in keep])
	class H2c:
	    """one h2c connection (prior knowledge), one request at a time, made again when the
	    server ends it"""
	    def __init__(self, port):
	        self.port, self.sock = port, None
	    def connect(self):
	        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
	        cfg = h2.config.H2Configuration(client_side=True, header_encoding="latin-1")
	        self.conn = h2.connection.H2Connection(config=cfg)
	        self.conn.initiate_connection()
	        self.sock.sendall(self.conn.data_to_send())
	    def get(self, path, ae, again=True):
	        try:
	            if not self.sock:
	                self.connect()
	            return self.ask(path, ae)
	        except (OSError, h2.exceptions.ProtocolError, EOFError):
	            if self.sock:
	                self.sock.close()
	            self.sock = None
	            if not again:
	                raise
	            return self.get(path, ae, False)
	    def ask(self, path, ae):
	        sid = self.conn.get_next_available_stream_id()
	        hs = [(":method", "GET"), (":scheme", "http"), (":authority", host), (":path", path)]
	        if ae:
	            hs.append(("accept-encoding", ae))
	        self.conn.send_headers(sid, hs, end_stream=True)
	        self.sock.sendall(self.conn.data_to_send())
	        status, heads, body = None, {}, bytearray()
	        while True:
	            data = self.sock.recv(65536)
	            if not data:
	                raise EOFError
	            for ev in self.conn.receive_data(data):
	                if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
	                    for k, v in ev.headers:
	                        if k == ":status":
	                            status = int(v)
	                        else:
	                            heads.setdefault(k, []).append(v)
	                elif isinstance(ev, h2.events.DataReceived):
	                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
	                    if ev.stream_id == sid:
	                        body += ev.data
	                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
	                    self.sock.sendall(self.conn.data_to_send())
	                    return (status, hashlib.sha256(body).hexdigest(),
	                            [(k, ", ".join(heads[k]) if k in heads else None) for k in keep])
	                elif isinstance(ev, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
	                    raise EOFError
	            self.sock.sendall(self.conn.data_to_send())
	clients = {p: (H2c if h2c else Http1)(p) for p in (fast, plain)}
	bad = n = 0
	for line in open(paths):
	    p = line.strip()
	    forms = [p] + ([p[:-5]] if p.endswith(".html") and not p.endswith("index.html") else [])
	    for path in forms:
	        for ae in (None, "gzip, deflate, br"):
	            n += 1
	            a, b = clients[fast].get(path, ae), clients[plain].get(path, ae)
	            if b[2][keep.index("content-length")][1] is None:     # streamed: see summary
	                a[2][keep.index("content-length")] = ("content-length", None)
	            if a != b:
	                bad += 1
	                if bad <= 5:
	                    print("differs:", path, ae, a[0], b[0], [x for x in zip(a[2], b[2]) if x[0] != x[1]])
	print("compared", n, "differing", bad)
	PY
}

# ---- every case of the serving-rules suite (it_serve.sh), then big ---------------------
# suite: asks both servers ($FAST_AT with the fast path, $PLAIN_AT without) everything
suite() {
	same "GET /" "$H" /
	same "a large file" "$H" /assets/big.bin
	same "a hashed name (immutable)" "$H" /app.3f2a9c1e.js
	same "HEAD /" "$H" / -I
	same "POST to a file (405)" "$H" / -d x
	req "$PLAIN_AT" p "$H" / >/dev/null
	etag=$(grep -i '^etag:' "$T/p.h" | sed 's/^[^:]*: *//' | tr -d '\r')
	same "If-None-Match with the ETag (304)" "$H" / -H "If-None-Match: $etag"
	same "If-None-Match, weak, in a list" "$H" / -H "If-None-Match: \"x\", W/$etag"
	same "If-None-Match: *" "$H" / -H "If-None-Match: *"
	same "If-None-Match with another tag" "$H" / -H 'If-None-Match: "other"'
	same "HEAD with If-None-Match" "$H" / -I -H "If-None-Match: $etag"
	same "If-Modified-Since equal" "$H" / -H 'If-Modified-Since: Fri, 22 Nov 2024 10:06:40 GMT'
	same "If-Modified-Since a day later" "$H" / -H 'If-Modified-Since: Sat, 23 Nov 2024 10:06:40 GMT'
	same "If-Modified-Since after the blob's mtime" "$H" / -H 'If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT'
	same "If-None-Match wins over If-Modified-Since" "$H" / -H 'If-None-Match: "other"' \
		-H 'If-Modified-Since: Fri, 22 Nov 2024 10:06:40 GMT'
	same "Range" "$H" /assets/big.bin -H 'Range: bytes=10-19'
	same "suffix Range" "$H" /assets/big.bin -H 'Range: bytes=-10'
	same "unsatisfiable Range" "$H" /assets/big.bin -H 'Range: bytes=200000-'
	same "HEAD with Range" "$H" /assets/big.bin -I -H 'Range: bytes=10-19'
	same "gzip variant" "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: gzip'
	same "br preferred" "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: gzip, br'
	same "a browser's Accept-Encoding" "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: gzip, deflate, br, zstd'
	same "x-gzip" "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: x-gzip'
	same "Accept-Encoding: *" "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: *'
	same "q-values" "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: br;q=0.5, gzip;q=0.9'
	same "br refused by q=0" "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: br;q=0, gzip'
	same "identity only" "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: identity'
	same "no Accept-Encoding" "$H" /app.3f2a9c1e.js
	same "304 of a variant" "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: br' \
		-H "If-None-Match: \"$(sha256sum <"$S/app.js.br" | cut -c1-64)\""
	same "redirect rule" "$H" /old
	same "redirect rule keeps the query" "$H" '/old?a=1'
	same "external redirect" "$H" /go/x/y
	same "200 rewrite" "$H" /app/some/route
	same "an existing file shadows a rule" "$H" /index.html
	same "a query on a file" "$H" '/index.html?v=3'
	same "pretty URL /new" "$H" /new
	same "directory without slash" "$H" /docs
	same "directory with slash" "$H" /docs/
	same "nearest 404.html" "$H" /docs/missing
	same "top-level 404.html" "$H" /nothing/here
	P=spa.localhost:$PORT
	same "SPA navigation" "$P" /dashboard/settings
	same "SPA asset" "$P" /assets/app.js
	same "SPA missing asset" "$P" /assets/missing.js -H 'Accept: */*'
	same "SPA index" "$P" / -H 'Accept: text/html'
	same "/../" "$H" /../
	same "/./index.html" "$H" /./index.html
	same "//index.html" "$H" //index.html
	same "/%2e%2e/%2e%2e/etc/passwd" "$H" /%2e%2e/%2e%2e/etc/passwd
	same "/%252e%252e/" "$H" /%252e%252e/
	same "percent-encoded letters" "$H" /ne%77
	same "encoded slash" "$H" /a%2fb
	same "NUL" "$H" /%00
	same "overlong UTF-8" "$H" /%c0%ae%c0%ae/
	same "backslash" "$H" '/a%5cb'
	long=$(head -c 3000 /dev/zero | tr '\0' a)
	same "over-long path" "$H" "/$long"
	same "unknown project" "nosuch.localhost:$PORT" /
	same "unknown project, JSON client" "nosuch.localhost:$PORT" / -H 'Accept: application/json'
	same "port mismatch" "demo.localhost:1" /
	same "Host a..b" "a..b" /
	same "Host in capitals" "DEMO.LOCALHOST:$PORT" /
	same "immutable URL" "demo--$D1.localhost:$PORT" /
	same "immutable URL of another project" "spa--$D1.localhost:$PORT" /
	same "expired deployment" "demo--$D2.localhost:$PORT" /
	same "a current naming another project's deployment" "other.localhost:$PORT" /
	same "... nor a file by its path" "other.localhost:$PORT" /index.html
	
	# ---- all 10,001 files of big, the 3,333 pages also without .html, with and without gzip --------------
	big
	check_eq "$SERVER: big: every file and page form answers alike (status, body, headers)" \
		"compared 26668 differing 0" "$(tail -n 1 "$T/big.out")"
	grep '^differs' "$T/big.out" | head -n 5 >&2
}
SERVER=lighttpd FAST_AT=$PORT PLAIN_AT=$PLAIN
[ -n "$LUA" ] && SERVER=lighttpd-module
suite
if [ -n "$LUA" ]; then
	SERVER=lighttpd-lua FAST_AT=$LUA
	suite
fi
# ---- lighttpd over HTTP/2 (h2c, prior knowledge: lighttpd 1.4.69 speaks it by default) ----
check_eq "lighttpd: the hosts with and without the fast path answer over HTTP/2" "2 2" \
	"$(for p in $PORT $PLAIN; do curl -s -o /dev/null --http2-prior-knowledge -w '%{http_version} ' \
		-H "Host: $H" "http://127.0.0.1:$p/"; done | sed 's/ $//')"
SERVER=lighttpd-h2c FAST_AT=$PORT PROTO=--http2-prior-knowledge
[ -n "$LUA" ] && SERVER=lighttpd-module-h2c
suite
if [ -n "$LUA" ]; then
	SERVER=lighttpd-lua-h2c FAST_AT=$LUA
	suite
fi
PROTO=

# ---- the same under Apache httpd (apache/skiff-sites.conf, mod_rewrite) -----------------
# skiff-serve as Apache's vhost expects it (xsendfile_plain_only: mod_xsendfile acts only on
# plain 200s), on its own socket; two virtual hosts from the shipped file, one without the
# fast path's lines.
. "$ROOT/check/apache_sites.sh"
apache_skiff_serve || fail "skiff-serve -s did not start for Apache"
AFAST=$(free_port)
APLAIN=$(free_port)
{
	apache_load mpm_event authz_core mime headers deflate filter proxy proxy_fcgi xsendfile rewrite asis http2
	apache_common
	cat <<CONF
Listen 127.0.0.1:$AFAST
Listen 127.0.0.1:$APLAIN
# HTTP/2 in cleartext (h2c) beside HTTP/1.1, as with "a2enmod http2" and Protocols h2 h2c
# http/1.1 (TLS aside): both suites below ask the same servers
Protocols h2c http/1.1
# Debian's default: mod_deflate on for text
AddOutputFilterByType DEFLATE text/html text/plain text/css text/javascript application/json
CONF
	apache_sites_vhost "$AFAST"
	apache_sites_vhost_plain "$APLAIN"
} >"$T/apache/apache2.conf"
grep -q 'RewriteRule .*SKIFF_BLOB' "$T/apache/apache2.conf" || fail "the shipped skiff-sites.conf has the fast path"
# The headers an Apache entry may carry (lib/fastpath.c) are exactly those the shipped rules
# read back and send: a name only in the C list would be written and never sent.
names_c=$(sed -n '/fastpath_apache_names\[\] = {/,/^};/p' "$ROOT/lib/fastpath.c" |
	grep -o '"[A-Za-z-]*"' | tr -d '"' | sort | tr '\n' ' ')
names_rules=$(grep -o 'SKIFF_X} "\\t[A-Za-z-]*\\t' "$ROOT/apache/skiff-sites.conf" |
	sed 's/.*\\t\([A-Za-z-]*\)\\t$/\1/' | sort | tr '\n' ' ')
[ -n "$names_c" ] || fail "no header names found in lib/fastpath.c's fastpath_apache_names"
check_eq "skiff-sites.conf reads every header name lib/fastpath.c writes, and no other" \
	"$names_c" "$names_rules"
if apache2 -t -f "$T/apache/apache2.conf" >"$T/apache/t.out" 2>&1; then
	apache2 -DFOREGROUND -f "$T/apache/apache2.conf" >>"$T/apache/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 10 curl -sf -o /dev/null -H "Host: $H" "http://127.0.0.1:$AFAST/" ||
		fail "apache starts: $(tail -n 5 "$T/apache/error.log")"
	SERVER=apache FAST_AT=$AFAST PLAIN_AT=$APLAIN
	suite
	# ---- the same over HTTP/2 (h2c, mod_http2) --------------------------------------------
	check_eq "apache: both hosts answer over HTTP/2" "2 2" \
		"$(for p in $AFAST $APLAIN; do curl -s -o /dev/null --http2-prior-knowledge -w '%{http_version} ' \
			-H "Host: $H" "http://127.0.0.1:$p/"; done | sed 's/ $//')"
	SERVER=apache-h2c PROTO=--http2-prior-knowledge
	suite
	PROTO=
else
	fail "apache2 -t accepts the configuration: $(cat "$T/apache/t.out")"
fi

# ---- 100 promotes and rollbacks while clients hammer the site, retention sweeping --------
# "flip" is a real project: a git build through skiff-dispatch, then new deployments through
# `skiff deploy` (the deploy protocol) and a few more git builds, each promoted as it is
# ready, each followed by a rollback to the one before: 100 switches. Every file says which
# version it is, so a client can tell a whole version from a mix. Meanwhile the dispatcher's
# retention and sweep run again and again (skiff-dispatch --gc-once, retention_keep = 2) and
# every blob and manifest is made older than the grace period between switches, as if hours
# passed: the deployment that was current a moment ago expires at once, and its own blobs
# are swept once its expiry is aged too (3 s later, when no server still serves it). A blob
# of an expired deployment comes back in a later one (/cycle.txt), found already stored. The
# clients ask lighttpd's and Apache's fast paths at once (their misses reach skiff-serve).
cat >"$T/flipgen.py" <<'PY'
# the files of version key of "flip": each starts with a line naming the file and its key
import hashlib
def body(name, key):
    head = "flip %s %s\n" % (name, key)
    lines = 100 if name.endswith(".js") else 20
    seed = hashlib.sha256(head.encode()).hexdigest()
    return (head + "".join("%s %d %s\n" % (name, i, seed) for i in range(lines))).encode()
def files(key, n):
    """request path -> body of version key (the n-th)"""
    out = {"/index.html": body("index", key), "/page.html": body("page", key),
           "/app.3f2a9c1e.js": body("app.js", key), "/common.css": body("common", "all"),
           "/cycle.txt": body("cycle", "c%d" % (n % 5))}
    if n % 2:
        out["/odd.html"] = body("odd", key)
    return out
PY
mkdir -p "$T/flipsite" "$T/flip-git"
python3 - "$T" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[1])
import flipgen
for n in range(0, 51):
    key = "v%d" % n
    d = os.path.join(sys.argv[1], "flipsite", key)
    os.makedirs(d)
    for path, data in flipgen.files(key, n).items():
        open(d + path, "wb").write(data)
PY
git -C "$T/flip-git" init -q -b main
git -C "$T/flip-git" config user.email t@example.com
git -C "$T/flip-git" config user.name t
# commit_version N: the git repository's head becomes version N
commit_version() {
	find "$T/flip-git" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
	cp "$T/flipsite/v$1/"* "$T/flip-git/"
	git -C "$T/flip-git" add -A && git -C "$T/flip-git" commit -q -m "v$1"
}
commit_version 0
printf 'retention_keep = 2\nretention_keep_previews = 1\ngc_grace = 60\n' >>"$T/skiff.conf"
ORIGIN="Origin: http://localhost:$PORT"
# api METHOD PATH JSON: the answer's body into $T/body, its status printed
api() {
	curl -sS -o "$T/body" -w '%{http_code}' -X "$1" -H "$ORIGIN" -H 'Content-Type: application/json' \
		--data-binary "$3" "http://localhost:$PORT$2"
}
# git_build: builds the git head through skiff-dispatch; prints the deployment's id and state
git_build() {
	id=$(jget data.deploymentId)
	"$BIN/skiff-dispatch" --once >>"$T/dispatch.log" 2>&1
	echo "$id $(rcli hget skiff:deployment:$id state)"
}
code=$(api POST /api/projects "{\"gitURL\":\"file://$T/flip-git\",\"slug\":\"flip\",\"webhookSecret\":false}")
check_eq "the project flip is created from a git repository" 202 "$code"
set -- $(git_build)
check_eq "... and its first git build is ready" ready "${2:-}"
PREV=${1:-}
api POST /api/projects/flip/tokens '{"name":"load"}' >/dev/null
export SKIFF_URL="http://localhost:$PORT" SKIFF_TOKEN="$(jget token)"
FLIP=flip.localhost:$PORT
curl -s -o /dev/null -H "Host: $FLIP" "http://127.0.0.1:$PORT/"
touch "$T/load.start"
python3 - "$T" "$FLIP" "$PORT" "$AFAST" $LUA >"$T/hammer.out" 2>&1 <<'PY' &
import gzip, hashlib, http.client, os, sys, threading, time
t, host, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
sys.path.insert(0, t)
import flipgen
paths = ["/", "/index.html", "/page.html", "/page", "/app.3f2a9c1e.js", "/common.css",
         "/cycle.txt", "/odd.html"]
stop = time.time() + 600
seen, bad, n = set(), [], [0]
lock = threading.Lock()
def whole(path, raw):
    """the version key when raw is a whole file of one version, else None"""
    first = raw.split(b"\n", 1)[0].decode("ascii", "replace").split(" ")
    if len(first) != 3 or first[0] != "flip":
        return None
    name, key = first[1], first[2]
    want = {"/": "index", "/index.html": "index", "/page.html": "page", "/page": "page",
            "/app.3f2a9c1e.js": "app.js", "/common.css": "common", "/cycle.txt": "cycle",
            "/odd.html": "odd"}[path]
    if name != want or raw != flipgen.body(name, key):
        return None
    return key
def client(port, k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    i = k
    while time.time() < stop and not os.path.exists(os.path.join(t, "hammer.stop")):
        path = paths[i % len(paths)]
        ae = "gzip" if (i // len(paths)) % 2 else None
        i += 1
        h = {"Host": host}
        if ae:
            h["Accept-Encoding"] = ae
        try:
            c.request("GET", path, headers=h)
            r = c.getresponse()
            body = r.read()
        except (http.client.HTTPException, OSError):
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        key = None
        if r.status == 200:
            try:
                raw = gzip.decompress(body) if r.getheader("Content-Encoding") == "gzip" else body
            except (OSError, EOFError):
                raw = b""
            key = whole(path, raw)
            if key and r.getheader("ETag") != '"%s"' % hashlib.sha256(body).hexdigest():
                key = None
            if key and r.getheader("Content-Length") not in (None, str(len(body))):
                key = None
        elif r.status == 404 and path == "/odd.html":
            key = "404"            # an even version has no /odd.html
        with lock:
            n[0] += 1
            if key:
                if path == "/":
                    seen.add((port, key))
            else:
                bad.append((port, path, ae, r.status, r.getheader("ETag"), body[:60]))
# six clients: three per server, or two each with lighttpd's Lua fast path beside its module
threads = [threading.Thread(target=client, args=(p, k)) for p in ports for k in range(6 // len(ports))]
for th in threads:
    th.start()
for th in threads:
    th.join()
print("versions seen", " ".join("%d:%d" % (p, len([1 for q, _ in seen if q == p])) for p in ports))
for b in bad[:8]:
    print("bad", b)
print("requests", n[0], "bad", len(bad))
PY
HAMMER=$!
# retention and the sweep, again and again, as the dispatcher runs them
(
	while [ ! -e "$T/hammer.stop" ]; do
		"$BIN/skiff-dispatch" --gc-once >>"$T/gc.log" 2>&1 || echo "gc-once failed" >>"$T/gc.log"
		sleep 0.5
	done
) &
GCLOOP=$!
AGE_EXPIRIES="for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
	local k = 'skiff:deployment:' .. id
	local e = tonumber(redis.call('HGET', k, 'expired') or '')
	if e and e < ARGV[1] - 3000 then redis.call('HSET', k, 'expired', ARGV[1] - 7200000) end
end"
: >"$T/switches"
i=1
while [ $i -le 50 ]; do
	case $i in
	17 | 34)
		commit_version $i
		api POST /api/projects/flip/deployments '{}' >/dev/null
		set -- $(git_build)
		echo "build $i ${2:-none}" >>"$T/switches"
		id=${1:-} ;;
	*)
		out=$("$BIN/skiff" deploy "$T/flipsite/v$i" --project flip --json 2>>"$T/deploy.err")
		id=$(printf '%s' "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["deploymentId"])' 2>/dev/null)
		echo "deploy $i $(printf '%s' "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])' 2>/dev/null || echo failed)" >>"$T/switches" ;;
	esac
	# back to the one before: it stays kept (the newest two); the next promote expires it
	echo "rollback $i $(api POST /api/projects/flip/rollback "{\"deploymentId\":\"$PREV\"}")" >>"$T/switches"
	PREV=$id
	# hours pass: every blob and manifest is older than the grace period, and so is every
	# expiry but those of the last seconds (no web server can still be serving those)
	find "$T/store/blobs" "$T/store/manifests" -type f -newer "$T/load.start" \
		-exec touch -d '2 hours ago' {} +
	rcli EVAL "$AGE_EXPIRIES" 1 skiff:project:flip:deployments "$(date +%s%3N)" >/dev/null
	i=$((i + 1))
done
touch "$T/hammer.stop"
wait "$HAMMER"
wait "$GCLOOP"
LAST=$(rcli hget skiff:project:flip current)
check_eq "100 switches: 48 promotes by skiff deploy, 2 by git builds, 50 rollbacks" \
	"48 x deploy ready / 2 x build ready / 50 x rollback 200" \
	"$(grep -c '^deploy .* ready$' "$T/switches") x deploy ready / $(grep -c '^build .* ready$' "$T/switches") x build ready / $(grep -c '^rollback .* 200$' "$T/switches") x rollback 200"
grep -v ' ready$\| 200$' "$T/switches" | head -n 5 >&2
head -n 5 "$T/deploy.err" >&2
check_eq "the clients saw only whole versions (body, ETag, length), never an error" "bad 0" \
	"$(tail -n 1 "$T/hammer.out" | sed 's/.* bad /bad /')"
grep '^bad\|Traceback\|Error' "$T/hammer.out" | head -n 8 >&2
check_match "... over many requests" '^requests [0-9]{4,}' "$(tail -n 1 "$T/hammer.out")"
check_match "... and many versions through every server" "^versions seen $PORT:[1-9][0-9] $AFAST:[1-9][0-9]${LUA:+ $LUA:[1-9][0-9]}\$" \
	"$(head -n 1 "$T/hammer.out")"
expired=$(for d in $(rcli zrange skiff:project:flip:deployments 0 -1); do rcli hget skiff:deployment:$d state; done | grep -c '^expired$')
check_match "retention expired the older deployments meanwhile" '^(4[0-9]|50)$' "$expired"
gone=0
for d in $(rcli zrange skiff:project:flip:deployments 0 -1); do
	[ -e "$T/store/manifests/$d.json" ] || gone=$((gone + 1))
done
check_match "... and the sweep dropped the manifests of most of them meanwhile" '^(2[5-9]|[34][0-9]|50)$' "$gone"
v1=$(python3 -c 'import hashlib, sys; sys.path.insert(0, sys.argv[1]); import flipgen; print(hashlib.sha256(flipgen.body("index", "v1")).hexdigest())' "$T")
check_eq "... and the blobs only they named" "no" \
	"$([ -e "$T/store/blobs/$(echo "$v1" | cut -c1-2)/$v1" ] && echo yes || echo no)"
check_eq "... without ever failing" "" "$(grep -i 'gc-once failed\|aborted\|incomplete' "$T/gc.log" | head -n 3)"
# within a second of the last switch both servers serve it from the fast path
sleep 1.1
want=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import flipgen; sys.stdout.write(flipgen.body("page", "v49").decode())' "$T")
check_eq "after the switches: the last one from the fast path, of both servers" "$want$want" \
	"$(req "$PORT" f "$FLIP" /page >/dev/null; cat "$T/f.b")$(req "$AFAST" f "$FLIP" /page >/dev/null; cat "$T/f.b")"
check_eq "... from the tree of the current deployment" "../deployments/$LAST" "$(readlink "$T/fastpath/sites/flip")"
linked=$(for s in "$T"/fastpath/sites/*; do readlink "$s" | sed 's|.*/||'; done | sort | tr '\n' ' ')
check_eq "no tree left behind: only the linked ones" "$linked" "$(ls -A "$T/fastpath/deployments" | sort | tr '\n' ' ')"
code=$(curl -s -o /dev/null -w "%{http_code}" -X DELETE -H "$ORIGIN" \
	-H "Content-Type: application/json" -d "{\"confirm\":\"flip\"}" \
	"http://localhost:$PORT/api/projects/flip?confirm=flip")
check_eq "deleting the project" 200 "$code"
check_eq "... unlinks its site and removes its tree" "no no" \
	"$([ -L "$T/fastpath/sites/flip" ] && echo yes || echo no) $([ -e "$T/fastpath/deployments/$LAST" ] && echo yes || echo no)"
sleep 1.1
check_eq "... and its pages are gone from both servers" "404 404" \
	"$(req "$PORT" f "$FLIP" /page) $(req "$AFAST" f "$FLIP" /page)"

# ---- the fast path answers by itself ----------------------------------------------------
# With Redis down skiff-serve has no site to serve (503 once its half-second memo is gone);
# a warm hit that never reaches it is unaffected. (Not a difference the suite compares: it
# shows which requests the fast path answered.)
stop_redis
sleep 0.6
check_eq "Redis down: skiff-serve alone answers 503" 503 "$(req "$PLAIN" p "$H" /)"
# lighty PORT NAME: lighttpd's fast path on PORT answers by itself
lighty() {
	check_eq "... $2: the fast path still serves GET / from the tree" "200 $(cat "$S/index.html")" \
		"$(req "$1" f "$H" /) $(cat "$T/f.b")"
	check_eq "... $2: with skiff-serve's headers (_headers included)" "DENY" \
		"$(grep -i '^x-frame-options:' "$T/f.h" | sed 's/^[^:]*: *//' | tr -d '\r')"
	check_eq "... $2: the br variant" "200 br" "$(req "$1" f "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: gzip, br') $(
		grep -i '^content-encoding:' "$T/f.h" | sed 's/^[^:]*: *//' | tr -d '\r')"
	check_eq "... $2: HEAD" "200 $(wc -c <"$S/index.html" | tr -d ' ')" "$(req "$1" f "$H" / -I) $(
		grep -i '^content-length:' "$T/f.h" | sed 's/^[^:]*: *//' | tr -d '\r')"
	check_eq "... $2: a 304 too" 304 "$(req "$1" f "$H" / -H "If-None-Match: $etag")"
	check_eq "... $2: and big's 10,000 files" 200 "$(req "$1" f "big.localhost:$PORT" /d07/p00007)"
	check_eq "$2: a rule's path still goes to skiff-serve" 503 "$(req "$1" f "$H" /old)"
	check_eq "$2: so does a Range" 503 "$(req "$1" f "$H" /assets/big.bin -H 'Range: bytes=1-2')"
}
if [ -n "$LUA" ]; then
	lighty "$PORT" "lighttpd (mod_skiff_fastpath)"
	lighty "$LUA" "lighttpd (mod_magnet)"
else
	lighty "$PORT" "lighttpd (mod_magnet)"
fi
# the same of Apache's, which reads each entry on every request
check_eq "Apache: the fast path serves GET / from the tree" "200 $(cat "$S/index.html")" \
	"$(req "$AFAST" f "$H" /) $(cat "$T/f.b")"
check_eq "... with skiff-serve's headers (_headers included)" "DENY" \
	"$(grep -i '^x-frame-options:' "$T/f.h" | sed 's/^[^:]*: *//' | tr -d '\r')"
check_eq "... the br variant" "200 br" "$(req "$AFAST" f "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: gzip, br') $(
	grep -i '^content-encoding:' "$T/f.h" | sed 's/^[^:]*: *//' | tr -d '\r')"
check_eq "... a 304 too" 304 "$(req "$AFAST" f "$H" / -H "If-None-Match: $etag")"
check_eq "... and big's 10,000 files" 200 "$(req "$AFAST" f "big.localhost:$PORT" /d07/p00007)"
check_eq "a rule's path still goes to skiff-serve" 503 "$(req "$AFAST" f "$H" /old)"
check_eq "so does a Range" 503 "$(req "$AFAST" f "$H" /assets/big.bin -H 'Range: bytes=1-2')"
# ... and over HTTP/2: the hits that never reach skiff-serve are the same
PROTO=--http2-prior-knowledge
check_eq "Apache over h2c: the fast path serves GET / from the tree" "200 $(cat "$S/index.html")" \
	"$(req "$AFAST" f "$H" /) $(cat "$T/f.b")"
check_eq "... with skiff-serve's headers (_headers included)" "DENY" \
	"$(grep -i '^x-frame-options:' "$T/f.h" | sed 's/^[^:]*: *//' | tr -d '\r')"
check_eq "... HEAD" "200 $(wc -c <"$S/index.html" | tr -d ' ')" "$(req "$AFAST" f "$H" / -I) $(
	grep -i '^content-length:' "$T/f.h" | sed 's/^[^:]*: *//' | tr -d '\r')"
check_eq "... the br variant" "200 br $(sha256sum <"$S/app.js.br" | cut -c1-64)" \
	"$(req "$AFAST" f "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: gzip, br') $(
	grep -i '^content-encoding:' "$T/f.h" | sed 's/^[^:]*: *//' | tr -d '\r') $(sha256sum <"$T/f.b" | cut -c1-64)"
check_eq "... the gzip variant" "200 gzip" "$(req "$AFAST" f "$H" /app.3f2a9c1e.js -H 'Accept-Encoding: gzip') $(
	grep -i '^content-encoding:' "$T/f.h" | sed 's/^[^:]*: *//' | tr -d '\r')"
check_eq "... a 304 too" 304 "$(req "$AFAST" f "$H" / -H "If-None-Match: $etag")"
check_eq "... and big's 10,000 files" 200 "$(req "$AFAST" f "big.localhost:$PORT" /d07/p00007)"
check_eq "a rule's path still goes to skiff-serve" 503 "$(req "$AFAST" f "$H" /old)"
check_eq "so does a Range" 503 "$(req "$AFAST" f "$H" /assets/big.bin -H 'Range: bytes=1-2')"
check_match "(over HTTP/2)" '^HTTP/2 ' "$(head -n 1 "$T/f.h")"
PROTO=
# a path without an entry is the fast path's everyday miss: nothing in Apache's error log
check_eq "Apache logged no error for the misses" "" \
	"$(grep -h 'rewrite:error\|expression' "$T"/apache/*.log | head -n 3)"
finish
