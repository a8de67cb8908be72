#!/bin/sh
# it_fastpath.sh — the serving fast path (lib/fastpath.c's trees, apache/skiff-fastpath*.lua for lighttpd, apache/skiff-sites.conf)
# against skiff-serve alone: two lighttpds from the shipped apache/lighttpd.conf.in (genconf),
# one with the fast path and one without it, asked every question of the serving-rules suite
# (check/serve_fixture.sh, the cases of it_serve.sh) and all 10,000 paths of a generated
# deployment; status, body and the headers that matter must be the same. Then 100 rollbacks
# under load, and a deletion, through both.
. "$(dirname "$0")/lib.sh"

start_redis
PORT=$(free_port)
PLAIN=$(free_port)
while [ "$PLAIN" = "$PORT" ]; do PLAIN=$(free_port); done
SKIFF_SANDBOX=none SKIFF_LOG_LEVEL=info sh "$ROOT/scripts/genconf.sh" "$T" "$PORT" "$(free_port)" \
	>"$T/genconf.log" 2>&1 || { cat "$T/genconf.log" >&2; exit 1; }
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

# ---- the two web servers ---------------------------------------------------------------
sed -e '/magnet\.attract/d' -e "s|^server.port *= *$PORT|server.port = $PLAIN|" \
	-e "s|$T/fcgi-|$T/plain-fcgi-|g" -e "s|$T/lighttpd|$T/plain-lighttpd|g" \
	"$T/lighttpd.conf" >"$T/plain.conf"
grep -q 'magnet.attract' "$T/lighttpd.conf" || fail "the shipped lighttpd configuration has the fast path"
for conf in lighttpd.conf plain.conf; do
	lighttpd -tt -f "$T/$conf" >"$T/$conf.check" 2>&1 || { cat "$T/$conf.check" >&2; exit 1; }
	lighttpd -D -f "$T/$conf" >>"$T/$conf.log" 2>&1 &
	PIDS="$PIDS $!"
done
H=demo.localhost:$PORT
for p in $PORT $PLAIN; do
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
	curl -sS --path-as-is -m 10 -D "$T/$tag.h" -o "$T/$tag.b" -w '%{http_code}' -H "Host: $host" "$@" \
		"http://127.0.0.1:$port$path"
}
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
	python3 - "$FAST_AT" "$PLAIN_AT" "big.localhost:$PORT" "$T/big-paths" >"$T/big.out" 2>&1 <<-'PY'
	import http.client, sys
	fast, plain, host, paths = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
	keep = ["etag", "content-type", "content-encoding", "vary", "cache-control", "location",
	        "last-modified", "content-length", "x-content-type-options", "accept-ranges"]
	conns = {p: http.client.HTTPConnection("127.0.0.1", p, timeout=10) for p in (fast, plain)}
	def ask(port, path, ae, again=True):
	    c = conns[port]
	    h = {"Host": host}
	    if ae:
	        h["Accept-Encoding"] = ae
	    try:
	        c.request("GET", path, headers=h)
	        r = c.getresponse()
	        body = r.read()
	    except (http.client.HTTPException, OSError):
	        if not again:
	            raise
	        c.close()                # the server ended the keep-alive connection
	        conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
	        return ask(port, path, ae, False)
	    if r.getheader("connection", "").lower() == "close":
	        c.close()
	    heads = [(k, r.getheader(k)) for k in keep]
	    if heads[keep.index("content-length")][1] is None and port == fast:
	        pass
	    return (r.status, body, heads)
	bad = n = 0
	for line in open(paths):
	    p = line.strip()
	    forms = [p] + ([p[:-5]] if p.endswith(".html") and not p.endswith("index.html") else [])
	    for path in forms:
	        for ae in (None, "gzip, deflate, br"):
	            n += 1
	            a, b = ask(fast, path, ae), ask(plain, path, ae)
	            if b[2][keep.index("content-length")][1] is None:     # streamed: see summary
	                a[2][keep.index("content-length")] = ("content-length", None)
	            if a != b:
	                bad += 1
	                if bad <= 5:
	                    print("differs:", path, ae, a[0], b[0], [x for x in zip(a[2], b[2]) if x[0] != x[1]])
	print("compared", n, "differing", bad)
	PY
	check_eq "$SERVER: big: every file and page form answers alike (status, body, headers)" \
		"compared 26668 differing 0" "$(tail -n 1 "$T/big.out")"
	grep '^differs' "$T/big.out" | head -n 5 >&2
}
SERVER=lighttpd FAST_AT=$PORT PLAIN_AT=$PLAIN
suite

