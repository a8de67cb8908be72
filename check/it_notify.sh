#!/bin/sh
# it_notify.sh — build hooks and outgoing deploy notifications on the whole stack (lighttpd,
# skiff-dispatch building from a real git repository, Redis). A build hook's URL (shown once)
# queues a build of its branch's head; a revoked hook answers 404; hooks are listed without
# their secrets. A notification receiver on loopback (node) that fails its first two requests
# gets exactly one successful delivery of deploy.started and deploy.ready for a build, then
# deploy.failed for a broken build and deploy.canceled for a canceled one, each signed
# (Skiff-Signature) as node's crypto computes it independently; the delivery history shows the
# retries, and a failed attempt's reason in fixed words (a 3xx, a 500, an answer too long, none,
# a timeout, nothing listening, a name that does not resolve) with curl's text only in the
# log. A receiver URL on a private network is refused when loopback is not allowed, and a
# dispatcher without allow_local_git refuses to connect to a loopback receiver. Commit statuses
# reach a stand-in of GitHub's and GitLab's APIs with the project's token.
. "$(dirname "$0")/lib.sh"

for tool in curl python3 git node redis-server lighttpd; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
for p in skiff-create skiff-status skiff-hook skiff-dispatch skiff-build; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done

# retries after 0.3 s, 1.2 s, ... (the shortest base skiff allows is 0.1 s); a receiver that
# never answers times out after 3 s
export SKIFF_NOTIFY_RETRY_BASE_MS=300 SKIFF_NOTIFY_TIMEOUT=3 SKIFF_CONCURRENCY=1 SKIFF_LEASE_TTL=3
start_stack || { TESTS_RUN=$((TESTS_RUN + 1)); fail "the stack starts"; finish; exit 1; }
U="http://127.0.0.1:$STACK_PORT"
H="Host: localhost:$STACK_PORT"
P=skiff:
SLUG=hooked

api() { # METHOD PATH [JSON]: the body into $T/body, the status printed
	curl -sS -o "$T/body" -w '%{http_code}' -X "$1" -H "$H" -H "Origin: $STACK_URL" \
		-H 'Content-Type: application/json' ${3:+-d "$3"} "$U$2"
}
state() { rcli HGET "${P}deployment:$1" state; }
is_state() { [ "$(state "$1")" = "$2" ]; }

# ---- a project from a local repository -----------------------------------------------------
REPO=$T/repo
mkdir -p "$REPO"
git -C "$REPO" init -q -b main
echo '<p>one</p>' >"$REPO/index.html"
git -C "$REPO" add -A
git -C "$REPO" -c user.name=t -c user.email=t@skiff.invalid commit -qm one
git -C "$REPO" branch staging
check_eq "the project is created" 202 \
	"$(api POST /api/projects "{\"gitURL\":\"file://$REPO\",\"slug\":\"$SLUG\",\"webhookSecret\":false}")"
FIRST=$(jget data.deploymentId)
wait_for 60 is_state "$FIRST" ready || fail "the first deployment is ready (it is $(state "$FIRST"))"

# ---- build hooks ---------------------------------------------------------------------------
check_eq "a build hook is created" 201 \
	"$(api POST "/api/projects/$SLUG/build-hooks" '{"name":"CMS publish","branch":"staging"}')"
HOOK_URL=$(jget data.url)
HOOK_ID=$(jget data.id)
check_match "its URL is shown once, under /api/hooks/build/" \
	"^$STACK_URL/api/hooks/build/[a-z2-7]{32}\$" "$HOOK_URL"
