#!/bin/sh
# it_pin.sh — a local build whose GC pin (lib/gc.h) lapses fails cleanly with pin_lost, end to
# end with a real Redis, skiff-dispatch --once running the real skiff-build on a real git
# repository: the state and the error as the API and the build log show them, no manifest,
# the site still serving its previous deployment, and no pin left behind. The lapse is made at
# an exact point of the build by check/pin_lapse.py, a Redis proxy between the dispatcher (and
# so the build) and Redis: it deletes the pin as soon as the build made it (before the build
# hears back), or just before the build's pin call for a later batch of files, and can run a
# real sweep (skiff-dispatch --gc-once) at that moment, as a sweep racing the build would. The
# lease thread renews the pin only once a minute, so here the build's own renewal just before
# its manifest, or the refused pin of its next batch, is what notices.
. "$(dirname "$0")/lib.sh"

start_redis
write_config

body() { sed '1,/^\r*$/d'; }
commit() { # DIR MESSAGE
	git -C "$1" add -A && git -C "$1" -c user.email=t@example.com -c user.name=t commit -qm "$2"
}
jfield() { # PATH: a value from the JSON on stdin ("data|state")
	python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("|"):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list, bool)) else v))' "$1" 2>/dev/null
}
redeploy() { cgi skiff-create POST "/api/projects/$1/deployments" '{}' 2>/dev/null | body | jfield "data|deploymentId"; }
field() { rcli hget "skiff:deployment:$1" "$2"; }
has_manifest() { test -e "$T/store/manifests/$1.json" && echo yes || echo no; }
blob() { echo "$T/store/blobs/$(echo "$1" | cut -c1-2)/$1"; }
# fetch HOST PATH: status and body of a GET through skiff-serve as plain CGI
fetch() {
	env SKIFF_XSENDFILE=false REQUEST_METHOD=GET REQUEST_URI="$2" HTTP_HOST="$1" \
		GATEWAY_INTERFACE=CGI/1.1 "$BIN/skiff-serve" </dev/null 2>>"$T/serve.log" >"$T/resp"
	printf '%s %s' "$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$T/resp" | head -n 1)" \
		"$(sed '1,/^\r*$/d' "$T/resp")"
}

# left_alone SLUG FAILED PREVIOUS TEXT: the failed build FAILED wrote no manifest, PREVIOUS is
# still current and the site serves TEXT at /, and no pin of FAILED is left behind
left_alone() {
	check_eq "no manifest is written for it" "no" "$(has_manifest "$2")"
	check_eq "the previous deployment stays current" "$3" "$(rcli hget "skiff:project:$1" current)"
	check_eq "... and is what the site serves" "200 $4" "$(fetch "$1.localhost" /)"
	check_eq "no pin of the failed build is left behind" "0 " \
		"$(rcli exists "skiff:gc:pin:$2") $(rcli zscore skiff:gc:pins "$2")"
}

# the proxy; a dispatch through it runs the build through it (the environment is inherited)
echo none >"$T/lapse.mode"
: >"$T/lapse.log"
python3 "$ROOT/check/pin_lapse.py" "$T/lapse.sock" "$T/redis.sock" "$T/lapse.mode" "$T/lapse.log" \
	env SKIFF_REDIS_SOCKET="$T/redis.sock" "$BIN/skiff-dispatch" --gc-once 2>>"$T/lapse.err" &
PIDS="$PIDS $!"
wait_for 10 test -S "$T/lapse.sock" || { echo "the proxy did not start" >&2; cat "$T/lapse.err" >&2; exit 1; }
dispatch() { # MODE: one dispatch through the proxy, lapsing the pin as MODE says
	echo "$1" >"$T/lapse.mode"
	SKIFF_REDIS_SOCKET="$T/lapse.sock" "$BIN/skiff-dispatch" --once >>"$T/dispatch.log" 2>&1
	echo none >"$T/lapse.mode"
}

# ---- the pin is gone as soon as it is made: the renewal before the manifest finds it gone ---
site=$T/site
mkdir -p "$site"
git -C "$site" init -q -b main
echo '<h1>version one</h1>' >"$site/index.html"
echo 'body { color: red }' >"$site/site.css"
commit "$site" "version one"
id1=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$site\",\"slug\":\"pinsite\"}" 2>/dev/null |
	body | jfield "data|deploymentId")
dispatch none
check_eq "through the proxy, the first version is ready" "ready" "$(field "$id1" state)"
check_eq "... and current" "$id1" "$(rcli hget skiff:project:pinsite current)"
check_eq "... and served" "200 <h1>version one</h1>" "$(fetch pinsite.localhost /)"
check_eq "... and its pin dropped after its manifest" "0 " \
	"$(rcli exists "skiff:gc:pin:$id1") $(rcli zscore skiff:gc:pins "$id1")"

