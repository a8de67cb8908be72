#!/bin/sh
# it_domains_dns.sh — a custom domain's ownership proved by DNS instead of HTTP, and the checks
# that go on after it passed, through the local stack (lighttpd, skiff-serve, skiff-dispatch,
# Redis) with dnsmasq as the DNS server skiff-dispatch asks (domain_check_nameserver). A name
# whose HTTP check cannot pass stays pending while _skiff-challenge.{name} has no TXT record or
# one with another value (the reason says so; the dashboard shows the record to add), and is
# verified, served and active once the record holds its token. Live names are checked again
# every domain_recheck_interval (3 s here): when the record goes away the domain keeps
# serving and stays active, and the API and the dashboard show that it stopped pointing here,
# why and since when; when the record is back the warning goes away.
. "$(dirname "$0")/lib.sh"

command -v dnsmasq >/dev/null 2>&1 || { echo "dnsmasq is missing: run make deps" >&2; exit 1; }
for p in skiff-create skiff-status skiff-serve skiff-dispatch; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done

NAME=txt.example.test       # its HTTP check goes to 127.0.0.2, where nothing listens
WWW=www.example.test        # points here: its HTTP check passes
start_dns || exit 1
export SKIFF_DOMAIN_CHECK_RESOLVE="$NAME:127.0.0.2 $WWW:127.0.0.1"
export SKIFF_DOMAIN_CHECK_TIMEOUT=2
export SKIFF_DOMAIN_CHECK_NAMESERVER="127.0.0.1:$DNS_PORT"
export SKIFF_DOMAIN_RECHECK_INTERVAL=3
export SKIFF_ACME=apache
export SKIFF_ACME_FILE="$T/acme/skiff-domains.conf"
export SKIFF_ACME_SITE="$T/acme/skiff-site.inc"
mkdir -p "$T/acme"
start_stack || exit 1

# ---- a project with a ready deployment -----------------------------------------------------
seed_site demo ddddddddddd7 '<!doctype html><h1>proved by dns</h1>'

site() {
	STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -H "Host: $1:$STACK_PORT" \
		"http://127.0.0.1:$STACK_PORT$2")
}
# field NAME KEY: the domain NAME's KEY in the API's list ("None" for null)
field() {
	stack_api GET /api/projects/demo/domains
	python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["data"]:
    if d["name"] == sys.argv[2]: print(d.get(sys.argv[3]))' "$T/body" "$1" "$2"
}
# wait_field NAME KEY PATTERN [SECONDS]: until the field matches (extended regex)
wait_field() {
	i=0
	while ! field "$1" "$2" | grep -Eq "$3"; do
		i=$((i + 1))
		[ $i -lt $((${4:-30} * 2)) ] || return 1
		sleep 0.5
	done
}

# ---- pending: no record, then a record with another value ------------------------------------
stack_api POST /api/projects/demo/domains "{\"name\":\"$NAME\"}"
check_eq "add $NAME" 201 "$STATUS"
stack_api GET /api/projects/demo/domains
TXT_NAME=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["data"][0]["verificationTxt"]["name"])' "$T/body")
TOKEN=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["data"][0]["verificationTxt"]["value"])' "$T/body")
check_eq "the TXT record's name" "_skiff-challenge.$NAME" "$TXT_NAME"
check_eq "its value is the token of the verification path" \
	"$(field $NAME verificationPath | sed 's|.*/||')" "$TOKEN"
wait_field $NAME reason "no TXT record at _skiff-challenge.$NAME" 20
check_eq "no record: pending, and the reason names both checks in fixed words" \
	"HTTP: could not connect; DNS: no TXT record at _skiff-challenge.$NAME" "$(field $NAME reason)"
check_eq "no record: pending" pending "$(field $NAME state)"
site $NAME /
check_eq "pending: serves nothing" 404 "$STATUS"
curl -sS -o "$T/page.html" "$STACK_URL/projects/demo"
check_match "the dashboard shows the TXT record to add" \
	"data-domain=\"$NAME\".*_skiff-challenge\\.$NAME</code> <code>$TOKEN</code>" "$(tr -d '\n' <"$T/page.html")"