HOOK_PATH=${HOOK_URL#"$STACK_URL"}
check_eq "an unknown field is refused" 400 \
	"$(api POST "/api/projects/$SLUG/build-hooks" '{"name":"x","color":"red"}')"
check_eq "a hook without a name is refused" 400 "$(api POST "/api/projects/$SLUG/build-hooks" '{}')"
check_eq "a hook of a missing project is 404" 404 \
	"$(api POST /api/projects/nope/build-hooks '{"name":"x"}')"
check_eq "the list answers" 200 "$(api GET "/api/projects/$SLUG/build-hooks")"
check_eq "the list names the hook and its branch" "CMS publish staging" \
	"$(jget data.0.name) $(jget data.0.branch)"
check_nomatch "the list does not hold the secret" "${HOOK_URL##*/}" "$(cat "$T/body")"
check_eq "redis holds only the secret's hash" "" \
	"$(rcli --scan --pattern "${P}*${HOOK_URL##*/}*")$(rcli HGETALL "${P}buildhook:$HOOK_ID" | grep -F "${HOOK_URL##*/}")"

code=$(curl -sS -o "$T/body" -w '%{http_code}' -d '' -H "$H" "$U$HOOK_PATH")
check_eq "an empty POST to the hook queues a build" 202 "$code"
HD=$(jget data.deploymentId)
check_eq "of the hook's branch" "staging build_hook" \
	"$(rcli HGET "${P}deployment:$HD" ref) $(rcli HGET "${P}deployment:$HD" trigger)"
wait_for 60 is_state "$HD" ready || fail "the hook's build is ready (it is $(state "$HD"))"
check_match "the list says when it was last used" '^[0-9]{13}$' \
	"$(api GET "/api/projects/$SLUG/build-hooks" >/dev/null; jget data.0.lastUsed)"
check_eq "a made-up hook URL is 404" 404 \
	"$(curl -sS -o /dev/null -w '%{http_code}' -d '' -H "$H" "$U/api/hooks/build/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")"
check_eq "the hook is revoked" 200 "$(api DELETE "/api/projects/$SLUG/build-hooks/$HOOK_ID")"
n=$(rcli ZCARD "${P}project:$SLUG:deployments")
code=$(curl -sS -o "$T/body" -w '%{http_code}' -d '' -H "$H" "$U$HOOK_PATH")
check_eq "the revoked hook answers 404" "404 unknown_build_hook" "$code $(jget error.code)"
check_eq "and queues nothing" "$n" "$(rcli ZCARD "${P}project:$SLUG:deployments")"
check_eq "revoking it again is 404" 404 "$(api DELETE "/api/projects/$SLUG/build-hooks/$HOOK_ID")"
check_eq "skiff's logs never show a build hook's secret" 0 \
	"$(cat "$T/lighttpd.log" "$T/dispatch.log" | grep -cF "${HOOK_URL##*/}")"
check_match "they show the route instead" "path=/api/hooks/build/\\{\\} status=404" "$(cat "$T/lighttpd.log")"

# rate limited like webhooks: per project (here 1 a minute), with Retry-After
BH=$(api POST "/api/projects/$SLUG/build-hooks" '{"name":"limited"}' >/dev/null; jget data.url)
BH=${BH##*/}
for k in $(rcli --scan --pattern "${P}rate:*"); do rcli DEL "$k" >/dev/null; done # earlier hits
for i in 1 2; do
	SKIFF_RATE_LIMIT_HOOK_PROJECT=1 cgi skiff-hook POST "/api/hooks/build/$BH" '' '' >"$T/rl$i" 2>/dev/null
done
check_eq "a build hook is rate limited per project" "Status: 202 Status: 429" \
	"$(head -n 1 "$T/rl1" | tr -d '\r' | cut -c1-11) $(head -n 1 "$T/rl2" | tr -d '\r' | cut -c1-11)"
check_match "with Retry-After" "^Retry-After: [0-9]+" "$(tr -d '\r' <"$T/rl2")"
api DELETE "/api/projects/$SLUG/build-hooks/$(rcli ZRANGE "${P}project:$SLUG:buildhooks" -1 -1)" >/dev/null

# the dashboard's form: the page shows the URL once; revoking answers 303 to the hooks page
code=$(curl -sS -o "$T/page" -w '%{http_code}' -H "$H" -H "Origin: $STACK_URL" \
	--data-urlencode 'name=From the form' "$U/api/projects/$SLUG/build-hooks")
check_eq "the form creates a hook and answers with a page" 201 "$code"
check_match "the page shows the URL" "api/hooks/build/[a-z2-7]{32}" "$(cat "$T/page")"
FORM_ID=$(rcli ZRANGE "${P}project:$SLUG:buildhooks" 0 -1 | tail -n 1)
code=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H "$H" -H "Origin: $STACK_URL" \
	-d '' "$U/api/projects/$SLUG/build-hooks/$FORM_ID/delete")
check_eq "the form's revoke answers 303 to the hooks page" "303 $U/projects/$SLUG/hooks" "$code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "$H" -H "Origin: http://evil.example" \
	--data-urlencode 'name=csrf' "$U/api/projects/$SLUG/build-hooks")
check_eq "a form post from another origin is refused" 403 "$code"

# ---- notifications -------------------------------------------------------------------------
RPORT=$(free_port)
cat >"$T/receiver.js" <<'JS'
// fails the first two POSTs (500), answers 204 after; appends each POST to a file
const http = require("http"), fs = require("fs");
const [port, out] = process.argv.slice(2);
let n = 0;
http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.method !== "POST") return res.end();
    n++;
    const ok = n > 2;
    fs.appendFileSync(out, JSON.stringify({ ok, headers: req.headers, method: req.method,
      url: req.url, body: Buffer.concat(chunks).toString("utf8") }) + "\n");
    res.writeHead(ok ? 204 : 500);
    res.end();
  });
}).listen(port, "127.0.0.1");
JS
node "$T/receiver.js" "$RPORT" "$T/received" >"$T/receiver.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$RPORT/" || fail "the receiver listens"
check_eq "an ftp URL is refused" "400 invalid_notification_url" \
	"$(api POST "/api/projects/$SLUG/notifications" '{"url":"ftp://example.com/x"}') $(jget error.code)"
