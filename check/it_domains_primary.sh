#!/bin/sh
# it_domains_primary.sh — a project's primary domain through the whole local stack (lighttpd
# with the fast path, skiff-serve, skiff-dispatch, Redis): the API refuses a primary that is
# not one of the project's verified or active domains (another project's, a pending one, one
# under the platform's domain) and writes nothing then; every other serving domain of the
# project answers 308 to the same path and query on the primary, never to a host the request
# names (no open redirect through Host or path: "//evil", encoded slashes, CR LF, raw bytes);
# ACME challenges and ownership checks stay; {slug}.{domain} redirects only when the project
# asks, and is then never answered from the fast path's tree; removing the primary domain
# clears it; the dashboard's form sets it (same-origin only). DNS is replaced by
# domain_check_resolve.
. "$(dirname "$0")/lib.sh"

for p in skiff-create skiff-status skiff-serve skiff-dispatch; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done

WWW=www.example.test        # points here
APEX=example.test           # points here
AWAY=away.example.test      # resolves nowhere: stays pending
THEIRS=theirs.example.test  # points here, another project's
export SKIFF_DOMAIN_CHECK_RESOLVE="$WWW:127.0.0.1 $APEX:127.0.0.1 $THEIRS:127.0.0.1"
export SKIFF_DOMAIN_CHECK_TIMEOUT=2
export SKIFF_ACME=apache
export SKIFF_ACME_FILE="$T/acme/skiff-domains.conf"
export SKIFF_ACME_SITE="$T/acme/skiff-site.inc"
export SKIFF_ACME_RELOAD="/usr/bin/touch $T/acme/reloaded"
mkdir -p "$T/acme"
start_stack || exit 1

# ---- a project "demo" with a ready deployment, and a second project "other" ---------------
seed_site demo ddddddddddd2 '<!doctype html><h1>demo page</h1>' 1732270000000
D1=ddddddddddd2
NOW=$(date +%s%3N)
rcli hset skiff:project:other created "$NOW" git_url https://example.com/o.git branch main >/dev/null
rcli zadd skiff:projects "$NOW" other >/dev/null

# site HOST PATH: GET with that Host (the path sent as it is); STATUS, LOCATION, $T/body and
# the headers in $T/headers
site() {
	out=$(curl -sS --path-as-is -o "$T/body" -D "$T/headers" -w '%{http_code} %{redirect_url}' \
		-H "Host: $1:$STACK_PORT" "http://127.0.0.1:$STACK_PORT$2")
	STATUS=${out%% *}
	LOCATION=$(sed -n 's/^[Ll]ocation: //p' "$T/headers" | tr -d '\r')
}
check_error() {
	check_eq "$1: status" "$2" "$STATUS"
	check_eq "$1: error code" "$3" "$(jget error.code)"
}
primary_of() { stack_api GET /api/projects/demo; jget data.primaryDomain; }

for d in "demo $WWW" "demo $APEX" "demo $AWAY" "other $THEIRS"; do
	stack_api POST "/api/projects/${d% *}/domains" "{\"name\":\"${d#* }\"}"
	check_eq "add ${d#* } to ${d% *}" 201 "$STATUS"
done
wait_for 30 sh -c "[ \$(curl -s $STACK_URL/api/projects/demo/domains | grep -o '\"active\"' | wc -l) -eq 2 ]" ||
	fail "$WWW and $APEX did not become active"
wait_for 20 sh -c "curl -s $STACK_URL/api/projects/other/domains | grep -q '\"active\"'" ||
	fail "$THEIRS did not become active"

