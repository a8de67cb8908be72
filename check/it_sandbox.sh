#!/bin/sh
# it_sandbox.sh — what a hostile build can reach and how far it can grow, against the whole
# stack of `make run` (lighttpd, skiff-dispatch, skiff-sse-bridge) plus a TCP Redis and a
# listener on all of the host's addresses: under build_network = egress none of them, nor
# 169.254.169.254 or a private address, answers a build, while `npm ci` still fetches a real
# dependency from the npm registry; build_network = host reaches them (so the probes can
# fail). The clone of a remote runs in the same sandbox and cannot reach the host either. Then each limit (/tmp, work directory, file size, processes) ends a build in `error`
# naming its setting, and a build whose skiff-build is killed with SIGKILL, or whose
# dispatcher is stopped, leaves no process and no work directory behind.
. "$(dirname "$0")/lib.sh"

command -v slirp4netns >/dev/null || { echo "it_sandbox: slirp4netns is not installed (scripts/deps.sh)" >&2; exit 1; }
SKIFF_SANDBOX=bwrap
export SKIFF_SANDBOX
start_stack || exit 1
HTTP_ORIGIN=$STACK_URL   # cgi's requests come from the dashboard's origin
export HTTP_ORIGIN

jget() {
	python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("|"):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" 2>/dev/null
}
body() { sed '1,/^\r*$/d'; }
commit() { git -C "$1" add -A && git -C "$1" -c user.email=t@example.com -c user.name=t commit -qm "$2"; }
new_repo() { mkdir -p "$1" && git -C "$1" init -q -b main; }
create() { # URL SLUG: prints the first deployment id
	cgi skiff-create POST /api/projects "{\"gitURL\":\"$1\",\"slug\":\"$2\"}" 2>/dev/null | body |
		jget "data|deploymentId"
}
redeploy() { cgi skiff-create POST "/api/projects/$1/deployments" '{}' 2>/dev/null | body | jget "data|deploymentId"; }
field() { rcli hget "skiff:deployment:$1" "$2"; }
final() { s=$(field "$1" state); [ "$s" = ready ] || [ "$s" = error ] || [ "$s" = canceled ]; }
# wait_final ID [SECONDS]: until the deployment is ready, error or canceled
wait_final() { wait_for "${2:-120}" final "$1" || echo "deployment $1 did not finish: $(field "$1" state)" >&2; }
log_of() { rcli --raw xrange "skiff:log:$1" - + | grep -v '^[0-9]*-[0-9]*$'; }
# site REPO COMMAND: a repository whose skiff.json runs COMMAND and deploys out/
site() {
	new_repo "$1"
	printf '{ "buildCommand": "%s", "outputDirectory": "out" }\n' "$2" >"$1/skiff.json"
}

# ---- the services a build must not reach ---------------------------------------------------
REDIS_PORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$T" \
	--logfile "$T/redis-tcp.log" --protected-mode no --daemonize no &
PIDS="$PIDS $!"
wait_for 10 redis-cli -p "$REDIS_PORT" ping || { echo "the TCP redis did not start" >&2; exit 1; }
ANY_PORT=$(free_port)
python3 -m http.server --bind 0.0.0.0 "$ANY_PORT" --directory "$T" >"$T/anyaddr.log" 2>&1 &
PIDS="$PIDS $!"
HOST_ADDR=$(ip -4 -o addr show scope global | awk '{ sub("/.*", "", $4); print $4; exit }')
wait_for 10 curl -fsS -o /dev/null "http://$HOST_ADDR:$ANY_PORT/" ||
	{ echo "the listener on $HOST_ADDR:$ANY_PORT did not start" >&2; exit 1; }

probe=$T/probe
site "$probe" "sh probe.sh"
cat >"$probe/probe.sh" <<EOF
# tcp NAME HOST PORT: whether a TCP connection opens, as REACHED or REFUSED with the reason
tcp() {
	if err=\$(timeout 5 bash -c "exec 3<>/dev/tcp/\$2/\$3" 2>&1); then echo "REACHED \$1"
	else echo "REFUSED \$1: \$err"; fi
}
tcp dashboard-api 127.0.0.1 $STACK_PORT
tcp dashboard-api-via-gateway 10.0.2.2 $STACK_PORT
tcp redis 127.0.0.1 $REDIS_PORT
tcp sse-bridge 127.0.0.1 $SSE_PORT
tcp host-address $HOST_ADDR $ANY_PORT
tcp metadata 169.254.169.254 80
tcp private-10 10.1.2.3 80
tcp private-192 192.168.1.1 80
curl -sS -m 5 -X POST -H 'Content-Type: application/json' -d '{}' \
	http://127.0.0.1:$STACK_PORT/api/projects/victim/delete || echo "REFUSED curl-delete"
redis-cli -h 127.0.0.1 -p $REDIS_PORT set skiff:project:victim:current evil || echo "REFUSED redis-set"
mkdir -p out && echo probed >out/index.html
EOF
commit "$probe" "probe"