check_eq "an unknown event is refused" "400 invalid_events" \
	"$(api POST "/api/projects/$SLUG/notifications" "{\"url\":\"http://127.0.0.1:$RPORT/h\",\"events\":[\"deploy.exploded\"]}") $(jget error.code)"
check_eq "a notification hook is created" 201 \
	"$(api POST "/api/projects/$SLUG/notifications" "{\"url\":\"http://127.0.0.1:$RPORT/hook?x=1\"}")"
SECRET=$(jget data.secret)
NID=$(jget data.id)
check_eq "with every event by default" '["deploy.started", "deploy.ready", "deploy.failed", "deploy.canceled"]' \
	"$(jget data.events)"
check_match "and a signing secret shown once" '^[0-9a-f]{48}$' "$SECRET"
api GET "/api/projects/$SLUG/notifications" >/dev/null
check_eq "the list names the hook" "$NID" "$(jget data.hooks.0.id)"
check_nomatch "the list does not hold the secret" "$SECRET" "$(cat "$T/body")"
check_eq "redis holds the signing secret only sealed" "" \
	"$(rcli HGETALL "${P}project:$SLUG:notify" | grep -F "$SECRET")"
check_match "sealed by lib/secret" '"secret":"v1:' "$(rcli HGET "${P}project:$SLUG:notify" "$NID")"

check_eq "a redeploy is queued" 202 "$(api POST "/api/projects/$SLUG/deployments" '{}')"
D1=$(jget data.deploymentId)
wait_for 60 is_state "$D1" ready || fail "the redeploy is ready (it is $(state "$D1"))"
oks() { grep -c '"ok":true' "$T/received"; }
enough() { [ "$(oks)" -ge "$1" ]; }
wait_for 30 enough 2 || fail "two events were delivered (got $(oks))"
sleep 2 # a duplicate would come now

# verify PATH SECRET: every successful delivery's signature checked with node's crypto; prints
# one line per delivery: "<event> <deployment> <verified>"
verify() {
	node - "$1" "$2" <<'JS'
const crypto = require("crypto"), fs = require("fs");
const [file, secret] = process.argv.slice(2);
for (const line of fs.readFileSync(file, "utf8").split("\n").filter(Boolean)) {
  const r = JSON.parse(line);
  if (!r.ok) continue;
  const sig = r.headers["skiff-signature"] || "";
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
  let good = false;
  if (m) {
    const want = crypto.createHmac("sha256", secret).update(m[1] + "." + r.body).digest("hex");
    const fresh = Math.abs(Date.now() / 1000 - Number(m[1])) < 300;
    good = fresh && crypto.timingSafeEqual(Buffer.from(want), Buffer.from(m[2]));
  }
  const p = JSON.parse(r.body);
  const same = p.type === r.headers["skiff-event"] && r.headers["content-type"] === "application/json";
  console.log(`${p.type} ${p.deployment.id} ${good && same ? "verified" : "BAD"} ${p.project.slug} ${p.deployment.context} ${p.deployment.branch || "-"} ${p.deployment.state}`);
}
JS
}
verify "$T/received" "$SECRET" >"$T/verified"
check_eq "the receiver failed twice" 2 "$(grep -c '"ok":false' "$T/received")"
check_eq "exactly one delivery per event, each signature verified" \
	"deploy.ready $D1 verified $SLUG production - ready
