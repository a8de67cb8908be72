#!/bin/sh
# it_switch.sh — what skiff-sse-bridge does with a message on the switch channel
# ({redis_prefix}switch, lib/model_switch.h; sse-bridge/skiff-sse-bridge/sites.c): a message
# that is exactly a valid slug drops that site's fast-path link and no other; anything else (a
# NUL inside, empty, longer than a slug, not a slug) drops nothing and is logged once, as a
# warning whose excerpt of the message is percent-encoded, so it can neither name a site it
# does not spell nor forge a log line. The stack of `make run` (genconf): redis, lighttpd with
# the fast path, skiff-dispatch and the bridge.
. "$(dirname "$0")/lib.sh"

start_stack || { fail "the stack starts"; finish; exit 1; }
LOG=$T/sse-bridge.log
CH=skiff:switch
wait_for 10 grep -q 'fastpath switches subscribed' "$LOG" || fail "the bridge listens for switches"
# (subscribing drops every link: the sites are seeded and warmed after it)
seed_site demo ddddddddddd2 '<!doctype html><h1>demo</h1>' 1732270000000
seed_site other eeeeeeeeeee2 '<!doctype html><h1>other</h1>' 1732270000000
for s in demo other; do
	curl -s -o /dev/null -H "Host: $s$SITE_SUFFIX" "http://127.0.0.1:$STACK_PORT/"
done
link() { readlink "$T/fastpath/sites/$1" 2>/dev/null || echo none; }
check_eq "a warm request links each site's tree" "../deployments/ddddddddddd2 ../deployments/eeeeeeeeeee2" \
	"$(link demo) $(link other)"

# pub: PUBLISHes stdin, byte for byte, on the switch channel
pub() { redis-cli -s "$T/redis.sock" -x PUBLISH "$CH" >/dev/null; }
long=$(printf 'demo%0200d' 0 | cut -c1-200)
printf 'demo\0x' | pub
printf '%s' "$long" | pub
printf '../demo' | pub
printf '' | pub
printf 'x\033[31m\nskiff-sse-bridge[1]: level=error forged' | pub
printf 'nosuch' | pub
# the drops run in order in the bridge's thread: once it has logged nosuch's, it is done
# with every message before it
wait_for 10 grep -q 'fastpath switch site=nosuch' "$LOG" || fail "the bridge takes the valid slug nosuch"
check_eq "after the bad messages demo's and other's links are still there" \
	"../deployments/ddddddddddd2 ../deployments/eeeeeeeeeee2" "$(link demo) $(link other)"
check_eq "... and the bridge dropped no other site than nosuch" "fastpath switch site=nosuch" \
	"$(grep -o 'fastpath switch site=.*' "$LOG")"

# warned REASON LENGTH EXCERPT: the bridge's one warning line for a message
warned() {
	grep -F -c "level=warn fastpath switch ignored reason=$1 length=$2 message=$3" "$LOG"
}
check_eq "a NUL inside: one warning, the NUL as %00" 1 "$(warned nul 6 'demo%00x')"
check_eq "longer than a slug: one warning, its first 64 bytes" 1 \
	"$(warned too_long 200 "$(echo "$long" | cut -c1-64)")"
check_eq "a path: one warning, the slash as %2F" 1 "$(warned invalid_slug 7 '..%2Fdemo')"
check_eq "empty: one warning" 1 "$(grep -c 'level=warn fastpath switch ignored reason=empty length=0 message=$' "$LOG")"
check_eq "control bytes and a log line's shape: one warning, all of it encoded" 1 \
	"$(warned invalid_slug 46 'x%1B%5B31m%0Askiff-sse-bridge%5B1%5D%3A%20level%3Derror%20forged')"
check_eq "five warnings in all, none for the valid slug" 5 "$(grep -c 'fastpath switch ignored' "$LOG")"
check_eq "no line of the bridge's log is forged by a message" 0 "$(grep -c '^skiff-sse-bridge\[1\]' "$LOG")"
check_eq "no control byte in the bridge's log" 0 "$(LC_ALL=C tr -d '\n' <"$LOG" | LC_ALL=C grep -c '[[:cntrl:]]')"
check_eq "the bridge is still running" yes "$(kill -0 "$BRIDGE_PID" 2>/dev/null && echo yes || echo no)"

# a proper switch of demo drops demo's link, and only demo's
n=$(grep -c 'fastpath switch site=demo$' "$LOG")
printf 'demo' | pub
wait_for 10 sh -c "[ \$(grep -c 'fastpath switch site=demo\$' '$LOG') -gt $n ]" ||
	fail "the bridge takes demo's switch"
check_eq "PUBLISH demo drops demo's link and leaves other's" "none ../deployments/eeeeeeeeeee2" \
	"$(link demo 2>/dev/null) $(link other)"
check_eq "... with no warning" 5 "$(grep -c 'fastpath switch ignored' "$LOG")"
# (skiff-serve looks at a link it has seen again only after its memo, SITE_FRESH_MS = 500 ms)
sleep 0.6
curl -s -o /dev/null -H "Host: demo$SITE_SUFFIX" "http://127.0.0.1:$STACK_PORT/"
check_eq "demo's next request links its tree again" "../deployments/ddddddddddd2" "$(link demo)"
finish
