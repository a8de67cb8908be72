#!/bin/sh
# check/bench/deploy.sh — `skiff deploy` over loopback against the whole stack (lighttpd,
# skiff-create, Redis, the file store); targets in doc/status.md:
#  - a 1,000-file directory with one file changed uploads exactly one blob and reaches ready in
#    under 1 s (the whole CLI run: walk, hash, create, upload, finish); BENCH_RUNS (default 5)
#    runs, each with another file changed, the median printed;
#  - the same directory unchanged uploads 0 bytes;
#  - a 100 MB directory (50 files of 2 MiB, random) uploaded at at least 0.5x the throughput of
#    `curl -T` of the same bytes to the same web server: one curl process PUTting the same 50
#    blobs to the same blob route (keep-alive, one after the other) of a deployment that lists
#    them, against the CLI's whole run on the directory (the blobs removed from the store in
#    between, so that both store every byte). BENCH_RUNS runs of each, alternating; medians.
# Prints figures; never fails make check (it is not part of it).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/check/lib.sh"
RUNS=${BENCH_RUNS:-5}
SKIFF_LOG_LEVEL=warn start_stack || exit 1
# rate limits off: the benchmark deploys many times a minute from one address
sed -i 's/^rate_limit_\([a-z_]*\) = .*/rate_limit_\1 = 0/' "$T/skiff.conf"
stop_lighttpd
start_lighttpd || exit 1
H="Origin: $STACK_URL"
ms() { date +%s%3N; }
median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
jfield() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2"; }

curl -fsS -o "$T/p.json" -H "$H" -H 'Content-Type: application/json' \
	-d "{\"gitURL\":\"file://$T/none\",\"slug\":\"bench\",\"webhookSecret\":false}" "$STACK_URL/api/projects" || exit 1
curl -fsS -o "$T/t.json" -H "$H" -H 'Content-Type: application/json' -d '{"name":"bench"}' \
	"$STACK_URL/api/projects/bench/tokens" || exit 1
export SKIFF_URL=$STACK_URL SKIFF_TOKEN
SKIFF_TOKEN=$(jfield "$T/t.json" token)
export HOME="$T/home"

# ---- 1,000 files, one changed ----------------------------------------------------------------
site=$T/site
i=0
while [ $i -lt 1000 ]; do
	d=$site/d$((i % 20))
	mkdir -p "$d"
	printf '<!doctype html><title>%d</title><p>page %d of the benchmark site\n' $i $i >"$d/p$i.html"
	i=$((i + 1))
done
"$BIN/skiff" deploy "$site" --project bench --json >"$T/first.json" 2>"$T/first.err" ||
	{ echo "bench: the first deploy failed: $(cat "$T/first.err")" >&2; exit 1; }
echo "first deploy of 1,000 files: $(jfield "$T/first.json" uploaded) blobs, $(jfield "$T/first.json" uploadedBytes) bytes uploaded"
times=""
blobs=""
bytes=""
n=0
while [ $n -lt "$RUNS" ]; do
	printf '<!doctype html><title>changed</title><p>run %d\n' $n >"$site/d$n/p$n.html"
	t0=$(ms)
	"$BIN/skiff" deploy "$site" --project bench --json >"$T/one.json" 2>"$T/one.err" ||
		{ echo "bench: a deploy failed: $(cat "$T/one.err")" >&2; exit 1; }
	t1=$(ms)
	[ "$(jfield "$T/one.json" state)" = ready ] || { echo "bench: the deploy ended $(jfield "$T/one.json" state)" >&2; exit 1; }
	times="$times $((t1 - t0))"
	blobs="$blobs $(jfield "$T/one.json" uploaded)"
	bytes="$bytes $(jfield "$T/one.json" uploadedBytes)"
	n=$((n + 1))
done
m=$(median "$times")
echo "one file changed in 1,000: runs$times ms; median $m ms to ready (target < 1000 ms: $([ "$m" -lt 1000 ] && echo met || echo NOT met)); blobs uploaded:$blobs; bytes:$bytes (target 1 blob each: $(printf '%s\n' $blobs | grep -qv '^1$' && echo NOT met || echo met))"
t0=$(ms)
"$BIN/skiff" deploy "$site" --project bench --json >"$T/same.json" 2>"$T/same.err"
t1=$(ms)
ub=$(jfield "$T/same.json" uploadedBytes)
echo "unchanged 1,000 files: $(jfield "$T/same.json" uploaded) blobs, $ub bytes uploaded, $((t1 - t0)) ms to ready (target 0 bytes: $([ "$ub" = 0 ] && echo met || echo NOT met))"