dns_txt "$TXT_NAME" "not-the-token" || exit 1
wait_field $NAME reason "no TXT record at _skiff-challenge\\.$NAME holds the token" 30
check_eq "a record with another value: the reason says so" \
	"HTTP: could not connect; DNS: no TXT record at _skiff-challenge.$NAME holds the token" \
	"$(field $NAME reason)"
check_eq "a record with another value: pending" pending "$(field $NAME state)"

# ---- the token in the record: verified, served, active ---------------------------------------
dns_txt "$TXT_NAME" "$TOKEN" || exit 1
wait_field $NAME state '^active$' 40
check_eq "the token in TXT: active" active "$(field $NAME state)"
check_eq "no reason any more" None "$(field $NAME reason)"
sleep 1
site $NAME /
check_eq "$NAME serves the project" 200 "$STATUS"
check_match "$NAME: the project's page" 'proved by dns' "$(cat "$T/body")"
check_match "$NAME is in the ACME file" "<MDomainSet $NAME>" "$(cat "$T/acme/skiff-domains.conf")"

# ---- live names are checked again ------------------------------------------------------------
stack_api POST /api/projects/demo/domains "{\"name\":\"$WWW\"}"
wait_field $WWW state '^active$' 20
C1=$(field $WWW checked)
check_match "$WWW: a next check is scheduled" '^[0-9]+$' "$(field $WWW nextCheck)"
sleep 4
C2=$(field $WWW checked)
if [ "$C2" -gt "$C1" ] 2>/dev/null; then ok "$WWW checked again after it passed ($C1 -> $C2)"
else fail "$WWW not checked again ($C1 -> $C2)"; fi
check_eq "$WWW still active" active "$(field $WWW state)"

# ---- the record goes away: still served, shown as no longer pointing here ---------------------
dns_txt || exit 1
BEFORE=$(date +%s%3N)
wait_field $NAME lostSince '^[0-9]+$' 20
LOST=$(field $NAME lostSince)
if [ "$LOST" -ge "$BEFORE" ] 2>/dev/null; then ok "lostSince is the time of the failed check"
else fail "lostSince $LOST before the record went away ($BEFORE)"; fi
check_eq "still active" active "$(field $NAME state)"
check_match "the reason" "no TXT record at _skiff-challenge\\.$NAME" "$(field $NAME reason)"
sleep 1
site $NAME /
check_eq "still served" 200 "$STATUS"
check_match "$NAME stays in the ACME file" "<MDomainSet $NAME>" "$(cat "$T/acme/skiff-domains.conf")"
STATUS=$(curl -sS -o "$T/page.html" -w '%{http_code}' "$STACK_URL/projects/demo")
check_eq "project page" 200 "$STATUS"
check_match "the dashboard warns" "data-domain=\"$NAME\".*state-active.*Stopped pointing here at <time" \
	"$(tr -d '\n' <"$T/page.html")"
wait_field $NAME attempts '^[2-9]$' 20
check_eq "lostSince stays the first failure's time" "$LOST" "$(field $NAME lostSince)"
check_match "retried with backoff" '^[0-9]+$' "$(field $NAME nextCheck)"

# ---- the record is back: the warning goes away -------------------------------------------------
dns_txt "$TXT_NAME" "$TOKEN" || exit 1
wait_field $NAME lostSince '^None$' 30
check_eq "back: no lostSince" None "$(field $NAME lostSince)"
check_eq "back: no reason" None "$(field $NAME reason)"
check_eq "back: active" active "$(field $NAME state)"
STATUS=$(curl -sS -o "$T/page.html" -w '%{http_code}' "$STACK_URL/projects/demo")
check_nomatch "the dashboard's warning is gone" "Stopped pointing here" "$(cat "$T/page.html")"

finish
