#!/bin/sh
# it_build.sh — builds end to end with a real Redis and real git repositories: skiff-create
# queues, skiff-dispatch --once runs skiff-build; asserts the state in Redis, the log stream,
# the manifest and blobs in the store, symlinks not followed, a failed build leaving the
# previous deployment live, timeouts, lost builds, and an unchanged redeploy uploading nothing.
# The built sites are fetched through skiff-serve (as CGI), among them one whose _redirects,
# _headers and skiff.json rules the builder puts into the manifest.
. "$(dirname "$0")/lib.sh"

start_redis
write_config

# jget PATH: a value from the JSON on stdin ("data.deploymentId", "files./index.html.hash")
jget() {
	python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("|"):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list, bool)) else v))' "$1" 2>/dev/null
}
body() { sed '1,/^\r*$/d'; }
commit() { # DIR MESSAGE
	git -C "$1" add -A && git -C "$1" -c user.email=t@example.com -c user.name=t commit -qm "$2"
}
new_repo() { mkdir -p "$1" && git -C "$1" init -q -b main; }
# create URL [EXTRA_JSON]: creates a project; prints its first deployment id
create() {
	cgi skiff-create POST /api/projects "{\"gitURL\":\"$1\"${2:+,$2}}" 2>/dev/null | body |
		jget "data|deploymentId"
}
redeploy() { # SLUG
	cgi skiff-create POST "/api/projects/$1/deployments" '{}' 2>/dev/null | body | jget "data|deploymentId"
}
dispatch() { "$BIN/skiff-dispatch" --once >>"$T/dispatch.log" 2>&1; }
field() { rcli hget "skiff:deployment:$1" "$2"; }
manifest() { cat "$T/store/manifests/$1.json"; }
blob() { echo "$T/store/blobs/$(echo "$1" | cut -c1-2)/$1"; }
# stream entries of a deployment's log as "k s m" lines
stream() {
	rcli --raw xrange "skiff:log:$1" - + | awk '
		/^[0-9]+-[0-9]+$/ { if (n) print k " " s " " m; n = 1; k = s = m = ""; next }
		f == "k" { k = $0 } f == "s" { s = $0 } f == "m" { m = $0 }
		{ f = $0 }
		END { if (n) print k " " s " " m }'
}
nblobs() { find "$T/store/blobs" -type f | wc -l; }
# fetch HOST PATH [NAME=value...]: GET PATH from skiff-serve as plain CGI with Host HOST (the
# request lighttpd would hand it); the response lands in $T/resp.head and $T/resp.body
# (without X-Sendfile skiff-serve streams the body itself). Prints the status.
fetch() {
	h=$1 p=$2
	shift 2
	env SKIFF_XSENDFILE=false REQUEST_METHOD=GET REQUEST_URI="$p" HTTP_HOST="$h" \
		GATEWAY_INTERFACE=CGI/1.1 "$@" \
		"$BIN/skiff-serve" </dev/null 2>>"$T/serve.log" >"$T/resp"
	sed '/^\r*$/q' "$T/resp" | tr -d '\r' >"$T/resp.head"
	sed '1,/^\r*$/d' "$T/resp" >"$T/resp.body"
	sed -n 's/^Status: \([0-9]*\).*/\1/p' "$T/resp.head"
}
# header NAME: that header of the last fetch
header() { grep -i "^$1:" "$T/resp.head" | head -n 1 | sed 's/^[^:]*: *//'; }

# ---- a static site with nested directories ----------------------------------------------
site=$T/site
new_repo "$site"
mkdir -p "$site/about/team" "$site/assets/css"
echo '<h1>home</h1>' >"$site/index.html"
echo '<h1>about</h1>' >"$site/about/index.html"
echo '<p>the team</p>' >"$site/about/team/index.html"
i=0
while [ $i -lt 200 ]; do echo "body .c$i { color: #$i; margin: ${i}px; }"; i=$((i + 1)); done >"$site/assets/css/site.css"
head -c 3000 /dev/urandom >"$site/assets/noise.bin"
commit "$site" "first version of the site"