deploy.started $D1 verified $SLUG production - building" "$(sort "$T/verified")"
check_match "the ready event carries the deployment's and the commit's URLs" \
	"\"url\":\"http://$SLUG--$D1\\.localhost:$STACK_PORT/\".*\"commit\":\"[0-9a-f]{40}\"|\"commit\":\"[0-9a-f]{40}\".*\"url\":\"http://$SLUG--$D1\\.localhost:$STACK_PORT/\"" \
	"$(grep '"ok":true' "$T/received" | grep 'deploy.ready' | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["body"])')"
check_eq "a wrong secret does not verify" "BAD" \
	"$(verify "$T/received" "0$SECRET" | cut -d' ' -f3 | sort -u)"
api GET "/api/projects/$SLUG/notifications" >/dev/null
check_eq "the history shows both deliveries, delivered" "delivered delivered" \
	"$(jget data.deliveries.0.state) $(jget data.deliveries.1.state)"
check_eq "with the attempts the two failures cost" 4 \
	"$(($(jget data.deliveries.0.attempts) + $(jget data.deliveries.1.attempts)))"

# a broken build: deploy.failed; a canceled one: deploy.canceled
: >"$T/received"
printf '{"buildCommand":"exit 3"}' >"$REPO/skiff.json"
git -C "$REPO" add -A
git -C "$REPO" -c user.name=t -c user.email=t@skiff.invalid commit -qm broken
api POST "/api/projects/$SLUG/deployments" '{}' >/dev/null
D2=$(jget data.deploymentId)
wait_for 60 is_state "$D2" error || fail "the broken build fails (it is $(state "$D2"))"
wait_for 30 enough 2 || fail "two more events were delivered (got $(oks))"
git -C "$REPO" rm -q skiff.json
printf '{"buildCommand":"sleep 30"}' >"$REPO/skiff.json"
git -C "$REPO" add -A
git -C "$REPO" -c user.name=t -c user.email=t@skiff.invalid commit -qm slow
api POST "/api/projects/$SLUG/deployments" '{}' >/dev/null
D3=$(jget data.deploymentId)
wait_for 30 is_state "$D3" building || fail "the slow build starts"
api POST "/api/deployments/$D3/cancel" '{}' >/dev/null
wait_for 30 is_state "$D3" canceled || fail "the slow build is canceled (it is $(state "$D3"))"
wait_for 30 enough 4 || fail "four events were delivered (got $(oks))"
sleep 2
check_eq "failed and canceled builds are notified once each" \
	"$(printf '%s\n' "deploy.started $D2 verified" "deploy.failed $D2 verified" \
		"deploy.started $D3 verified" "deploy.canceled $D3 verified" | sort)" \
	"$(verify "$T/received" "$SECRET" | cut -d' ' -f1-3 | sort)"

# the dashboard's hooks page lists the hook and the deliveries
page=$(curl -sS -H "$H" -H 'Accept: text/html' "$U/projects/$SLUG/hooks")
check_match "the hooks page lists the notification hook" "class=\"notification-hook\"" "$page"
check_match "and the deliveries" "class=\"delivery\"><td data-label=\"Event\">deploy" "$page"
check_eq "the notification hook is removed" 200 "$(api DELETE "/api/projects/$SLUG/notifications/$NID")"
: >"$T/received"
api POST "/api/projects/$SLUG/deployments" '{}' >/dev/null
D4=$(jget data.deploymentId)
api POST "/api/deployments/$D4/cancel" '{}' >/dev/null
sleep 2
check_eq "a removed hook gets nothing" 0 "$(wc -l <"$T/received")"

