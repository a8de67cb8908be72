#!/bin/sh
# check/bench/cache.sh — the build cache with a real dependency tree from the npm registry
# (it must be reachable): the same project built twice on the stack of `make run`, with the
# install command skiff detects (npm ci; on the second build, node_modules restored from the
# cache and npm install). Prints both install steps' times ("The install command finished in
# ... s") and how many requests each made to the registry (npm_config_loglevel=http, a project
# variable, logs every fetch; cached tarballs are not fetched), then the same two installs
# outside skiff for comparison on a busy machine. Targets (doc/status.md): the second build
# fetches nothing, and its install step takes under a third of the first's. Not in make check.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/check/lib.sh"
command -v npm >/dev/null 2>&1 || { echo "bench: npm is not installed" >&2; exit 1; }
SKIFF_LOG_LEVEL=warn start_stack || exit 1

repo=$T/repo
mkdir -p "$repo"
cat >"$repo/package.json" <<'JSON'
{ "name": "skiff-cache-bench", "version": "1.0.0", "private": true,
  "scripts": { "build": "mkdir -p dist && node -e \"require('express'); require('react'); require('lodash'); require('date-fns')\" && echo ok > dist/index.html" },
  "dependencies": { "express": "4.21.2", "react": "18.3.1", "react-dom": "18.3.1",
                    "lodash": "4.17.21", "date-fns": "3.6.0", "axios": "1.7.9" } }
JSON
# the lockfile, as the repository would carry it (resolved and integrity of every package)
(cd "$repo" && npm install --package-lock-only --no-audit --no-fund --loglevel=error) >"$T/lock.log" 2>&1 ||
	{ cat "$T/lock.log" >&2; echo "bench: cannot reach the npm registry" >&2; exit 1; }
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=b -c user.email=b@skiff.invalid commit -qm bench
packages=$(python3 -c 'import json; print(len([k for k in json.load(open("'"$repo"'/package-lock.json"))["packages"] if k]))')

field() { rcli hget "skiff:deployment:$1" "$2"; }
final() { case $(field "$1" state) in ready | error | canceled) return 0 ;; esac; return 1; }
log_of() { rcli --raw xrange "skiff:log:$1" - +; }
post() { # PATH BODY: prints the deployment id
	curl -fsS -X POST -H "Origin: $STACK_URL" -H 'Content-Type: application/json' -d "$2" "$STACK_URL$1" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["deploymentId"])'
}
install_s() { log_of "$1" | sed -n 's/^The install command finished in \([0-9.]*\) s$/\1/p' | head -n 1; }
# registry requests: npm's "npm http fetch GET 200 https://registry... 123ms (cache ...)" lines;
# "(cache hit)" and "(cache stale)" (prefer-offline: cached metadata taken as it is) were
# answered from the cache without a request, "(cache miss)", "(cache updated)" and
# "(cache revalidated)" went to the registry
fetched() { log_of "$1" | grep 'http fetch' | grep -vc 'cache hit\|cache stale'; }

first=$(post /api/projects "{\"gitURL\":\"file://$repo\",\"slug\":\"cachebench\",\"env\":[{\"name\":\"npm_config_loglevel\",\"value\":\"http\"}]}")
wait_for 600 final "$first"
[ "$(field "$first" state)" = ready ] || { log_of "$first" | tail -n 20 >&2; echo "bench: first build $(field "$first" state)" >&2; exit 1; }
second=$(post /api/projects/cachebench/deployments '{}')
wait_for 600 final "$second"
[ "$(field "$second" state)" = ready ] || { echo "bench: second build $(field "$second" state)" >&2; exit 1; }

i1=$(install_s "$first")
i2=$(install_s "$second")
f1=$(fetched "$first")
f2=$(fetched "$second")
restored=$(log_of "$second" | grep -c '^Restored node_modules from the build cache')
cmd2=$(log_of "$second" | sed -n 's/^Running install command: //p' | head -n 1)
# the same two installs outside skiff, one after the other, with the project's npm cache
alone=$T/alone
mkdir -p "$alone"
cp "$repo/package.json" "$repo/package-lock.json" "$alone/"
npmcache=$(ls -d "$T"/build-cache/cachebench-*/npm 2>/dev/null | head -n 1)
t0=$(date +%s.%N)
(cd "$alone" && npm_config_cache=$npmcache npm ci --prefer-offline --no-audit --no-fund --loglevel=error) >/dev/null 2>&1
t1=$(date +%s.%N)
(cd "$alone" && npm_config_cache=$npmcache $cmd2 --loglevel=error) >/dev/null 2>&1
t2=$(date +%s.%N)
echo "build cache: $packages packages from the npm registry (a lockfile: npm ci detected)"
echo "  first build (empty cache):  install step $i1 s, $f1 registry requests (npm ci)"
echo "  second build (its cache):   install step $i2 s, $f2 registry requests (node_modules" \
	"restored: $([ "$restored" -eq 1 ] && echo yes || echo NO); $cmd2)"
echo "  outside skiff, now: npm ci $(python3 -c "print('%.1f' % ($t1 - $t0))") s, then on its" \
	"tree $cmd2 $(python3 -c "print('%.1f' % ($t2 - $t1))") s"
ratio=$(python3 -c "print('%.2f' % ($i2 / $i1))")
echo "  second / first: $ratio (target < 0.33: $(python3 -c "print('met' if $i2 < $i1 / 3 else 'NOT met')"));" \
	"registry requests of the second (target 0: $([ "$f2" -eq 0 ] && echo met || echo NOT met))"