# ---- 100 MB: skiff deploy against curl -T ----------------------------------------------------
big=$T/big
mkdir -p "$big"
i=0
while [ $i -lt 50 ]; do
	head -c 2097152 /dev/urandom >"$big/b$i.bin"
	i=$((i + 1))
done
total=$(cat "$big"/*.bin | wc -c)
# the files as the protocol names them, and curl's arguments: one -T/URL pair per blob
python3 - "$big" >"$T/files.json" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
files = {}
for n in sorted(os.listdir(d)):
    files["/" + n] = hashlib.sha256(open(os.path.join(d, n), "rb").read()).hexdigest()
print(json.dumps({"files": files}))
PY
unstore() { # the big blobs leave the file store, so that the next run stores them again
	python3 -c 'import json,sys,os
for h in json.load(open(sys.argv[1]))["files"].values():
    p = os.path.join(sys.argv[2], h[:2], h)
    if os.path.exists(p): os.unlink(p)' "$T/files.json" "$T/store/blobs"
}
curl_run() {
	curl -fsS -o "$T/c.json" -H "Authorization: Bearer $SKIFF_TOKEN" -H 'Content-Type: application/json' \
		--data-binary @"$T/files.json" "$STACK_URL/api/projects/bench/deployments" || return 1
	id=$(jfield "$T/c.json" deploymentId)
	python3 -c 'import json,sys
files = json.load(open(sys.argv[1]))["files"]
for path, h in files.items():
    print("upload-file = \"%s%s\"" % (sys.argv[2], path))
    print("url = \"%s/api/deployments/%s/blobs/%s\"" % (sys.argv[3], sys.argv[4], h))
    print("output = \"/dev/null\"")' "$T/files.json" "$big" "$STACK_URL" "$id" >"$T/curl.cfg"
	t0=$(ms)
	curl -fsS -K "$T/curl.cfg" -H "Authorization: Bearer $SKIFF_TOKEN" \
		-H 'Content-Type: application/octet-stream' -H 'Expect:' || return 1
	t1=$(ms)
	curl -fsS -o /dev/null -H "Authorization: Bearer $SKIFF_TOKEN" -H 'Content-Type: application/json' \
		-d '{"error":"benchmark"}' "$STACK_URL/api/deployments/$id/fail"
	echo $((t1 - t0))
}
ctimes=""
stimes=""
n=0
while [ $n -lt "$RUNS" ]; do
	unstore
	c=$(curl_run) || { echo "bench: curl -T failed" >&2; exit 1; }
	unstore
	t0=$(ms)
	"$BIN/skiff" deploy "$big" --project bench --json >"$T/big.json" 2>"$T/big.err" ||
		{ echo "bench: the 100 MB deploy failed: $(cat "$T/big.err")" >&2; exit 1; }
	t1=$(ms)
	[ "$(jfield "$T/big.json" uploadedBytes)" = "$total" ] || echo "bench: the CLI uploaded $(jfield "$T/big.json" uploadedBytes) of $total bytes" >&2
	ctimes="$ctimes $c"
	stimes="$stimes $((t1 - t0))"
	n=$((n + 1))
done
mc=$(median "$ctimes")
msk=$(median "$stimes")
python3 - "$total" "$mc" "$msk" "$ctimes" "$stimes" <<'PY'
import sys
total, c, s = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
mb = total / 1e6
rc, rs = mb / (c / 1000), mb / (s / 1000)
ratio = rs / rc
print(f"100 MB ({total} bytes, 50 files): curl -T runs{sys.argv[4]} ms, median {c} ms = {rc:.0f} MB/s; "
      f"skiff deploy runs{sys.argv[5]} ms (walk, hash, create, upload, finish), median {s} ms = {rs:.0f} MB/s; "
      f"ratio {ratio:.2f} (target >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'})")
PY
