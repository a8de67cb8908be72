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

# ---- node_modules kept between builds (builder/skiff-build/modules.c) ----
# a Node project whose dependencies install offline (file: links); its build reports whether
# node_modules/.cache/marker (which npm leaves alone) was there and which build wrote it, the
# inode of node_modules/dep (the same only when the tree was moved back, not installed again)
# and the lockfile's digest; files of the repository make it fail, pad node_modules, or plant
# links to $T/outside
outside=$T/outside
mkdir -p "$outside"
head -c 2000000 /dev/zero >"$outside/big"
nm_dep() { # DIR NAME
	mkdir -p "$1/$2"
	echo "{\"name\":\"$2\",\"version\":\"1.0.0\"}" >"$1/$2/package.json"
	echo 'module.exports = 1' >"$1/$2/index.js"
}
nm_lock() { # DIR DEPS_JSON
	echo "{ \"name\": \"nm\", \"version\": \"1.0.0\", \"private\": true, \"scripts\": { \"build\": \"sh build.sh\" }, \"dependencies\": $2 }" >"$1/package.json"
	(cd "$1" && npm install --package-lock-only --offline --no-audit --no-fund --loglevel=error) ||
		echo "cannot write the lockfile" >&2
}
nm_commit() { git -C "$1" add -A && git -C "$1" -c user.email=t@example.com -c user.name=t commit -qm change; }
nm_site() { # DIR
	mkdir -p "$1"
	git -C "$1" init -q -b main
	nm_dep "$1" dep
	cat >"$1/build.sh" <<'SH'
set -e
node -e "for (const d of Object.keys(require('./package.json').dependencies)) require(d)"
if [ -f node_modules/.cache/marker ]; then echo "NMHIT $(cat node_modules/.cache/marker)"; else echo NMMISS; fi
mkdir -p node_modules/.cache
echo "$SKIFF_DEPLOYMENT_ID" >node_modules/.cache/marker
echo "DEPINODE $(stat -c %i node_modules/dep)"
echo "LOCK $(sha256sum <package-lock.json | cut -c1-16)"
[ ! -f pad_kb ] || head -c $(($(cat pad_kb) * 1024)) /dev/zero >node_modules/.cache/pad
[ ! -f escape ] || ln -sfn "$(cat escape)" node_modules/.cache/escape
[ ! -f swap ] || { mv node_modules ../nm-real; ln -s "$(cat swap)" node_modules; }
[ ! -f fail ] || exit 1
mkdir -p public
echo ok >public/index.html
SH
	nm_lock "$1" '{ "dep": "file:./dep" }'
	nm_commit "$1"
}
nm_build() { # [BODY]: redeploys nm and builds it; prints the id
	id=$(redeploy nm "${1:-{\}}")
	dispatch
	echo "$id"
}
line_of() { log_of "$1" | grep -o "$2 [^ ]*" | head -n 1 | cut -d' ' -f2; }

nm_site "$T/n"
n1=$(create "$T/n" nm)
dispatch
check_eq "a Node project's first build is ready" ready "$(field "$n1" state)"
check_match "... starts without node_modules" "NMMISS" "$(log_of "$n1")"
check_match "... the log says none was kept yet" "node_modules: none kept in the build cache yet" "$(log_of "$n1")"
check_match "... and keeps its node_modules" "Kept node_modules in the build cache" "$(log_of "$n1")"
n2=$(nm_build)
check_eq "the second build with the same lockfile is ready" ready "$(field "$n2" state)"
check_match "... finds the node_modules the first left" "NMHIT $n1" "$(log_of "$n2")"
check_match "... restored from the build cache" "Restored node_modules from the build cache" "$(log_of "$n2")"
check_match "... and runs an install that keeps it instead of npm ci" \
	"Running install command: npm install --prefer-offline --no-audit --no-fund --no-save" "$(log_of "$n2")"
check_eq "... its packages were moved back, not installed again (same inode)" \
	"$(line_of "$n1" DEPINODE)" "$(line_of "$n2" DEPINODE)"
check_eq "... and the lockfile is the repository's, unchanged" \
	"$(sha256sum <"$T/n/package-lock.json" | cut -c1-16)" "$(line_of "$n2" LOCK)"

# a link in node_modules to a 2 MB file outside: past build_cache_mb (1) if it were counted
echo "$outside" >"$T/n/escape"
nm_commit "$T/n"
n3=$(nm_build)
n4=$(nm_build)
check_match "a link to outside in node_modules is kept as a link..." "NMHIT $n3" "$(log_of "$n4")"
check_eq "... not followed (the cache was not evicted for it), and outside is untouched" \
	"ready ready 2000000" "$(field "$n3" state) $(field "$n4" state) $(stat -c %s "$outside/big")"

