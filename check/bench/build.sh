#!/bin/sh
# check/bench/build.sh — the local launcher and skiff's own work around a build
# (targets in doc/status.md): the time from queued to started (target < 100 ms), the time of a build of
# a 1,000-file static repository from a local path (clone, collect, hash, store, promote:
# target < 2 s), and the bytes an unchanged redeploy stores (target 0). BENCH_RUNS (default 3)
# runs of each; prints the median. Not in make check.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/check/lib.sh"
RUNS=${BENCH_RUNS:-3}
SKIFF_LOG_LEVEL=warn start_stack || exit 1

repo=$T/repo
mkdir -p "$repo"
i=0
while [ $i -lt 1000 ]; do
	d=$repo/d$((i % 20))
	mkdir -p "$d"
	printf '<!doctype html><title>%d</title><p>page %d of the benchmark site\n' $i $i >"$d/p$i.html"
	i=$((i + 1))
done
echo '<h1>bench</h1>' >"$repo/index.html"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=b -c user.email=b@skiff.invalid commit -qm bench

# field ID NAME: a deployment field
field() { rcli hget "skiff:deployment:$1" "$2"; }
wait_final() { # id
	wait_for 120 sh -c "case \$(redis-cli -s $T/redis.sock hget skiff:deployment:$1 state) in ready|error|canceled) exit 0;; *) exit 1;; esac"
}
curl -fsS -o "$T/create.json" -H "Origin: $STACK_URL" -H 'Content-Type: application/json' \
	-d "{\"gitURL\":\"file://$repo\",\"slug\":\"bench\"}" "$STACK_URL/api/projects" || exit 1
first=$(sed 's/.*"deploymentId":"\([a-z2-7]*\)".*/\1/' "$T/create.json")
wait_final "$first" || { echo "bench: first build did not finish" >&2; stack_logs; exit 1; }
echo "first deploy: $(field "$first" state), files $(field "$first" files), bytes stored $(field "$first" bytes_uploaded), $(( $(field "$first" finished) - $(field "$first" started) )) ms"

starts=""
works=""
uploads=""
n=0
while [ $n -lt "$RUNS" ]; do
	curl -fsS -o "$T/re.json" -X POST -H "Origin: $STACK_URL" -H 'Content-Type: application/json' -d '{}' \
		"$STACK_URL/api/projects/bench/deployments" || exit 1
	id=$(sed 's/.*"deploymentId":"\([a-z2-7]*\)".*/\1/' "$T/re.json")
	wait_final "$id" || { echo "bench: redeploy did not finish" >&2; exit 1; }
	[ "$(field "$id" state)" = ready ] || { echo "bench: redeploy ended $(field "$id" state)" >&2; exit 1; }
	starts="$starts $(( $(field "$id" started) - $(field "$id" created) ))"
	works="$works $(( $(field "$id" finished) - $(field "$id" started) ))"
	uploads="$uploads $(field "$id" bytes_uploaded)"
	n=$((n + 1))
done
median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(median "$starts")
mw=$(median "$works")
echo "queued → started: runs$starts ms; median $ms ms (target < 100 ms: $([ "$ms" -lt 100 ] && echo met || echo NOT met))"
echo "skiff's work on 1,000 files (clone, collect, hash, store, promote): runs$works ms; median $mw ms (target < 2000 ms: $([ "$mw" -lt 2000 ] && echo met || echo NOT met))"
echo "bytes stored by unchanged redeploys:$uploads (target 0: $(printf '%s\n' $uploads | grep -qv '^0$' && echo NOT met || echo met))"