# hostile receivers: one answers with a redirect (never followed: its target gets nothing), one
# with more than NOTIFY_ANSWER_MAX bytes (the transfer fails); neither is a delivery. Others fail
# in the ways a receiver can (500, a connection closed without an answer, no answer within
# notify_timeout, nothing listening, a name that does not resolve): the owner is told why in
# fixed words, never with curl's own text
HPORT=$(free_port)
cat >"$T/hostile.js" <<'JS'
const http = require("http"), fs = require("fs");
const [port, out] = process.argv.slice(2);
http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (req.method !== "POST") return res.end();
    fs.appendFileSync(out, req.url + "\n");
    if (req.url === "/redirect") {
      res.writeHead(307, { Location: "/landed" });
      return res.end();
    }
    if (req.url === "/huge") {
      res.writeHead(200, { "Content-Type": "text/plain" });
      return res.end(Buffer.alloc(1 << 20, 120));
    }
    if (req.url === "/status500") {
      res.writeHead(500);
      return res.end("Internal Server Error at 10.9.8.7 port 5432");
    }
    if (req.url === "/empty") return req.socket.destroy();
    if (req.url === "/silent") return;
    res.writeHead(204);
    res.end();
  });
}).listen(port, "127.0.0.1");
JS
node "$T/hostile.js" "$HPORT" "$T/hostile" >"$T/hostile.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$HPORT/" || fail "the hostile receivers listen"
: >"$T/hostile"
HIDS=
CPORT=$(free_port) # nothing listens there
for url in "http://127.0.0.1:$HPORT/redirect" "http://127.0.0.1:$HPORT/huge" \
	"http://127.0.0.1:$HPORT/status500" "http://127.0.0.1:$HPORT/empty" \
	"http://127.0.0.1:$HPORT/silent" "http://127.0.0.1:$CPORT/closed" "http://nowhere.invalid/nowhere"; do
	check_eq "a receiver at ${url##*/} is added" 201 \
		"$(api POST "/api/projects/$SLUG/notifications" "{\"url\":\"$url\",\"events\":[\"deploy.canceled\"]}")"
	HIDS="$HIDS $(jget data.id)"
done
api POST "/api/projects/$SLUG/deployments" '{}' >/dev/null
D5=$(jget data.deploymentId)
wait_for 30 is_state "$D5" building || fail "the slow build starts"
api POST "/api/deployments/$D5/cancel" '{}' >/dev/null
wait_for 30 is_state "$D5" canceled || fail "the slow build is canceled (it is $(state "$D5"))"
both_tried() { grep -qx /redirect "$T/hostile" && grep -qx /huge "$T/hostile"; }
wait_for 30 both_tried || fail "both hostile receivers were asked"
# each failed delivery's error: "<receiver> <error>", the newest delivery of each receiver
hostile_errors() {
	api GET "/api/projects/$SLUG/notifications" >/dev/null
	python3 - "$T/body" "$HIDS" <<'PY'
import json, sys
seen = set()
for d in json.load(open(sys.argv[1]))["data"]["deliveries"]:
    kind = d["url"].rsplit("/", 1)[1]
    if d["hook"] in sys.argv[2].split() and kind not in seen and d.get("error"):
        seen.add(kind)
        print(kind, d["error"])
PY
}
all_failed() { [ "$(hostile_errors | wc -l)" -eq 7 ]; }
wait_for 30 all_failed || fail "every hostile receiver was tried ($(hostile_errors | cut -d' ' -f1 | tr '\n' ' '))"
hostile_states() {
	api GET "/api/projects/$SLUG/notifications" >/dev/null
	python3 - "$T/body" "$HPORT" <<'PY'
import json, sys
body, port = sys.argv[1:3]
for d in json.load(open(body))["data"]["deliveries"]:
    if d.get("url", "").endswith((":%s/redirect" % port, ":%s/huge" % port)):
        print(d["url"].rsplit("/", 1)[1], d["state"], "error" if d.get("error") else "no-error")
PY
}
check_match "neither a redirect nor a huge answer is delivered, each with its error" \
	"^huge (pending|failed) error redirect (pending|failed) error\$" \
	"$(hostile_states | sort -u | tr '\n' ' ' | sed 's/ $//')"
check_eq "the redirect's target got nothing" 0 "$(grep -c landed "$T/hostile")"
ERRORS=$(hostile_errors | sort)
check_eq "each failure is told in fixed words" \
	"closed could not connect
empty no valid answer
huge the answer was longer than 65536 bytes
nowhere the name does not resolve
redirect the receiver answered HTTP 307
silent timed out
status500 the receiver answered HTTP 500" "$ERRORS"
check_nomatch "... and none carries curl's text (addresses, ports, its messages) or the receiver's" \
	"127\.0\.0|10\.9\.8|port|Failed|Could not|Couldn't|Connection|Operation|Empty reply|after [0-9]+ ms|nowhere\.invalid|Internal Server" \
	"$ERRORS"
