#!/bin/sh
# it_hook.sh — POST /api/hooks/github against a real Redis, skiff-hook run as plain CGI with
# payloads shaped like GitHub's: ping, push to the project's branch, to another branch, a tag
# push, a deletion; correct, wrong and missing signatures; a replayed delivery; malformed JSON
# with a valid signature; an oversized body; an unknown repository; two projects on one
# repository with their own secrets and branches.
. "$(dirname "$0")/lib.sh"

for tool in python3 redis-server sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
for p in skiff-hook skiff-create; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done

start_redis
write_config
P=skiff:
SECRET=site-webhook-secret-0123456789
STAGING_SECRET=staging-webhook-secret-9876543210
REPO=https://github.com/Acme/Site

# jget PATH: a value from the JSON on stdin ("data.deployments.0.deploymentId")
jget() {
	python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    if isinstance(v, list):
        v = v[int(k)] if k.isdigit() and int(k) < len(v) else None
    else:
        v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" 2>/dev/null
}
sign() { # SECRET FILE → sha256=hex
	python3 -c 'import hmac, hashlib, sys
print("sha256=" + hmac.new(sys.argv[1].encode(), open(sys.argv[2], "rb").read(), hashlib.sha256).hexdigest())' "$1" "$2"
}
# hook EVENT DELIVERY SIGNATURE FILE [QUERY] [CONTENT_TYPE]: one webhook request as CGI;
# the response goes to $T/resp (headers and body), its status to $STATUS, its body to $BODY
hook() {
	hq=${5:+?$5}
	len=$(wc -c <"$4")
	env REQUEST_METHOD=POST REQUEST_URI="/api/hooks/github$hq" CONTENT_LENGTH="$len" \
		CONTENT_TYPE="${6:-application/json}" HTTP_HOST=localhost GATEWAY_INTERFACE=CGI/1.1 \
		HTTP_X_GITHUB_EVENT="$1" HTTP_X_GITHUB_DELIVERY="$2" HTTP_X_HUB_SIGNATURE_256="$3" \
		HTTP_USER_AGENT=GitHub-Hookshot/test "$BIN/skiff-hook" <"$4" >"$T/resp" 2>>"$T/hook.log"
	STATUS=$(head -n 1 "$T/resp" | sed -n 's/^Status: \([0-9]*\).*/\1/p')
	BODY=$(sed '1,/^\r*$/d' "$T/resp")
}
# payload FILE REF AFTER [DELETED] [CLONE_URL]: a push payload as GitHub sends it
payload() {
	python3 - "$@" <<'PY'
import json, sys
f, ref, after = sys.argv[1:4]
deleted = len(sys.argv) > 4 and sys.argv[4] == "true"
clone = sys.argv[5] if len(sys.argv) > 5 else "https://github.com/Acme/Site.git"
html = clone[:-4] if clone.endswith(".git") else clone
p = {
    "ref": ref, "before": "1" * 40, "after": after, "created": False, "deleted": deleted,
    "forced": False, "base_ref": None, "compare": html + "/compare/x",
    "commits": [] if deleted else [{"id": after, "message": "Update the landing page\n\nDetails.",
                                    "author": {"name": "Ada", "email": "ada@example.com"}}],
    "head_commit": None if deleted else {"id": after, "message": "Update the landing page\n\nDetails.",
                                         "timestamp": "2024-11-22T10:00:00Z"},
    "repository": {"id": 1296269, "name": "Site", "full_name": "Acme/Site",
                   "html_url": html, "clone_url": clone, "ssh_url": "git@github.com:Acme/Site.git",
                   "git_url": "git://github.com/Acme/Site.git",
                   "url": html, "default_branch": "main", "master_branch": "main"},
    "pusher": {"name": "ada", "email": "ada@example.com"},
    "sender": {"login": "ada", "id": 1},
}
json.dump(p, open(f, "w"), separators=(",", ":"))
PY
}
deployments() { rcli ZCARD "${P}project:$1:deployments"; }
queue_len() { rcli LLEN "${P}queue"; }
field() { rcli HGET "$1" "$2"; }
index_key() { printf '%s' "$1" | sha256sum | cut -c1-64; }

# ---- projects: site (main) and site-staging (staging) on one repository -----------------
out=$(cgi skiff-create POST /api/projects \
	'{"gitURL":"https://github.com/Acme/Site.git","slug":"site","branch":"main"}')
