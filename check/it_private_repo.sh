#!/bin/sh
# it_private_repo.sh — private repositories end to end: one served over HTTP with basic auth
# (git http-backend under lighttpd) needing an access token, one over SSH (Debian's sshd on a
# loopback port with its own host key) needing skiff's generated deploy key. Both build and
# serve; a missing or wrong token and a missing or unknown key end in errors naming the cause;
# the SSH host key is pinned on first use, a changed one is refused until the pin is reset;
# the credentials appear nowhere in the log, the API answers or Redis in clear text.
. "$(dirname "$0")/lib.sh"

command -v /usr/sbin/sshd >/dev/null || { echo "FAIL: openssh-server is not installed" >&2; exit 1; }

start_redis
write_config

TOKEN="ghp_PrivRepoTokenValue0123456789abcdef"
WRONG="ghp_WrongTokenValue0123456789abcdef000"

body() { sed '1,/^\r*$/d'; }
status() { sed -n 's/^Status: \([0-9]*\).*/\1/p' | head -n 1; }
# call PROGRAM METHOD PATH [BODY] [CONTENT_TYPE]: the body into $T/body, prints the status
call() {
	cgi "$@" 2>>"$T/cgi.log" >"$T/resp"
	body <"$T/resp" >"$T/body"
	st=$(status <"$T/resp")
	echo "${st:-200}"
}
dispatch() { "$BIN/skiff-dispatch" --once >>"$T/dispatch.log" 2>&1; }
# re TEXT: TEXT as an extended regular expression matching itself (fingerprints hold '+', '/')
re() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }
field() { rcli hget "skiff:deployment:$1" "$2"; }
commit() {
	git -C "$1" add -A && git -C "$1" -c user.email=t@example.com -c user.name=t commit -qm "$2"
}
# fetch HOST PATH: the body skiff-serve answers for that host and path (as plain CGI)
fetch() {
	env SKIFF_XSENDFILE=false REQUEST_METHOD=GET REQUEST_URI="$2" HTTP_HOST="$1" \
		GATEWAY_INTERFACE=CGI/1.1 "$BIN/skiff-serve" </dev/null 2>>"$T/serve.log" | body
}
# redeploy SLUG: a new deployment, built at once; prints its id
redeploy() {
	call skiff-create POST "/api/projects/$1/deployments" '{}' >/dev/null
	id=$(jget data.deploymentId)
	dispatch
	echo "$id"
}

# ---- the repository both servers serve ---------------------------------------------------
site=$T/site
mkdir -p "$site" && git -C "$site" init -q -b main
echo '<h1>private site</h1>' >"$site/index.html"
commit "$site" "the private site"
mkdir -p "$T/gitroot"
git clone -q --bare "$site" "$T/gitroot/site.git"

# ---- HTTP with basic auth: git http-backend under lighttpd -------------------------------
printf 'x-access-token:%s\noauth2:%s\n' "$TOKEN" "$TOKEN" >"$T/git-users"
start_git_http "$T/git-users"
GPORT=$GIT_HTTP_PORT
HURL="http://127.0.0.1:$GPORT/git/site.git"
check_eq "the HTTP git server wants credentials" "401" \
	"$(curl -s -o /dev/null -w '%{http_code}' "$HURL/info/refs?service=git-upload-pack")"

call skiff-create POST /api/projects "{\"gitURL\":\"$HURL\",\"slug\":\"priv-http\"}" >/dev/null
id=$(jget data.deploymentId)
dispatch
check_eq "without a token the build fails" "error" "$(field "$id" state)"
check_match "and says the repository needs a token" "private and the project has no access token" \
	"$(field "$id" error)"

check_eq "a token with a space is refused" "400" \
	"$(call skiff-create POST /api/projects/priv-http/repository/token '{"token":"a b"}')"
check_eq "  as invalid_repository_token" "invalid_repository_token" "$(jget error.code)"
check_eq "an unknown field is refused" "400" \
	"$(call skiff-create POST /api/projects/priv-http/repository/token '{"token":"x","tokn":"y"}')"