check_match "curl's own text is in the server log, with the project and the delivery" \
	"notification attempt failed project=$SLUG delivery=[a-z0-9]+ attempts=[0-9]+ state=(pending|failed) error=\"could not connect\" curl=7 detail=\"Failed to connect to 127\.0\.0\.1 port $CPORT" \
	"$(cat "$T/dispatch.log")"
for id in $HIDS; do api DELETE "/api/projects/$SLUG/notifications/$id" >/dev/null; done

# ---- commit statuses ------------------------------------------------------------------------
# a stand-in of GitHub's and GitLab's status APIs: records every request, answers 201
SPORT=$(free_port)
cat >"$T/statusapi.js" <<'JS'
const http = require("http"), fs = require("fs");
const [port, out] = process.argv.slice(2);
http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.method === "POST")
      fs.appendFileSync(out, JSON.stringify({ url: req.url, auth: req.headers["authorization"] || "",
        token: req.headers["private-token"] || "", body: JSON.parse(Buffer.concat(chunks).toString()) }) + "\n");
    res.writeHead(201, { "Content-Type": "application/json" });
    res.end("{}");
  });
}).listen(port, "127.0.0.1");
JS
node "$T/statusapi.js" "$SPORT" "$T/statuses" >"$T/statusapi.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$SPORT/" || fail "the status API stand-in listens"
: >"$T/statuses"
check_eq "a file:// project needs the repository named" "400 invalid_repository" \
	"$(api POST "/api/projects/$SLUG/commit-status" '{"provider":"github","token":"ghp_test123"}') $(jget error.code)"
check_eq "an unknown provider is refused" "400 invalid_provider" \
	"$(api POST "/api/projects/$SLUG/commit-status" '{"provider":"bitbucket","token":"x","repository":"acme/site"}') $(jget error.code)"
check_eq "commit statuses are set for GitHub" 200 \
	"$(api POST "/api/projects/$SLUG/commit-status" "{\"provider\":\"github\",\"token\":\"ghp_test123\",\"repository\":\"acme/site\",\"apiUrl\":\"http://127.0.0.1:$SPORT/\"}")"
check_eq "redis holds the token only sealed" "" "$(rcli HGETALL "${P}project:$SLUG:status" | grep -F ghp_test123)"
api GET "/api/projects/$SLUG/notifications" >/dev/null
check_eq "the settings are listed without the token" "github acme/site" \
	"$(jget data.commitStatus.provider) $(jget data.commitStatus.repository)"
check_nomatch "no token in the answer" "ghp_test|v1:" "$(cat "$T/body")"
rm -f "$REPO/skiff.json"
echo '<p>two</p>' >"$REPO/index.html"
git -C "$REPO" add -A
git -C "$REPO" -c user.name=t -c user.email=t@skiff.invalid commit -qm two
SHA=$(git -C "$REPO" rev-parse HEAD)
api POST "/api/projects/$SLUG/deployments" '{}' >/dev/null
D5=$(jget data.deploymentId)
wait_for 60 is_state "$D5" ready || fail "the build is ready (it is $(state "$D5"))"
has_success() { grep -q '"state":"success"' "$T/statuses"; }
wait_for 30 has_success || fail "a success status was posted"
sleep 1
statuses() { python3 -c 'import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); b = r["body"]
    print(r["url"], r["auth"] or r["token"], b["state"], b.get("context") or b.get("name"), b["target_url"])' "$T/statuses"; }
check_eq "GitHub gets the ready deployment's URL on the built commit, with the token" \
	"/repos/acme/site/statuses/$SHA Bearer ghp_test123 success skiff http://$SLUG--$D5.localhost:$STACK_PORT/" \
	"$(statuses | grep success)"
check_eq "and nothing else but a pending status when the commit was known by then" 0 \
	"$(statuses | grep -v success |
		grep -vxF "/repos/acme/site/statuses/$SHA Bearer ghp_test123 pending skiff $STACK_URL/deployments/$D5" | wc -l)"

