#!/bin/sh
# systemd-trial.sh — doc/operators.md's Apache install, for real: the tree `make install`
# produces, booted under systemd 252 as PID 1 of private PID, mount, UTS and network
# namespaces (the host's units, /etc, /run, /var/lib are not touched: the namespace sees
# copies and tmpfs mounts), with the installed units only. Apache is configured from the
# installed site files exactly as the guide says. Checks that the hardened units start, that
# socket activation hands the programs their sockets, that bubblewrap builds inside
# skiff-dispatch.service's sandbox, the watchdog, and a restart under load.
#
# NOT part of `make check`: it needs root, runs a second systemd, and creates cgroups in the
# machine's hierarchy (removed again at the end). Run it by hand:
#   SKIFF_BUILD_DIR=$PWD/build/debug sh check/systemd-trial.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "systemd-trial: needs root" >&2; exit 1; }
for tool in unshare nsenter /lib/systemd/systemd apache2 redis-server curl git htpasswd; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing" >&2; exit 1; }
done
chmod 0711 "$T"
SANDBOX=bwrap
bwrap --ro-bind / / true 2>/dev/null || SANDBOX=none

# cgroups that exist now stay; those the trial's systemd creates go at the end
CG_BEFORE=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d 2>/dev/null | sort)
trial_cleanup() {
	[ -n "${UNSHARE_PID:-}" ] && kill -9 "$UNSHARE_PID" 2>/dev/null
	sleep 1
	for d in $(find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d 2>/dev/null | sort); do
		printf '%s\n' "$CG_BEFORE" | grep -qxF "$d" && continue
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	cleanup
}
trap trial_cleanup EXIT INT TERM

if grep -q '^include mk/install.mk' "$ROOT/GNUmakefile"; then
	make --no-print-directory -C "$ROOT" B="$SKIFF_BUILD_DIR" DESTDIR="$T/dest" install >"$T/install.log" 2>&1
else
	make --no-print-directory -C "$ROOT" -f GNUmakefile -f mk/install.mk B="$SKIFF_BUILD_DIR" \
		DESTDIR="$T/dest" install >"$T/install.log" 2>&1
fi || { fail "make install"; finish; exit 1; }
UNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
: "${UNITDIR:=/lib/systemd/system}"

# the namespace's /etc: a copy, with skiff's configuration as an operator writes it
cp -a /etc "$T/etc" 2>/dev/null
mkdir -p "$T/etc/skiff"
cat >"$T/etc/skiff/skiff.conf" <<CONF
domain = example.com
dashboard_url = http://skiff.example.com
build_program = /usr/local/lib/skiff/skiff-build
redis_socket = /run/redis/redis.sock
sandbox = $SANDBOX
allow_local_git = true
log_level = debug
CONF
# units: the installed ones, stubs for the targets they order against, their output in files
mkdir -p "$T/units/service.d"
for t in sysinit basic sockets network network-online multi-user shutdown local-fs paths timers slices; do
	printf '[Unit]\nDescription=stub %s\nDefaultDependencies=no\n' "$t" >"$T/units/$t.target"
done
cp "$T/dest$UNITDIR"/skiff* "$T/units/"
printf '[Unit]\nDescription=skiff trial\nWants=skiff.target skiff-create.socket skiff-status.socket skiff-serve.socket skiff-hook.socket skiff-dispatch.service skiff-sse-bridge.service\n' \
	>"$T/units/skiff-trial.target"
printf '[Service]\nStandardOutput=append:/run/log/%%N.log\nStandardError=inherit\n' >"$T/units/service.d/log.conf"
# the repository to deploy, served as file:///srv inside
mkdir -p "$T/repo"
echo '<h1>built under systemd</h1>' >"$T/repo/index.html"
printf '{"buildCommand":"echo host=$(hostname); id; grep ^CapEff /proc/self/status","outputDirectory":"."}' >"$T/repo/skiff.json"
(cd "$T/repo" && git init -q -b main && git add -A && git -c user.name=t -c user.email=t@x commit -qm one)

