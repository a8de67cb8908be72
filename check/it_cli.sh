#!/bin/sh
# it_cli.sh — the `skiff` command-line client against the whole stack (lighttpd, skiff-create,
# Redis, the file store, skiff-serve): login stores the URL and token (0600 in a 0700
# directory); deploy uploads a directory and it goes live; a second deploy with one file
# changed uploads exactly one blob and an unchanged one none; a blob swept between the
# announcement and the finish is sent again; --json prints one object; a bad
# token, an unknown project and a special file each exit non-zero with a precise message;
# `skiff domains` lists, adds and removes a project's domains and chooses its primary.
. "$(dirname "$0")/lib.sh"

for tool in curl python3 redis-server lighttpd; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
for p in skiff skiff-create skiff-status skiff-serve; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done

start_stack || { TESTS_RUN=$((TESTS_RUN + 1)); fail "the stack starts"; finish; exit 1; }
U="http://127.0.0.1:$STACK_PORT"
H="Host: localhost:$STACK_PORT"
ORIGIN="Origin: http://localhost:$STACK_PORT"
export HOME="$T/home"
mkdir -p "$HOME"
unset SKIFF_URL SKIFF_TOKEN XDG_CONFIG_HOME

jget() {
	python3 -c 'import json, sys
v = json.load(open(sys.argv[2]))
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k, "")
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$1" "$2" 2>/dev/null || echo "<not json>"
}
site() { curl -sS -H "Host: $1.localhost:$STACK_PORT" "$U$2"; }

# ---- a project whose git build fails at once, and a deploy token for it ------------------
curl -sS -o "$T/body" -X POST -H "$H" -H "$ORIGIN" -H 'Content-Type: application/json' \
	--data-binary "{\"gitURL\":\"file://$T/no-such-repo\",\"slug\":\"cli\",\"webhookSecret\":false}" "$U/api/projects"
first=$(jget data.deploymentId "$T/body")
wait_for 30 sh -c "[ \"\$(redis-cli -s $T/redis.sock HGET skiff:deployment:$first state)\" = error ]" ||
	fail "the git build of cli fails"
curl -sS -o "$T/body" -X POST -H "$H" -H "$ORIGIN" -H 'Content-Type: application/json' \
	--data-binary '{"name":"cli test"}' "$U/api/projects/cli/tokens"
TOK=$(jget token "$T/body")
check_match "a deploy token is created" '^skiff_' "$TOK"

# ---- login --------------------------------------------------------------------------------
echo "$TOK" | "$BIN/skiff" login "$STACK_URL" >"$T/out" 2>&1
check_eq "login: exit 0" 0 $?
CONF="$HOME/.config/skiff/config.json"
check_eq "login: config.json mode 0600" 600 "$(stat -c %a "$CONF" 2>/dev/null)"
check_eq "login: its directory mode 0700" 700 "$(stat -c %a "$HOME/.config/skiff" 2>/dev/null)"
check_eq "login: the URL is stored" "$STACK_URL" "$(jget url "$CONF")"
check_eq "login: the token is stored" "$TOK" "$(jget token "$CONF")"
check_eq "login: says who the token is (GET /api/whoami)" \
	"logged in to $STACK_URL as deploy token 'cli test' of project cli (scope deploy)" "$(cat "$T/out")"
curl -sS -o "$T/body" -w '%{http_code}' -H "$H" -H "Authorization: Bearer $TOK" "$U/api/whoami" >"$T/code"
check_eq "whoami with a deploy token: 200, its project, scope and name" \
	"200 deploy_token cli deploy cli test" \
	"$(cat "$T/code") $(jget data.kind "$T/body") $(jget data.project "$T/body") $(jget data.scope "$T/body") $(jget data.name "$T/body")"
check_nomatch "whoami never shows the secret" 'skiff_' "$(cat "$T/body")"
curl -sS -o "$T/body" -w '%{http_code}' -H "$H" "$U/api/whoami" >"$T/code"
check_eq "whoami without credentials under auth_disabled: anonymous" "200 anonymous" \
	"$(cat "$T/code") $(jget data.kind "$T/body")"