check_eq "a username with ':' is refused" "400" \
	"$(call skiff-create POST /api/projects/priv-http/repository/token '{"token":"x","username":"a:b"}')"
check_eq "  and nothing was stored" "false" "$(call skiff-status GET /api/projects/priv-http/repository >/dev/null; jget data.token.set)"
check_eq "a token for a project that does not exist is 404" "404" \
	"$(call skiff-create POST /api/projects/nope/repository/token '{"token":"x"}')"

check_eq "a wrong token is stored" "200" \
	"$(call skiff-create POST /api/projects/priv-http/repository/token "{\"token\":\"$WRONG\"}")"
check_eq "  the answer says a token is set" "true" "$(jget data.token.set)"
check_nomatch "  and does not show it" "$WRONG" "$(cat "$T/body")"
id=$(redeploy priv-http)
check_eq "with a wrong token the build fails" "error" "$(field "$id" state)"
check_match "and says the token was refused" "refused the access token \(user x-access-token\)" \
	"$(field "$id" error)"

# the dashboard's form replaces it with the right one (GitLab's user name this time)
check_eq "the form sets the token" "303" \
	"$(call skiff-create POST /api/projects/priv-http/repository/token \
		"token=$TOKEN&username=oauth2" application/x-www-form-urlencoded)"
check_eq "  shown as set for user oauth2" "oauth2" \
	"$(call skiff-status GET /api/projects/priv-http/repository >/dev/null; jget data.token.username)"
check_eq "  for the host of the project's URL, the only one it is sent to" "127.0.0.1:$GPORT" \
	"$(jget data.token.host)"
id=$(redeploy priv-http)
check_eq "with the right token the build is ready" "ready" "$(field "$id" state)"
check_match "the site is served" "private site" "$(fetch priv-http.localhost /)"
check_match "the log says a token was used, not which" "With the project's access token \(user oauth2\)" \
	"$(call skiff-status GET "/api/deployments/$id/log" >/dev/null; cat "$T/body")"

# ---- the token in the create body: the first build already has it ------------------------
create_refused() { # DESCRIPTION BODY STATUS CODE: refused, and nothing of project "inbody" written
	st=$(call skiff-create POST /api/projects "$2")
	check_eq "$1" "$3 $4" "$st $(jget error.code)"
	check_eq "  and nothing was written" "0" "$(rcli exists skiff:project:inbody skiff:project:inbody:repo)"
}
create_refused "a create body's token with a space is refused" \
	"{\"gitURL\":\"$HURL\",\"slug\":\"inbody\",\"repositoryToken\":\"a b\"}" 400 invalid_repository_token
create_refused "a token that is not a string is refused" \
	"{\"gitURL\":\"$HURL\",\"slug\":\"inbody\",\"repositoryToken\":42}" 400 invalid_field
create_refused "a user name without a token is refused" \
	"{\"gitURL\":\"$HURL\",\"slug\":\"inbody\",\"repositoryUsername\":\"oauth2\"}" 400 invalid_repository_username
create_refused "a bad user name is refused as the token route refuses it" \
	"{\"gitURL\":\"$HURL\",\"slug\":\"inbody\",\"repositoryToken\":\"$TOKEN\",\"repositoryUsername\":\"a:b\"}" 400 invalid_repository_username
create_refused "a token for a URL without a host is refused" \
	"{\"gitURL\":\"file://$site\",\"slug\":\"inbody\",\"repositoryToken\":\"$TOKEN\"}" 400 invalid_git_url
create_refused "deployKey must be true or false" \
	"{\"gitURL\":\"$HURL\",\"slug\":\"inbody\",\"deployKey\":\"yes\"}" 400 invalid_field
mv "$T/secret.key" "$T/secret.key.away"
create_refused "without the key file a token is refused" \
	"{\"gitURL\":\"$HURL\",\"slug\":\"inbody\",\"repositoryToken\":\"$TOKEN\"}" 500 secret_key_unavailable
mv "$T/secret.key.away" "$T/secret.key"
check_eq "a project is created with its token in the body" "202" \
	"$(call skiff-create POST /api/projects "{\"gitURL\":\"$HURL\",\"slug\":\"inbody\",\"repositoryToken\":\"$TOKEN\",\"repositoryUsername\":\"oauth2\"}")"