id1=$(create "file://$site" '"slug":"site"')
check_match "skiff-create queues the static site" '^[a-z2-7]{12}$' "$id1"
check_eq "the deployment is queued before dispatch" "queued" "$(field "$id1" state)"
dispatch
check_eq "the static site is ready" "ready" "$(field "$id1" state)"
check_eq "the project's current deployment is the new one" "$id1" "$(rcli hget skiff:project:site current)"
check_eq "the deployment records the commit" "$(git -C "$site" rev-parse HEAD)" "$(field "$id1" commit)"
check_eq "the deployment records the commit message" "first version of the site" "$(field "$id1" commit_message)"
check_eq "five files deployed" "5" "$(field "$id1" files)"
check_match "started and finished are recorded" '^[0-9]{13} [0-9]{13}$' "$(field "$id1" started) $(field "$id1" finished)"
check_eq "the build's lease is gone" "0" "$(rcli exists "skiff:lease:$id1")"
check_eq "the active list is empty" "0" "$(rcli llen skiff:queue:active)"
check_eq "the work directory was removed" "" "$(ls "$T/work")"

states=$(stream "$id1" | grep -E '^(state|end) ' | tr '\n' ',')
check_eq "the log records the state changes in order" \
	"state system queued,state system building clone,state system building upload,state system ready,end system ready," "$states"
check_match "the log has system lines from the build" "^line system Cloning file://" "$(stream "$id1")"
check_match "the log ends with a summary line" "line system Deployed 5 files" "$(stream "$id1")"

m=$(manifest "$id1")
check_eq "the manifest names its deployment" "$id1" "$(echo "$m" | jget deployment)"
for f in index.html about/index.html about/team/index.html assets/css/site.css assets/noise.bin; do
	h=$(echo "$m" | jget "files|/$f|hash")
	check_eq "manifest hash of /$f is its SHA-256" "$(sha256sum <"$site/$f" | cut -d' ' -f1)" "$h"
	check_eq "blob of /$f holds the file's bytes" "same" "$(cmp -s "$(blob "$h")" "$site/$f" && echo same)"
