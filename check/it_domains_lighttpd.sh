#!/bin/sh
# it_domains_lighttpd.sh — certificates for custom domains under lighttpd 1.4.69, obtained by
# dehydrated driven by skiff-dispatch from Pebble (Debian's ACME test server), which validates
# each http-01 challenge for real: it resolves the name through dnsmasq (127.0.0.1) and fetches
# the file dehydrated wrote from lighttpd's port, served by the challenge alias of
# apache/lighttpd.conf.in. Two domains of a project pass skiff's ownership
# check, skiff-dispatch runs `dehydrated --cron --domain NAME` for each (execve), writes their
# ssl.pemfile per $HTTP["host"] to the acme_file that the HTTPS socket block includes, and
# reloads lighttpd (SIGUSR1: a graceful restart). curl --resolve with Pebble's root gets each
# site over HTTPS with the certificate of its own name (picked by SNI); plain HTTP on the
# domain then redirects to HTTPS (ACME challenge paths excepted). Removing a domain drops it
# from the file and stops serving it.
. "$(dirname "$0")/lib.sh"

for tool in lighttpd dehydrated pebble dnsmasq openssl curl python3 redis-server; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
for p in skiff-create skiff-status skiff-serve skiff-dispatch; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done
A=www.example.test
B=shop.example.test

STACK_PORT=$(free_port)
SSE_PORT=$(free_port)
HTTPS_PORT=$(free_port)
STACK_URL="http://localhost:$STACK_PORT"
start_dns $A $B || exit 1
start_pebble "$STACK_PORT" "$HTTPS_PORT" 3600 || exit 1   # certificates of an hour
ok "Pebble runs"

# ---- dehydrated, as an operator configures it for skiff ------------------------------------
mkdir -p "$T/acme/certs" "$T/acme/challenges" "$T/dehydrated"
cat >"$T/dehydrated/config" <<CONF
CA="$PEBBLE_DIR"
CHALLENGETYPE="http-01"
BASEDIR="$T/dehydrated"
CERTDIR="$T/acme/certs"
WELLKNOWN="$T/acme/challenges"
CONTACT_EMAIL="hostmaster@example.com"
CURL_OPTS="--cacert $PEBBLE_TLS"
RENEW_DAYS=1
CONF

# ---- the local stack's configuration, plus an HTTPS socket that includes skiff's file ------
SKIFF_LOG_LEVEL=debug sh "$ROOT/scripts/genconf.sh" "$T" "$STACK_PORT" "$SSE_PORT" || exit 1
export SKIFF_CONFIG="$T/skiff.conf"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fallback \
	-keyout "$T/fallback.key" -out "$T/fallback.crt" 2>/dev/null
cat "$T/fallback.crt" "$T/fallback.key" >"$T/fallback.pem"
: >"$T/acme/skiff-domains.conf"
cat >>"$T/lighttpd.conf" <<CONF
server.modules += ( "mod_openssl" )
\$SERVER["socket"] == "127.0.0.1:$HTTPS_PORT" {
	ssl.engine = "enable"
	ssl.pemfile = "$T/fallback.pem"
	include "$T/acme/skiff-domains.conf"
}
CONF
start_redis
start_lighttpd || { stack_logs; exit 1; }
cat >>"$T/skiff.conf" <<CONF
domain_check_resolve = $A:127.0.0.1 $B:127.0.0.1
domain_check_timeout = 2
acme = lighttpd
acme_file = $T/acme/skiff-domains.conf
acme_cert_dir = $T/acme/certs
acme_https_port = $HTTPS_PORT
acme_client = /usr/bin/dehydrated --config $T/dehydrated/config --accept-terms
acme_reload = /bin/kill -USR1 $LIGHTTPD_PID
acme_renew_interval = 20
CONF
"$BIN/skiff-dispatch" >>"$T/dispatch.log" 2>&1 &
PIDS="$PIDS $!"

# ---- a project with a ready deployment -----------------------------------------------------
seed_site shop fffffffffff2 '<!doctype html><h1>shop on lighttpd over https</h1>'

for n in $A $B; do
	stack_api POST /api/projects/shop/domains "{\"name\":\"$n\"}"
	check_eq "add $n" 201 "$STATUS"
done

printf 'probe one' >"$T/acme/challenges/probe-1"

# ---- checked, ordered, written, reloaded ----------------------------------------------------
wait_for 120 sh -c "[ \"\$(grep -c '^\\\$HTTP' '$T/acme/skiff-domains.conf')\" = 2 ]" ||
	{ fail "no certificates in the ACME file"; stack_logs; }