check_match "project site created" '^Status: 202' "$out"
out=$(cgi skiff-create POST /api/projects \
	'{"gitURL":"https://github.com/acme/site","slug":"site-staging","branch":"staging"}')
check_match "project site-staging created" '^Status: 202' "$out"
# what skiff-create does for a project with a webhook secret (see lib/hook.h hook_index_add)
rcli HSET "${P}project:site" webhook_secret "$SECRET" >/dev/null
rcli HSET "${P}project:site-staging" webhook_secret "$STAGING_SECRET" >/dev/null
rcli SADD "${P}hookrepo:$(index_key https://github.com/acme/site)" site site-staging >/dev/null
base_site=$(deployments site)
base_queue=$(queue_len)

# ---- ping ----------------------------------------------------------------------------------
printf '{"zen":"Design for failure.","hook_id":42,"hook":{"type":"Repository","events":["push"]},"repository":{"full_name":"Acme/Site","html_url":"%s","clone_url":"%s.git"}}' \
	"$REPO" "$REPO" >"$T/ping.json"
hook ping d-ping-1 "$(sign "$SECRET" "$T/ping.json")" "$T/ping.json"
check_eq "ping answers 200" 200 "$STATUS"
check_eq "ping answers pong" pong "$(echo "$BODY" | jget status)"
check_eq "ping queues nothing" "$base_queue" "$(queue_len)"

# ---- push to the project's branch -------------------------------------------------------------
C1=2b9d1e0f3c4a5b6c7d8e9f00112233445566778a
payload "$T/push1.json" refs/heads/main $C1
start=$(date +%s%N)
hook push d-push-1 "$(sign "$SECRET" "$T/push1.json")" "$T/push1.json"
ms=$((($(date +%s%N) - start) / 1000000))
check_eq "push to main answers 202" 202 "$STATUS"
check_eq "push to main is queued" queued "$(echo "$BODY" | jget status)"
dep=$(echo "$BODY" | jget data.deployments.0.deploymentId)
check_match "the answer names the deployment" '^[a-z2-7]{12}$' "$dep"
check_eq "answered well within GitHub's 10 s (${ms} ms)" yes "$([ "$ms" -lt 2000 ] && echo yes)"
check_eq "one more deployment of site" $((base_site + 1)) "$(deployments site)"
check_eq "it is in the build queue" 1 "$(rcli LPOS "${P}queue" "$dep" | grep -c .)"
check_eq "deployment trigger" webhook "$(field "${P}deployment:$dep" trigger)"
check_eq "deployment builds exactly the pushed commit" $C1 "$(field "${P}deployment:$dep" ref)"
check_eq "deployment branch" main "$(field "${P}deployment:$dep" branch)"
check_eq "deployment state" queued "$(field "${P}deployment:$dep" state)"
check_eq "commit message (first line)" "Update the landing page" \
	"$(field "${P}deployment:$dep" commit_message)"
check_eq "project's latest deployment" "$dep" "$(field "${P}project:site" latest)"
check_eq "staging did not build a push to main" 1 "$(deployments site-staging)"
check_eq "the delivery is remembered for 3 days" yes \
	"$(t=$(rcli TTL "${P}delivery:d-push-1"); [ "$t" -gt 259000 ] && [ "$t" -le 259200 ] && echo yes)"

# ---- the same delivery again (GitHub's redeliver) -----------------------------------------
n=$(deployments site)
q=$(queue_len)
hook push d-push-1 "$(sign "$SECRET" "$T/push1.json")" "$T/push1.json"
check_eq "replayed delivery answers 200" 200 "$STATUS"
check_match "replayed delivery says duplicate" 'duplicate delivery' "$BODY"
check_eq "replay built nothing" "$n" "$(deployments site)"
check_eq "replay queued nothing" "$q" "$(queue_len)"

# ---- a newer push while the first is still queued: the newest wins -------------------------
C2=3c9d1e0f3c4a5b6c7d8e9f00112233445566778b
payload "$T/push2.json" refs/heads/main $C2
hook push d-push-2 "$(sign "$SECRET" "$T/push2.json")" "$T/push2.json"
check_eq "second push answers 202" 202 "$STATUS"
dep2=$(echo "$BODY" | jget data.deployments.0.deploymentId)
check_eq "the answer says which queued build it replaced" "$dep" \
	"$(echo "$BODY" | jget data.deployments.0.superseded)"
