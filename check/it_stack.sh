#!/bin/sh
# it_stack.sh — the whole stack through lighttpd, configured as `make run` configures it
# (scripts/genconf.sh): the dashboard's static files and headers, host routing, a deployment
# through the JSON API with its log streamed live through /events/, the site on its own
# subdomain with X-Sendfile, skiff-serve's own pages for every other host, the form posts'
# 303 (/api/projects and /project), the read API, the server-rendered page.
. "$(dirname "$0")/lib.sh"

# jget PATH: a value from the JSON on stdin ("data.deploymentId"); empty when absent.
jget() {
	python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" 2>/dev/null
}
# req ARGS...: curl to the stack; prints the body, then the status on a last line of its own
req() { curl -sS -w '\n%{http_code}' "$@"; }
body_of() { printf '%s\n' "$1" | sed '$d'; }
status_of() { printf '%s\n' "$1" | tail -n 1; }

start_stack || { TESTS_RUN=$((TESTS_RUN + 1)); fail "the stack starts and answers /healthz"; finish; exit 1; }
ok "the stack starts and answers /healthz"
U="http://127.0.0.1:$STACK_PORT"
H="Host: localhost:$STACK_PORT"

# ---- configuration ----------------------------------------------------------------------
check_match "skiff.conf points at this stack" "sse_listen = 127.0.0.1:$SSE_PORT" "$(cat "$T/skiff.conf")"
lighttpd $(lighttpd_m "$T/lighttpd.conf") -tt -f "$T/lighttpd.conf" >"$T/tt.out" 2>&1
check_eq "lighttpd -tt accepts the generated configuration without a warning" "0:" "$?:$(cat "$T/tt.out")"
for s in create status; do
	check_eq "skiff-$s listens on a unix socket in the state directory" yes \
		"$(ls "$T"/fcgi-$s.sock* >/dev/null 2>&1 && echo yes || echo no)"
done

# ---- the dashboard ------------------------------------------------------------------------
r=$(curl -sS -D "$T/h.index" -o "$T/index.html" -w '%{http_code} %{content_type}' -H "$H" "$U/")
check_eq "GET / serves the dashboard" "200 text/html; charset=utf-8" "$r"
check_match "the dashboard has the deploy form posting to /api/projects" \
	'<form id="deploy-form"[^>]*method="post" action="/api/projects"' "$(cat "$T/index.html")"
check_match "the dashboard links to the projects page without JavaScript" 'href="/projects"' "$(cat "$T/index.html")"
check_match "the dashboard sends a Content-Security-Policy" "^Content-Security-Policy: default-src 'self'" \
	"$(grep -i '^content-security-policy' "$T/h.index" | tr -d '\r')"
check_eq "app.js is JavaScript" "200 text/javascript; charset=utf-8" \
	"$(curl -sS -o /dev/null -w '%{http_code} %{content_type}' -H "$H" "$U/app.js")"
check_eq "style.css is CSS" "200 text/css; charset=utf-8" \
	"$(curl -sS -o /dev/null -w '%{http_code} %{content_type}' -H "$H" "$U/style.css")"
check_eq "127.0.0.1 is the dashboard too" "200" "$(curl -sS -o /dev/null -w '%{http_code}' "$U/")"
# Every host but the dashboard's reaches skiff-serve, which answers its own page: 404 for a
# host that names no site (another domain, a nested name, an unknown slug in capitals, the
# wrong port), 400 for a malformed one; never lighttpd's bare error.
for bad in example.com "a.b.localhost:$STACK_PORT" "UPPER.localhost:$STACK_PORT" "nosuch.localhost:1"; do
	r=$(curl -sS -w '\n%{http_code} %{content_type}' -H "Host: $bad" "$U/")
	check_eq "host $bad gets skiff's 404 page" "404 text/html; charset=utf-8" "$(status_of "$r")"
	check_match "host $bad: the page is skiff's own" \
		'<h1>404 Not Found</h1> <p>There is nothing at this address.</p> <hr><p><small>skiff</small>' \
		"$(body_of "$r" | tr '\n' ' ')"