curl -sS -o "$T/body" -w '%{http_code}' -H "$H" -H "Authorization: Bearer skiff_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"$U/api/whoami" >"$T/code"
check_eq "whoami with a token never issued: 401 invalid_token" "401 invalid_token" \
	"$(cat "$T/code") $(jget error.code "$T/body")"
echo "skiff_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" | HOME="$T/home2" "$BIN/skiff" login "$STACK_URL" >"$T/out" 2>&1
check_eq "login with a wrong token: exit 1" 1 $?
check_match "login with a wrong token: the server's message" 'invalid_token' "$(cat "$T/out")"
[ ! -e "$T/home2/.config/skiff/config.json" ] && ok "login with a wrong token: nothing stored" ||
	fail "login with a wrong token: nothing stored"

# ---- deploy a directory (the token and URL from config.json) ------------------------------
D="$T/site"
mkdir -p "$D/assets/img"
echo '<h1>hello from the cli</h1>' >"$D/index.html"
echo 'body{}' >"$D/assets/app.css"
echo 'same' >"$D/assets/a.txt"
echo 'same' >"$D/assets/b.txt"
i=0
while [ $i -lt 20 ]; do echo "file $i" >"$D/assets/img/f$i.txt"; i=$((i + 1)); done
ln -s ../index.html "$D/assets/link.html"
ln -s /etc/passwd "$D/outside"
printf '/old /index.html 301\n' >"$D/_redirects"
"$BIN/skiff" deploy "$D" --project cli >"$T/out" 2>"$T/err"
check_eq "deploy: exit 0" 0 $?
check_match "deploy: 26 files announced, 24 blobs to upload (equal files are one blob)" \
	': 26 files, 24 to upload$' "$(cat "$T/out")"
check_match "deploy: says how many it uploaded" '^uploaded 24 blobs' "$(cat "$T/out")"
D1=$(sed -n 's/^deployment \([a-z0-9]*\): .*/\1/p' "$T/out")
check_match "deploy: prints the live URL" "^live: http://cli.localhost:$STACK_PORT/" "$(cat "$T/out")"
check_match "deploy: the symlink out of the directory is skipped, with a note" 'outside' "$(cat "$T/err")"
check_eq "deploy: the site serves the new index" '<h1>hello from the cli</h1>' "$(site cli /)"
check_eq "deploy: a symlink inside is served with its target's bytes" '<h1>hello from the cli</h1>' \
	"$(site cli /assets/link.html)"
check_nomatch "deploy: /outside is not served" '^root:' "$(site cli /outside)"
check_match "deploy: _redirects is honoured" '^301 .*/index.html$' \
	"$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: cli.localhost:$STACK_PORT" "$U/old")"

# ---- one change: exactly one blob; none: no blob; --json parses ----------------------------
echo '<h1>changed</h1>' >"$D/index.html"
"$BIN/skiff" deploy "$D" --project cli >"$T/out" 2>"$T/err"
check_eq "deploy one change: exit 0" 0 $?
check_match "deploy one change: uploads exactly one blob" '^uploaded 1 blob \(' "$(cat "$T/out")"
# skiff-serve may answer from its cache of the current deployment for a moment
wait_for 5 sh -c "[ \"\$(curl -sS -H 'Host: cli.localhost:$STACK_PORT' '$U/')\" = '<h1>changed</h1>' ]" &&
	ok "deploy one change: live" || fail "deploy one change: live"
SKIFF_URL="$STACK_URL" SKIFF_TOKEN="$TOK" HOME="$T/nohome" "$BIN/skiff" deploy "$D" --project cli --json >"$T/out" 2>"$T/err"
check_eq "deploy unchanged (SKIFF_URL, SKIFF_TOKEN, --json): exit 0" 0 $?
check_eq "deploy --json: one line" 1 "$(wc -l <"$T/out")"
check_eq "deploy --json: uploaded 0 blobs, 0 bytes, state ready" "0 0 ready" \
	"$(jget uploaded "$T/out") $(jget uploadedBytes "$T/out") $(jget state "$T/out")"