idp=$(create "file://$probe" probe)
wait_final "$idp"
check_eq "the probing build is ready under egress" "ready" "$(field "$idp" state)"
l=$(log_of "$idp")
check_match "the log says the build network is outbound only" "Network: outbound only \\(slirp4netns\\)" "$l"
for name in dashboard-api dashboard-api-via-gateway redis sse-bridge host-address metadata private-10 private-192; do
	check_match "egress: $name is refused, and the log shows it" "^REFUSED $name: .*(refused|unreachable|No route)" "$l"
done
check_nomatch "egress: nothing was reached" "REACHED" "$l"
check_match "egress: curl to the dashboard API failed" "REFUSED curl-delete" "$l"
check_eq "egress: the TCP Redis did not get the key" "" "$(redis-cli -p "$REDIS_PORT" get skiff:project:victim:current)"

# the same probes with build_network = host reach everything on loopback: they can fail
echo "build_network = host" >>"$T/skiff.conf"
idh=$(redeploy probe)
wait_final "$idh"
l=$(log_of "$idh")
check_match "host: the log warns that the build shares the host's network" "build_network = host: this build shares the host's network" "$l"
check_match "host: the probe reaches the dashboard API" "^REACHED dashboard-api$" "$l"
check_match "host: the probe reaches the TCP Redis" "^REACHED redis$" "$l"
check_eq "host: the TCP Redis got the key" "evil" "$(redis-cli -p "$REDIS_PORT" get skiff:project:victim:current)"
redis-cli -p "$REDIS_PORT" del skiff:project:victim:current >/dev/null
sed -i '/^build_network = host$/d' "$T/skiff.conf"

# ---- the clone runs in the sandbox too ---------------------------------------------------
# A remote that passes the URL check but leads to this machine (its public address, as a
# name that resolves there, or re-resolves there later, would): the clone must not connect.
# Every connection to the listener shows in its log.
echo "allow_local_git = false" >>"$T/skiff.conf"
conns=$(wc -l <"$T/anyaddr.log")
idc=$(create "https://$HOST_ADDR:$ANY_PORT/repo.git" ssrf)
check_match "a project on a public-looking remote is accepted" '^[a-z2-7]{12}$' "$idc"
wait_final "$idc"
check_eq "the clone of a remote on the host's address fails" "error" "$(field "$idc" state)"
check_match "…because the sandbox cannot reach it" "clone failed: .*(unreachable|connect)" "$(field "$idc" error)"
check_eq "…and no connection reached the host" "$conns" "$(wc -l <"$T/anyaddr.log")"
echo "build_network = host" >>"$T/skiff.conf"
idc2=$(redeploy ssrf)
wait_final "$idc2"
check_match "host: the same clone connects to the host (so the check above can fail)" '^[1-9]' \
	"$(($(wc -l <"$T/anyaddr.log") - conns))"
sed -i '/^build_network = host$/d; /^allow_local_git = false$/d' "$T/skiff.conf"

echo "build_network = none" >>"$T/skiff.conf"
idz=$(redeploy probe)
wait_final "$idz"
l=$(log_of "$idz")
check_match "none: the log says there is no network" "Network: none \\(build_network = none\\)" "$l"
check_nomatch "none: nothing was reached" "REACHED" "$l"
sed -i '/^build_network = none$/d' "$T/skiff.conf"

# ---- npm ci of a real dependency from the registry, under egress ---------------------------
npmapp=$T/npmapp
new_repo "$npmapp"
cat >"$npmapp/package.json" <<'EOF'
{ "name": "npmapp", "version": "1.0.0", "private": true, "scripts": { "build": "node build.js" },
  "dependencies": { "is-number": "7.0.0" } }
EOF
cat >"$npmapp/package-lock.json" <<'EOF'
{
  "name": "npmapp", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": { "name": "npmapp", "version": "1.0.0", "dependencies": { "is-number": "7.0.0" } },
    "node_modules/is-number": {
      "version": "7.0.0",
      "resolved": "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz",
      "integrity": "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==",
      "license": "MIT", "engines": { "node": ">=0.12.0" }
    }
  }
}
EOF
cat >"$npmapp/build.js" <<'EOF'
const isNumber = require("is-number");
require("fs").mkdirSync("dist", { recursive: true });
require("fs").writeFileSync("dist/index.html", "<p>" + isNumber(42) + "</p>\n");
EOF
commit "$npmapp" "npm app"
idn=$(create "file://$npmapp" npmapp)
wait_final "$idn" 300
check_eq "npm ci with a registry dependency succeeds under egress" "ready" "$(field "$idn" state)"
l=$(log_of "$idn")
check_match "npm ci ran" "Install command \\(detected\\): npm ci" "$l"
check_match "npm ci added the package" "added 1 package" "$l"