done
r=$(curl -sS -w '\n%{http_code}' -H "Host: [::1]:$STACK_PORT" "$U/")
check_eq "a host that is an IP literal gets skiff's 400 page" "400" "$(status_of "$r")"
check_match "…with skiff's own body" '<h1>400 Bad Request</h1> <hr><p><small>skiff</small>' \
	"$(body_of "$r" | tr '\n' ' ')"
check_eq "a host with '..' is refused (by lighttpd already)" "400" \
	"$(curl -sS -o /dev/null -w '%{http_code}' -H "Host: a..b.localhost:$STACK_PORT" "$U/")"
r=$(req -H "$H" "$U/healthz")
check_eq "GET /healthz through lighttpd" "200" "$(status_of "$r")"

# ---- a deployment through the JSON API, its log live through /events/ ---------------------
repo=$T/repo-site
mkdir -p "$repo/src/docs"
cat >"$repo/skiff.json" <<'EOF'
{"buildCommand": "sh build.sh", "outputDirectory": "dist"}
EOF
cat >"$repo/build.sh" <<'EOF'
#!/bin/sh
set -e
for i in 1 2 3 4 5 6; do echo "step $i"; sleep 0.5; done
echo "a warning on stderr" >&2
mkdir -p dist/docs
cp src/index.html dist/index.html
cp src/docs/index.html dist/docs/index.html
echo "build done"
EOF
echo '<h1>stack test home</h1>' >"$repo/src/index.html"
echo '<h1>stack test docs</h1>' >"$repo/src/docs/index.html"
(cd "$repo" && git init -q -b main && git add -A &&
	git -c user.name=t -c user.email=t@skiff.invalid commit -q -m "first") || { TESTS_RUN=$((TESTS_RUN + 1)); fail "git repository"; }
slug=stack-$(date +%s)

r=$(req -H "$H" -H 'Content-Type: application/json' -H "Origin: http://localhost:$STACK_PORT" \
	-d "{\"gitURL\":\"file://$repo\",\"slug\":\"$slug\"}" "$U/api/projects")
check_eq "POST /api/projects through lighttpd is accepted" "202" "$(status_of "$r")"
id=$(body_of "$r" | jget data.deploymentId)
check_match "the answer names the deployment" '^[a-z2-7]{12}$' "$id"
check_match "the answer points at the event stream, absolute" "^https?://[^/]+/events/$id\$" "$(body_of "$r" | jget data.eventsUrl)"

