#!/bin/sh
# it_apache.sh — the whole flow under a real Apache httpd started from the SHIPPED site files
# (apache/skiff-dashboard.conf, apache/skiff-sites.conf, then apache/skiff-fcgid.conf) with
# only paths and ports substituted. The FastCGI programs are started the way systemd starts
# them (a listening unix socket passed as fd 3, via systemd-socket-activate) or with their
# own -s SOCKET; Apache's workers run as www-data and reach them through group-owned 0660
# sockets, as with SocketGroup=www-data. Checked: Basic authentication on mutations (401
# without, 202 with, bearer tokens passed to skiff), the build log through /events/ arriving
# live, the site through the wildcard vhost with the body sent by mod_xsendfile.
. "$(dirname "$0")/lib.sh"
. "$ROOT/check/apache_sites.sh"   # apache_shipped

WWW=www-data
for tool in apache2 systemd-socket-activate htpasswd curl python3 git redis-server; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
for p in skiff-create skiff-status skiff-serve skiff-dispatch skiff-build skiff-sse-bridge; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done
id "$WWW" >/dev/null 2>&1 || { echo "user $WWW is missing" >&2; exit 1; }
MODS=/usr/lib/apache2/modules

# Apache's children (www-data) traverse $T to reach the sockets and the blobs.
chmod 0711 "$T"
mkdir -p "$T/run" "$T/store/blobs" "$T/cache" "$T/work" "$T/apache" "$T/empty"
chgrp "$WWW" "$T/run" && chmod 0750 "$T/run"

PORT=$(free_port)
SSE_PORT=$(free_port)
while [ "$SSE_PORT" = "$PORT" ]; do SSE_PORT=$(free_port); done
TOKEN=apache-test-token-$$
DOMAIN=example.com
DASH=skiff.$DOMAIN