# ---- limits ---------------------------------------------------------------------------------
# limit_build SLUG SETTING=VALUE COMMAND: a build with one limit lowered; prints its id
limit_build() {
	site "$T/$1" "$3"
	commit "$T/$1" "$1"
	echo "$2" >>"$T/skiff.conf"
	id=$(create "file://$T/$1" "$1")
	wait_final "$id"
	sed -i "/^$2\$/d" "$T/skiff.conf"
	echo "$id"
}
id=$(limit_build tmpfull "build_tmp_mb = 8" "dd if=/dev/zero of=/tmp/fill bs=1M count=64; sleep 5; mkdir -p out; echo x >out/index.html")
check_eq "a build filling /tmp ends in error" "error" "$(field "$id" state)"
check_match "…naming build_tmp_mb" "filled its /tmp, limited to 8 MB \\(build_tmp_mb\\)" "$(field "$id" error)"

id=$(limit_build diskfull "build_disk_mb = 16" "dd if=/dev/zero of=big bs=1M count=64; sleep 5; mkdir -p out; echo x >out/index.html")
check_eq "a build growing its work directory past the limit ends in error" "error" "$(field "$id" state)"
check_match "…naming build_disk_mb" "work directory grew past its limit of 16 MB \\(build_disk_mb\\)" "$(field "$id" error)"

id=$(limit_build bigfile "build_file_mb = 4" "dd if=/dev/zero of=big bs=1M count=10; mkdir -p out; echo x >out/index.html")
check_eq "a build writing a file past the limit ends in error" "error" "$(field "$id" state)"
check_match "…naming build_file_mb" "a file grew past the limit of 4 MB \\(build_file_mb\\)" "$(field "$id" error)"

id=$(limit_build forks "build_processes = 16" "i=0; while [ \$i -lt 64 ]; do sleep 3011 & i=\$((i+1)); done; wait; mkdir -p out; echo x >out/index.html")
check_eq "a build starting more processes than allowed ends in error" "error" "$(field "$id" state)"
check_match "…naming build_processes" "limit of 16 processes \\(build_processes\\)" "$(field "$id" error)"
check_eq "…and none of its processes is left" "" "$(pgrep -f 'sleep 3011')"

check_eq "no work directory is left behind" "" "$(ls "$T/work")"
# the cgroups of this run's deployments only: another test run on the same machine has its own
left=""
for c in $(ls /sys/fs/cgroup/pids/skiff-build 2>/dev/null | grep -E '^[a-z2-7]{12}$'); do
	[ "$(rcli exists "skiff:deployment:$c")" = 1 ] && left="$left $c"
done
check_eq "no build's cgroup is left behind" "" "${left# }"

# ---- kill -9 of skiff-build: the dispatcher removes what it left ----------------------------
site "$T/killed" "sleep 3012; mkdir -p out; echo x >out/index.html"
dd if=/dev/zero of="$T/killed/payload" bs=1k count=64 2>/dev/null
commit "$T/killed" "killed"
id=$(create "file://$T/killed" killed)
wait_for 60 pgrep -f 'sleep 3012' || fail "the killed build's command did not start"
bpid=$(sed -n "s/.*build launched deployment=$id pid=\\([0-9]*\\).*/\\1/p" "$T/dispatch.log" | tail -n 1)
check_match "the dispatcher logged the build's pid" '^[0-9]+$' "$bpid"
[ -n "$bpid" ] && kill -9 "$bpid"
wait_final "$id" 30
check_eq "the killed build is marked error" "error" "$(field "$id" state)"
check_match "…as a dead build process" "build process died: signal 9" "$(field "$id" error)"
check_eq "its command is gone" "" "$(pgrep -f 'sleep 3012')"
check_eq "its work directory is gone" "" "$(ls "$T/work")"
check_eq "no slirp4netns is left for it" "" "$(pgrep -f "slirp4netns.*tap0" | while read -r p; do
	[ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$bpid" ] && echo "$p"; done)"

# ---- stopping the dispatcher stops its builds and marks them ---------------------------------
site "$T/stopped" "sleep 3013; mkdir -p out; echo x >out/index.html"
commit "$T/stopped" "stopped"
id=$(create "file://$T/stopped" stopped)
wait_for 60 pgrep -f 'sleep 3013' || fail "the stopped build's command did not start"
kill "$DISPATCH_PID"
wait_for 20 sh -c "! kill -0 $DISPATCH_PID" || fail "the dispatcher did not exit within 20 s"
check_match "the build is marked as stopped by the platform" "^(error|canceled)$" "$(field "$id" state)"
check_match "…with a reason saying the platform stopped" "platform (stopped|is stopping)" "$(field "$id" error)"
check_eq "its command is gone" "" "$(pgrep -f 'sleep 3013')"
check_eq "its work directory is gone" "" "$(ls "$T/work")"

[ "$TESTS_FAILED" -eq 0 ] || stack_logs
finish