echo '<h1>version two</h1>' >"$site/index.html"
commit "$site" "version two"
id2=$(redeploy pinsite)
dispatch pinned
check_eq "the proxy took the pin away as soon as the build made it" "lapsed $id2 before its pin reached the build" \
	"$(cat "$T/lapse.log")"
check_eq "a build whose pin lapsed before its manifest ends in error" "error" "$(field "$id2" state)"
cgi skiff-status GET "/api/deployments/$id2" 2>/dev/null | body >"$T/status.json"
check_eq "the API's status says error" "error" "$(jfield "data|state" <"$T/status.json")"
check_match "... and why: the blobs were not kept pinned" \
	"not kept pinned.*a store sweep may have deleted some; deploy again" \
	"$(jfield "data|error" <"$T/status.json")"
cgi skiff-status GET "/api/deployments/$id2/log" 2>/dev/null | body >"$T/log.txt"
check_match "the build log as the user reads it says so" "not kept pinned" "$(cat "$T/log.txt")"
check_match "... and ends in error" "==> error$" "$(cat "$T/log.txt")"
left_alone pinsite "$id2" "$id1" "<h1>version one</h1>"

# the same build again, nothing taken away: ready (the failure above was the lapse's)
id3=$(redeploy pinsite)
dispatch none
check_eq "redeployed without a lapse, version two is ready" "ready" "$(field "$id3" state)"
check_eq "... and served" "200 <h1>version two</h1>" "$(fetch pinsite.localhost /)"

# ---- the pin lapses between two batches of files, and a sweep runs right then ---------------
# 70 files: the build pins and stores them in two batches (64 files, then 6). Every one of them
# is in the store already, as blobs no kept manifest names and older than the grace period (a
# deleted deployment's, say): the first batch finds its 64 stored and relies on them through its
# pin alone. The pin lapses before the second batch's pin call, and a real sweep runs then: it
# deletes what the pin no longer keeps. The second batch must not make the pin again as if
# nothing happened: the build fails, and no manifest names a deleted blob.
big=$T/big
mkdir -p "$big"
git -C "$big" init -q -b main
echo '<h1>small one</h1>' >"$big/index.html"
commit "$big" "small one"
idb1=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$big\",\"slug\":\"bigsite\"}" 2>/dev/null |
	body | jfield "data|deploymentId")
dispatch none
check_eq "the small first version of the second site is ready" "ready" "$(field "$idb1" state)"
i=0
while [ $i -lt 70 ]; do echo "file $i of the big version" >"$big/f$i.txt"; i=$((i + 1)); done
echo '<h1>big two</h1>' >"$big/index.html"
commit "$big" "big two"
for f in "$big"/f*.txt; do
	h=$(sha256sum <"$f" | cut -c1-64)
	mkdir -p "$(dirname "$(blob "$h")")"
	cp "$f" "$(blob "$h")"
	touch -d '3 hours ago' "$(blob "$h")"
	echo "$h" >>"$T/old.hashes"
done
: >"$T/lapse.log"
idb2=$(redeploy bigsite)
dispatch repin+sweep
check_eq "the proxy took the pin away before the second batch's pin call, and a sweep ran" \
	"lapsed $idb2 before its next pin call; then a sweep (exit 0)" "$(cat "$T/lapse.log")"
gone=0
while read -r h; do [ -e "$(blob "$h")" ] || gone=$((gone + 1)); done <"$T/old.hashes"
check_match "the sweep deleted stored blobs the first batch relied on" '^[1-9][0-9]*$' "$gone"
check_eq "a build whose pin lapsed between batches ends in error" "error" "$(field "$idb2" state)"
check_match "... saying the blobs were not kept pinned" "not kept pinned" "$(field "$idb2" error)"
left_alone bigsite "$idb2" "$idb1" "<h1>small one</h1>"
missing=0
for m in "$T"/store/manifests/*.json; do
	for h in $(python3 -c 'import json, sys
for e in json.load(open(sys.argv[1]))["files"].values():
    print(e["hash"])
    for v in ("gzip", "br"):
        if v in e: print(e[v]["hash"])' "$m"); do
		[ -e "$(blob "$h")" ] || missing=$((missing + 1))
	done
done
check_eq "no manifest in the store names a deleted blob" 0 "$missing"
idb3=$(redeploy bigsite)
dispatch none
check_eq "deployed again without a lapse, the big version is ready" "ready" "$(field "$idb3" state)"
check_eq "... with its 71 files" "71" "$(field "$idb3" files)"
check_eq "... every one served, the swept ones uploaded again" "200 file 0 of the big version|200 file 69 of the big version" \
	"$(fetch bigsite.localhost /f0.txt)|$(fetch bigsite.localhost /f69.txt)"

finish