if [ -n "$id" ]; then
	(curl -sS -N --max-time 120 -H "$H" "$U/events/$id" >"$T/events.txt" 2>"$T/events.err"
		echo "$?" >"$T/events.rc") &
	PIDS="$PIDS $!"
	# A line arrives through lighttpd while the build still runs: the proxy does not buffer.
	if wait_for 30 grep -q 'step 1' "$T/events.txt"; then
		st=$(curl -sS -H "$H" "$U/api/deployments/$id" | jget data.state)
		check_eq "a log line reaches an /events/ client while the build runs" "building" "$st"
	else
		TESTS_RUN=$((TESTS_RUN + 1)); fail "no log line arrived through /events/ within 30 s"
	fi
	wait_for 60 grep -q '^event: end' "$T/events.txt"
	check_match "the event stream ends with an end event" '^event: end' "$(grep '^event: end' "$T/events.txt")"
	wait_for 10 test -s "$T/events.rc"
	check_eq "the bridge closes the stream after end (curl exits 0)" "0" "$(cat "$T/events.rc" 2>/dev/null)"
	ev=$(cat "$T/events.txt")
	check_match "events carry ids" '^id: [0-9]+-[0-9]+' "$ev"
	check_match "a stderr line is marked as stderr" '"s": ?"stderr"' "$(grep 'a warning on stderr' "$T/events.txt")"
	check_eq "every build line arrives exactly once" "6" "$(grep -c '"step [1-6]"' "$T/events.txt")"

	wait_for 30 sh -c "curl -sS -H '$H' '$U/api/deployments/$id' | grep -q '\"state\": *\"ready\"'"
	st=$(curl -sS -H "$H" "$U/api/deployments/$id" | jget data.state)
	check_eq "the deployment is ready" "ready" "$st"

	# ---- the site on its subdomain, body through X-Sendfile ------------------------------
	r=$(curl -sS -D "$T/h.site" -H "Host: $slug.localhost:$STACK_PORT" "$U/")
	check_eq "the site answers on {slug}.localhost" "<h1>stack test home</h1>" "$r"
	check_match "the site answers with an ETag" '^ETag: "' "$(grep -i '^etag' "$T/h.site" | tr -d '\r')"
	check_nomatch "X-Sendfile is consumed by lighttpd, never shown to the client" '^x-sendfile' \
		"$(tr -d '\r' <"$T/h.site" | tr '[:upper:]' '[:lower:]')"
	check_nomatch "the site does not get the dashboard's CSP" '^content-security-policy' \
		"$(tr -d '\r' <"$T/h.site" | tr '[:upper:]' '[:lower:]')"
	# The same request as plain CGI shows what lighttpd received: a path in the blob store
	# (the only directory x-sendfile-docroot allows) and no body of its own.
	r=$(env -i PATH="$PATH" SKIFF_CONFIG="$T/skiff.conf" REQUEST_METHOD=GET REQUEST_URI=/ \
		HTTP_HOST="$slug.localhost:$STACK_PORT" GATEWAY_INTERFACE=CGI/1.1 "$BIN/skiff-serve" </dev/null 2>/dev/null)
	check_match "skiff-serve hands the body to lighttpd by X-Sendfile from the blob store" \
		"^X-Sendfile: $T/store/blobs/[0-9a-f]{2}/[0-9a-f]{64}" "$(printf '%s' "$r" | tr -d '\r' | grep -i '^x-sendfile')"
	check_nomatch "…and writes no body itself" 'stack test home' "$r"
	etag=$(grep -i '^etag' "$T/h.site" | sed 's/^[^:]*: *//' | tr -d '\r')
	check_eq "If-None-Match answers 304" "304" "$(curl -sS -o /dev/null -w '%{http_code}' \
		-H "Host: $slug.localhost:$STACK_PORT" -H "If-None-Match: $etag" "$U/")"
	check_eq "nested directories serve their index.html" "<h1>stack test docs</h1>" \
		"$(curl -sS -H "Host: $slug.localhost:$STACK_PORT" "$U/docs/")"
	check_eq "the immutable URL {slug}--{id}.localhost serves this deployment" "<h1>stack test home</h1>" \
		"$(curl -sS -H "Host: $slug--$id.localhost:$STACK_PORT" "$U/")"
	check_eq "an unknown path on the site is 404" "404" "$(curl -sS -o /dev/null -w '%{http_code}' \
		-H "Host: $slug.localhost:$STACK_PORT" "$U/no/such/page.html")"

	# ---- the pages a browser sees ----------------------------------------------------------
	r=$(curl -sS -w '\n%{http_code} %{content_type}' -H "$H" -H 'Accept: text/html' "$U/deployments/$id")
	check_eq "GET /deployments/{id} renders HTML for browsers" "200 text/html; charset=utf-8" "$(status_of "$r")"
	page=$(body_of "$r")
	check_match "the page carries the data app.js needs" "<main id=\"deployment\"[^>]*data-deployment-id=\"$id\"" "$page"
	check_match "the page shows the log with stderr marked" '<span class="line stderr">a warning on stderr' "$page"
	check_match "the ready page links to the site" "id=\"site-link\" href=\"http://$slug--$id.localhost:$STACK_PORT/\"" "$page"
	check_nomatch "a finished page does not refresh itself" 'http-equiv="refresh"' "$page"
	r=$(curl -sS -w '\n%{http_code}' -H "$H" "$U/api/deployments/$id/log")
	check_match "the raw log has the build's lines" 'build done' "$(body_of "$r")"
fi

