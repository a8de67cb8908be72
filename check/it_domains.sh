#!/bin/sh
# it_domains.sh — custom domains through the whole local stack (lighttpd, skiff-serve,
# skiff-dispatch, Redis): the API's validation and its JSON errors, one project per domain
# (409), the cap per project; the ownership check by skiff-dispatch (a name that points here
# becomes verified, then active once the ACME file is written and the reload command ran; a
# name that does not stays pending with the reason and serves nothing); serving a verified
# domain with its project's current deployment; removing a domain (and deleting a project)
# stops serving it and drops it from the ACME configuration. DNS is replaced by
# domain_check_resolve, which sends the names that "point here" to 127.0.0.1.
. "$(dirname "$0")/lib.sh"

for p in skiff-create skiff-status skiff-serve skiff-dispatch; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done

WWW=www.example.test        # points here (domain_check_resolve)
APEX=example.test           # points here too
AWAY=away.example.test      # resolves nowhere: stays pending
# names that point at other servers (a peer below on other loopback addresses), or at none
NOTFOUND=notfound.example.test ELSEWHERE=elsewhere.example.test SILENT=silent.example.test
BROKEN=broken.example.test REFUSED=refused.example.test
export SKIFF_DOMAIN_CHECK_RESOLVE="$WWW:127.0.0.1 $APEX:127.0.0.1 $NOTFOUND:127.0.0.3 \
$ELSEWHERE:127.0.0.4 $SILENT:127.0.0.5 $BROKEN:127.0.0.6 $REFUSED:127.0.0.7"
export SKIFF_DOMAIN_CHECK_TIMEOUT=2
export SKIFF_ACME=apache
export SKIFF_ACME_FILE="$T/acme/skiff-domains.conf"
export SKIFF_ACME_SITE="$T/acme/skiff-site.inc"
export SKIFF_ACME_RELOAD="/usr/bin/touch $T/acme/reloaded"
mkdir -p "$T/acme"
start_stack || exit 1

# ---- a project "demo" with a ready deployment, and a second project "other" ---------------
seed_site demo ddddddddddd2 '<!doctype html><h1>demo on a custom domain</h1>'
D1=ddddddddddd2
NOW=$(date +%s%3N)
rcli hset skiff:project:other created "$NOW" git_url https://example.com/o.git branch main >/dev/null
rcli zadd skiff:projects "$NOW" other >/dev/null