# ---- refusals: precise codes, nothing written -----------------------------------------------
before=$(rcli hgetall skiff:project:demo | sort)
for bad in "$THEIRS|409|domain_not_in_project" "$AWAY|409|domain_not_serving" \
	"nosuch.example.test|409|domain_not_in_project" "demo.localhost|400|domain_reserved" \
	"www.localhost|400|domain_reserved" "Www.Example.test|400|invalid_domain" \
	"127.0.0.1|400|invalid_domain" "evil.example/x|400|invalid_domain"; do
	name=${bad%%|*} rest=${bad#*|}
	stack_api PATCH /api/projects/demo "{\"primaryDomain\":\"$name\"}"
	check_error "primary $name refused" "${rest%|*}" "${rest#*|}"
done
stack_api PATCH /api/projects/demo '{"primaryDomain":42}'
check_error "primary not a string" 400 invalid_field
stack_api PATCH /api/projects/demo '{"redirectProjectAddress":"yes"}'
check_eq "redirectProjectAddress not a boolean: 400" 400 "$STATUS"
stack_api PATCH /api/projects/demo "{\"buildCommand\":\"make site\",\"primaryDomain\":\"$AWAY\"}"
check_error "a valid field beside a refused primary" 409 domain_not_serving
stack_api POST /api/projects/demo/domains/primary "{\"primaryDomain\":\"$THEIRS\"}"
check_error "the primary route refuses another project's domain too" 409 domain_not_in_project
stack_api POST /api/projects/demo/domains/primary '{"primaryDomain":null,"x":1}'
check_error "the primary route: unknown field" 400 unknown_field
check_eq "refusals wrote nothing" "$before" "$(rcli hgetall skiff:project:demo | sort)"

# ---- defaults: no primary, every name serves ------------------------------------------------
check_eq "no primary at first" null "$(primary_of)"
check_eq "{slug}.{domain} is not redirected by default" false "$(jget data.redirectProjectAddress)"
site "$APEX" /
check_eq "$APEX serves demo without a primary" 200 "$STATUS"

# ---- a primary: the other names redirect with path and query --------------------------------
stack_api PATCH /api/projects/demo "{\"primaryDomain\":\"$WWW\"}"
check_eq "primary $WWW: 200" 200 "$STATUS"
check_eq "the answer shows it" "$WWW" "$(jget data.primaryDomain)"
check_match "the history names it" primaryDomain "$(jget data.changes.0.fields)"
sleep 1   # skiff-serve remembers an answer for half a second
TO="http://$WWW:$STACK_PORT"
site "$APEX" '/docs/page.html?a=1&b=%2F'
check_eq "$APEX: 308" 308 "$STATUS"
check_eq "$APEX: to the same path and query on $WWW" "$TO/docs/page.html?a=1&b=%2F" "$LOCATION"
site "$WWW" /
check_eq "the primary itself serves" 200 "$STATUS"
check_match "the primary: demo's page" 'demo page' "$(cat "$T/body")"
site "demo.localhost" /
check_eq "{slug}.{domain} still serves" 200 "$STATUS"
site "demo--$D1.localhost" /
check_eq "the immutable address serves" 200 "$STATUS"
site "$AWAY" /
check_eq "a pending domain neither serves nor redirects" 404 "$STATUS"
site "$THEIRS" /
check_eq "another project's domain is not redirected" 404 "$STATUS"   # other has no deployment

# ---- no open redirect ------------------------------------------------------------------------
site "$APEX" '//evil.example/x'
check_eq "//evil path: 308" 308 "$STATUS"
check_eq "//evil path stays on $WWW" "$TO//evil.example/x" "$LOCATION"
site "$APEX" '/%2F%2Fevil.example'
check_eq "encoded slashes stay on $WWW" "$TO/%2F%2Fevil.example" "$LOCATION"
site "$APEX" '/\evil.example'
check_eq "a backslash stays on $WWW" "$TO/\\evil.example" "$LOCATION"
site "$APEX" '/a%0d%0aSet-Cookie:%20x=1?q=%0D%0A'
check_match "encoded CR LF: lighttpd refuses it, or it stays encoded" \
	"^(400 |308 $TO/a%0d%0aSet-Cookie:%20x=1\?q=%0D%0A)\$" "$STATUS $LOCATION"
check_nomatch "no header was injected" '^Set-Cookie' "$(cat "$T/headers")"
site "$APEX" "/caf$(printf '\303\251')"
check_match "raw bytes are escaped" "^$TO/caf%[cC]3%[aA]9\$" "$LOCATION"
site "$APEX.evil.example" /
check_eq "a Host that merely begins with $APEX" 404 "$STATUS"
out=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: $APEX:$STACK_PORT" \
	--request-target "http://evil.example/x" "http://127.0.0.1:$STACK_PORT/")
check_match "an absolute-form target goes to $WWW, never to its host" "^(308 $TO/.*|400 )" "$out"
check_nomatch "... and never to evil.example" 'evil\.example' "$out"

# ---- what stays on the name asked -------------------------------------------------------------
# lighttpd serves the ACME client's challenge files itself (its alias), before any redirect
mkdir -p "$T/acme/challenges" && printf 'a challenge' >"$T/acme/challenges/some-token"
site "$APEX" /.well-known/acme-challenge/some-token
check_eq "ACME challenges are not redirected" "200 " "$STATUS $LOCATION"
check_eq "... the challenge file is served" "a challenge" "$(cat "$T/body")"
TOKEN=$(rcli hget skiff:domain:$APEX token)
site "$APEX" "/.well-known/skiff/$TOKEN"
check_eq "the ownership check is not redirected" 200 "$STATUS"
check_eq "... and answers the token" "$TOKEN" "$(cat "$T/body")"

# ---- over HTTPS (skiff-serve as CGI with HTTPS=on): the redirect stays on https ------------
serve_cgi() {
	env REQUEST_METHOD=GET REQUEST_URI="$2" HTTP_HOST="$1" HTTPS="$3" SKIFF_ACME="$4" \
		GATEWAY_INTERFACE=CGI/1.1 "$BIN/skiff-serve" 2>/dev/null | tr -d '\r'
}
r=$(serve_cgi "$APEX" /x?y on apache)
check_match "over HTTPS: 308 to https://$WWW" "Location: https://$WWW/x\?y" "$r"
r=$(serve_cgi "$APEX" /x off apache)
check_match "plain HTTP under Apache: http (mod_md upgrades once its certificate is valid)" \
	"Location: http://$WWW:$STACK_PORT/x" "$r"
r=$(SKIFF_ACME_CLIENT=/bin/true serve_cgi "$APEX" /x off lighttpd)
check_match "plain HTTP under lighttpd with an active primary: https at once" \
	"Location: https://$WWW/x" "$r"
# what lighttpd would refuse, skiff-serve escapes itself: raw CR LF in the request URI
r=$(serve_cgi "$APEX" "$(printf '/a\r\nSet-Cookie: x=1?q=\r\nz')" on apache)
check_match "raw CR LF are escaped" "Location: https://$WWW/a%0D%0ASet-Cookie:%20x=1\?q=%0D%0Az\$" "$r"
check_nomatch "... and split no header" '^Set-Cookie' "$r"
rcli hset skiff:project:demo hsts 1 >/dev/null
r=$(serve_cgi "$APEX" /x on apache)
check_match "HSTS on the redirect over HTTPS when the project asks" "Strict-Transport-Security" "$r"
rcli hset skiff:project:demo hsts 0 >/dev/null

# ---- {slug}.{domain} redirects only when asked, and never from the fast path's tree -----------
stack_api PATCH /api/projects/demo '{"primaryDomain":null}'
check_eq "clear the primary: 200" 200 "$STATUS"
sleep 1
site "demo.localhost" /
check_eq "demo.localhost serves" 200 "$STATUS"
wait_for 10 test -L "$T/fastpath/sites/demo" && ok "the fast path linked demo's tree" ||
	fail "the fast path did not link demo's tree (the case below would prove nothing)"
sleep 1.2   # lighttpd's stat cache looks again every second
served() { cat "$T"/*.log | grep -c 'served host=demo.localhost'; }
n=$(served)
site "demo.localhost" /
check_eq "the fast path answers demo.localhost from its tree (skiff-serve saw nothing)" \
	"200 $n" "$STATUS $(served)"
stack_api PATCH /api/projects/demo "{\"primaryDomain\":\"$WWW\",\"redirectProjectAddress\":true}"
check_eq "primary and redirectProjectAddress: 200" 200 "$STATUS"
check_eq "redirectProjectAddress shown" true "$(jget data.redirectProjectAddress)"
[ -e "$T/fastpath/sites/demo" ] && fail "the setting left demo's tree linked" ||
	ok "the setting took demo's tree out of the fast path"
sleep 1
bad=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	site "demo.localhost" /
	[ "$STATUS" = 308 ] && [ "$LOCATION" = "$TO/" ] || bad=$((bad + 1))
done
check_eq "demo.localhost/: ten 308s to $WWW" 0 "$bad"
[ -e "$T/fastpath/sites/demo" ] && fail "demo's tree was linked again while redirected" ||
	ok "demo's tree stays unlinked while redirected"
site "demo--$D1.localhost" /
check_eq "the immutable address is never redirected" 200 "$STATUS"
stack_api PATCH /api/projects/demo '{"redirectProjectAddress":false}'
sleep 1
site "demo.localhost" /
check_eq "redirect off: demo.localhost serves again" 200 "$STATUS"

# ---- removing the primary domain clears it ----------------------------------------------------
stack_api DELETE "/api/projects/demo/domains/$WWW"
check_eq "remove $WWW: 200" 200 "$STATUS"
check_eq "the primary is cleared" null "$(primary_of)"
sleep 1
site "$APEX" /
check_eq "$APEX serves again" 200 "$STATUS"

# ---- the dashboard's form: same origin only, then 303 -------------------------------------------
r=$(curl -sS -o /dev/null -w '%{http_code}' --data-urlencode "primaryDomain=$APEX" \
	"$STACK_URL/api/projects/demo/domains/primary")
check_eq "a form without Origin is refused" 403 "$r"
r=$(curl -sS -o /dev/null -w '%{http_code}' -H "Origin: http://evil.example" \
	--data-urlencode "primaryDomain=$APEX" "$STACK_URL/api/projects/demo/domains/primary")
check_eq "a form from another origin is refused" 403 "$r"
check_eq "refused forms wrote nothing" null "$(primary_of)"
r=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "Origin: $STACK_URL" \
	--data-urlencode "primaryDomain=$APEX" -d redirectProjectAddress=on \
	"$STACK_URL/api/projects/demo/domains/primary")
check_eq "form: 303 to the project page" "303 $STACK_URL/projects/demo#primary-form" "$r"
check_eq "form: the primary is set" "$APEX" "$(primary_of)"
check_eq "form: redirectProjectAddress is on" true "$(jget data.redirectProjectAddress)"
r=$(curl -sS -o "$T/page.html" -w '%{http_code}' -H "Origin: $STACK_URL" \
	--data-urlencode "primaryDomain=$AWAY" "$STACK_URL/api/projects/demo/domains/primary")
check_eq "form with a pending domain: 409" 409 "$r"
check_match "... an HTML page that says why" 'verified' "$(cat "$T/page.html")"
r=$(curl -sS -o /dev/null -w '%{http_code}' -H "Origin: $STACK_URL" -d primaryDomain= \
	"$STACK_URL/api/projects/demo/domains/primary")
check_eq "form: none clears it" 303 "$r"
check_eq "form: cleared, and the unchecked box turned the redirect off" "null false" \
	"$(primary_of) $(jget data.redirectProjectAddress)"

finish