check_eq "deploy --json: 26 files" 26 "$(jget files "$T/out")"
ID=$(jget deploymentId "$T/out")
check_eq "deploy --json: the deployment URL" "http://cli--$ID.localhost:$STACK_PORT/" "$(jget deploymentUrl "$T/out")"
check_eq "deploy --json: stderr has the note only, no progress" 'skiff: skipped symlink outside: points outside the output directory' "$(cat "$T/err")"

"$BIN/skiff" deploy "$D" --project cli --preview --json >"$T/out" 2>"$T/err"
check_eq "deploy --preview: ready, preview, production unchanged" "ready true <h1>changed</h1>" \
	"$(jget state "$T/out") $(jget preview "$T/out") $(site cli /)"

# ---- failures: exit non-zero with the server's message, nothing promoted -----------------
echo '<h1>never live</h1>' >"$D/index.html"
SKIFF_TOKEN=skiff_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "$BIN/skiff" deploy "$D" --project cli >"$T/out" 2>"$T/err"
check_eq "deploy with a bad token: exit 1" 1 $?
check_match "deploy with a bad token: the server's message and code" '^skiff: .*\(HTTP 401 invalid_token\)$' "$(cat "$T/err")"
SKIFF_TOKEN=skiff_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "$BIN/skiff" deploy "$D" --project cli --json >"$T/out" 2>"$T/err"
check_eq "deploy --json with a bad token: the error as JSON" "invalid_token" "$(jget error.code "$T/out")"
"$BIN/skiff" deploy "$D" --project nosuch >"$T/out" 2>"$T/err"
check_eq "deploy to another project: exit 1" 1 $?
check_match "deploy to another project: the server's message" '(token_scope|not_found)\)$' "$(cat "$T/err")"
mkfifo "$D/pipe"
"$BIN/skiff" deploy "$D" --project cli >"$T/out" 2>"$T/err"
check_eq "deploy with a FIFO: exit 1" 1 $?
check_match "deploy with a FIFO: names it" 'pipe' "$(cat "$T/err")"
rm -f "$D/pipe"
"$BIN/skiff" deploy "$T/no-such-dir" --project cli >"$T/out" 2>"$T/err"
check_eq "deploy of a missing directory: exit 1" 1 $?
"$BIN/skiff" deploy "$D" >"$T/out" 2>"$T/err"
check_eq "deploy without --project: usage, exit 2" 2 $?
check_eq "failed deploys promoted nothing" '<h1>changed</h1>' "$(site cli /)"

# ---- ls, open -----------------------------------------------------------------------------
"$BIN/skiff" ls --project cli --json >"$T/out" 2>"$T/err"
check_eq "ls --project: the newest deployment first" "$ID" "$(jget data.1.id "$T/out")"
# a fake browser records what it was asked to open; no display and no $BROWSER opens nothing
printf '#!/bin/sh\nprintf "%%s|%%s\\n" "$#" "$1" >>"%s/opened"\n' "$T" >"$T/browser"
chmod +x "$T/browser"
env -u DISPLAY -u WAYLAND_DISPLAY -u BROWSER "$BIN/skiff" open "$ID" >"$T/out" 2>"$T/err"
check_eq "open ID without a display: prints the deployment's URL" \
	"0 http://cli--$ID.localhost:$STACK_PORT/" "$? $(cat "$T/out")"
BROWSER="$T/browser" "$BIN/skiff" open "$ID" >"$T/out" 2>"$T/err"
check_eq "open ID: prints the URL" "0 http://cli--$ID.localhost:$STACK_PORT/" "$? $(cat "$T/out")"
check_eq "open ID: \$BROWSER got the URL as its one argument" "1|http://cli--$ID.localhost:$STACK_PORT/" \
	"$(cat "$T/opened" 2>/dev/null)"
rm -f "$T/opened"
BROWSER="$T/browser" "$BIN/skiff" open >"$T/out" 2>"$T/err"
check_eq "open without arguments: the deploy token's project's site" \
	"0 http://cli.localhost:$STACK_PORT/ 1|http://cli.localhost:$STACK_PORT/" \
	"$? $(cat "$T/out") $(cat "$T/opened" 2>/dev/null)"