check_eq "  the answer says a token is set, for the URL's host" "true oauth2 127.0.0.1:$GPORT" \
	"$(jget data.repository.token.set) $(jget data.repository.token.username) $(jget data.repository.token.host)"
check_nomatch "  and does not show it" "$TOKEN" "$(cat "$T/body")"
id=$(jget data.deploymentId)
dispatch
check_eq "  its first build is ready" "ready" "$(field "$id" state)"
check_match "  its site is served" "private site" "$(fetch inbody.localhost /)"
check_eq "the dashboard's form takes the token too" "303" \
	"$(call skiff-create POST /api/projects "gitURL=$HURL&slug=inform&repositoryToken=$TOKEN" application/x-www-form-urlencoded)"
dispatch
check_eq "  and its first build is ready" "ready" "$(field "$(rcli hget skiff:project:inform latest)" state)"
check_eq "a form's bad token gets the form again" "400" \
	"$(call skiff-create POST /api/projects "gitURL=$HURL&slug=badform&repositoryToken=a%20b" application/x-www-form-urlencoded)"
check_match "  naming the field by its label" 'data-field="repositoryToken".*Access token must be printable' \
	"$(tr '\n' ' ' <"$T/body")"
check_nomatch "  without the typed token in the page" 'value="a b"|value="a%20b"' "$(cat "$T/body")"
check_match "the deploy form has the token field, a password input" \
	'<input id="repositoryToken" name="repositoryToken" type="password"' \
	"$(call skiff-status GET /project >/dev/null; cat "$T/body")"

# ---- SSH with a deploy key: Debian's sshd on a loopback port -----------------------------
SPORT=$(free_port)
SUSER=$(id -un)
# the host's own address passes the URL check without allow_local_git: the sandboxed clone
# below reaches sshd there (with build_network = host)
HOST_ADDR=$(ip -4 -o addr show scope global | awk '{ sub("/.*", "", $4); print $4; exit }')
mkdir -p "$T/ssh"
ssh-keygen -q -t ed25519 -N '' -C host1 -f "$T/ssh/host1"
ssh-keygen -q -t ed25519 -N '' -C host2 -f "$T/ssh/host2"
: >"$T/ssh/authorized_keys"
[ "$(id -u)" != 0 ] || mkdir -p /run/sshd   # its privilege separation directory
# start_sshd HOSTKEY: (re)starts sshd with that host key
start_sshd() {
	[ -z "${SSHD_PID:-}" ] || { kill "$SSHD_PID"; wait "$SSHD_PID" 2>/dev/null; }
	cat >"$T/ssh/sshd_config" <<CONF
ListenAddress 127.0.0.1:$SPORT
${HOST_ADDR:+ListenAddress $HOST_ADDR:$SPORT}
HostKey $1
AuthorizedKeysFile $T/ssh/authorized_keys
AllowUsers $SUSER
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PidFile none
CONF
	/usr/sbin/sshd -D -e -f "$T/ssh/sshd_config" >>"$T/sshd.log" 2>&1 &
	SSHD_PID=$!
	PIDS="$PIDS $SSHD_PID"
	wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $SPORT), 1)" ||
		{ echo "sshd did not start: $(tail -5 "$T/sshd.log")" >&2; exit 1; }
}
start_sshd "$T/ssh/host1"
SURL="ssh://$SUSER@127.0.0.1:$SPORT$T/gitroot/site.git"
fp1=$(ssh-keygen -lf "$T/ssh/host1.pub" | cut -d' ' -f2)
fp2=$(ssh-keygen -lf "$T/ssh/host2.pub" | cut -d' ' -f2)

call skiff-create POST /api/projects "{\"gitURL\":\"$SURL\",\"slug\":\"priv-ssh\"}" >/dev/null
id=$(jget data.deploymentId)
check_match "an ssh:// URL is accepted" '^[a-z2-7]{12}$' "$id"
dispatch
check_eq "without a deploy key the build fails" "error" "$(field "$id" state)"
check_match "and says the project has no deploy key" "the project has no deploy key" "$(field "$id" error)"

