#!/bin/sh
# it_domains_apache.sh — certificates for custom domains under the real Apache httpd with
# mod_md, from Pebble (Debian's ACME test server), which validates each http-01 challenge for
# real: it resolves the name through dnsmasq (127.0.0.1) and fetches the challenge from Apache's
# plain HTTP port, where mod_md answers it. Two domains of a project pass skiff's ownership check, skiff-
# dispatch writes them to the acme_file that apache2.conf includes and reloads Apache (execve
# of apache2 -k graceful), mod_md obtains a certificate for each, and curl --resolve with
# Pebble's root gets each site over HTTPS with the certificate of its own name; plain HTTP on
# the domain then redirects to HTTPS. A third domain that does not point here stays pending
# and never reaches the file; removing a domain drops it from the file and it stops serving.
# Active names are checked again (every 3 s here) and pass while plain HTTP redirects.
# mod_md runs the shipped skiff-md.conf's MDMessageCmd, skiff-md-event, as www-data: on
# `renewed` (a certificate staged, the first one included) it rewrites the stamp that
# skiff-md-reload.path watches; the test then does the graceful restart that the path unit's
# service would (systemd does not run here). Renewal: with two-minute certificates and
# MDRenewWindow 75%, mod_md orders a new one on its own 30 s after the first, stages it and
# runs skiff-md-event again; after the restart Apache serves the new serial.
. "$(dirname "$0")/lib.sh"

WWW=www-data
for tool in apache2 pebble dnsmasq openssl curl python3 redis-server; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
for p in skiff-create skiff-status skiff-serve skiff-dispatch; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done
MODS=/usr/lib/apache2/modules
[ -e "$MODS/mod_md.so" ] && [ -e "$MODS/mod_ssl.so" ] || { echo "mod_md or mod_ssl missing" >&2; exit 1; }

chmod 0711 "$T"
mkdir -p "$T/run" "$T/store/blobs" "$T/store/manifests" "$T/cache" "$T/work" "$T/apache" \
	"$T/md" "$T/md-event"
chown "$WWW:$WWW" "$T/md-event"   # as systemd/tmpfiles.d/skiff.conf creates it
chgrp "$WWW" "$T/run" && chmod 0750 "$T/run"
PORT=$(free_port)
HTTPS_PORT=$(free_port)
DOMAIN=example.com
A=www.example.test
B=shop.example.test
AWAY=away.example.test

start_dns $A $B || exit 1
start_pebble "$PORT" "$HTTPS_PORT" 120 || exit 1   # certificates of two minutes
ok "Pebble runs"

# ---- skiff: a project with a ready deployment ---------------------------------------------
cat >"$T/skiff.conf" <<CONF
redis_socket = $T/redis.sock
store = file
store_path = $T/store
cache_path = $T/cache
work_dir = $T/work
sandbox = none
auth_disabled = true
public_reads = true
domain = $DOMAIN
site_port = $PORT
dashboard_url = http://localhost
xsendfile = true
xsendfile_plain_only = true
log_level = debug
domain_check_resolve = $A:127.0.0.1 $B:127.0.0.1
domain_check_timeout = 2
domain_recheck_interval = 3
acme = apache
acme_file = $T/apache/skiff-domains.conf
acme_site = $T/apache/skiff-domain-site.inc
acme_https_port = $HTTPS_PORT
acme_reload = /usr/sbin/apache2 -k graceful -f $T/apache/apache2.conf
CONF
chmod 0644 "$T/skiff.conf"
export SKIFF_CONFIG="$T/skiff.conf"
start_redis
chmod 0666 "$T/redis.sock"

seed_site shop eeeeeeeeeee2 '<!doctype html><h1>shop over https</h1>'
chmod -R a+rX "$T/store"

"$BIN/skiff-serve" -c "$T/skiff.conf" -s "$T/run/skiff-serve.sock" >>"$T/skiff-serve.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 test -S "$T/run/skiff-serve.sock" || { echo "skiff-serve: no socket" >&2; exit 1; }
chgrp "$WWW" "$T/run/skiff-serve.sock" && chmod 0660 "$T/run/skiff-serve.sock"