rm -f "$T/opened"
BROWSER="$T/browser" DISPLAY=:99 "$BIN/skiff" open --project cli --json >"$T/out" 2>"$T/err"
check_eq "open --json: only prints, opens nothing" "http://cli.localhost:$STACK_PORT/ false absent" \
	"$(jget url "$T/out") $(jget opened "$T/out") $([ -e "$T/opened" ] && echo present || echo absent)"
BROWSER=/bin/false "$BIN/skiff" open "$ID" >"$T/out" 2>"$T/err"
check_eq "open with a browser that fails: exit 1" 1 $?
check_match "open with a browser that fails: says so" 'false .* failed \(exit status 1\)' "$(cat "$T/err")"
# ---- logs: the text log, and -f until the end entry ---------------------------------------
"$BIN/skiff" logs "$ID" >"$T/out" 2>"$T/err"
check_eq "logs: exit 0" 0 $?
check_eq "logs: from building to ready, with the rules line" \
	"==> building upload|Routing rules: 1 redirects, 0 header rules|==> ready" "$(paste -sd '|' "$T/out")"
cp "$T/out" "$T/log-text"
timeout 20 "$BIN/skiff" logs -f "$ID" >"$T/out" 2>"$T/err"
check_eq "logs -f of a finished deployment: exit 0 at its end entry" 0 $?
check_eq "logs -f: the same lines as the text log" "$(cat "$T/log-text")" "$(cat "$T/out")"
timeout 20 "$BIN/skiff" logs -f "$first" >"$T/out" 2>"$T/err"
check_eq "logs -f of a failed build: exit 1" 1 $?
check_match "logs -f of a failed build: the build's error line" '^Error: clone failed' "$(cat "$T/out")"
check_eq "logs -f of a failed build: says how it ended" "skiff: deployment $first ended error" "$(cat "$T/err")"
"$BIN/skiff" logs nosuchdeploy >"$T/out" 2>"$T/err"
check_eq "logs of an unknown deployment: exit 1, the server's message" \
	"1 skiff: deployment not found (HTTP 404 not_found)" "$? $(cat "$T/err")"

# ---- admin commands: tokens, rollback (an api_token; a deploy token may not) --------------
ADMIN=admin-token-for-it-cli-0123456789
printf 'api_token = %s\nmax_file_mb = 1\n' "$ADMIN" >>"$T/skiff.conf"
stop_lighttpd
start_lighttpd || fail "lighttpd restarts with an api_token"
curl -sS -o "$T/body" -w '%{http_code}' -H "$H" -H "Authorization: Bearer $ADMIN" "$U/api/whoami" >"$T/code"
check_eq "whoami with the api_token: the operator" "200 operator" "$(cat "$T/code") $(jget data.kind "$T/body")"
curl -sS -o "$T/body" -w '%{http_code}' -H "$H" -H "Authorization: Bearer not-$ADMIN" "$U/api/whoami" >"$T/code"
check_eq "whoami with a wrong api_token: 401 invalid_token" "401 invalid_token" \
	"$(cat "$T/code") $(jget error.code "$T/body")"