check_eq "a deploy key is generated" "201" "$(call skiff-create POST /api/projects/priv-ssh/repository/deploy-key '{}')"
pub=$(jget data.deployKey.publicKey)
kfp=$(jget data.deployKey.fingerprint)
check_match "  its public half in authorized_keys form" "^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/=]+ skiff-priv-ssh$" "$pub"
printf '%s\n' "$pub" >"$T/ssh/pub"
check_eq "  its fingerprint as ssh-keygen -l shows it" "$(ssh-keygen -lf "$T/ssh/pub" | cut -d' ' -f2)" "$kfp"
check_nomatch "  the answer holds no private key" "PRIVATE|b3BlbnNzaC1rZXktdjE" "$(cat "$T/body")"

id=$(redeploy priv-ssh)
check_eq "before the key is added to the server the build fails" "error" "$(field "$id" state)"
check_match "and names the refused key" "the server refused the deploy key $(re "$kfp")" \
	"$(field "$id" error)"

printf '%s\n' "$pub" >"$T/ssh/authorized_keys"
id=$(redeploy priv-ssh)
check_eq "with the key added the ssh build is ready" "ready" "$(field "$id" state)"
check_match "the ssh site is served" "private site" "$(fetch priv-ssh.localhost /)"
call skiff-status GET "/api/deployments/$id/log" >/dev/null
check_match "the log names the key and the pinned host key" \
	"deploy key $(re "$kfp").*Pinned the server's host key ssh-ed25519 $(re "$fp1")" \
	"$(tr '\n' ' ' <"$T/body")"
call skiff-status GET /api/projects/priv-ssh/repository >/dev/null
check_eq "the API shows the pinned host key's fingerprint" "$fp1" "$(jget data.hostKey.fingerprint)"
check_eq "  for the host and port of the URL" "127.0.0.1:$SPORT" "$(jget data.hostKey.host)"

# a fork's pull request names its own repository, here the same server under another host name
# (the record is marked as a fork's, as it_preview.sh's webhook makes one): it gets no deploy
# key, wherever it points, and what its clone sees is not pinned
check_eq "the API shows the host the key was made for" "127.0.0.1:$SPORT" \
	"$(call skiff-status GET /api/projects/priv-ssh/repository >/dev/null; jget data.deployKey.host)"
: >"$T/sshd.log"
call skiff-create POST /api/projects/priv-ssh/deployments '{}' >/dev/null
id=$(jget data.deploymentId)
rcli hset "skiff:deployment:$id" fork 1 git_url "ssh://$SUSER@localhost:$SPORT$T/gitroot/site.git" >/dev/null
dispatch
check_eq "a fork's build from the key's server is refused the key" "error" "$(field "$id" state)"
check_match "  and says a fork gets no credential" "a pull request from a fork gets none of the project's credentials" \
	"$(field "$id" error)"
check_match "  as its log says before the clone" "Without the project's deploy key: a pull request from a fork" \
	"$(call skiff-status GET "/api/deployments/$id/log" >/dev/null; cat "$T/body")"
check_nomatch "  and sshd was offered no key" "publickey" "$(grep -i 'publickey' "$T/sshd.log")"
call skiff-status GET /api/projects/priv-ssh/repository >/dev/null
check_eq "  and leaves the project's pinned host key alone" "127.0.0.1:$SPORT $fp1" \
	"$(jget data.hostKey.host) $(jget data.hostKey.fingerprint)"
# the project's own URL moved to another host: the key stays with the host it was made for
check_eq "the URL moves to another host name" "200" \
	"$(call skiff-create PATCH /api/projects/priv-ssh "{\"gitURL\":\"ssh://$SUSER@localhost:$SPORT$T/gitroot/site.git\"}")"
id=$(redeploy priv-ssh)
check_eq "  its build gets no key" "error" "$(field "$id" state)"
check_match "  and says for which host the key was made" \
	"deploy key was made for 127.0.0.1:$SPORT, not for this URL's host" "$(field "$id" error)"
call skiff-create PATCH /api/projects/priv-ssh "{\"gitURL\":\"$SURL\"}" >/dev/null
id=$(redeploy priv-ssh)
check_eq "  back on its host, the key works again" "ready" "$(field "$id" state)"