check_eq "the replaced build is canceled" canceled "$(field "${P}deployment:$dep" state)"
check_eq "the newest commit is queued" $C2 "$(field "${P}deployment:$dep2" ref)"

# ---- acknowledged and ignored ------------------------------------------------------------------
n=$(deployments site)
q=$(queue_len)
payload "$T/other.json" refs/heads/feature/login $C1
hook push d-other "$(sign "$SECRET" "$T/other.json")" "$T/other.json"
check_eq "push to another branch answers 202" 202 "$STATUS"
check_eq "push to another branch is ignored" ignored "$(echo "$BODY" | jget status)"
check_match "with a reason" 'another branch' "$(echo "$BODY" | jget reason)"
payload "$T/tag.json" refs/tags/v1.0.0 $C1
hook push d-tag "$(sign "$SECRET" "$T/tag.json")" "$T/tag.json"
check_eq "tag push answers 202" 202 "$STATUS"
check_match "tag push is ignored as a tag" 'tag' "$(echo "$BODY" | jget reason)"
payload "$T/del.json" refs/heads/main 0000000000000000000000000000000000000000 true
hook push d-del "$(sign "$SECRET" "$T/del.json")" "$T/del.json"
check_eq "branch deletion answers 202" 202 "$STATUS"
check_match "branch deletion is ignored as a deletion" 'deletion' "$(echo "$BODY" | jget reason)"
printf '{"action":"opened","issue":{"number":1},"repository":{"clone_url":"%s.git"}}' "$REPO" >"$T/issue.json"
hook issues d-issue "$(sign "$SECRET" "$T/issue.json")" "$T/issue.json"
check_eq "other events answer 202" 202 "$STATUS"
check_eq "nothing was built for them" "$n" "$(deployments site)"
check_eq "nothing was queued for them" "$q" "$(queue_len)"

# ---- signatures ------------------------------------------------------------------------------
C3=4d9d1e0f3c4a5b6c7d8e9f00112233445566778c
payload "$T/push3.json" refs/heads/main $C3
hook push d-bad "$(sign "not-the-secret-at-all" "$T/push3.json")" "$T/push3.json"
check_eq "wrong signature answers 401" 401 "$STATUS"
check_eq "wrong signature queues nothing" "$q" "$(queue_len)"
check_eq "wrong signature leaves no delivery record" 0 "$(rcli EXISTS "${P}delivery:d-bad")"
cp "$T/push3.json" "$T/tampered.json"
sig=$(sign "$SECRET" "$T/push3.json")
sed -i 's/Update the landing page/Update the landing pagE/' "$T/tampered.json"
hook push d-tampered "$sig" "$T/tampered.json"
check_eq "a body changed after signing answers 401" 401 "$STATUS"
hook push d-nosig "" "$T/push3.json"
check_eq "missing signature answers 401" 401 "$STATUS"
hook push d-sha1 "sha1=$(python3 -c 'import hmac,hashlib,sys;print(hmac.new(sys.argv[1].encode(),open(sys.argv[2],"rb").read(),hashlib.sha1).hexdigest())' "$SECRET" "$T/push3.json")" "$T/push3.json"
check_eq "a SHA-1 signature alone answers 401" 401 "$STATUS"
check_eq "no deployment from refused requests" "$n" "$(deployments site)"
# the same delivery id, now correctly signed, is not considered a replay
hook push d-bad "$(sign "$SECRET" "$T/push3.json")" "$T/push3.json"
check_eq "correctly signed after a refused attempt: 202" 202 "$STATUS"
check_eq "and queued" queued "$(echo "$BODY" | jget status)"