SKIFF_TOKEN=$ADMIN "$BIN/skiff" tokens cli create "ci previews" --preview >"$T/out" 2>"$T/err"
check_eq "tokens create: exit 0" 0 $?
check_match "tokens create: prints the token, once" '^skiff_[a-z2-7]{32}$' "$(cat "$T/out")"
PTOK=$(cat "$T/out")
SKIFF_TOKEN=$ADMIN "$BIN/skiff" tokens cli --json >"$T/out" 2>"$T/err"
check_eq "tokens: lists both" 2 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["data"]))' "$T/out")"
SKIFF_TOKEN=$ADMIN "$BIN/skiff" tokens cli >"$T/out" 2>"$T/err"
check_match "tokens: the preview token, never used" 'preview +last used never +ci previews$' "$(cat "$T/out")"
check_nomatch "tokens: the list never shows a token" 'skiff_' "$(cat "$T/out")"
"$BIN/skiff" tokens cli >"$T/out" 2>"$T/err"
check_eq "tokens with a deploy token: exit 1, token_scope" "1" "$?"
check_match "tokens with a deploy token: the server's message" 'HTTP 403 token_scope' "$(cat "$T/err")"
SKIFF_TOKEN=$PTOK "$BIN/skiff" deploy "$D" --project cli --json >"$T/out" 2>"$T/err"
check_eq "a preview token's deploy is a preview" "ready true" "$(jget state "$T/out") $(jget preview "$T/out")"
PID_=$(SKIFF_TOKEN=$ADMIN "$BIN/skiff" tokens cli --json | python3 -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin)["data"] if t["scope"]=="preview"][0])')
SKIFF_TOKEN=$ADMIN "$BIN/skiff" tokens cli revoke "$PID_" >"$T/out" 2>"$T/err"
check_eq "tokens revoke: exit 0" "0 revoked $PID_" "$? $(cat "$T/out")"
SKIFF_TOKEN=$PTOK "$BIN/skiff" deploy "$D" --project cli >"$T/out" 2>"$T/err"
check_match "a revoked token: refused with the server's message" 'HTTP 401 invalid_token' "$(cat "$T/err")"
SKIFF_TOKEN=$ADMIN "$BIN/skiff" rollback cli "$first" >"$T/out" 2>"$T/err"
check_match "rollback to a failed deployment: 409 not_ready" 'HTTP 409 not_ready' "$(cat "$T/err")"
SKIFF_TOKEN=$ADMIN "$BIN/skiff" rollback cli "$D1" >"$T/out" 2>"$T/err"
check_eq "rollback to the first deploy: exit 0" 0 $?
wait_for 5 sh -c "[ \"\$(curl -sS -H 'Host: cli.localhost:$STACK_PORT' '$U/')\" = '<h1>hello from the cli</h1>' ]" &&
	ok "rollback: the first deploy is live again" || fail "rollback: the first deploy is live again"

# ---- an upload the server refuses: exit 1, its message, the deployment ends in error ------
head -c 2000000 /dev/zero >"$D/big.bin"
"$BIN/skiff" deploy "$D" --project cli >"$T/out" 2>"$T/err"
check_eq "deploy of a file over max_file_mb: exit 1" 1 $?
check_match "deploy of a file over max_file_mb: names the file, the server's code" \
	'^skiff: uploading /big.bin: .*HTTP 413 blob_too_large' "$(cat "$T/err")"
BIG=$(sed -n 's/^deployment \([a-z0-9]*\): .*/\1/p' "$T/out")
curl -sS -o "$T/body" -H "$H" "$U/api/deployments/$BIG"
check_eq "deploy of a file over max_file_mb: the deployment is failed, not left uploading" error \
	"$(jget data.state "$T/body")"
check_eq "deploy of a file over max_file_mb: nothing promoted" '<h1>hello from the cli</h1>' "$(site cli /)"
rm -f "$D/big.bin"

# ---- a progress line on a terminal only (script(1) gives the CLI a pty) ------------------
if command -v script >/dev/null 2>&1; then
	echo '<h1>on a terminal</h1>' >"$D/index.html"
	SKIFF_URL=$STACK_URL SKIFF_TOKEN=$TOK script -qec "'$BIN/skiff' deploy '$D' --project cli" /dev/null >"$T/out" 2>&1
	check_match "on a terminal: a progress line" 'uploaded 1/1 blobs, 23/23 bytes' "$(tr '\r' '\n' <"$T/out")"
else
	fail "script(1) (bsdutils) is missing: the progress line is not tested"
fi

# ---- a skiff.json in the directory is the deployment's routing settings ---------------------
D3=$T/site3
mkdir -p "$D3"
echo '<h1>about</h1>' >"$D3/about.html"
echo '<h1>three</h1>' >"$D3/index.html"
printf '{"cleanUrls": true, "redirects": [{"source": "/gone", "destination": "/", "permanent": true}]}\n' \
	>"$D3/skiff.json"