# an scp-like URL reaches the same server: git@host:path (port 22 only), so only validation
check_eq "an scp-like URL is accepted at creation" "202" \
	"$(call skiff-create POST /api/projects '{"gitURL":"git@localhost:site.git","slug":"scp-like"}')"
check_eq "an ssh URL with a password is refused" "400" \
	"$(call skiff-create POST /api/projects '{"gitURL":"ssh://git:pw@localhost/site.git","slug":"pw"}')"
check_match "  as credentials in the URL" "credentials" "$(jget error.message)"

# the server's host key changes: refused, named, until the pin is reset
start_sshd "$T/ssh/host2"
id=$(redeploy priv-ssh)
check_eq "a changed host key fails the build" "error" "$(field "$id" state)"
check_match "and names both keys" \
	"host key changed: pinned ssh-ed25519 $(re "$fp1"), offered ssh-ed25519 $(re "$fp2")" \
	"$(field "$id" error)"
check_eq "the pin is reset" "200" "$(call skiff-create DELETE /api/projects/priv-ssh/repository/host-key)"
check_eq "  and shown as none" "null" "$(jget data.hostKey)"
id=$(redeploy priv-ssh)
check_eq "after the reset the build is ready" "ready" "$(field "$id" state)"
check_eq "  with the new key pinned" "$fp2" \
	"$(call skiff-status GET /api/projects/priv-ssh/repository >/dev/null; jget data.hostKey.fingerprint)"

# a rotated key replaces the old one: the server still has only the old one
check_eq "the key is rotated" "201" "$(call skiff-create POST /api/projects/priv-ssh/repository/deploy-key '{}')"
check_nomatch "  into another one" "$(re "$kfp")" "$(jget data.deployKey.fingerprint)"
id=$(redeploy priv-ssh)
check_match "the old key no longer works for skiff" "refused the deploy key" "$(field "$id" error)"

# ---- a deploy key asked for in the create body: its public half in the answer ------------
check_eq "a project is created asking for a deploy key" "202" \
	"$(call skiff-create POST /api/projects "{\"gitURL\":\"$SURL\",\"slug\":\"keybody\",\"deployKey\":true}")"
check_match "  the answer shows its public half" "^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/=]+ skiff-keybody$" \
	"$(jget data.repository.deployKey.publicKey)"
check_eq "  made for the URL's host" "127.0.0.1:$SPORT" "$(jget data.repository.deployKey.host)"
check_nomatch "  and no private key" "PRIVATE|b3BlbnNzaC1rZXktdjE" "$(cat "$T/body")"
id=$(jget data.deploymentId)
jget data.repository.deployKey.publicKey >>"$T/ssh/authorized_keys"
dispatch
check_eq "  with the key added before it runs, the first build is ready" "ready" "$(field "$id" state)"

# ---- the clone's side in the sandbox: credentials on a descriptor, not argv or environment --
# (the builds above clone in-process: allow_local_git lets loopback through, and a sandboxed
# clone cannot reach loopback; this drives `skiff-build --clone` as the sandbox runs it)
ssh-keygen -q -t ed25519 -N '' -C child -f "$T/ssh/child"
cat "$T/ssh/child.pub" >>"$T/ssh/authorized_keys"
wire() { # FILE KEY=VALUE...: the JSON skiff-build hands its clone child
	f=$1
	shift
	python3 -c 'import json, sys
o = {}
for a in sys.argv[2:]:
    k, v = a.split("=", 1)
    o[k] = True if v == "true" else open(v[1:]).read() if v.startswith("@") else v
open(sys.argv[1], "w").write(json.dumps(o))' "$f" "$@"
}
wire "$T/wire-http" token="$TOKEN" username=oauth2
"$BIN/skiff-build" --clone --credentials-fd 3 "$HURL" "$T/child-http" 3<"$T/wire-http" \
	>"$T/child.out" 2>"$T/child.err"
check_eq "the clone child clones over http with the token from its descriptor" "<h1>private site</h1>" \
	"$(cat "$T/child-http/index.html" 2>/dev/null)"