cat >"$T/inner.sh" <<INNER
#!/bin/sh
set -e
mount --make-rprivate /
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/lib
mount -t tmpfs tmpfs /var/cache
mount -t tmpfs tmpfs /var/log
mount --bind $T/etc /etc
mount --bind $T/dest/usr/local /usr/local
mount --bind $T/repo /srv
: >$T/console
mount --bind $T/console /dev/console
systemd-sysusers $T/dest/usr/lib/sysusers.d/skiff.conf
systemd-tmpfiles --create $T/dest/usr/lib/tmpfiles.d/skiff.conf
chown -R skiff: /srv
mkdir -p /run/redis /run/log
ip link set lo up
redis-server --daemonize yes --port 0 --unixsocket /run/redis/redis.sock --unixsocketperm 777 \
	--dir /run/redis --logfile /run/redis/log --save ''
exec env SYSTEMD_UNIT_PATH=$T/units /lib/systemd/systemd --system --unit=skiff-trial.target \
	--log-target=console --default-standard-output=inherit --default-standard-error=inherit \
	--show-status=0
INNER
unshare --pid --fork --kill-child=SIGKILL --mount --uts --net --mount-proc sh "$T/inner.sh" \
	>"$T/unshare.log" 2>&1 </dev/null &
UNSHARE_PID=$!
wait_for 10 sh -c "pgrep -P $UNSHARE_PID -x systemd" || { cat "$T/unshare.log" >&2; fail "systemd boots"; finish; exit 1; }
SD=$(pgrep -P "$UNSHARE_PID" -x systemd)
ns() { nsenter -t "$SD" -m -p -n -u "$@"; }
wait_for 20 ns systemctl is-active -q skiff-dispatch skiff-sse-bridge skiff-status.socket
ok "systemd 252 boots the installed units"

# ---- the guide's steps 6 and 8 --------------------------------------------------------------
ns sh -c 'htpasswd -b -c -B /etc/skiff/htpasswd admin pw 2>/dev/null
	systemd-tmpfiles --create '"$T"'/dest/usr/lib/tmpfiles.d/skiff.conf
	a2enmod -q proxy proxy_fcgi proxy_http headers xsendfile auth_basic authn_file authz_user env >/dev/null
	cp /usr/local/share/skiff/apache/skiff-dashboard.conf /usr/local/share/skiff/apache/skiff-sites.conf \
		/etc/apache2/sites-available/
	a2dissite -q 000-default >/dev/null 2>&1; a2ensite -q skiff-dashboard skiff-sites >/dev/null
	. /etc/apache2/envvars; mkdir -p $APACHE_RUN_DIR $APACHE_LOCK_DIR $APACHE_LOG_DIR
	apache2 -t && apache2 -k start' >"$T/apache.log" 2>&1
check_eq "Apache starts from the installed site files" "0" "$?"
wait_for 10 ns curl -s -o /dev/null http://127.0.0.1/
# dash PATH ARGS...: a request to the dashboard host from its own pages (Origin)
dash() { p=$1; shift; ns curl -s -H 'Host: skiff.example.com' -H 'Origin: http://skiff.example.com' "$@" "http://127.0.0.1$p"; }

for s in create status serve hook; do
	check_eq "skiff-$s.socket: /run/skiff/skiff-$s.sock, www-data, 0660" "660 www-data www-data" \
		"$(ns stat -c '%a %U %G' /run/skiff/skiff-$s.sock 2>&1)"
done
check_eq "the dashboard through Apache needs the password (public_reads = false)" "401 200" \
	"$(dash / -o /dev/null -w '%{http_code}') $(dash / -u admin:pw -o /dev/null -w '%{http_code}')"
check_eq "/healthz: Redis and the store answer skiff-status in its sandbox" "200" \
	"$(dash /healthz -o "$T/health.json" -w '%{http_code}')"
check_eq "skiff-status was started by its socket, as skiff" "active skiff" \
	"$(ns systemctl is-active skiff-status) $(ns ps -o user= -C skiff-status | head -n 1)"