# jget PATH: a value from the JSON on stdin ("data.deploymentId"); empty when absent.
jget() {
	python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" 2>/dev/null
}
# web ARGS...: curl to Apache, whatever host name the URL names
web() { curl -sS --connect-to "::127.0.0.1:$PORT" "$@"; }
header_of() { grep -i "^$1:" "$2" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'; }

cat >"$T/skiff.conf" <<CONF
redis_socket = $T/redis.sock
store = file
store_path = $T/store
cache_path = $T/cache
work_dir = $T/work
build_program = $BIN/skiff-build
sandbox = none
allow_local_git = true
auth_disabled = false
api_token = $TOKEN
domain = $DOMAIN
site_port = $PORT
dashboard_url = http://$DASH:$PORT
xsendfile = true
xsendfile_plain_only = true
sse_listen = 127.0.0.1:$SSE_PORT
log_level = debug
CONF
chmod 0644 "$T/skiff.conf"
export SKIFF_CONFIG="$T/skiff.conf"
htpasswd -c -b -B "$T/htpasswd" admin 's3cret pass' 2>/dev/null
# the token Apache puts into /events/ requests of the users it authenticated
echo "Define SKIFF_API_TOKEN $TOKEN" >"$T/apache-token.conf"
chmod 0644 "$T/htpasswd"

start_redis
# skiff-fcgid.conf runs the programs as www-data: they must reach Redis too.
chmod 0666 "$T/redis.sock"

# ---- the FastCGI programs, as systemd starts them -----------------------------------------
# socket_ready SOCKET: gives the socket to the web server's group, as SocketGroup=/SocketMode= do
socket_ready() {
	wait_for 10 test -S "$1" || return 1
	chgrp "$WWW" "$1" && chmod 0660 "$1"
}
for p in skiff-create skiff-status skiff-hook; do
	[ -x "$BIN/$p" ] || continue
	systemd-socket-activate -l "$T/run/$p.sock" --fdname="$p" -E ASAN_OPTIONS -E UBSAN_OPTIONS \
		"$BIN/$p" -c "$T/skiff.conf" >>"$T/$p.log" 2>&1 &
	PIDS="$PIDS $!"
	socket_ready "$T/run/$p.sock" || { echo "$p: no socket" >&2; exit 1; }
done
# skiff-serve with its own -s SOCKET (the other way the programs listen)
"$BIN/skiff-serve" -c "$T/skiff.conf" -s "$T/run/skiff-serve.sock" >>"$T/skiff-serve.log" 2>&1 &
PIDS="$PIDS $!"
socket_ready "$T/run/skiff-serve.sock" || { echo "skiff-serve: no socket" >&2; exit 1; }
"$BIN/skiff-dispatch" -c "$T/skiff.conf" >>"$T/dispatch.log" 2>&1 &
PIDS="$PIDS $!"
"$BIN/skiff-sse-bridge" -c "$T/skiff.conf" >>"$T/sse-bridge.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $SSE_PORT), 1)" ||
	{ echo "skiff-sse-bridge did not listen" >&2; stack_logs; exit 1; }

# ---- Apache from the shipped site files ---------------------------------------------------
# site_files DIR FILE...: the shipped files with paths and ports substituted, nothing else
site_files() {
	dir=$1
	shift
	mkdir -p "$dir"
	for f in "$@"; do
		apache_shipped "$f" "$PORT" "$SSE_PORT" >"$dir/$f"
	done
}
# apache_conf NAME MODULES...: $T/NAME/apache2.conf including $T/NAME/sites/*.conf
apache_conf() {
	name=$1
	shift
	d=$T/$name
	mkdir -p "$d"
	{
		for m in mpm_event authz_core authz_host authz_user authn_core authn_file auth_basic \
			mime dir env headers alias filter deflate proxy proxy_http "$@"; do
			echo "LoadModule ${m}_module $MODS/mod_$m.so"
		done
		cat <<CONF
Define APACHE_LOG_DIR $d
ServerName localhost
Listen 127.0.0.1:$PORT
PidFile $d/apache2.pid
DefaultRuntimeDir $d
Mutex file:$d default
ErrorLog $d/error.log
LogLevel warn
LogFormat "%v %h %u \"%r\" %>s %b %{Content-Type}o" combined
User $WWW
Group $WWW
TypesConfig /etc/mime.types
Timeout 60
<IfModule mod_fcgid.c>
	FcgidIPCDir $d/fcgid
	FcgidProcessTableFile $d/fcgid/table
</IfModule>
<Directory />
	AllowOverride None
	Require all denied
</Directory>
# Debian enables mod_deflate for text by default; here it would even compress event streams,
# which the shipped files must prevent for /events/.
AddOutputFilterByType DEFLATE text/html text/plain text/css text/javascript application/json text/event-stream
IncludeOptional $d/sites/*.conf
CONF
	} >"$d/apache2.conf"
}
# start_apache NAME: runs apache2 -X? no: the real forking server, in the foreground
start_apache() {
	d=$T/$1
	apache2 -t -f "$d/apache2.conf" >"$d/t.out" 2>&1
	check_eq "apache2 -t accepts the shipped $1 configuration" "0:Syntax OK" "$?:$(tr '\n' ' ' <"$d/t.out" | sed 's/ *$//')"
	apache2 -DFOREGROUND -f "$d/apache2.conf" >>"$d/stdout.log" 2>&1 &
	APACHE_PID=$!
	PIDS="$PIDS $APACHE_PID"
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/" ||
		{ echo "apache did not start" >&2; cat "$d/error.log" >&2; return 1; }
}
stop_apache() {
	kill "$APACHE_PID" 2>/dev/null
	wait "$APACHE_PID" 2>/dev/null
	wait_for 10 sh -c "! curl -s -o /dev/null http://127.0.0.1:$PORT/"
}

site_files "$T/systemd/sites" skiff-dashboard.conf skiff-sites.conf
apache_conf systemd proxy_fcgi xsendfile
left=$(grep -hE '/run/skiff/|/var/lib/skiff/|/var/cache/skiff|/usr/local/|/etc/skiff/|:80>' "$T"/systemd/sites/*.conf | grep -v '^[[:space:]]*#')
check_eq "only paths and ports were substituted, and all of them" "" "$left"
mkdir -p "$T/systemd/fcgid"
start_apache systemd || { stack_logs; finish; exit 1; }

# ---- the dashboard --------------------------------------------------------------------------
D="http://$DASH:$PORT"
# public_reads = false (the default): the dashboard itself needs the password
check_eq "GET / without credentials: 401" "401" "$(web -o /dev/null -w '%{http_code}' "$D/")"
r=$(web -u 'admin:s3cret pass' -D "$T/h.index" -o "$T/index.out" -w '%{http_code} %{content_type}' "$D/")
check_eq "GET / serves htdocs/index.html" "200 text/html" "$r"
check_eq "the dashboard body is htdocs/index.html" "$(sha256sum <"$ROOT/htdocs/index.html")" "$(sha256sum <"$T/index.out")"
check_eq "security header: nosniff" "nosniff" "$(header_of X-Content-Type-Options "$T/h.index")"
check_eq "security header: frames denied" "DENY" "$(header_of X-Frame-Options "$T/h.index")"
check_match "security header: a Content-Security-Policy" "^default-src 'self'" "$(header_of Content-Security-Policy "$T/h.index")"
check_eq "GET /.git/config is refused" "403" "$(web -u 'admin:s3cret pass' -o /dev/null -w '%{http_code}' "$D/.git/config")"
check_eq "GET /healthz reaches skiff-status through the socket" "200 application/json" \
	"$(web -D "$T/h.health" -o /dev/null -w '%{http_code} %{content_type}' "$D/healthz")"
check_eq "an API answer carries each security header once" "1 1" \
	"$(grep -ci '^X-Content-Type-Options:' "$T/h.health") $(grep -ci '^X-Frame-Options:' "$T/h.health")"
check_eq "GET /api/projects without credentials: 401" "401" "$(web -o /dev/null -w '%{http_code}' "$D/api/projects")"
check_eq "GET /api/projects with the password" "200" "$(web -u 'admin:s3cret pass' -o /dev/null -w '%{http_code}' "$D/api/projects")"
check_eq "GET /api/projects with the bearer token" "200" \
	"$(web -H "Authorization: Bearer $TOKEN" -o /dev/null -w '%{http_code}' "$D/api/projects")"
check_eq "GET /api/projects with a wrong bearer token: skiff's 401" "401 application/json" \
	"$(web -H "Authorization: Bearer not-$TOKEN" -o /dev/null -w '%{http_code} %{content_type}' "$D/api/projects")"
check_eq "an unknown API path is skiff's JSON 404, not Apache's" "404 application/json" \
	"$(web -u 'admin:s3cret pass' -o /dev/null -w '%{http_code} %{content_type}' "$D/api/nothing-here")"

# ---- Basic authentication on mutations ------------------------------------------------------
repo=$T/repo
mkdir -p "$repo"
cat >"$repo/skiff.json" <<'EOF'
{"buildCommand": "sh build.sh", "outputDirectory": "out"}
EOF
cat >"$repo/build.sh" <<'EOF'
#!/bin/sh
set -e
sleep 1   # the test's event-stream client connects meanwhile
for i in 1 2 3 4; do echo "tick $i"; sleep 0.7; done
mkdir -p out
cp index.html 404.html out/
echo "build done"
EOF
python3 - "$repo/index.html" <<'PY'
import sys
rows = "".join("<li>row %d: the quick brown fox jumps over the lazy dog</li>\n" % i for i in range(120))
open(sys.argv[1], "w").write("<!doctype html>\n<title>apache test</title>\n<h1>served by apache</h1>\n<ul>\n%s</ul>\n" % rows)
PY
echo '<h1>apache test: no such page</h1>' >"$repo/404.html"
(cd "$repo" && git init -q -b main && git add -A &&
	git -c user.name=t -c user.email=t@skiff.invalid commit -q -m first) || fail "git repository"
slug=apache-$$
body="{\"gitURL\":\"file://$repo\",\"slug\":\"$slug\"}"

web -D "$T/h.401" -o "$T/b.401" -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" \
	"$D/api/projects" >"$T/s.401"
check_eq "POST without credentials is refused by Apache" "401" "$(cat "$T/s.401")"
check_match "the refusal asks for Basic credentials" '^Basic realm="skiff"' "$(header_of WWW-Authenticate "$T/h.401")"
check_eq "POST with a wrong password is refused" "401" \
	"$(web -o /dev/null -w '%{http_code}' -u 'admin:wrong' -H 'Content-Type: application/json' -d "$body" "$D/api/projects")"
check_eq "DELETE without credentials is refused" "401" \
	"$(web -o /dev/null -w '%{http_code}' -X DELETE "$D/api/projects/$slug")"
web -o "$T/b.badtoken" -w '%{http_code}' -H "Authorization: Bearer not-$TOKEN" \
	-H 'Content-Type: application/json' -d "$body" "$D/api/projects" >"$T/s.badtoken"
check_eq "a wrong bearer token reaches skiff and is refused there" "401 invalid_token" \
	"$(cat "$T/s.badtoken") $(jget error.code <"$T/b.badtoken")"
check_eq "nothing was created by the refused requests" "0" "$(rcli zcard skiff:projects)"

web -o "$T/b.xorigin" -w '%{http_code}' -u 'admin:s3cret pass' \
	-H 'Content-Type: application/json' -d "$body" "$D/api/projects" >"$T/s.xorigin"
check_eq "POST with Basic credentials but no Origin: 403 cross_origin (browsers resend them)" \
	"403 cross_origin" "$(cat "$T/s.xorigin") $(jget error.code <"$T/b.xorigin")"
web -D "$T/h.create" -o "$T/b.create" -w '%{http_code}' -u 'admin:s3cret pass' -H "Origin: $D" \
	-H 'Content-Type: application/json' -d "$body" "$D/api/projects" >"$T/s.create"
check_eq "POST with Basic credentials from the dashboard's origin is accepted" "202" "$(cat "$T/s.create")"
id=$(jget data.deploymentId <"$T/b.create")
check_match "the answer names the deployment" '^[a-z2-7]{12}$' "$id"

# ---- the log through /events/, proxied by Apache, arrives live ----------------------------
# Records each SSE line with its arrival time (ms); event ids are the Redis stream ids, whose
# first part is the time (ms) the builder wrote the line.
check_eq "GET /events/{id} without credentials: 401" "401" \
	"$(web -o /dev/null -w '%{http_code}' --max-time 5 "$D/events/$id")"
check_eq "GET /events/{id} with a wrong bearer token: the bridge's 401" "401" \
	"$(web -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer not-$TOKEN" "$D/events/$id")"
python3 - "$PORT" "$DASH:$PORT" "/events/$id" "$T/sse.out" "$T/sse.headers" <<'PY' &
import base64, http.client, sys, time
port, host, path, out, hout = sys.argv[1:6]
c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
basic = base64.b64encode(b"admin:s3cret pass").decode()
c.request("GET", path, headers={"Host": host, "Accept": "text/event-stream",
                              "Authorization": "Basic " + basic,  # as a browser resends it
                              "Accept-Encoding": "gzip, deflate, br"})  # as browsers send
r = c.getresponse()
with open(hout, "w") as h:
    h.write("%d\n" % r.status)
    h.write("X-Connected-Ms: %d\n" % int(time.time() * 1000))
    for k, v in r.getheaders():
        h.write("%s: %s\n" % (k, v))
deadline = time.time() + 60
with open(out, "w") as f:
    while time.time() < deadline:
        line = r.readline()
        if not line:
            break
        f.write("%d %s\n" % (int(time.time() * 1000), line.decode("utf-8", "replace").rstrip("\r\n")))
        f.flush()
        if line.startswith(b"event: end"):
            # the data of the end event follows; read up to its blank line
            for _ in range(20):
                line = r.readline()
                f.write("%d %s\n" % (int(time.time() * 1000), line.decode("utf-8", "replace").rstrip("\r\n")))
                if not line.strip():
                    break
            break
PY
SSE_PID=$!
wait_for 60 sh -c "! kill -0 $SSE_PID" || { kill "$SSE_PID" 2>/dev/null; fail "the event stream ended within 60 s"; }
wait "$SSE_PID" 2>/dev/null
check_eq "GET /events/{id} through Apache is an event stream" "200 text/event-stream" \
	"$(head -n 1 "$T/sse.headers") $(grep -i '^content-type:' "$T/sse.headers" | sed 's/^[^:]*: *//; s/;.*//')"
check_eq "the event stream is not compressed" "" "$(grep -i '^content-encoding:' "$T/sse.headers")"
python3 - "$T/sse.out" "$T/sse.headers" >"$T/sse.verdict" <<'PY'
import json, sys
lines = [l.rstrip("\n").split(" ", 1) for l in open(sys.argv[1])]
connected = int([l.split(": ")[1] for l in open(sys.argv[2]) if l.startswith("X-Connected-Ms")][0])
ticks, end_at, cur_id, cur_event = {}, None, None, None
for t, text in lines:
    t = int(t)
    if text.startswith("id: "):
        cur_id = int(text[4:].split("-")[0])
    elif text.startswith("event: "):
        cur_event = text[7:]
        if cur_event == "end" and end_at is None:
            end_at = t
    elif text.startswith("data: ") and cur_event == "line":
        try:
            m = json.loads(text[6:]).get("m", "")
        except ValueError:
            m = text[6:]
        if m.startswith("tick "):
            ticks.setdefault(m, []).append((t, cur_id))
print("ticks=%s" % ",".join(sorted(ticks)))
print("once=%s" % all(len(v) == 1 for v in ticks.values()))
# lines the build wrote after the client was connected: their delay is the relay's
live = [t - i for v in ticks.values() for t, i in v if i >= connected]
print("live_lines=%d" % len(live))
print("max_delay_ms=%d" % (max(live) if live else -1))
first = min((v[0][0] for v in ticks.values()), default=None)
print("first_before_end_ms=%d" % (end_at - first if end_at and first else -1))
PY
v=$(cat "$T/sse.verdict")
check_match "every build line came through /events/, each once" "ticks=tick 1,tick 2,tick 3,tick 4" "$v"
check_match "no line came twice" "once=True" "$v"
check_match "at least three lines were written while the client watched" '^live_lines=[34]$' \
	"$(printf '%s\n' "$v" | grep '^live_lines=')"
delay=$(printf '%s\n' "$v" | sed -n 's/^max_delay_ms=//p')
check_eq "each line arrived within 1 s of the build writing it (max ${delay} ms)" yes \
	"$([ "$delay" -ge 0 ] && [ "$delay" -lt 1000 ] && echo yes || echo no)"
spread=$(printf '%s\n' "$v" | sed -n 's/^first_before_end_ms=//p')
check_eq "the first line arrived long before the end (${spread} ms): not buffered" yes \
	"$([ "$spread" -ge 1500 ] && echo yes || echo no)"
state=$(web -u 'admin:s3cret pass' "$D/api/deployments/$id" | jget data.state)
check_eq "the deployment is ready" "ready" "$state"

# ---- the site through the wildcard vhost, bodies sent by mod_xsendfile ----------------------
S="http://$slug.$DOMAIN:$PORT"
web -D "$T/h.site" -o "$T/b.site" -w '%{http_code}' "$S/" >"$T/s.site"
check_eq "GET / on {slug}.$DOMAIN is the site" "200" "$(cat "$T/s.site")"
check_eq "the body is the built index.html" "$(sha256sum <"$repo/index.html")" "$(sha256sum <"$T/b.site")"
check_eq "no X-Sendfile header leaks to the client" "" "$(header_of X-Sendfile "$T/h.site")"
check_eq "Content-Length is the file's size" "$(wc -c <"$repo/index.html" | tr -d ' ')" "$(header_of Content-Length "$T/h.site")"
check_eq "the site gets nosniff, once" "nosniff 1" \
	"$(header_of X-Content-Type-Options "$T/h.site") $(grep -ci '^X-Content-Type-Options:' "$T/h.site")"
check_eq "the site does not get the dashboard's CSP" "" "$(header_of Content-Security-Policy "$T/h.site")"
etag=$(header_of ETag "$T/h.site")
check_match "a strong ETag from the content hash" '^"[0-9a-f]+' "$etag"
# skiff-serve itself (as plain CGI) hands the body to the web server: X-Sendfile, no body
env REQUEST_METHOD=GET REQUEST_URI=/ HTTP_HOST="$slug.$DOMAIN:$PORT" GATEWAY_INTERFACE=CGI/1.1 \
	"$BIN/skiff-serve" -c "$T/skiff.conf" >"$T/cgi.site" 2>>"$T/skiff-serve.log"
blob=$(header_of X-Sendfile "$T/cgi.site")
check_match "skiff-serve answers with X-Sendfile into the blob store" "^$T/store/blobs/[0-9a-f]{2}/[0-9a-f]{64}\$" "$blob"
check_eq "skiff-serve writes no body of its own" "" "$(sed '1,/^\r*$/d' "$T/cgi.site")"
if [ -f "$blob" ]; then
	# Apache sends whatever file X-Sendfile names: change the blob, the answer changes.
	cp "$blob" "$T/blob.orig"
	chmod u+w "$blob" 2>/dev/null
	printf '<!-- read by apache -->\n' >>"$blob"
	check_match "Apache reads the body from the file X-Sendfile names" 'read by apache' \
		"$(web -H 'Cache-Control: no-cache' "$S/" | tail -n 1)"
	cat "$T/blob.orig" >"$blob"
fi
check_eq "If-None-Match with the ETag: 304" "304" \
	"$(web -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$S/")"
# mod_xsendfile would compare a date with the blob file's mtime; skiff's rule is the exact date
web -o "$T/b.ims" -w '%{http_code}' -H 'If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT' "$S/" >"$T/s.ims"
check_eq "If-Modified-Since after the blob's mtime: 200 with the file" \
	"200 $(sha256sum <"$repo/index.html")" "$(cat "$T/s.ims") $(sha256sum <"$T/b.ims")"
web -D "$T/h.head" -o /dev/null -w '%{http_code} %{size_download}' -I "$S/" >"$T/s.head"
check_eq "HEAD: 200, the length, no body" "200 0 $(wc -c <"$repo/index.html" | tr -d ' ')" \
	"$(cat "$T/s.head") $(header_of Content-Length "$T/h.head")"
web -D "$T/h.range" -o "$T/b.range" -w '%{http_code}' -H 'Range: bytes=0-14' "$S/" >"$T/s.range"
check_eq "Range: 206 with exactly the bytes asked for" "206 <!doctype html>" "$(cat "$T/s.range") $(cat "$T/b.range")"
web -D "$T/h.gz" -o "$T/b.gz" -w '%{http_code}' -H 'Accept-Encoding: gzip' "$S/" >"$T/s.gz"
check_eq "Accept-Encoding: gzip gets the precompressed variant, labelled" "200 gzip" \
	"$(cat "$T/s.gz") $(header_of Content-Encoding "$T/h.gz")"
check_eq "the gzip variant unpacks to index.html" "$(sha256sum <"$repo/index.html")" \
	"$(gzip -dc <"$T/b.gz" 2>/dev/null | sha256sum)"
web -D "$T/h.404" -o "$T/b.404" -w '%{http_code}' "$S/no/such/page" >"$T/s.404"
check_eq "an unknown path: 404 with the site's 404.html" "404 $(cat "$repo/404.html")" \
	"$(cat "$T/s.404") $(cat "$T/b.404")"
check_eq "the 404 leaks no X-Sendfile header" "" "$(header_of X-Sendfile "$T/h.404")"
check_eq "the immutable URL {slug}--{id} serves the same page" "$(sha256sum <"$repo/index.html")" \
	"$(web "http://$slug--$id.$DOMAIN:$PORT/" | sha256sum)"
check_eq "a host with no project: 404" "404" \
	"$(web -o /dev/null -w '%{http_code}' "http://nobody-here.$DOMAIN:$PORT/")"

# ---- a bearer token passes Apache and skiff accepts it ------------------------------------
r=$(web -o "$T/b.redeploy" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' -d '{}' "$D/api/projects/$slug/deployments")
check_eq "a redeploy with the bearer token is accepted (no password)" "202" "$r"

# ---- webhooks go to skiff-hook, without Basic authentication -----------------------------
r=$(web -o "$T/b.hook" -w '%{http_code} %{content_type}' -H 'Content-Type: application/json' \
	-H 'X-GitHub-Event: push' -d '{}' "$D/api/hooks/github")
check_match "an unsigned webhook is skiff-hook's JSON refusal, not a password prompt" \
	'^4[0-9][0-9] application/json' "$r"

# ---- the form post from the dashboard ------------------------------------------------------
r=$(web -o /dev/null -w '%{http_code} %{redirect_url}' -u 'admin:s3cret pass' -H "Origin: $D" \
	-H 'Accept: text/html' --data-urlencode "gitURL=file://$repo" --data-urlencode "slug=$slug-form" "$D/api/projects")
check_match "a form post with credentials gets 303 to its deployment page" "^303 .*/deployments/[a-z2-7]{12}" "$r"
stop_apache

# ---- the same files with mod_fcgid spawning the programs ---------------------------------
site_files "$T/fcgid/sites" skiff-fcgid.conf
apache_conf fcgid fcgid xsendfile
mkdir -p "$T/fcgid/fcgid" && chown "$WWW" "$T/fcgid/fcgid"
left=$(grep -hE '/run/skiff/|/var/lib/skiff/|/var/cache/skiff|/usr/local/|/etc/skiff/|:80>' "$T"/fcgid/sites/*.conf | grep -v '^[[:space:]]*#')
check_eq "fcgid: only paths and ports were substituted, and all of them" "" "$left"
if start_apache fcgid; then
	check_eq "fcgid: GET /healthz is answered by a skiff-status spawned by Apache" "200 application/json" \
		"$(web -o /dev/null -w '%{http_code} %{content_type}' "$D/healthz")"
	check_eq "fcgid: the site is served, body by mod_xsendfile" "$(sha256sum <"$repo/index.html")" \
		"$(web "$S/" | sha256sum)"
	check_eq "fcgid: POST without credentials: 401" "401" \
		"$(web -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{}' "$D/api/projects/$slug/deployments")"
	check_eq "fcgid: POST with credentials reaches skiff-create" "202" \
		"$(web -o /dev/null -w '%{http_code}' -u 'admin:s3cret pass' -H "Origin: $D" -H 'Content-Type: application/json' -d '{}' "$D/api/projects/$slug/deployments")"
	check_eq "fcgid: the programs run as $WWW" "$WWW" \
		"$(ps -o user= -C skiff-status | sort -u | grep -x "$WWW" || echo none)"
	stop_apache
fi
[ "$TESTS_FAILED" -eq 0 ] || { stack_logs; for f in "$T"/systemd/error.log "$T"/fcgid/error.log; do [ -s "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done; } >&2
finish