# ---- the same under Apache httpd (apache/skiff-sites.conf, mod_rewrite) -----------------
# skiff-serve as Apache's vhost expects it (xsendfile_plain_only: mod_xsendfile acts only on
# plain 200s), on its own socket; two virtual hosts from the shipped file, one without the
# fast path's lines.
. "$ROOT/check/apache_sites.sh"
apache_skiff_serve || fail "skiff-serve -s did not start for Apache"
AFAST=$(free_port)
APLAIN=$(free_port)
{
	apache_load mpm_event authz_core mime headers deflate filter proxy proxy_fcgi xsendfile rewrite asis
	apache_common
	cat <<CONF
Listen 127.0.0.1:$AFAST
Listen 127.0.0.1:$APLAIN
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
else
	fail "apache2 -t accepts the configuration: $(cat "$T/apache/t.out")"
fi

# ---- 100 rollbacks while clients hammer the site: only whole versions, never a miss ------
# Two deployments of "flip" whose every file says which one it is; the switches go through
# the API (skiff-create: the rollback script, then fastpath_drop), the clients through the
# fast path of lighttpd and of Apache at once (their misses through skiff-serve).
F1=fffffffffff2
F2=ggggggggggg2
mkdir -p "$T/flip"
for v in 1 2; do
	eval "id=\$F$v"
	printf '<!doctype html><h1>flip version %s</h1>\n' $v >"$T/flip/index$v.html"
	printf '<h1>page of version %s</h1>\n' $v >"$T/flip/page$v.html"
	i=0
	: >"$T/flip/app$v.js"
	while [ $i -lt 100 ]; do echo "console.log('version $v line $i');" >>"$T/flip/app$v.js"; i=$((i + 1)); done
	gzip -9 -n -c "$T/flip/app$v.js" >"$T/flip/app$v.js.gz"
	only=
	[ $v = 1 ] && only=",$(entry /only1.html "$T/flip/page1.html")"
	cat >"$T/store/manifests/$id.json" <<JSON
{"version":1,"deployment":"$id","created":173227000${v}000,"files":{
$(entry /index.html "$T/flip/index$v.html"),
$(entry /page.html "$T/flip/page$v.html"),
$(entry /app.3f2a9c1e.js "$T/flip/app$v.js" "$T/flip/app$v.js.gz")$only}}
JSON
	rcli hset skiff:deployment:$id project flip state ready >/dev/null
	rcli zadd skiff:project:flip:deployments $v $id >/dev/null
done
rcli hset skiff:project:flip current $F1 >/dev/null
rcli zadd skiff:projects 1 flip >/dev/null
FLIP=flip.localhost:$PORT
curl -s -o /dev/null -H "Host: $FLIP" "http://127.0.0.1:$PORT/"
python3 - "$T" "$FLIP" "$PORT" "$AFAST" >"$T/hammer.out" 2>&1 <<'PY' &
import gzip, hashlib, http.client, os, sys, threading, time
t, host, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
files = {"/": "index%d.html", "/index.html": "index%d.html", "/page.html": "page%d.html",
         "/page": "page%d.html", "/app.3f2a9c1e.js": "app%d.js", "/only1.html": "page%d.html"}
want = {}
for path, name in files.items():
    for v in (1, 2):
        want[(path, v)] = open(os.path.join(t, "flip", name % v), "rb").read()
stop = time.time() + 600
seen, bad, n = set(), [], [0]
lock = threading.Lock()
def client(port, k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    paths = list(files)
    i = k
    while time.time() < stop and not os.path.exists(os.path.join(t, "hammer.stop")):
        path = paths[i % len(paths)]
        ae = "gzip" if i % 2 else None
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
        raw = gzip.decompress(body) if r.getheader("Content-Encoding") == "gzip" else body
        ok = None
        if r.status == 200:
            for v in (1, 2):
                if raw == want[(path, v)] and not (path == "/only1.html" and v == 2):
                    ok = v
            etag = '"%s"' % hashlib.sha256(body).hexdigest()
            if ok and r.getheader("ETag") != etag:
                ok = None
            if ok and r.getheader("Content-Length") not in (None, str(len(body))):
                ok = None
        elif r.status == 404 and path == "/only1.html":
            ok = 2
        with lock:
            n[0] += 1
            if ok:
                seen.add((port, ok))
            elif len(bad) < 5:
                bad.append((port, path, ae, r.status, body[:80]))
            elif ok is None:
                bad.append(None)
threads = [threading.Thread(target=client, args=(p, k)) for p in ports for k in range(3)]
for th in threads:
    th.start()
for th in threads:
    th.join()
print("versions seen", " ".join("%d:%d" % (p, v) for p in ports for v in (1, 2) if (p, v) in seen))
for b in bad[:5]:
    print("bad", b)
print("requests", n[0], "bad", len(bad))
PY
HAMMER=$!
i=0
while [ $i -lt 100 ]; do
	id=$F2
	[ $((i % 2)) = 1 ] && id=$F1
	curl -s -o /dev/null -w '%{http_code}\n' -H "Origin: http://localhost:$PORT" -H 'Content-Type: application/json' \
		-d "{\"deploymentId\":\"$id\"}" "http://localhost:$PORT/api/projects/flip/rollback" >>"$T/rollbacks"
	sleep 0.05
	i=$((i + 1))
done
touch "$T/hammer.stop"
wait "$HAMMER"
check_eq "100 rollbacks through the API" "100 x 200" "$(sort "$T/rollbacks" | uniq -c | awk '{ print $1 " x " $2 }')"
check_eq "the clients saw only whole versions (body, ETag, length), and both of them on both servers" \
	"versions seen $PORT:1 $PORT:2 $AFAST:1 $AFAST:2 / bad 0" \
	"$(head -n 1 "$T/hammer.out") / $(tail -n 1 "$T/hammer.out" | sed 's/.* bad /bad /')"
grep '^bad\|Traceback\|Error' "$T/hammer.out" | head -n 5 >&2
check_match "... over many requests" '^requests [0-9]{4,}' "$(tail -n 1 "$T/hammer.out")"
# the last rollback named F1: within a second both paths serve it, and the tree is linked again
sleep 1.1
check_eq "after the switches: version 1 from the fast path, of both servers" \
	"$(cat "$T/flip/page1.html") $(cat "$T/flip/page1.html")" \
	"$(req "$PORT" f "$FLIP" /page >/dev/null; cat "$T/f.b") $(req "$AFAST" f "$FLIP" /page >/dev/null; cat "$T/f.b")"
check_eq "... from the tree of the current deployment, the other one removed" "../deployments/$F1 no" \
	"$(readlink "$T/fastpath/sites/flip") $([ -e "$T/fastpath/deployments/$F2" ] && echo yes || echo no)"
code=$(curl -s -o /dev/null -w "%{http_code}" -X DELETE -H "Origin: http://localhost:$PORT" \
	-H "Content-Type: application/json" -d "{\"confirm\":\"flip\"}" \
	"http://localhost:$PORT/api/projects/flip?confirm=flip")
check_eq "deleting the project" 200 "$code"
check_eq "... unlinks its site and removes its tree" "no no" \
	"$([ -L "$T/fastpath/sites/flip" ] && echo yes || echo no) $([ -e "$T/fastpath/deployments/$F1" ] && echo yes || echo no)"
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
check_eq "... the fast path still serves GET / from the tree" "200 $(cat "$S/index.html")" \
	"$(req "$PORT" f "$H" /) $(cat "$T/f.b")"
check_eq "... with skiff-serve's headers (_headers included)" "DENY" \
	"$(grep -i '^x-frame-options:' "$T/f.h" | sed 's/^[^:]*: *//' | tr -d '\r')"
check_eq "... a 304 too" 304 "$(req "$PORT" f "$H" / -H "If-None-Match: $etag")"
check_eq "... and big's 10,000 files" 200 "$(req "$PORT" f "big.localhost:$PORT" /d07/p00007)"
check_eq "a rule's path still goes to skiff-serve" 503 "$(req "$PORT" f "$H" /old)"
check_eq "so does a Range" 503 "$(req "$PORT" f "$H" /assets/big.bin -H 'Range: bytes=1-2')"
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
# a path without an entry is the fast path's everyday miss: nothing in Apache's error log
check_eq "Apache logged no error for the misses" "" \
	"$(grep -h 'rewrite:error\|expression' "$T"/apache/*.log | head -n 3)"
finish