# a changed lockfile (another dependency) installs from scratch with npm ci
nm_dep "$T/n" dep2
nm_lock "$T/n" '{ "dep": "file:./dep", "dep2": "file:./dep2" }'
nm_commit "$T/n"
n5=$(nm_build)
check_eq "a build with a changed lockfile is ready (its new dependency required)" ready "$(field "$n5" state)"
check_match "... does not get the kept node_modules" "NMMISS" "$(log_of "$n5")"
check_match "... the log says why" "node_modules not restored: none kept for this lockfile" "$(log_of "$n5")"
check_match "... and it runs npm ci" "Running install command: npm ci" "$(log_of "$n5")"
check_eq "... whose packages are new" "different" \
	"$([ "$(line_of "$n4" DEPINODE)" != "$(line_of "$n5" DEPINODE)" ] && echo different)"
# the earlier lockfile again (a branch, a revert): its tree was kept beside the new one
nm_lock "$T/n" '{ "dep": "file:./dep" }'
nm_commit "$T/n"
n5b=$(nm_build)
check_match "the earlier lockfile again finds the node_modules kept for it" "NMHIT $n4" "$(log_of "$n5b")"
check_eq "... so the project keeps one per lockfile" 2 "$(ls "$T"/build-cache/nm-*/modules | wc -l)"
# variables decide the key too; past three keys the oldest tree goes
for v in one two; do
	cgi skiff-create PATCH /api/projects/nm "{\"env\":[{\"name\":\"NM_VARIANT\",\"value\":\"$v\"}]}" >/dev/null
	nv=$(nm_build)
done
check_match "a changed variable is another key" "node_modules not restored: none kept" "$(log_of "$nv")"
check_eq "... and a project keeps at most three trees" 3 "$(ls "$T"/build-cache/nm-*/modules | wc -l)"
cgi skiff-create PATCH /api/projects/nm '{"env":[]}' >/dev/null

# a failed build keeps nothing: the next build starts without node_modules
touch "$T/n/fail"
nm_commit "$T/n"
n6=$(nm_build)
check_eq "a failing build fails" error "$(field "$n6" state)"
check_match "... it had the kept node_modules" "NMHIT $n5b" "$(log_of "$n6")"
check_nomatch "... and keeps nothing of it" "Kept node_modules" "$(log_of "$n6")"
rm "$T/n/fail"
nm_commit "$T/n"
n7=$(nm_build)
check_match "the build after a failed one starts without node_modules" "NMMISS" "$(log_of "$n7")"

# node_modules replaced by a link to outside: nothing is kept, nothing moved from outside
echo "$outside" >"$T/n/swap"
nm_commit "$T/n"
n8=$(nm_build)
rm "$T/n/swap"
nm_commit "$T/n"
n9=$(nm_build)
check_eq "a build whose node_modules is a link to outside is ready" ready "$(field "$n8" state)"
check_nomatch "... keeps nothing" "Kept node_modules" "$(log_of "$n8")"
check_eq "... and leaves outside where it was" "big" "$(ls "$outside" | tr '\n' ' ' | sed 's/ $//')"
check_match "the next build starts without node_modules" "NMMISS" "$(log_of "$n9")"

n10=$(nm_build '{"clearCache":true}')
check_match "clearCache drops the kept node_modules" "NMMISS" "$(log_of "$n10")"
check_match "... the log says so" "node_modules: none kept" "$(log_of "$n10")"

# past build_cache_mb, a project's kept node_modules is evicted with its cache
echo 1100 >"$T/n/pad_kb"
nm_commit "$T/n"
n11=$(nm_build)
rm "$T/n/pad_kb"
nm_commit "$T/n"
n12=$(nm_build)
check_eq "a build that pads node_modules past build_cache_mb is ready" ready "$(field "$n11" state)"
check_match "... its node_modules counts toward the cap: evicted" "build cache evicted cache=nm-" "$(cat "$T/dispatch.log")"
check_match "... and the next build starts without it" "NMMISS" "$(log_of "$n12")"

# a user's npm ci deletes node_modules: nothing is restored or kept for it
echo '{ "installCommand": "npm ci" }' >"$T/n/skiff.json"
nm_commit "$T/n"
n13=$(nm_build)
check_eq "a build with installCommand npm ci is ready" ready "$(field "$n13" state)"
check_match "... the log says why node_modules is not kept" "node_modules not kept: npm ci deletes it" "$(log_of "$n13")"

# a repository that carries node_modules: nothing is put in its place
rm "$T/n/skiff.json"
mkdir -p "$T/n/node_modules/.cache"
echo committed >"$T/n/node_modules/.cache/marker"
nm_commit "$T/n"
n14=$(nm_build)
check_match "a repository with its own node_modules gets nothing restored" \
	"node_modules not kept: the repository has its own" "$(log_of "$n14")"

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