"$BIN/skiff" deploy "$D3" --project cli >"$T/out" 2>"$T/err"
check_eq "deploy with skiff.json: exit 0" 0 $?
wait_for 5 sh -c "[ \"\$(curl -sS -H 'Host: cli.localhost:$STACK_PORT' '$U/')\" = '<h1>three</h1>' ]"
check_match "deploy with skiff.json: its cleanUrls apply (/about.html redirects to /about)" \
	'^308 .*/about$' \
	"$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: cli.localhost:$STACK_PORT" "$U/about.html")"
check_eq "deploy with skiff.json: /about serves about.html" '<h1>about</h1>' "$(site cli /about)"
check_match "deploy with skiff.json: its redirects apply" '^301 ' \
	"$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: cli.localhost:$STACK_PORT" "$U/gone")"
printf '{"cleanUrls": "yes"}' >"$D3/skiff.json"
"$BIN/skiff" deploy "$D3" --project cli >"$T/out" 2>"$T/err"
check_eq "deploy with an invalid skiff.json: exit 1" 1 $?
check_match "deploy with an invalid skiff.json: the server's code" 'invalid_config' "$(cat "$T/err")"
printf '{"cleanUrls": tru' >"$D3/skiff.json"
"$BIN/skiff" deploy "$D3" --project cli >"$T/out" 2>"$T/err"
check_eq "deploy with a malformed skiff.json: exit 1" 1 $?
check_match "deploy with a malformed skiff.json: names the file" 'site3/skiff.json: ' "$(cat "$T/err")"
check_eq "deploy with a malformed skiff.json: the site is unchanged" '<h1>three</h1>' "$(site cli /)"

# ---- domains: list, add, remove, the primary (admin); a deploy token reads its own project's -
A() { SKIFF_TOKEN=$ADMIN "$BIN/skiff" "$@" >"$T/out" 2>"$T/err"; }
A domains -p cli
check_eq "domains: none yet, exit 0" "0 no custom domains (skiff domains add NAME)" "$? $(cat "$T/err")"
A domains add www.cli.test -p cli
check_eq "domains add: exit 0" 0 $?
check_match "domains add: pending, and where skiff checks" \
	'^added www.cli.test \(pending\): .* http://www.cli.test/\.well-known/skiff/[a-z2-7]{32}$' "$(cat "$T/out")"
A domains add www.cli.test --project cli
check_eq "domains add twice: exit 1" 1 $?
check_match "domains add twice: the server's code" 'HTTP 409 domain_taken' "$(cat "$T/err")"
A domains add www.localhost -p cli
check_match "domains add under the platform's domain: refused" '1 .*HTTP 400 domain_reserved' "$? $(cat "$T/err")"
A domains add 'Www.Cli.Test' -p cli
check_match "domains add with capitals: refused before any request" '^1 skiff: .Www.Cli.Test. is not a domain name' \
	"$? $(cat "$T/err")"
A domains add cli.test -p cli && A domains add pending.cli.test -p cli
"$BIN/skiff" domains add other.cli.test >"$T/out" 2>"$T/err"
check_match "domains add with a deploy token: refused" '^1 .*HTTP 403' "$? $(cat "$T/err")"
"$BIN/skiff" domains >"$T/out" 2>"$T/err"
check_eq "domains with a deploy token: its own project's list" 0 $?
check_match "domains: name and state" '^www\.cli\.test +pending' "$(cat "$T/out")"
# active, as skiff-dispatch makes a name it verified (no DNS here): a new token makes a check
# already under way record nothing, and out of the schedule no other check starts
for d in www.cli.test cli.test; do
	rcli zrem skiff:domains:check $d >/dev/null
	rcli hset skiff:domain:$d state active token forcedforcedforcedforcedforced23 >/dev/null
done
A domains primary pending.cli.test -p cli
check_match "domains primary of a pending domain: refused" '^1 .*HTTP 409 domain_not_serving' "$? $(cat "$T/err")"
A domains primary www.cli.test --redirect-project -p cli
check_eq "domains primary: exit 0 and says so" \
	"0 primary domain of cli: www.cli.test (its own address redirects there too)" "$? $(cat "$T/out")"