# ---- Apache: the shipped sites file and the domain include, mod_md pointed at Pebble --------
subst() {
	sed -e "s|\*:80>|*:$PORT>|" -e "s|/run/skiff/|$T/run/|g" \
		-e "s|/var/lib/skiff/store|$T/store|g" -e "s|/var/cache/skiff|$T/cache|g" \
		-e "s|/var/lib/skiff/md-event|$T/md-event|g" -e "s|/var/lib/skiff/acme/|$T/apache/|g" \
		-e "s|/usr/local/share/skiff/apache/|$T/apache/|g" \
		"$ROOT/apache/$1" >"$T/apache/$1"
}
subst skiff-sites.conf
subst skiff-domain-site.inc
subst skiff-md.conf
cp "$ROOT/apache/skiff-md-event" "$T/apache/" && chmod 0755 "$T/apache/skiff-md-event"
{
	for m in mpm_event authz_core authz_host mime headers proxy proxy_fcgi xsendfile ssl md \
		socache_shmcb; do
		echo "LoadModule ${m}_module $MODS/mod_$m.so"
	done
	cat <<CONF
Define APACHE_LOG_DIR $T/apache
ServerName localhost
Listen 127.0.0.1:$PORT
Listen 127.0.0.1:$HTTPS_PORT
PidFile $T/apache/apache2.pid
DefaultRuntimeDir $T/apache
Mutex file:$T/apache default
ErrorLog $T/apache/error.log
LogLevel warn md:debug
LogFormat "%v %h %u \"%r\" %>s %b" combined
User $WWW
Group $WWW
TypesConfig /etc/mime.types
SSLSessionCache shmcb:$T/apache/ssl_scache(512000)
MDCertificateAuthority $PEBBLE_DIR
MDCACertificateFile $PEBBLE_TLS
MDStoreDir $T/md
MDPortMap http:$PORT https:$HTTPS_PORT
MDRetryDelay 1s
MDRenewWindow 75%
MDCheckInterval 2s
<Directory />
	AllowOverride None
	Require all denied
</Directory>
Include $T/apache/skiff-sites.conf
Include $T/apache/skiff-md.conf
CONF
} >"$T/apache/apache2.conf"
apache2 -t -f "$T/apache/apache2.conf" >"$T/apache/t.out" 2>&1
check_eq "apache2 -t" "0" "$?"
apache2 -DFOREGROUND -f "$T/apache/apache2.conf" >>"$T/apache/stdout.log" 2>&1 &
APACHE_PID=$!
PIDS="$PIDS $APACHE_PID"
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/" ||
	{ echo "apache did not start" >&2; cat "$T/apache/error.log" >&2; exit 1; }

"$BIN/skiff-dispatch" -c "$T/skiff.conf" >>"$T/dispatch.log" 2>&1 &
PIDS="$PIDS $!"

api() {
	cgi "$@" >"$T/resp" 2>>"$T/stderr.log"
	STATUS=$(sed -n '1s/^Status: \([0-9][0-9][0-9]\).*/\1/p' "$T/resp")
	sed '1,/^\r\{0,1\}$/d' "$T/resp" >"$T/body"
}
for n in $A $B $AWAY; do
	api skiff-create POST /api/projects/shop/domains "{\"name\":\"$n\"}"
	check_eq "add $n" 201 "$STATUS"
done
state_of() {
	api skiff-status GET /api/projects/shop/domains
	python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["data"]:
    if d["name"] == sys.argv[2]: print(d["state"])' "$T/body" "$1"
}

# ---- verified, written, reloaded: active ----------------------------------------------------
wait_for 30 sh -c "[ \"\$(grep -c '^<MDomainSet' '$T/apache/skiff-domains.conf' 2>/dev/null)\" = 2 ]"
for n in $A $B; do   # marked active once the reload ran
	i=0
	while [ "$(state_of $n)" != active ] && [ $i -lt 40 ]; do sleep 0.5; i=$((i + 1)); done
	check_eq "$n active" active "$(state_of $n)"
done
check_eq "$AWAY pending" pending "$(state_of $AWAY)"
check_nomatch "$AWAY is not in the ACME file" "$AWAY" "$(cat "$T/apache/skiff-domains.conf")"

# mod_md orders the certificates after the reload, stages them and runs skiff-md-event on
# `renewed`; the graceful restart that skiff-md-reload.service would do activates them.
for n in $A $B; do
	wait_for 90 sh -c "test -s '$T/md/staging/$n/pubcert.pem' || test -s '$T/md/domains/$n/pubcert.pem'" ||
		{ fail "mod_md obtained no certificate for $n"; tail -n 30 "$T/apache/error.log" >&2; }
done
wait_for 10 test -s "$T/md-event/renewed"
check_match "mod_md ran skiff-md-event: the stamp names a staged certificate" \
	"^renewed ($A|$B)\$" "$(cat "$T/md-event/renewed" 2>/dev/null)"
check_eq "the stamp is www-data's (written by Apache's user)" "$WWW" \
	"$(stat -c %U "$T/md-event/renewed" 2>/dev/null)"