# ---- malformed JSON with a valid signature ------------------------------------------------------
printf '{"ref":"refs/heads/main","after":"%s",' $C3 >"$T/bad.json"
hook push d-malformed "$(sign "$SECRET" "$T/bad.json")" "$T/bad.json"
check_eq "malformed JSON answers 400" 400 "$STATUS"
check_match "as invalid JSON" 'invalid_json' "$BODY"
hook push d-malformed-q "$(sign "$SECRET" "$T/bad.json")" "$T/bad.json" project=site
check_eq "malformed JSON with ?project= (verified first) answers 400" 400 "$STATUS"
hook push d-malformed-q2 "$(sign "wrong-secret-wrong-secret" "$T/bad.json")" "$T/bad.json" project=site
check_eq "with ?project= a bad signature is found before parsing: 401" 401 "$STATUS"
printf '{"ref":"refs/heads/main","repository":{"clone_url":"%s.git"}}' "$REPO" >"$T/noafter.json"
hook push d-noafter "$(sign "$SECRET" "$T/noafter.json")" "$T/noafter.json" project=site
check_eq "a push payload without a commit answers 400" 400 "$STATUS"

# ---- oversized ------------------------------------------------------------------------------------
head -c $((25 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$T/big.json"
hook push d-big "sha256=$(printf '%064d' 0)" "$T/big.json"
check_eq "a body over 25 MiB (GitHub's own cap) answers 413" 413 "$STATUS"
python3 - "$T/push3.json" "$T/large.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["padding"] = "x" * (20 * 1000 * 1000)   # a large push: GitHub sends up to 25 MB
json.dump(p, open(sys.argv[2], "w"))
PY
hook push d-large "$(sign "$SECRET" "$T/large.json")" "$T/large.json"
check_eq "a 20 MB payload is accepted" 202 "$STATUS"

# ---- unknown repository ------------------------------------------------------------------------------
payload "$T/unknown.json" refs/heads/main $C1 false https://github.com/acme/unknown.git
hook push d-unknown "$(sign "$SECRET" "$T/unknown.json")" "$T/unknown.json"
check_eq "unknown repository answers 404" 404 "$STATUS"
check_match "as unknown_repository" 'unknown_repository' "$BODY"
hook push d-unknown-q "$(sign "$SECRET" "$T/push1.json")" "$T/push1.json" project=nosuchproject
check_eq "unknown ?project= answers 404" 404 "$STATUS"

# ---- the second project on the same repository -------------------------------------------------------
C4=5e9d1e0f3c4a5b6c7d8e9f00112233445566778d
payload "$T/staging.json" refs/heads/staging $C4
ns=$(deployments site)
hook push d-staging "$(sign "$STAGING_SECRET" "$T/staging.json")" "$T/staging.json"
check_eq "push to staging signed with staging's secret: 202" 202 "$STATUS"
check_eq "it deploys site-staging" site-staging "$(echo "$BODY" | jget data.deployments.0.project)"
check_eq "site-staging has its second deployment" 2 "$(deployments site-staging)"
check_eq "site did not build" "$ns" "$(deployments site)"
# a push to main signed with staging's secret: staging verifies, but main is not its branch
hook push d-staging-main "$(sign "$STAGING_SECRET" "$T/push1.json")" "$T/push1.json"
check_eq "main push with staging's secret is ignored" ignored "$(echo "$BODY" | jget status)"
check_eq "still no build of site" "$ns" "$(deployments site)"

# ---- GitHub's form content type -----------------------------------------------------------------------
C5=6f9d1e0f3c4a5b6c7d8e9f00112233445566778e
payload "$T/form.json" refs/heads/main $C5
python3 -c 'import sys, urllib.parse
sys.stdout.write("payload=" + urllib.parse.quote_plus(open(sys.argv[1]).read()))' "$T/form.json" >"$T/form.txt"
hook push d-form "$(sign "$SECRET" "$T/form.txt")" "$T/form.txt" "" application/x-www-form-urlencoded
check_eq "form-encoded push answers 202" 202 "$STATUS"
dep5=$(echo "$BODY" | jget data.deployments.0.deploymentId)
check_eq "form-encoded push queues its commit" $C5 "$(field "${P}deployment:$dep5" ref)"

# ---- a project that is gone leaves the index ----------------------------------------------------------
out=$(cgi skiff-create DELETE /api/projects/site-staging)
check_match "site-staging deleted" '^Status: 200' "$out"
hook push d-after-delete "$(sign "$STAGING_SECRET" "$T/staging.json")" "$T/staging.json"
check_eq "push signed for a deleted project answers 401 (site remains, other secret)" 401 "$STATUS"
check_eq "its index entry is gone" 0 \
	"$(rcli SISMEMBER "${P}hookrepo:$(index_key https://github.com/acme/site)" site-staging)"

finish