A domains -p cli
check_match "domains: the primary is marked" '^www\.cli\.test +active +primary$' "$(cat "$T/out")"
check_match "domains: the other active name redirects to it" '^cli\.test +active +-> www\.cli\.test$' "$(cat "$T/out")"
A domains ls -p cli --json
check_eq "domains --json: primaryDomain, redirectProjectAddress and 3 domains" "www.cli.test true 3" \
	"$(jget primaryDomain "$T/out") $(jget redirectProjectAddress "$T/out") $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["data"]))' "$T/out")"
sleep 1
check_eq "the other name answers 308 to the primary" "308 http://www.cli.test:$STACK_PORT/x?y=1" \
	"$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: cli.test:$STACK_PORT" "$U/x?y=1")"
A domains primary --none -p cli
check_eq "domains primary --none" "0 primary domain of cli: none" "$? $(cat "$T/out")"
A domains rm cli.test -p cli
check_eq "domains rm: exit 0" "0 removed cli.test" "$? $(cat "$T/out")"
A domains rm cli.test -p cli
check_match "domains rm again: exit 1, unknown_domain" '^1 .*HTTP 404 unknown_domain' "$? $(cat "$T/err")"
A domains rm -p cli
check_eq "domains rm without a name: usage, exit 2" 2 $?
A domains primary -p cli
check_eq "domains primary without a name or --none: usage, exit 2" 2 $?
A domains -p nosuch
check_match "domains of an unknown project: exit 1" '^1 .*HTTP 404' "$? $(cat "$T/err")"

# ---- a blob swept between the announcement and the finish is sent again ------------------
# The store holds kept.txt's blob (old, named by nothing), so the server does not ask for it.
# A sweep plays out by hand: it holds the fence (gc:sweep) while the CLI announces and uploads
# index.html, so the finish waits; the blob is deleted under the fence; the fence goes. The
# finish then finds the blob missing, answers 409 naming it, and the CLI sends it and finishes
# again.
E="$T/swept"
mkdir -p "$E"
echo '<h1>after a sweep</h1>' >"$E/index.html"
echo 'in the store before the deploy, swept during it' >"$E/kept.txt"
kh=$(sha256sum "$E/kept.txt" | cut -c1-64)
ih=$(sha256sum "$E/index.html" | cut -c1-64)
kblob="$T/store/blobs/$(echo "$kh" | cut -c1-2)/$kh"
iblob="$T/store/blobs/$(echo "$ih" | cut -c1-2)/$ih"
mkdir -p "$(dirname "$kblob")"
cp "$E/kept.txt" "$kblob"
rcli SET skiff:gc:sweep it-cli-sweep PX 60000 >/dev/null
"$BIN/skiff" deploy "$E" --project cli >"$T/out" 2>"$T/err" &
CLI_PID=$!
# index.html stored: the announcement is done (its check of the blobs too) and the finish next
wait_for 20 test -f "$iblob" || fail "swept blob: the CLI uploads index.html"
rm "$kblob"
rcli DEL skiff:gc:sweep >/dev/null
wait $CLI_PID
check_eq "swept blob: deploy exits 0" 0 $?
check_match "swept blob: kept.txt was not asked for at first" ': 2 files, 1 to upload$' "$(cat "$T/out")"
check_match "swept blob: sent again after the finish's 409" '^uploaded 2 blobs' "$(cat "$T/out")"
SW=$(sed -n 's/^deployment \([a-z0-9]*\): .*/\1/p' "$T/out")
[ -f "$kblob" ] && ok "swept blob: back in the store" || fail "swept blob: back in the store"
wait_for 5 sh -c "[ \"\$(curl -sS -H 'Host: cli.localhost:$STACK_PORT' '$U/')\" = '<h1>after a sweep</h1>' ]" &&
	ok "swept blob: the deployment is live" || fail "swept blob: the deployment is live"
check_eq "swept blob: its bytes are served" 'in the store before the deploy, swept during it' \
	"$(site cli /kept.txt)"
check_match "swept blob: the server's log says why it answered 409" \
	"upload finish: blobs missing from the store deployment=$SW project=cli missing=1 first=$kh" \
	"$(cat "$T"/*.log)"

"$BIN/skiff" --help >/dev/null && "$BIN/skiff" deploy --help | grep -q -- '--project SLUG' &&
	ok "--help" || fail "--help"

finish