: >"$T/statuses"
check_eq "commit statuses are set for GitLab" 200 \
	"$(api POST "/api/projects/$SLUG/commit-status" "{\"provider\":\"gitlab\",\"token\":\"glpat-test\",\"repository\":\"acme/sub/site\",\"apiUrl\":\"http://127.0.0.1:$SPORT/api/v4\"}")"
printf '{"buildCommand":"exit 3"}' >"$REPO/skiff.json"
git -C "$REPO" add -A
git -C "$REPO" -c user.name=t -c user.email=t@skiff.invalid commit -qm broken-again
SHA=$(git -C "$REPO" rev-parse HEAD)
api POST "/api/projects/$SLUG/deployments" '{}' >/dev/null
D6=$(jget data.deploymentId)
wait_for 60 is_state "$D6" error || fail "the broken build fails (it is $(state "$D6"))"
has_failed() { grep -q '"state":"failed"' "$T/statuses"; }
wait_for 30 has_failed || fail "a failed status was posted"
check_eq "GitLab gets failed with PRIVATE-TOKEN at /projects/{encoded path}/statuses/{sha}" \
	"/api/v4/projects/acme%2Fsub%2Fsite/statuses/$SHA glpat-test failed skiff $STACK_URL/deployments/$D6" \
	"$(statuses | grep failed)"
check_eq "commit statuses are stopped" 200 "$(api DELETE "/api/projects/$SLUG/commit-status")"
check_eq "stopping them again is 404" 404 "$(api DELETE "/api/projects/$SLUG/commit-status")"

# a dispatcher without allow_local_git refuses to connect to the loopback receiver saved
# while it was allowed: the address is checked as each connection opens
check_eq "an https receiver on loopback is added while local URLs are allowed" 201 \
	"$(api POST "/api/projects/$SLUG/notifications" "{\"url\":\"https://127.0.0.1:$RPORT/x\",\"events\":[\"deploy.failed\"]}")"
kill "$DISPATCH_PID"
wait "$DISPATCH_PID" 2>/dev/null
SKIFF_ALLOW_LOCAL_GIT=false "$BIN/skiff-dispatch" >>"$T/dispatch2.log" 2>&1 &
PIDS="$PIDS $!"
api POST "/api/projects/$SLUG/deployments" '{}' >/dev/null
D7=$(jget data.deploymentId)
wait_for 60 is_state "$D7" error || fail "the build fails: its file:// clone is refused now ($(state "$D7"))"
refused() { api GET "/api/projects/$SLUG/notifications" >/dev/null; jget data.deliveries.0.error | grep -q internal; }
wait_for 30 refused || fail "the delivery was refused"
check_eq "the delivery to loopback is refused at connect time" \
	"deploy.failed pending the receiver's address is internal: refused" \
	"$(jget data.deliveries.0.event) $(jget data.deliveries.0.state) $(jget data.deliveries.0.error)"
check_eq "and the receiver got nothing" 0 "$(grep -c '/x' "$T/received")"

# without loopback allowed, a receiver on this machine or a private network is refused
check_eq "a private address is refused when local URLs are not allowed" "400 invalid_notification_url" \
	"$(printf '{"url":"https://10.1.2.3/x"}' | env SKIFF_ALLOW_LOCAL_GIT=false REQUEST_METHOD=POST \
		REQUEST_URI="/api/projects/$SLUG/notifications" CONTENT_LENGTH=25 \
		CONTENT_TYPE=application/json HTTP_HOST=localhost:$STACK_PORT HTTP_ORIGIN="$STACK_URL" \
		GATEWAY_INTERFACE=CGI/1.1 "$BIN/skiff-create" 2>/dev/null | sed -n 's/^Status: \([0-9]*\).*/\1/p') $(
	printf '{"url":"https://10.1.2.3/x"}' | env SKIFF_ALLOW_LOCAL_GIT=false REQUEST_METHOD=POST \
		REQUEST_URI="/api/projects/$SLUG/notifications" CONTENT_LENGTH=25 \
		CONTENT_TYPE=application/json HTTP_HOST=localhost:$STACK_PORT HTTP_ORIGIN="$STACK_URL" \
		GATEWAY_INTERFACE=CGI/1.1 "$BIN/skiff-create" 2>/dev/null | sed '1,/^\r*$/d' |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["error"]["code"])')"

[ "$TESTS_FAILED" -eq 0 ] || stack_logs
finish