wire "$T/wire-ssh" ssh=true privateKey=@"$T/ssh/child" publicKey=@"$T/ssh/child.pub" \
	pinType=ssh-ed25519 pin="$fp2"
"$BIN/skiff-build" --clone --credentials-fd 3 "$SURL" "$T/child-ssh" 3<"$T/wire-ssh" \
	>"$T/child.out" 2>"$T/child.err"
check_eq "the clone child clones over ssh with the key from its descriptor" "<h1>private site</h1>" \
	"$(cat "$T/child-ssh/index.html" 2>/dev/null)"
check_eq "  and reports the host key it saw" "skiff-host-key ssh-ed25519 $fp2" \
	"$(grep '^skiff-host-key' "$T/child.out")"
wire "$T/wire-pin" ssh=true privateKey=@"$T/ssh/child" publicKey=@"$T/ssh/child.pub" \
	pinType=ssh-ed25519 pin="$fp1"
"$BIN/skiff-build" --clone --credentials-fd 3 "$SURL" "$T/child-pin" 3<"$T/wire-pin" \
	>"$T/child.out" 2>"$T/child.err"
check_match "the clone child refuses another host key than the pinned one" \
	"^clone failed: the server's host key changed: pinned ssh-ed25519 $(re "$fp1")" "$(cat "$T/child.err")"
check_eq "  and cloned nothing" "no" "$([ -e "$T/child-pin/index.html" ] && echo yes || echo no)"

# ---- the same through bubblewrap: the credentials on the clone's descriptor ----------------
# without allow_local_git the clone runs as `skiff-build --clone` inside bwrap; with
# build_network = host it can reach sshd on the host's address (egress would block it)
if [ -z "$HOST_ADDR" ] || ! command -v bwrap >/dev/null; then
	fail "the sandboxed clone needs bwrap and a global IPv4 address (have: '${HOST_ADDR}')"
else
	printf 'sandbox = bwrap\nbuild_network = host\nallow_local_git = false\n' >>"$T/skiff.conf"
	BURL="ssh://$SUSER@$HOST_ADDR:$SPORT$T/gitroot/site.git"
	call skiff-create POST /api/projects "{\"gitURL\":\"$BURL\",\"slug\":\"box-ssh\"}" >/dev/null
	call skiff-create POST /api/projects/box-ssh/repository/deploy-key '{}' >/dev/null
	jget data.deployKey.publicKey >>"$T/ssh/authorized_keys"
	id=$(redeploy box-ssh)
	check_eq "a sandboxed clone with the deploy key is ready" "ready" "$(field "$id" state)"
	call skiff-status GET "/api/deployments/$id/log" >/dev/null
	check_match "  it ran in the sandbox, then pinned the key the child saw" \
		"shares the host's network.*Pinned the server's host key ssh-ed25519 $(re "$fp2")" \
		"$(tr '\n' ' ' <"$T/body")"
	start_sshd "$T/ssh/host1"
	id=$(redeploy box-ssh)
	check_match "a sandboxed clone refuses a changed host key, naming both" \
		"host key changed: pinned ssh-ed25519 $(re "$fp2"), offered ssh-ed25519 $(re "$fp1")" \
		"$(field "$id" error)"
	start_sshd "$T/ssh/host2"
	sed -i '/^sandbox = bwrap$/d; /^build_network = host$/d; /^allow_local_git = false$/d' "$T/skiff.conf"
fi