# site HOST PATH: GET on the stack with that Host; STATUS and $T/body
site() {
	STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -H "Host: $1:$STACK_PORT" \
		"http://127.0.0.1:$STACK_PORT$2")
}
state_of() { stack_api GET /api/projects/demo/domains; python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["data"]:
    if d["name"] == sys.argv[2]: print(d["state"])' "$T/body" "$1"; }
check_error() {
	check_eq "$1: status" "$2" "$STATUS"
	check_eq "$1: error code" "$3" "$(jget error.code)"
}

# ---- validation: 400 with a precise code, nothing written ---------------------------------
before=$(rcli --scan --pattern 'skiff:domain*' | sort)
LONG_LABEL=$(printf 'a%.0s' $(seq 64)).example
LONG_NAME=$(printf 'abcdefghi.%.0s' $(seq 25))example
for bad in "Www.Example.test|invalid_domain" "192.168.1.10|invalid_domain" \
	"demo.localhost|domain_reserved" "localhost|invalid_domain" "-a.example.test|invalid_domain" \
	"a-.example.test|invalid_domain" "ab--cd.example.test|invalid_domain" \
	"bücher.example|invalid_domain" "$LONG_LABEL|invalid_domain" "$LONG_NAME|invalid_domain" \
	"exa_mple.test|invalid_domain" "example.test.|invalid_domain" "a..b.test|invalid_domain"; do
	name=${bad%|*} code=${bad#*|}
	stack_api POST /api/projects/demo/domains "{\"name\":\"$name\"}"
	check_error "refused $name" 400 "$code"
done
stack_api POST /api/projects/demo/domains '{}'
check_error "no name" 400 invalid_domain
stack_api POST /api/projects/demo/domains '{"name":"ok.example.test","hsts":1}'
check_error "unknown field" 400 unknown_field
stack_api POST /api/projects/nosuch/domains '{"name":"ok.example.test"}'
check_error "unknown project" 404 not_found
check_eq "refusals wrote nothing" "$before" "$(rcli --scan --pattern 'skiff:domain*' | sort)"

# ---- adding: pending; an IDN in its A-label form is accepted -------------------------------
stack_api POST /api/projects/demo/domains "{\"name\":\"$WWW\"}"
check_eq "add $WWW: 201" 201 "$STATUS"
check_eq "add $WWW: pending" pending "$(jget data.state)"
WELL_KNOWN=$(jget data.verificationPath)
check_match "verification path" '^/\.well-known/skiff/[a-z2-7]{32}$' "$WELL_KNOWN"
stack_api POST /api/projects/demo/domains "{\"name\":\"$AWAY\"}"
check_eq "add $AWAY: 201" 201 "$STATUS"
stack_api POST /api/projects/other/domains "{\"name\":\"$WWW\"}"
check_error "a domain of another project" 409 domain_taken
stack_api POST /api/projects/demo/domains "{\"name\":\"$WWW\"}"
check_error "the same domain twice" 409 domain_taken
stack_api POST /api/projects/other/domains '{"name":"xn--bcher-kva.example"}'
check_eq "an A-label IDN: 201" 201 "$STATUS"
stack_api POST /api/projects/other/domains/xn--bcher-kva.example/delete "{}"
check_eq "form-style removal: 200" 200 "$STATUS"

# ---- the check: the name that points here is verified, the other stays pending -------------
site "$AWAY" "$WELL_KNOWN"
check_eq "skiff-serve answers a token only on its own domain" 404 "$STATUS"
wait_for 20 sh -c "curl -s $STACK_URL/api/projects/demo/domains | grep -q '\"active\"'"
check_eq "$WWW verified and then active" active "$(state_of $WWW)"
wait_for 20 sh -c "[ \"\$(redis-cli -s '$T/redis.sock' hget skiff:domain:$AWAY attempts)\" -ge 1 ]"
check_eq "$AWAY still pending" pending "$(state_of $AWAY)"
stack_api GET /api/projects/demo/domains
AWAY_REASON=$(python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["data"]:
    if d["name"] == sys.argv[2]: print(d["reason"], d["attempts"])' "$T/body" "$AWAY")
check_match "$AWAY: the reason and the attempts are shown" \
	'^HTTP: the name does not resolve; DNS: .* [1-9][0-9]*$' "$AWAY_REASON"
check_match "$AWAY: retried with backoff" '^[0-9]+' "$(rcli zscore skiff:domains:check "$AWAY")"

# ---- why a check failed, in the owner's words: a fixed phrase per failure --------------------
# a peer on the site port of other loopback addresses: 404, another server's token, an answer
# that never comes, a connection closed at once; nothing listens on 127.0.0.7
python3 -c 'import socket, sys, threading
answers = {"127.0.0.3": b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
           "127.0.0.4": b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nsomeone-elses\n",
           "127.0.0.5": None, "127.0.0.6": b""}
def serve(s, answer):
    held = []
    while True:
        c, _ = s.accept()
        if answer is None:
            held.append(c)
            continue
        c.recv(4096)
        c.sendall(answer)
        c.close()
for addr, answer in answers.items():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(sys.argv[1])))
    s.listen(16)
    threading.Thread(target=serve, args=(s, answer), daemon=True).start()
open(sys.argv[2], "w").close()
threading.Event().wait()' "$STACK_PORT" "$T/peer.ready" 2>>"$T/peer.log" &
PIDS="$PIDS $!"
wait_for 10 test -e "$T/peer.ready" || fail "the peer listens"
for n in $NOTFOUND $ELSEWHERE $SILENT $BROKEN $REFUSED; do
	stack_api POST /api/projects/other/domains "{\"name\":\"$n\"}"
done
for n in $NOTFOUND $ELSEWHERE $SILENT $BROKEN $REFUSED; do
	wait_for 30 sh -c "[ \"\$(redis-cli -s '$T/redis.sock' hget skiff:domain:$n attempts)\" -ge 1 ]"
done
stack_api GET /api/projects/other/domains
reason_of() { python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["data"]:
    if d["name"] == sys.argv[2]: print(d["reason"])' "$T/body" "$1"; }
http_reason() { reason_of "$1" | sed 's/; DNS: .*//'; }
check_eq "a 404" "HTTP: answered 404, not the token: the name does not point here" "$(http_reason $NOTFOUND)"
check_eq "another server's token" \
	"HTTP: answered, but not with the token: the name points at another server" "$(http_reason $ELSEWHERE)"
check_eq "no answer within domain_check_timeout" "HTTP: timed out" "$(http_reason $SILENT)"
check_eq "a connection closed without an answer" "HTTP: no valid answer" "$(http_reason $BROKEN)"
check_eq "nothing listening" "HTTP: could not connect" "$(http_reason $REFUSED)"
reasons=$(for n in $NOTFOUND $ELSEWHERE $SILENT $BROKEN $REFUSED; do reason_of $n; done)
check_eq "each reason names the DNS check too" 5 "$(echo "$reasons" | grep -cE '^HTTP: [^;]+; DNS: [^;]+$')"
check_nomatch "... and none carries curl's text (addresses, ports, its messages)" \
	"127\.0\.0|port [0-9]|Failed|Could not resolve|Connection|Operation|Empty reply|after [0-9]+ ms|someone-elses" \
	"$reasons $AWAY_REASON"
check_match "curl's own text is in the server log" \
	"domain check over HTTP failed domain=$REFUSED curl=7 error=\"Failed to connect to $REFUSED port $STACK_PORT" \
	"$(cat "$T/dispatch.log")"

# ---- serving ------------------------------------------------------------------------------
site "$WWW" /
check_eq "$WWW serves demo" 200 "$STATUS"
check_match "$WWW: demo's page" 'demo on a custom domain' "$(cat "$T/body")"
site "$AWAY" /
check_eq "pending $AWAY serves nothing" 404 "$STATUS"
check_nomatch "pending $AWAY: not demo's page" 'demo on a custom domain' "$(cat "$T/body")"
site "$AWAY" "$(rcli hget skiff:domain:$AWAY token | sed 's|^|/.well-known/skiff/|')"
check_eq "pending $AWAY answers its token" 200 "$STATUS"
check_eq "the token's body" "$(rcli hget skiff:domain:$AWAY token)" "$(cat "$T/body")"
site unknown.example.test /
check_eq "an unknown host serves nothing" 404 "$STATUS"

# ---- the ACME configuration ---------------------------------------------------------------
ACME=$(cat "$T/acme/skiff-domains.conf" 2>/dev/null)
check_match "ACME file: MDomainSet for $WWW" "<MDomainSet $WWW>" "$ACME"
check_match "ACME file: its HTTPS vhost" "ServerName $WWW" "$ACME"
check_nomatch "ACME file: not the pending $AWAY" "$AWAY" "$ACME"
[ -e "$T/acme/reloaded" ] && ok "the reload command ran" || fail "the reload command did not run"

# ---- the dashboard: the project page lists the domains; forms add and remove ----------------
STATUS=$(curl -sS -o "$T/page.html" -w '%{http_code}' "$STACK_URL/projects/demo")
check_eq "project page" 200 "$STATUS"
check_match "the page lists $WWW as active" "data-domain=\"$WWW\".*state-active" "$(tr -d '\n' <"$T/page.html")"
check_match "the page lists $AWAY as pending with its reason" "data-domain=\"$AWAY\".*state-pending.*HTTP: the name does not resolve; DNS: " "$(tr -d '\n' <"$T/page.html")"
check_match "the page has the add form" 'action="/api/projects/demo/domains"' "$(cat "$T/page.html")"
r=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "Origin: $STACK_URL" \
	--data-urlencode name=form.example.test "$STACK_URL/api/projects/demo/domains")
check_eq "form add: 303 to the project page" "303 $STACK_URL/projects/demo" "$r"
r=$(curl -sS -o /dev/null -w "%{http_code}" -H "Origin: $STACK_URL" -d "" \
	"$STACK_URL/api/projects/demo/domains/form.example.test/delete")
check_eq "form remove: 303" 303 "$r"
check_eq "form add and remove leave no record" "0" "$(rcli exists skiff:domain:form.example.test)"

# ---- the cap ------------------------------------------------------------------------------
i=3
while [ $i -le 50 ]; do
	stack_api POST /api/projects/demo/domains "{\"name\":\"n$i.example.test\"}"
	[ "$STATUS" = 201 ] || break
	i=$((i + 1))
done
check_eq "50 domains accepted (stopped at $i)" 51 "$i"
stack_api POST /api/projects/demo/domains '{"name":"n51.example.test"}'
check_error "the 51st domain" 413 too_many_domains

# ---- removal stops serving and drops it from the ACME configuration ------------------------
rm -f "$T/acme/reloaded"
stack_api DELETE "/api/projects/demo/domains/$WWW"
check_eq "remove $WWW: 200" 200 "$STATUS"
stack_api DELETE "/api/projects/demo/domains/$WWW"
check_error "remove it again" 404 unknown_domain
sleep 1   # skiff-serve remembers an answer for half a second
site "$WWW" /
check_eq "removed $WWW serves nothing" 404 "$STATUS"
wait_for 10 sh -c "! grep -q '$WWW' '$T/acme/skiff-domains.conf'"
check_nomatch "removed $WWW: out of the ACME file" "$WWW" "$(cat "$T/acme/skiff-domains.conf")"
wait_for 10 test -e "$T/acme/reloaded" && ok "reloaded after the removal" ||
	fail "no reload after the removal"
stack_api POST /api/projects/other/domains "{\"name\":\"$WWW\"}"
check_eq "a removed domain is free for another project" 201 "$STATUS"

# ---- deleting a project removes its domains ------------------------------------------------
stack_api POST /api/projects/other/domains "{\"name\":\"$APEX\"}"
wait_for 20 grep -q "MDomainSet $APEX>" "$T/acme/skiff-domains.conf"
check_match "$APEX in the ACME file" "$APEX" "$(cat "$T/acme/skiff-domains.conf")"
stack_api DELETE /api/projects/other '{"confirm":"other"}'
check_eq "delete other: 200" 200 "$STATUS"
check_eq "its domain records are gone" "" "$(rcli --scan --pattern "skiff:domain:*example.test" | grep -v -e '^skiff:domain:n[0-9]' -e "$AWAY")"
wait_for 10 sh -c "! grep -q '$APEX' '$T/acme/skiff-domains.conf'"
check_nomatch "deleted project's $APEX: out of the ACME file" "$APEX" "$(cat "$T/acme/skiff-domains.conf")"
stack_api POST /api/projects/demo/domains "{\"name\":\"$APEX\"}"
check_eq "the deleted project's domain is free again" 201 "$STATUS"

finish
