#!/bin/sh
# it_redis_tls.sh — Redis over TLS through a local stunnel tunnel (doc/aws.md, section 3):
# skiff's hiredis (Debian bookworm's 0.14) has no TLS, so skiff talks plain Redis to a
# stunnel in client mode on a local unix socket, and stunnel speaks TLS to a redis-server
# that listens only with TLS (port 0) and has an ACL user, as ElastiCache with in-transit
# encryption and RBAC does. The tunnel verifies the server's certificate (verifyChain,
# checkHost) with the configuration shipped in doc/stunnel-redis.conf; a wrong CA or a
# wrong name makes skiff answer 503 and write nothing, never talk in clear.
. "$(dirname "$0")/lib.sh"

command -v stunnel4 >/dev/null || { echo "stunnel4 is not installed (scripts/deps.sh check)" >&2; exit 1; }

# ---- a CA, and a certificate for redis.internal signed by it; another CA nobody used --------
pki() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=skiff test CA $1" \
		-keyout "$T/$1.key" -out "$T/$1.pem" 2>/dev/null
}
pki ca && pki otherca || { echo "openssl cannot make a CA" >&2; exit 1; }
openssl req -newkey rsa:2048 -nodes -subj "/CN=redis.internal" -keyout "$T/server.key" \
	-out "$T/server.csr" 2>/dev/null &&
	printf 'subjectAltName = DNS:redis.internal\n' >"$T/san.ext" &&
	openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
		-days 2 -extfile "$T/san.ext" -out "$T/server.pem" 2>/dev/null ||
	{ echo "openssl cannot sign the server certificate" >&2; exit 1; }

# ---- redis-server: TLS only, the default user off, one ACL user ----------------------------
TLS_PORT=$(free_port)
redis-server --port 0 --tls-port "$TLS_PORT" --bind 127.0.0.1 --tls-cert-file "$T/server.pem" \
	--tls-key-file "$T/server.key" --tls-ca-cert-file "$T/ca.pem" --tls-auth-clients no \
	--save '' --appendonly no --dir "$T" --logfile "$T/redis.log" \
	--user default off --user skiff on '>tls-Pa55word' '~*' '&*' '+@all' --daemonize no &
PIDS="$PIDS $!"
tcli() { redis-cli --tls --cacert "$T/ca.pem" --sni redis.internal -p "$TLS_PORT" \
	--user skiff --pass tls-Pa55word --no-auth-warning "$@"; }
wait_for 10 sh -c "redis-cli --tls --cacert '$T/ca.pem' -p $TLS_PORT ping 2>&1 | grep -q NOAUTH" ||
	{ cat "$T/redis.log" >&2; echo "redis-server with TLS did not start" >&2; exit 1; }
check_nomatch "redis-server answers nothing in clear on its TLS port" 'PONG|NOAUTH' \
	"$(timeout 3 redis-cli -p "$TLS_PORT" ping 2>&1)"

# ---- stunnel in client mode: the configuration shipped, with this test's paths --------------
# start_tunnel NAME CAFILE CHECKHOST: stunnel on $T/NAME.sock, logging to $T/NAME.log
start_tunnel() {
	sed -e "s|^accept = .*|accept = $T/$1.sock|" -e "s|^connect = .*|connect = 127.0.0.1:$TLS_PORT|" \
		-e "s|^CAfile = .*|CAfile = $2|" -e "s|^checkHost = .*|checkHost = $3|" -e "s|^sni = .*|sni = redis.internal|" \
		-e "s|^pid = .*|pid =|" -e "s|^debug = .*|debug = info|" \
		"$ROOT/doc/stunnel-redis.conf" >"$T/$1.conf"
	stunnel4 "$T/$1.conf" >>"$T/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 10 test -S "$T/$1.sock" || { cat "$T/$1.log" >&2; echo "stunnel $1 did not start" >&2; exit 1; }
}

# skiff through the tunnel: redis_socket and the ACL user, nothing else about TLS
write_config
printf 'tls-Pa55word\n' >"$T/redis.password"
sed -i "s|^redis_socket = .*|redis_socket = $T/good.sock|" "$T/skiff.conf"
printf 'redis_username = skiff\nredis_password_file = %s\n' "$T/redis.password" >>"$T/skiff.conf"
unset SKIFF_REDIS_SOCKET
start_tunnel good "$T/ca.pem" redis.internal

mkdir -p "$T/site"
git -C "$T/site" init -q -b main
printf '<h1>over tls</h1>\n' >"$T/site/index.html"
git -C "$T/site" add -A && git -C "$T/site" -c user.email=t@example.com -c user.name=t commit -qm site

status() { sed -n 's/^Status: \([0-9]*\).*/\1/p' | head -1; }
body() { sed '1,/^\r*$/d'; }
out=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$T/site\",\"slug\":\"tls\"}" 2>"$T/create.err")
check_eq "skiff-create makes a project through the tunnel" 202 "$(printf '%s' "$out" | status)"
dep=$(printf '%s' "$out" | body | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["deploymentId"])' 2>/dev/null)
check_eq "... and Redis behind TLS holds it (read with redis-cli --tls)" tls \
	"$(tcli hget skiff:project:tls slug 2>/dev/null)"
"$BIN/skiff-dispatch" --once >>"$T/dispatch.log" 2>&1
check_eq "skiff-dispatch builds it through the tunnel" ready \
	"$(tcli hget "skiff:deployment:$dep" state 2>/dev/null)"
cgi skiff-status GET "/api/deployments/$dep" >"$T/status.out" 2>/dev/null
body <"$T/status.out" >"$T/body"
check_eq "skiff-status reads the deployment back through the tunnel" ready "$(jget data.state)"
check_eq "... of the project made above" tls "$(jget data.project)"
check_match "the tunnel verified redis.internal's certificate" 'Certificate accepted at depth=0: CN=redis.internal' \
	"$(cat "$T/good.log")"
check_nomatch "the password is never in the tunnel's or skiff's logs" 'tls-Pa55word' \
	"$(cat "$T/good.log" "$T/dispatch.log" "$T/create.err")"

# ---- a CA that did not sign the server: the tunnel refuses, skiff answers 503 ----------------
start_tunnel badca "$T/otherca.pem" redis.internal
sed -i "s|^redis_socket = .*|redis_socket = $T/badca.sock|" "$T/skiff.conf"
out=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$T/site\",\"slug\":\"badca\"}" 2>"$T/badca.err")
check_eq "a wrong CA: skiff-create answers 503" 503 "$(printf '%s' "$out" | status)"
check_match "... with a JSON error naming Redis" '"redis_unavailable"' "$(printf '%s' "$out" | body)"
check_match "... the tunnel says why (certificate verify failed)" 'self-signed certificate in certificate chain' \
	"$(cat "$T/badca.log")"
check_eq "... and nothing reached Redis" 0 "$(tcli exists skiff:project:badca 2>/dev/null)"

# ---- the right CA but another name: checkHost refuses ------------------------------------------
start_tunnel badhost "$T/ca.pem" redis.example.com
sed -i "s|^redis_socket = .*|redis_socket = $T/badhost.sock|" "$T/skiff.conf"
out=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$T/site\",\"slug\":\"badhost\"}" 2>/dev/null)
check_eq "a certificate for another name: skiff-create answers 503" 503 "$(printf '%s' "$out" | status)"
check_match "... the tunnel names the host check" 'Subject checks failed' \
	"$(cat "$T/badhost.log")"
check_eq "... and nothing reached Redis" 0 "$(tcli exists skiff:project:badhost 2>/dev/null)"

finish