# ---- a form post, the way the browser sends it --------------------------------------------
r=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "$H" -H "Origin: http://localhost:$STACK_PORT" \
	--data-urlencode "gitURL=file://$repo" --data-urlencode "slug=$slug-form" "$U/api/projects")
check_match "a form post answers 303 to the deployment page" "^303 http://[^/]+/deployments/[a-z2-7]{12}$" "$r"
r=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "$H" -H "Origin: http://evil.example" \
	--data-urlencode "gitURL=file://$repo" "$U/api/projects")
check_match "a cross-origin form post is refused" "^(403|303 http://[^/]+/\?error=cross_origin)" "$r"

# ---- the seed-compatible form endpoint POST /project ----------------------------------------
r=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "$H" -H "Origin: http://localhost:$STACK_PORT" \
	--data-urlencode "gitURL=file://$repo" --data-urlencode "slug=$slug-seed" "$U/project")
check_match "a form post to /project answers 303 to the deployment page" \
	"^303 http://[^/]+/deployments/[a-z2-7]{12}$" "$r"
seed_id=${r##*/}
r=$(curl -sS -w '\n%{http_code} %{content_type}' -H "$H" -H 'Accept: text/html' "$U/deployments/$seed_id")
check_eq "the 303's target is the deployment's page" "200 text/html; charset=utf-8" "$(status_of "$r")"
check_match "…of that deployment" "data-deployment-id=\"$seed_id\"" "$(body_of "$r")"

# ---- the read API through lighttpd --------------------------------------------------------
# jpy EXPR: a Python expression over the JSON on stdin (as j)
jpy() { python3 -c "import json, sys; j = json.load(sys.stdin); print($1)" 2>/dev/null; }
r=$(curl -sS -w '\n%{http_code} %{content_type}' -H "$H" "$U/api/projects")
check_eq "GET /api/projects through lighttpd" "200 application/json" "$(status_of "$r" | sed 's/;.*//')"
check_eq "it lists the projects created through lighttpd" "yes yes yes" \
	"$(body_of "$r" | jpy "' '.join('yes' if s in [p['slug'] for p in j['data']] else 'no' \
		for s in ['$slug', '$slug-form', '$slug-seed'])")"
check_eq "the listed project names its live deployment" "$id" \
	"$(body_of "$r" | jpy "[p['current'] for p in j['data'] if p['slug'] == '$slug'][0]")"
r=$(curl -sS -w '\n%{http_code} %{content_type}' -H "$H" "$U/api/projects/$slug/deployments")
check_eq "GET /api/projects/{slug}/deployments through lighttpd" "200 application/json" \
	"$(status_of "$r" | sed 's/;.*//')"
check_eq "it lists the deployment, ready, on its only page" "1 $id ready None" \
	"$(body_of "$r" | jpy "len(j['data']), j['data'][0]['id'], j['data'][0]['state'], j['nextCursor']" |
		tr -d "(),'")"
r=$(curl -sS -w '\n%{http_code}' -H "$H" "$U/api/projects/$slug-seed/deployments")
check_eq "the form post's deployment is the seed project's, triggered by a form" "$seed_id form" \
	"$(body_of "$r" | jpy "j['data'][0]['id'] + ' ' + j['data'][0]['trigger']")"
r=$(curl -sS -w '\n%{http_code}' -H "$H" "$U/api/projects/no-such-project/deployments")
check_eq "deployments of an unknown project: 404 not_found" "404 not_found" \
	"$(status_of "$r") $(body_of "$r" | jpy "j['error']['code']")"

# ---- the event stream's own errors pass through the proxy ---------------------------------
check_eq "/events/ of an unknown deployment is 404" "404" \
	"$(curl -sS -o /dev/null -w '%{http_code}' -H "$H" "$U/events/aaaaaaaaaaaa")"
check_eq "/events/ of an invalid id is 400" "400" \
	"$(curl -sS -o /dev/null -w '%{http_code}' -H "$H" "$U/events/NOT-AN-ID")"

[ "$TESTS_FAILED" -eq 0 ] || stack_logs
finish