check_eq "POST without a password: 401" "401" \
	"$(dash /api/projects -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"gitURL":"file:///srv","slug":"trial"}')"
r=$(dash /api/projects -u admin:pw -H 'Content-Type: application/json' -d '{"gitURL":"file:///srv","slug":"trial"}')
id=$(printf '%s' "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["deploymentId"])' 2>/dev/null)
check_match "POST with the password queues a deployment" '^[a-z2-7]{12}$' "$id"
state() { dash "/api/deployments/$id" -u admin:pw | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["state"])' 2>/dev/null; }
# poll_until SECONDS COMMAND...: like wait_for, for shell functions
poll_until() {
	n=$(($1 * 10))
	shift
	until "$@"; do
		n=$((n - 1))
		[ $n -le 0 ] && return 1
		sleep 0.1
	done
}
is_ready() { [ "$(state)" = ready ]; }
poll_until 60 is_ready
check_eq "skiff-dispatch.service built it" "ready" "$(state)"
log=$(dash "/api/deployments/$id/log" -u admin:pw)
check_match "the build ran as skiff without capabilities" 'uid=[0-9]+\(skiff\)' "$log"
check_match "  with no capabilities" 'CapEff:[[:space:]]*0+$' "$(printf '%s\n' "$log" | grep CapEff)"
[ "$SANDBOX" = bwrap ] && check_match "  inside bubblewrap (its own host name)" 'host=skiff-build' "$log"
check_eq "the site through Apache and mod_xsendfile" "<h1>built under systemd</h1>" \
	"$(ns curl -s -H 'Host: trial.example.com' http://127.0.0.1/)"
blob=$(ns find /var/lib/skiff/store/blobs -type f | head -n 1)
check_eq "blobs: www-data reads them, other users do not" "yes no" \
	"$(ns setpriv --reuid=www-data --regid=www-data --clear-groups cat "$blob" >/dev/null 2>&1 && echo yes || echo no) $(ns setpriv --reuid=nobody --regid=nogroup --clear-groups cat "$blob" >/dev/null 2>&1 && echo yes || echo no)"
check_match "the log through Apache's /events/" '^id: ' "$(ns curl -sN --max-time 3 -H 'Host: skiff.example.com' "http://127.0.0.1/events/$id")"

# ---- the watchdog, a restart under load, nothing failed -----------------------------------
w1=$(ns systemctl show -p WatchdogTimestampMonotonic --value skiff-sse-bridge)
pinged() { [ "$(ns systemctl show -p WatchdogTimestampMonotonic --value skiff-sse-bridge)" != "$w1" ]; }
poll_until 20 pinged
check_eq "skiff-sse-bridge pings the watchdog" "yes" \
	"$([ "$(ns systemctl show -p WatchdogTimestampMonotonic --value skiff-sse-bridge)" != "$w1" ] && echo yes)"
ns sh -c 'for i in $(seq 1 300); do curl -s -o /dev/null -w "%{http_code}\n" -u admin:pw -H "Host: skiff.example.com" http://127.0.0.1/api/projects; done >/run/codes' &
load=$!
sleep 0.3
ns systemctl restart skiff-status skiff-create skiff-serve
wait "$load"
check_eq "300 requests while the programs restart: all answered" "300 200" "$(ns sort /run/codes | uniq -c | sed 's/^ *//')"
check_eq "no unit failed, none restarted" "0 failed, restarts: 0 0 0 0 0 0" \
	"$(ns systemctl --failed --no-legend | wc -l | tr -d ' ') failed, restarts: $(ns systemctl show -p NRestarts --value skiff-sse-bridge skiff-dispatch skiff-status skiff-create skiff-serve skiff-hook | grep . | tr '\n' ' ' | sed 's/ *$//')"
for u in skiff-status skiff-create skiff-serve skiff-hook skiff-dispatch skiff-sse-bridge; do
	echo "exposure: $(ns systemd-analyze security "$u.service" --no-pager 2>/dev/null | tail -n 1)"
done
[ "$TESTS_FAILED" -eq 0 ] || ns sh -c 'tail -n 20 /run/log/*.log' >&2
finish
