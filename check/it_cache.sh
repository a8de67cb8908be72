#!/bin/sh
# it_cache.sh — the build cache: a project's second build finds what its first left in the
# package-manager cache ($npm_config_cache, $npm_config_store_dir, $YARN_CACHE_FOLDER);
# another project, or the same name made again after a delete, starts empty; "clear cache and
# deploy" (clearCache on redeploy, and the dashboard's button) starts empty; past
# build_cache_mb the least recently used project's cache is evicted.
. "$(dirname "$0")/lib.sh"

start_redis
write_config
echo "build_cache_mb = 1" >>"$T/skiff.conf"
# inside bubblewrap, as the default configuration builds (it_sandbox.sh needs it too): the
# cache must be mounted into the sandbox; CACHE_SANDBOX=none tries it without
echo "sandbox = ${CACHE_SANDBOX:-bwrap}" >>"$T/skiff.conf"

body() { sed '1,/^\r*$/d'; }
depid() { python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["deploymentId"])' 2>/dev/null; }
field() { rcli hget "skiff:deployment:$1" "$2"; }
log_of() { rcli --raw xrange "skiff:log:$1" - + | tr '\n' ' '; }
dispatch() { "$BIN/skiff-dispatch" --once >>"$T/dispatch.log" 2>&1; }
# a site whose build reports what the caches held and adds to them; KB of padding
site() { # DIR PAD_KB
	mkdir -p "$1"
	git -C "$1" init -q -b main
	cat >"$1/skiff.json" <<JSON
{ "buildCommand": "for d in \"\$npm_config_cache\" \"\$npm_config_store_dir\" \"\$YARN_CACHE_FOLDER\"; do if [ -f \"\$d/marker\" ]; then echo CACHE\"\"HIT; else echo CACHE\"\"MISS; fi; echo x > \"\$d/marker\"; done; head -c $(($2 * 1024)) /dev/zero > \"\$npm_config_cache/pad\"; mkdir -p public; echo ok > public/index.html",
  "outputDirectory": "public" }
JSON
	git -C "$1" add -A && git -C "$1" -c user.email=t@example.com -c user.name=t commit -qm site
}
create() { cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$1\",\"slug\":\"$2\"}" | body | depid; }
redeploy() { cgi skiff-create POST "/api/projects/$1/deployments" "${2:-{\}}" | body | depid; }
# (the log also shows the command, where the words are split by quotes)
hits() { log_of "$1" | grep -o 'CACHEHIT' | wc -l; }
misses() { log_of "$1" | grep -o 'CACHEMISS' | wc -l; }

site "$T/a" 16
a1=$(create "$T/a" alpha)
dispatch
check_eq "the first build is ready" ready "$(field "$a1" state)"
check_eq "its three caches start empty" 3 "$(misses "$a1")"
a2=$(redeploy alpha)
dispatch
check_eq "the second build of the project finds its npm, pnpm and yarn caches" 3 "$(hits "$a2")"
check_eq "the cache is outside the build's work directory, under build_cache_path" 1 \
	"$(ls "$T/build-cache" | grep -c '^alpha-')"

b1=$(create "$T/a" beta)
dispatch
check_eq "another project of the same repository starts with empty caches" 3 "$(misses "$b1")"

a3=$(redeploy alpha '{"clearCache":true}')
dispatch
check_eq "clearCache on redeploy starts from empty caches" 3 "$(misses "$a3")"
check_match "... and the log says the cache was cleared" "Build cache cleared" "$(log_of "$a3")"
a4=$(redeploy alpha)
dispatch
check_eq "a plain redeploy after it finds the caches" 3 "$(hits "$a4")"

# a fork's pull request (it_preview.sh builds one from a webhook; here the queued record is
# marked so) runs code from outside the project: it gets no cache to read or to leave things in
# for the next production build, which has the project's secrets
af=$(redeploy alpha)
rcli hset "skiff:deployment:$af" fork 1 >/dev/null
dispatch
check_eq "a fork's build is ready" ready "$(field "$af" state)"
check_eq "a fork's build does not get the project's caches" 3 "$(misses "$af")"
check_match "... and the log says so" "Build cache not used" "$(log_of "$af")"
check_eq "clearCache must be a boolean" 400 \
	"$(cgi skiff-create POST /api/projects/alpha/deployments '{"clearCache":"yes"}' | sed -n 's/^Status: \([0-9]*\).*/\1/p')"

# the dashboard's button posts clearCache=1 as a form
page=$(env REQUEST_METHOD=GET REQUEST_URI=/projects/alpha HTTP_HOST=localhost GATEWAY_INTERFACE=CGI/1.1 \
	"$BIN/skiff-status" 2>/dev/null)
check_match "the project page has a clear cache and deploy button" \
	'name="clearCache" value="1"><button type="submit" id="redeploy-clear-cache">Clear cache and deploy' "$page"
a5=$(HTTP_ORIGIN=http://localhost cgi skiff-create POST /api/projects/alpha/deployments 'clearCache=1' \
	application/x-www-form-urlencoded | sed -n 's|^Location: /deployments/\([a-z2-7]*\).*|\1|p' | tr -d '\r')
dispatch
check_eq "the button's form starts from empty caches" 3 "$(misses "$a5")"

# a project deleted and made again under its name does not inherit the old cache
cgi skiff-create DELETE "/api/projects/beta?confirm=beta" >/dev/null
b2=$(create "$T/a" beta)
dispatch
check_eq "a project made again under a deleted one's name starts empty" 3 "$(misses "$b2")"

# build_cache_mb = 1: two projects of 600 KB each do not fit; the least recently used goes
site "$T/big" 600
g1=$(create "$T/big" gamma)
dispatch
d1=$(create "$T/big" delta)
dispatch
check_eq "the big builds are ready" "ready ready" "$(field "$g1" state) $(field "$d1" state)"
check_eq "the least recently used caches were evicted, the newest kept" "delta" \
	"$(ls "$T/build-cache" | sed 's/-[0-9]*$//' | tr '\n' ' ' | sed 's/ $//')"
check_match "the dispatcher's log names the eviction" "build cache evicted cache=gamma-" "$(cat "$T/dispatch.log")"
d2=$(redeploy delta)
dispatch
check_eq "the kept cache still serves the next build" 3 "$(hits "$d2")"

finish