for n in $A $B; do
	check_match "$n: dehydrated's certificate" 'BEGIN CERTIFICATE' "$(cat "$T/acme/certs/$n/fullchain.pem" 2>/dev/null)"
	wait_for 20 sh -c "curl -s $STACK_URL/api/projects/shop/domains | grep -q '\"name\": *\"$n\", *\"state\": *\"active\"'"
	wait_for 20 curl -s -o /dev/null --cacert "$PEBBLE_ROOT" --resolve "$n:$HTTPS_PORT:127.0.0.1" \
		"https://$n:$HTTPS_PORT/"
	r=$(curl -sS --cacert "$PEBBLE_ROOT" --resolve "$n:$HTTPS_PORT:127.0.0.1" \
		-o "$T/https.out" -w '%{http_code} %{ssl_verify_result}' "https://$n:$HTTPS_PORT/" 2>&1)
	check_eq "$n over HTTPS, verified with Pebble's root" "200 0" "$r"
	check_match "$n: the project's page" 'shop on lighttpd over https' "$(cat "$T/https.out" 2>/dev/null)"
	san=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$n" </dev/null 2>/dev/null |
		openssl x509 -noout -ext subjectAltName 2>/dev/null | tail -n 1 | tr -d ' ')
	check_eq "$n: the certificate names exactly $n" "DNS:$n" "$san"
	r=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: $n:$STACK_PORT" \
		"http://127.0.0.1:$STACK_PORT/a/b?c=1")
	check_eq "$n: plain HTTP redirects to HTTPS" "308 https://$n:$HTTPS_PORT/a/b?c=1" "$r"
	r=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $n:$STACK_PORT" \
		"http://127.0.0.1:$STACK_PORT/.well-known/acme-challenge/nothing-here")
	check_eq "$n: an unknown ACME challenge is 404 from the alias, not redirected" "404" "$r"
	r=$(curl -s -w ' %{http_code}' -H "Host: $n:$STACK_PORT" \
		"http://127.0.0.1:$STACK_PORT/.well-known/acme-challenge/probe-1")
	check_eq "$n: a challenge file is served over plain HTTP" "probe one 200" "$r"
done
for n in $A $B; do
	check_match "Pebble fetched $n's challenge itself" "validate w/ HTTP: http://$n:$STACK_PORT/" \
		"$(cat "$T/pebble.log")"
done

serial() {
	openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$1" </dev/null 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null
}
SERIAL_A=$(serial $A)
check_match "$A: a serial" '^serial=' "$SERIAL_A"
cp "$T/acme/skiff-domains.conf" "$T/acme-before-renewal.conf"

# ---- HSTS, opt-in per project ----------------------------------------------------------------
hsts() {
	curl -sS -D - -o /dev/null --cacert "$PEBBLE_ROOT" --resolve "$A:$HTTPS_PORT:127.0.0.1" \
		"https://$A:$HTTPS_PORT/" | tr -d '\r' | sed -n 's/^[Ss]trict-[Tt]ransport-[Ss]ecurity: //p'
}
check_eq "no HSTS before the project asks for it" "" "$(hsts)"
stack_api PATCH /api/projects/shop '{"hsts":true}'
check_eq "PATCH hsts: 200" 200 "$STATUS"
check_eq "the project shows hsts" true "$(jget data.hsts)"
stack_api PATCH /api/projects/shop '{"hsts":"yes"}'
check_eq "PATCH hsts with a string: 400" 400 "$STATUS"
sleep 1   # skiff-serve remembers an answer for half a second
check_eq "HSTS over HTTPS once asked for" "max-age=31536000" "$(hsts)"
r=$(curl -s -D - -o /dev/null -H "Host: $A:$STACK_PORT" "http://127.0.0.1:$STACK_PORT/" | tr -d '\r')
check_nomatch "no HSTS over plain HTTP" '^[Ss]trict-[Tt]ransport' "$r"
stack_api PATCH /api/projects/shop '{"hsts":false}'
sleep 1
check_eq "HSTS off again" "" "$(hsts)"

# ---- removal ---------------------------------------------------------------------------------
stack_api DELETE "/api/projects/shop/domains/$B"
check_eq "remove $B" 200 "$STATUS"
wait_for 10 sh -c "! grep -q '$B' '$T/acme/skiff-domains.conf'"
check_nomatch "$B is out of the ACME file" "$B" "$(cat "$T/acme/skiff-domains.conf")"
check_match "$A is still in it" "\"$A\"" "$(cat "$T/acme/skiff-domains.conf")"
sleep 2
r=$(curl -s -o "$T/gone.out" -w '%{http_code}' -k --resolve "$B:$HTTPS_PORT:127.0.0.1" "https://$B:$HTTPS_PORT/")
check_eq "removed $B serves nothing over HTTPS" 404 "$r"
r=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $B:$STACK_PORT" "http://127.0.0.1:$STACK_PORT/")
check_eq "removed $B serves nothing over HTTP" 404 "$r"

# ---- renewal, no person acting ----------------------------------------------------------------
# Pebble's certificates last an hour and dehydrated renews what expires within RENEW_DAYS=1:
# the renewal round (acme_renew_interval = 20 s) gets a new one, which changes acme_file, and
# skiff-dispatch reloads lighttpd.
wait_for 90 sh -c "[ \"\$(openssl s_client -connect 127.0.0.1:$HTTPS_PORT -servername $A </dev/null 2>/dev/null |
	openssl x509 -noout -serial 2>/dev/null)\" != '$SERIAL_A' ]"
r=$(serial $A)
check_match "$A: a serial after the renewal round" '^serial=' "$r"
if [ "$r" != "$SERIAL_A" ]; then ok "$A: lighttpd serves the renewed certificate"
else fail "$A: still the first certificate ($SERIAL_A) after 90 s"; fi
check_match "skiff-dispatch renewed $A" "certificate renewed domain=$A" "$(cat "$T/dispatch.log")"
if cmp -s "$T/acme/skiff-domains.conf" "$T/acme-before-renewal.conf"; then
	fail "acme_file unchanged by the renewal: a path unit watching it would not reload"
else ok "the renewal changed acme_file (what a path unit watching it reloads on)"; fi
r=$(curl -sS --cacert "$PEBBLE_ROOT" --resolve "$A:$HTTPS_PORT:127.0.0.1" -o /dev/null \
	-w '%{http_code} %{ssl_verify_result}' "https://$A:$HTTPS_PORT/" 2>&1)
check_eq "$A over HTTPS after the renewal" "200 0" "$r"

finish