done
check_eq "manifest size of /index.html" "14" "$(echo "$m" | jget "files|/index.html|size")"
check_eq "manifest type of /index.html" "text/html; charset=utf-8" "$(echo "$m" | jget "files|/index.html|type")"
check_eq "no .git in the manifest" "" "$(echo "$m" | grep -o '"/\.git[^"]*"')"
gz=$(echo "$m" | jget "files|/assets/css/site.css|gzip|hash")
br=$(echo "$m" | jget "files|/assets/css/site.css|br|hash")
check_eq "the gzip variant of site.css decompresses to it" "same" \
	"$(gzip -dc <"$(blob "$gz")" | cmp -s - "$site/assets/css/site.css" && echo same)"
check_match "the brotli variant of site.css is stored and smaller" '^[0-9]+$' \
	"$(test "$(stat -c %s "$(blob "$br")")" -lt "$(stat -c %s "$site/assets/css/site.css")" && stat -c %s "$(blob "$br")")"
check_eq "binary files get no variants" "" "$(echo "$m" | jget "files|/assets/noise.bin|gzip")"
check_eq "small files get no variants" "" "$(echo "$m" | jget "files|/index.html|gzip")"
check_match "the log is archived in the store" "==> ready" "$(cat "$T/store/logs/$id1.log")"
check_eq "no temp files left in the store" "" "$(ls "$T/store/tmp")"
check_eq "skiff-serve answers the site at site.localhost" "200 <h1>home</h1>" \
	"$(fetch site.localhost /) $(cat "$T/resp.body")"
check_eq "…and its nested directories" "200 <p>the team</p>" \
	"$(fetch site.localhost /about/team/) $(cat "$T/resp.body")"

# ---- an unchanged redeploy uploads nothing ------------------------------------------------
before=$(nblobs)
id2=$(redeploy site)
dispatch
check_eq "the redeploy is ready" "ready" "$(field "$id2" state)"
check_eq "the unchanged redeploy uploaded 0 bytes" "0" "$(field "$id2" bytes_uploaded)"
check_eq "the unchanged redeploy stored no new blob" "$before" "$(nblobs)"
check_eq "the redeploy is current" "$id2" "$(rcli hget skiff:project:site current)"
check_match "the first deployment uploaded its bytes" '^[1-9][0-9]*$' "$(field "$id1" bytes_uploaded)"

# ---- a Node project whose build script writes dist/ (under bubblewrap) ---------------------
node=$T/nodeapp
new_repo "$node"
cat >"$node/package.json" <<'EOF'
{ "name": "nodeapp", "version": "1.0.0", "private": true, "scripts": { "build": "node build.js" } }
EOF
cat >"$node/build.js" <<'EOF'
const fs = require("fs");
console.log("node build says hello");
console.error("a warning on stderr");
fs.mkdirSync("dist/js", { recursive: true });
fs.writeFileSync("dist/index.html", "<p>built " + 6 * 7 + "</p>\n");
fs.writeFileSync("dist/js/app.js", "console.log(" + JSON.stringify(process.env.SKIFF) + ");\n");
fs.writeFileSync("dist/env.txt", Object.keys(process.env).sort().join("\n") + "\n");
fs.writeFileSync("dist/host.txt", require("os").hostname() + "\n");
EOF
commit "$node" "node app"
idn=$(create "file://$node")
SKIFF_SANDBOX=bwrap dispatch
check_eq "the Node project is ready" "ready" "$(field "$idn" state)"
m=$(manifest "$idn")
h=$(echo "$m" | jget "files|/index.html|hash")
check_eq "dist/index.html was built by node" "<p>built 42</p>" "$(cat "$(blob "$h")")"
check_eq "only dist/ is deployed" "" "$(echo "$m" | jget "files|/build.js")"
s=$(stream "$idn")
check_match "npm install ran (no lockfile)" "line system Install command \\(detected\\): npm install" "$s"
check_match "the build's stdout is in the log" "^line stdout node build says hello" "$s"
check_match "the build's stderr is in the log" "^line stderr a warning on stderr" "$s"
check_match "install and build phases are recorded" "state system building install.*state system building build" \
	"$(echo "$s" | tr '\n' ' ')"
envtxt=$(cat "$(blob "$(echo "$m" | jget "files|/env.txt|hash")")")
check_eq "the build sees only the SKIFF_ variables that describe it, none of skiff's settings" \
	"SKIFF_BRANCH SKIFF_COMMIT SKIFF_CONTEXT SKIFF_DEPLOYMENT_ID SKIFF_DEPLOYMENT_URL SKIFF_URL" \
	"$(echo "$envtxt" | grep '^SKIFF_' | sort | tr '\n' ' ' | sed 's/ $//')"
check_nomatch "the build sees no Redis or AWS settings" "REDIS|AWS" "$envtxt"
check_match "the build sees CI" "^CI$" "$envtxt"
check_match "the build sees SKIFF" "^SKIFF$" "$envtxt"
check_eq "the build ran inside bubblewrap" "skiff-build" \
	"$(cat "$(blob "$(echo "$m" | jget "files|/host.txt|hash")")")"
check_eq "skiff-serve answers the Node project's built page" "200 <p>built 42</p>" \
	"$(fetch nodeapp.localhost /) $(cat "$T/resp.body")"
check_eq "…and its built script, as JavaScript" "200 text/javascript; charset=utf-8" \
	"$(fetch nodeapp.localhost /js/app.js) $(header Content-Type)"
check_eq "…with the bytes node wrote" "same" \
	"$(cmp -s "$T/resp.body" "$(blob "$(echo "$m" | jget "files|/js/app.js|hash")")" && echo same)"
check_eq "the Node project's sources are not served" "404" "$(fetch nodeapp.localhost /build.js)"

# ---- symlinks to /etc/passwd and ../ are not collected -------------------------------------
links=$T/links
new_repo "$links"
mkdir -p "$links/public/docs"
echo '<p>links</p>' >"$links/public/index.html"
echo 'doc' >"$links/public/docs/page.html"
echo '<p>links: not found</p>' >"$links/public/404.html"
ln -s /etc/passwd "$links/public/passwd"
ln -s ../ "$links/public/up"
ln -s ../../README "$links/public/docs/readme"
ln -s docs/page.html "$links/public/alias.html"
echo 'outside the output' >"$links/README"
commit "$links" "symlinks"
idl=$(create "file://$links")
dispatch
check_eq "the site with symlinks is ready" "ready" "$(field "$idl" state)"
m=$(manifest "$idl")
check_eq "the symlink to /etc/passwd is not collected" "" "$(echo "$m" | jget "files|/passwd")"
check_eq "nothing under the symlink to ../ is collected" "" "$(echo "$m" | grep -o '"/up[^"]*"')"
check_eq "the symlink to ../../README is not collected" "" "$(echo "$m" | jget "files|/docs/readme")"
check_eq "a symlink inside the output serves its target" \
	"$(echo "$m" | jget "files|/docs/page.html|hash")" "$(echo "$m" | jget "files|/alias.html|hash")"
check_eq "no blob holds /etc/passwd" "no" \
	"$(test -e "$(blob "$(sha256sum </etc/passwd | cut -d' ' -f1)")" && echo yes || echo no)"
s=$(stream "$idl")
check_match "the log says why passwd was skipped" "skipped symlink passwd: points outside the output directory" "$s"
check_match "the log says why up was skipped" "skipped symlink up: points outside the output directory" "$s"
check_match "the log says why docs/readme was skipped" "skipped symlink docs/readme: points outside" "$s"
check_eq "skiff-serve answers the site with symlinks" "200 <p>links</p>" \
	"$(fetch links.localhost /) $(cat "$T/resp.body")"
check_eq "…a symlink inside the output serves its target's bytes" "200 doc" \
	"$(fetch links.localhost /alias.html) $(cat "$T/resp.body")"
for p in /passwd /up/ /up/README /docs/readme; do
	st=$(fetch links.localhost "$p")
	check_eq "$p through a skipped symlink is the site's 404 page" "404 <p>links: not found</p>" \
		"$st $(cat "$T/resp.body")"
done

# ---- routing rules: _redirects, _headers and skiff.json, built and served -------------------
rules=$T/rules
new_repo "$rules"
mkdir -p "$rules/public/blog"
echo '<p>rules home</p>' >"$rules/public/index.html"
echo '<p>rules about</p>' >"$rules/public/about.html"
echo '<p>rules blog</p>' >"$rules/public/blog/index.html"
echo 'the license' >"$rules/public/LICENSE"
echo '<p>rules: not found</p>' >"$rules/public/404.html"
cat >"$rules/public/_redirects" <<'EOF'
# line 1: a comment
/old            /about/                      301
/go/*           https://example.com/:splat   302
/bad-line       /about/                      999
/app/*          /index.html                  200
EOF
cat >"$rules/public/_headers" <<'EOF'
/*
  X-Frame-Options: DENY
/blog/*
  X-Custom: from _headers
EOF
cat >"$rules/skiff.json" <<'EOF'
{ "outputDirectory": "public", "cleanUrls": true, "trailingSlash": true,
  "redirects": [ { "from": "/from-json", "to": "/blog/", "status": 307 } ],
  "headers": [ { "for": "/blog/*", "values": { "X-From-Json": "yes" } } ] }
EOF
commit "$rules" "routing rules"
idu=$(create "file://$rules" '"slug":"rules"')
dispatch
check_eq "a site with a bad _redirects line builds" "ready" "$(field "$idu" state)"
s=$(stream "$idu")
check_match "the build log names the bad _redirects line" \
	"line system _redirects line 4 skipped: status 999 is not supported" "$s"
check_match "the build log counts the rules it kept" "Routing rules: 4 redirects, 3 header rules" "$s"
m=$(manifest "$idu")
check_eq "_redirects and _headers are rules, not files" "" "$(echo "$m" | grep -o '"/_\(redirects\|headers\)"')"
check_eq "a _redirects rule redirects, with the status it names" "301 /about/" \
	"$(fetch rules.localhost /old) $(header Location)"
check_eq "…passing the query string through" "301 /about/?utm=x" \
	"$(fetch rules.localhost /old QUERY_STRING=utm=x REQUEST_URI=/old?utm=x) $(header Location)"
check_eq "a splat redirect to a full URL" "302 https://example.com/a/b" \
	"$(fetch rules.localhost /go/a/b) $(header Location)"
check_eq "a skiff.json redirect" "307 /blog/" "$(fetch rules.localhost /from-json) $(header Location)"
check_eq "the bad line's rule does not exist" "404 <p>rules: not found</p>" \
	"$(fetch rules.localhost /bad-line) $(cat "$T/resp.body")"
check_eq "a 200 rule rewrites within the deployment" "200 <p>rules home</p>" \
	"$(fetch rules.localhost /app/some/route) $(cat "$T/resp.body")"
check_eq "cleanUrls serves /about/ from about.html" "200 <p>rules about</p>" \
	"$(fetch rules.localhost /about/) $(cat "$T/resp.body")"
check_eq "cleanUrls redirects about.html to its clean URL" "308 /about/" \
	"$(fetch rules.localhost /about.html) $(header Location)"
check_eq "trailingSlash redirects a page to its slash form" "308 /blog/" \
	"$(fetch rules.localhost /blog) $(header Location)"
check_eq "…but serves an extensionless file as it is named" "200 the license" \
	"$(fetch rules.localhost /LICENSE) $(cat "$T/resp.body")"
fetch rules.localhost /blog/ >/dev/null
check_eq "_headers sets a header on every path" "DENY" "$(header X-Frame-Options)"
check_eq "_headers sets a header on its pattern" "from _headers" "$(header X-Custom)"
check_eq "a skiff.json header rule applies" "yes" "$(header X-From-Json)"
fetch rules.localhost /about/ >/dev/null
check_eq "a header rule for /blog/* stays off /about/" ":DENY" "$(header X-Custom):$(header X-Frame-Options)"

# ---- a failing build leaves the previous deployment live -----------------------------------
flaky=$T/flaky
new_repo "$flaky"
echo '<p>good</p>' >"$flaky/index.html"
commit "$flaky" "good"
idg=$(create "file://$flaky")
dispatch
check_eq "the good version is ready" "ready" "$(field "$idg" state)"
cat >"$flaky/skiff.json" <<'EOF'
{ "buildCommand": "echo about to fail; echo oops >&2; exit 3" }
EOF
commit "$flaky" "break the build"
idf=$(redeploy flaky)
dispatch
check_eq "the failing build ends in error" "error" "$(field "$idf" state)"
check_eq "the failing build records its exit code" "3" "$(field "$idf" exit_code)"
check_eq "the error says what failed" "build command exited with code 3" "$(field "$idf" error)"
check_eq "the previous deployment stays current" "$idg" "$(rcli hget skiff:project:flaky current)"
check_eq "no manifest is written for the failed build" "no" "$(test -e "$T/store/manifests/$idf.json" && echo yes || echo no)"
s=$(stream "$idf")
check_match "the failing command's output is in the log" "line stdout about to fail" "$s"
check_match "the log ends with the error" "end system error$" "$s"
check_match "the failed build's log is archived" "about to fail" "$(cat "$T/store/logs/$idf.log")"
check_eq "the previous deployment still answers through skiff-serve" "200 <p>good</p>" \
	"$(fetch flaky.localhost /) $(cat "$T/resp.body")"
check_eq "the failed deployment's own URL has no site" "404" "$(fetch "flaky--$idf.localhost" /)"
check_eq "the good deployment's own URL still serves it" "200 <p>good</p>" \
	"$(fetch "flaky--$idg.localhost" /) $(cat "$T/resp.body")"

# ---- a build that runs too long is killed, with its whole process group --------------------
slow=$T/slow
new_repo "$slow"
echo x >"$slow/index.html"
echo '{ "buildCommand": "(sleep 317; echo survived > /tmp/skiff-it-survivor-'"$$"') & sleep 317" }' >"$slow/skiff.json"
commit "$slow" "slow"
ids=$(create "file://$slow")
rcli lrem skiff:queue 0 "$ids" >/dev/null
t0=$(date +%s)
SKIFF_BUILD_TIMEOUT=2 "$BIN/skiff-build" "$ids" >"$T/slow.log" 2>&1
check_eq "skiff-build exits 0 after reporting the timeout" "0" "$?"
check_eq "the slow build ends in error" "error" "$(field "$ids" state)"
check_eq "the error says it timed out" "build timed out after 2 s (build_timeout)" "$(field "$ids" error)"
check_eq "the timeout is enforced promptly" "yes" "$(test $(($(date +%s) - t0)) -lt 15 && echo yes)"
check_eq "no process of the build survives" "" "$(pgrep -f 'sleep 317' || true)"

# ---- a running build notices that it was canceled; SIGTERM stops a build -------------------
phase_is() { [ "$(field "$1" phase 2>/dev/null)" = "$2" ]; }
idc=$(redeploy slow)
rcli lrem skiff:queue 0 "$idc" >/dev/null
SKIFF_LEASE_TTL=3 "$BIN/skiff-build" "$idc" >"$T/cancel.log" 2>&1 &
BPID=$!
wait_for 20 phase_is "$idc" build
rcli hset "skiff:deployment:$idc" state canceled >/dev/null
wait_for 15 sh -c "! kill -0 $BPID 2>/dev/null"
check_eq "a canceled build's skiff-build exits" "no" "$(kill -0 "$BPID" 2>/dev/null && echo yes || echo no)"
check_eq "a canceled build stays canceled" "canceled" "$(field "$idc" state)"
check_eq "the canceled build's command is gone" "" "$(pgrep -f 'sleep 317' || true)"
check_eq "a canceled build does not become current" "" "$(rcli hget skiff:project:slow current)"
idt=$(redeploy slow)
rcli lrem skiff:queue 0 "$idt" >/dev/null
"$BIN/skiff-build" "$idt" >"$T/term.log" 2>&1 &
BPID=$!
wait_for 20 phase_is "$idt" build
kill -TERM "$BPID"
wait_for 15 sh -c "! kill -0 $BPID 2>/dev/null"
check_eq "SIGTERM ends the build in error" "error" "$(field "$idt" state)"
check_match "the error says the build was stopped" "^the build was stopped" "$(field "$idt" error)"
check_eq "the stopped build's command is gone" "" "$(pgrep -f 'sleep 317' || true)"

# ---- a build whose lease expired is queued again, up to MODEL_QUEUE_ATTEMPTS (3) times ------
idx=$(redeploy site)
rcli lmove skiff:queue skiff:queue:active RIGHT LEFT >/dev/null
rcli hset "skiff:deployment:$idx" state building attempts 3 >/dev/null
dispatch
check_eq "a build lost on its third attempt is marked error" "error" "$(field "$idx" state)"
check_match "the error says the build was lost" "^build lost: its lease expired 3 times" "$(field "$idx" error)"
check_eq "the lost build left the active list" "0" "$(rcli llen skiff:queue:active)"
check_eq "the lost build did not change the current deployment" "$id2" "$(rcli hget skiff:project:site current)"
idy=$(redeploy site)
rcli lmove skiff:queue skiff:queue:active RIGHT LEFT >/dev/null
rcli hset "skiff:deployment:$idy" state building >/dev/null
dispatch
check_eq "a build lost on its first attempt is queued again and built" "ready" "$(field "$idy" state)"
check_match "its log says it was queued again" "queued again, attempt 2 of 3" "$(stream "$idy")"
check_eq "it ran once more, not twice" "1" "$(grep -c "build launched deployment=$idy" "$T/dispatch.log")"
check_eq "the active list is empty" "0" "$(rcli llen skiff:queue:active)"

# ---- skiff-dispatch as a daemon: survives a Redis restart, stops on SIGTERM -----------------
state_is() { [ "$(field "$1" state 2>/dev/null)" = "$2" ]; }
"$BIN/skiff-dispatch" >"$T/daemon.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
wait_for 10 grep -q "dispatcher started" "$T/daemon.log"
stop_redis
wait_for 10 grep -q "redis unavailable; retrying" "$T/daemon.log"
check_eq "the dispatcher keeps running while Redis is down" "yes" "$(kill -0 "$DPID" 2>/dev/null && echo yes)"
start_redis
idr=$(create "file://$site" '"slug":"after-restart"')
wait_for 30 state_is "$idr" ready
check_eq "after the Redis restart the dispatcher builds again" "ready" "$(field "$idr" state)"
kill -TERM "$DPID"
wait_for 10 sh -c "! kill -0 $DPID 2>/dev/null"
check_eq "SIGTERM stops the dispatcher" "no" "$(kill -0 "$DPID" 2>/dev/null && echo yes || echo no)"
check_match "the dispatcher says it stopped" "dispatcher stopped" "$(cat "$T/daemon.log")"


# ---- repository-controlled text in skiff's own log lines is cleaned like build output ---------
# a skiff.json header name and a _redirects path carrying a newline, a fake "==> ready" and
# terminal escapes; skiff quotes them when it skips the rules
evil=$T/evil
new_repo "$evil"
mkdir -p "$evil/public"
echo '<p>evil</p>' >"$evil/public/index.html"
printf '/a\033[2J\033]0;pwned\007 /b 301\n' >"$evil/public/_redirects"
cat >"$evil/skiff.json" <<'EOF'
{ "outputDirectory": "public",
  "headers": [ { "for": "/*", "values": { "X-A\n==> ready\u001b[31m": "v" } } ] }
EOF
commit "$evil" "$(printf 'evil \033[31mred\033[0m message')"
ide=$(create "file://$evil" '"slug":"evil"')
dispatch
check_eq "the site with hostile rule names builds" "ready" "$(field "$ide" state)"
raw=$(rcli --raw xrange "skiff:log:$ide" - +)
check_match "skiff reports the bad header name" 'header "X-A==> ready" is not allowed' "$raw"
check_match "... and the bad _redirects path" 'redirects line 1 skipped' "$raw"
check_eq "no log entry holds an escape character" 0 "$(printf '%s' "$raw" | grep -c "$(printf '\033')")"
check_eq "no log entry holds a BEL" 0 "$(printf '%s' "$raw" | grep -c "$(printf '\007')")"
check_eq "no entry of skiff's own spans lines: only the real end says ready on its own" 2 \
	"$(printf '%s\n' "$raw" | grep -c '^ready$')"
check_eq "no line starts with a faked ==> marker" 0 "$(printf '%s\n' "$raw" | grep -c '^==>')"
check_eq "the archived log has no escape either" 0 \
	"$(grep -c "$(printf '\033')" "$T/store/logs/$ide.log")"
check_eq "... where only the real end starts a line with ==> ready" 1 \
	"$(grep -c '^==> ready' "$T/store/logs/$ide.log")"


# ---- the clone checks the remote's name again, after resolution -----------------------------
# the project was accepted (allow_local_git = true); the build runs without it and finds that
# the name resolves to this machine
me=$(hostname)
if printf '%s' "$me" | grep -Eq '^[A-Za-z0-9-]+$' &&
	getent ahosts "$me" | awk '{ print $1 }' |
	grep -Eq '^(127\.|10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|::1$|f[cd])'; then
	idr=$(create "https://$me/x.git" '"slug":"rebound"')
	rcli lrem skiff:queue 0 "$idr" >/dev/null
	SKIFF_ALLOW_LOCAL_GIT=false "$BIN/skiff-build" "$idr" >"$T/rebound.log" 2>&1
	check_eq "a remote whose name resolves to this machine fails the build" "error" \
		"$(field "$idr" state)"
	check_match "... before cloning, naming the host, not its address" \
		"^the host $me resolves to an address of this machine or a private network" \
		"$(field "$idr" error)"
	check_nomatch "... without trying to clone" 'Cloning' "$(stream "$idr")"
else
	echo "info: $me does not resolve to a local address here; that case is in check_validate"
fi

finish