rm -f "$T/md-event/renewed"
apache2 -k graceful -f "$T/apache/apache2.conf"   # what skiff-md-reload.service runs
for n in $A $B; do
	wait_for 30 curl -s -o /dev/null --cacert "$PEBBLE_ROOT" \
		--resolve "$n:$HTTPS_PORT:127.0.0.1" "https://$n:$HTTPS_PORT/"
	r=$(curl -sS --cacert "$PEBBLE_ROOT" --resolve "$n:$HTTPS_PORT:127.0.0.1" \
		-o "$T/https.out" -w '%{http_code} %{ssl_verify_result}' "https://$n:$HTTPS_PORT/" 2>&1)
	check_eq "$n over HTTPS, verified with Pebble's root" "200 0" "$r"
	check_match "$n: the project's page" 'shop over https' "$(cat "$T/https.out" 2>/dev/null)"
	san=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$n" </dev/null 2>/dev/null |
		openssl x509 -noout -ext subjectAltName 2>/dev/null | tail -n 1 | tr -d ' ')
	check_eq "$n: the certificate names exactly $n" "DNS:$n" "$san"
	r=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: $n:$PORT" "http://127.0.0.1:$PORT/")
	check_match "$n: plain HTTP redirects to HTTPS" "^30[27] https://$n" "$r"
	r=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $n:$PORT" \
		"http://127.0.0.1:$PORT/.well-known/acme-challenge/nothing-here")
	check_eq "$n: ACME challenges are answered (404 for an unknown token), not redirected" "404" "$r"
done

serial() {
	openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$1" </dev/null 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null
}
SERIAL_A=$(serial $A)
check_match "$A: a serial" '^serial=' "$SERIAL_A"

# ---- re-checks of active names: mod_md redirects plain HTTP to HTTPS, not /.well-known/ ----
field() {
	api skiff-status GET /api/projects/shop/domains
	python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["data"]:
    if d["name"] == sys.argv[2]: print(d.get(sys.argv[3]))' "$T/body" "$1" "$2"
}
C1=$(field $A checked)
sleep 8   # domain_recheck_interval = 3
C2=$(field $A checked)
if [ "$C2" -gt "$C1" ] 2>/dev/null; then ok "$A checked again ($C1 -> $C2)"
else fail "$A not checked again ($C1 -> $C2)"; fi
for n in $A $B; do
	check_eq "$n: re-checked while HTTP redirects to HTTPS, nothing lost" None "$(field $n lostSince)"
	check_eq "$n: no reason" None "$(field $n reason)"
done

# ---- HSTS, opt-in per project (skiff-serve adds it over HTTPS) -------------------------------
api skiff-create PATCH /api/projects/shop '{"hsts":true}'
check_eq "PATCH hsts" 200 "$STATUS"
sleep 1
r=$(curl -sS -D - -o /dev/null --cacert "$PEBBLE_ROOT" --resolve "$A:$HTTPS_PORT:127.0.0.1" \
	"https://$A:$HTTPS_PORT/" | tr -d '\r' | sed -n 's/^[Ss]trict-[Tt]ransport-[Ss]ecurity: //p')
check_eq "$A: HSTS over HTTPS" "max-age=31536000" "$r"

# ---- removal: out of the file, not served ----------------------------------------------------
api skiff-create DELETE "/api/projects/shop/domains/$B"
check_eq "remove $B" 200 "$STATUS"
wait_for 10 sh -c "! grep -q '$B' '$T/apache/skiff-domains.conf'"
check_nomatch "$B is out of the ACME file" "$B" "$(cat "$T/apache/skiff-domains.conf")"
check_match "$A is still in it" "<MDomainSet $A>" "$(cat "$T/apache/skiff-domains.conf")"
sleep 2   # the reload and skiff-serve's half-second memory
r=$(curl -s -o "$T/gone.out" -w '%{http_code}' -H "Host: $B:$PORT" "http://127.0.0.1:$PORT/")
check_eq "removed $B serves nothing" 404 "$r"
check_nomatch "removed $B: not the project's page" 'shop over https' "$(cat "$T/gone.out")"

# ---- renewal: mod_md orders and stages a new certificate by itself, and says so -------------
wait_for 120 grep -qx "renewed $A" "$T/md-event/renewed" ||
	tail -n 30 "$T/apache/error.log" >&2
check_eq "$A: mod_md ran skiff-md-event for the renewal" "renewed $A" \
	"$(cat "$T/md-event/renewed" 2>/dev/null)"
check_eq "$A: the renewed certificate is staged" yes \
	"$(test -s "$T/md/staging/$A/pubcert.pem" && echo yes)"
apache2 -k graceful -f "$T/apache/apache2.conf"   # what skiff-md-reload.service runs
wait_for 30 sh -c "[ \"\$(openssl s_client -connect 127.0.0.1:$HTTPS_PORT -servername $A </dev/null 2>/dev/null |
	openssl x509 -noout -serial 2>/dev/null)\" != '$SERIAL_A' ]"
r=$(serial $A)
check_match "$A: a serial after the renewal" '^serial=' "$r"
if [ "$r" != "$SERIAL_A" ]; then ok "$A: Apache serves the certificate mod_md renewed"
else fail "$A: still the first certificate ($SERIAL_A)"; fi
r=$(curl -sS --cacert "$PEBBLE_ROOT" --resolve "$A:$HTTPS_PORT:127.0.0.1" -o /dev/null \
	-w '%{http_code} %{ssl_verify_result}' "https://$A:$HTTPS_PORT/" 2>&1)
check_eq "$A over HTTPS after the renewal" "200 0" "$r"

finish