# ---- polls use the credentials and check the pin too -------------------------------------
call skiff-create POST /api/projects "{\"gitURL\":\"$SURL\",\"slug\":\"poll-ssh\",\"watch\":true}" >/dev/null
call skiff-create POST /api/projects/poll-ssh/repository/deploy-key '{}' >/dev/null
jget data.deployKey.publicKey >>"$T/ssh/authorized_keys"
dispatch
check_eq "a watched ssh project builds" "ready" "$(field "$(rcli hget skiff:project:poll-ssh latest)" state)"
echo '<h1>second version</h1>' >"$site/index.html"
commit "$site" "second version"
git -C "$site" push -q "$T/gitroot/site.git" main
start_sshd "$T/ssh/host1"   # the pinned key is host2's
SKIFF_POLL_INTERVAL=5 "$BIN/skiff-dispatch" >>"$T/dispatch.log" 2>&1 &
POLLER=$!
PIDS="$PIDS $POLLER"
poll_error() { rcli hget skiff:project:poll-ssh poll_error; }
wait_for 20 sh -c "redis-cli -s '$T/redis.sock' hget skiff:project:poll-ssh poll_error | grep -q ."
check_match "a poll that meets a changed host key fails and names it" \
	"host key changed: pinned ssh-ed25519 $(re "$fp2"), offered ssh-ed25519 $(re "$fp1")" "$(poll_error)"
check_eq "  and deploys nothing" "" "$(rcli hget skiff:deployment:"$(rcli hget skiff:project:poll-ssh latest)" trigger | grep poll)"
start_sshd "$T/ssh/host2"
polled() { [ "$(field "$(rcli hget skiff:project:poll-ssh latest)" trigger)" = poll ]; }
wait_for 40 polled
check_eq "with the pinned key back, the poll finds the new commit" "poll" \
	"$(field "$(rcli hget skiff:project:poll-ssh latest)" trigger)"
wait_for 30 sh -c "redis-cli -s '$T/redis.sock' hget skiff:deployment:\$(redis-cli -s '$T/redis.sock' hget skiff:project:poll-ssh latest) state | grep -q ready"
check_match "  and it is deployed" "second version" "$(fetch poll-ssh.localhost /)"
kill "$POLLER"
wait "$POLLER" 2>/dev/null

# ---- the credentials are nowhere in clear text -------------------------------------------
redis_text >"$T/redis.txt"
check_match "Redis holds the sealed token" "^v1:" "$(rcli hget skiff:project:priv-http:repo token)"
check_nomatch "the token is nowhere in Redis" "$TOKEN|$WRONG" "$(cat "$T/redis.txt")"
check_nomatch "no private key is in Redis" "PRIVATE KEY|b3BlbnNzaC1rZXktdjE" "$(cat "$T/redis.txt")"
logs=""
for d in $(rcli zrange skiff:project:priv-http:deployments 0 -1) $(rcli zrange skiff:project:priv-ssh:deployments 0 -1); do
	call skiff-status GET "/api/deployments/$d/log" >/dev/null
	logs="$logs$(cat "$T/body")"
done
check_match "the logs were read" "Cloning" "$logs"
check_nomatch "neither token nor key is in any build log" "$TOKEN|$WRONG|PRIVATE KEY|b3BlbnNzaC1rZXktdjE" "$logs"
api=""
for p in /api/projects/priv-http /api/projects/priv-ssh /api/projects/priv-http/repository \
	/api/projects/priv-ssh/repository /api/projects; do
	call skiff-status GET "$p" >/dev/null
	api="$api$(cat "$T/body")"
done
check_nomatch "nor in any API answer" "$TOKEN|$WRONG|PRIVATE KEY|b3BlbnNzaC1rZXktdjE|v1:" "$api"
check_nomatch "nor in the programs' own logs" "$TOKEN|$WRONG|PRIVATE KEY|b3BlbnNzaC1rZXktdjE" \
	"$(cat "$T"/dispatch.log "$T"/cgi.log)"

# ---- removal -----------------------------------------------------------------------------
check_eq "the token is removed" "200" "$(call skiff-create DELETE /api/projects/priv-http/repository/token)"
check_eq "  and shown as unset" "false" "$(jget data.token.set)"
check_eq "the key is removed by the form" "303" \
	"$(call skiff-create POST /api/projects/priv-ssh/repository/deploy-key/delete '' application/x-www-form-urlencoded)"
check_eq "  and shown as none" "null" \
	"$(call skiff-status GET /api/projects/priv-ssh/repository >/dev/null; jget data.deployKey)"
check_eq "the project is deleted" "200" "$(call skiff-create DELETE '/api/projects/priv-ssh?confirm=priv-ssh')"
check_eq "  and its repository record with it" "0" "$(rcli exists skiff:project:priv-ssh:repo)"

finish
