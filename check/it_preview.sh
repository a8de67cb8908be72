#!/bin/sh
# it_preview.sh — previews with real builds, webhooks as plain CGI and skiff-serve by Host:
# a push to a previewed branch builds a preview served at its branch address while production
# stays; a second push moves the branch address, the first deployment keeps its own; pushes
# to one branch coalesce without touching another's; a pull request opened, synchronized and
# closed; a fork's pull request (not built by default, built without secrets' context when the
# project allows it); a deleted branch takes its preview along. GitLab and Gitea/Forgejo
# deliveries built from their hosts' documentation: good and bad signatures, replays, a merge
# request and a Gitea pull request.
. "$(dirname "$0")/lib.sh"

for tool in python3 redis-server git; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
for p in skiff-hook skiff-create skiff-serve skiff-dispatch skiff-build; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done

start_redis
write_config
P=skiff:
SECRET=preview-webhook-secret-0123456789

field() { rcli HGET "$1" "$2"; }
gitc() { d=$1; shift; git -C "$d" -c user.email=t@example.com -c user.name=t "$@"; }
dispatch() { "$BIN/skiff-dispatch" --once >>"$T/dispatch.log" 2>&1; }
sign() { # SECRET FILE [PREFIX]: hex HMAC-SHA256 of the file, after PREFIX
	python3 -c 'import hmac, hashlib, sys
print(sys.argv[3] + hmac.new(sys.argv[1].encode(), open(sys.argv[2], "rb").read(), hashlib.sha256).hexdigest())' "$1" "$2" "${3-sha256=}"
}
# post HOST FILE VAR=VALUE...: one delivery to /api/hooks/HOST as CGI with the given headers;
# status in $STATUS, body in $BODY
post() {
	host=$1 file=$2
	shift 2
	env REQUEST_METHOD=POST REQUEST_URI="/api/hooks/$host" CONTENT_LENGTH="$(wc -c <"$file")" \
		CONTENT_TYPE=application/json HTTP_HOST=localhost GATEWAY_INTERFACE=CGI/1.1 "$@" \
		"$BIN/skiff-hook" <"$file" >"$T/resp" 2>>"$T/hook.log"
	STATUS=$(head -n 1 "$T/resp" | sed -n 's/^Status: \([0-9]*\).*/\1/p')
	sed '1,/^\r*$/d' "$T/resp" >"$T/body"
	BODY=$(cat "$T/body")
}
github() { # EVENT DELIVERY FILE [SECRET]
	post github "$3" HTTP_X_GITHUB_EVENT="$1" HTTP_X_GITHUB_DELIVERY="$2" \
		HTTP_X_HUB_SIGNATURE_256="$(sign "${4:-$SECRET}" "$3")"
}
# serve HOSTLABEL PATH: the body skiff-serve answers for {HOSTLABEL}.localhost; status in $SSTATUS
serve() {
	env SKIFF_XSENDFILE=false REQUEST_METHOD=GET REQUEST_URI="$2" HTTP_HOST="$1.localhost" \
		GATEWAY_INTERFACE=CGI/1.1 "$BIN/skiff-serve" </dev/null >"$T/sresp" 2>>"$T/serve.log"
	SSTATUS=$(head -n 1 "$T/sresp" | sed -n 's/^Status: \([0-9]*\).*/\1/p')
	sed '1,/^\r*$/d' "$T/sresp"
}
label() { echo "$1" | sed -n 's|^http://\([^.]*\)\..*|\1|p'; }   # URL → its first label
# action SLUG: what the last delivery did for project SLUG (the answer lists every project)
action() {
	python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["data"]["deployments"]:
    if d["project"] == sys.argv[2]: print(d["action"])' "$T/body" "$1"
}

# payloads (GitHub): push https://docs.github.com/en/webhooks/webhook-events-and-payloads#push
# and pull_request https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request
gh_push() { # FILE REF AFTER CLONE_URL [DELETED]
	python3 - "$@" <<'PY'
import json, sys
f, ref, after, clone = sys.argv[1:5]
deleted = len(sys.argv) > 5 and sys.argv[5] == "true"
p = {"ref": ref, "before": "1" * 40, "after": "0" * 40 if deleted else after, "created": False,
     "deleted": deleted, "forced": False, "base_ref": None,
     "commits": [], "head_commit": None if deleted else {"id": after, "message": "Work on " + ref},
     "repository": {"id": 1, "name": "site", "full_name": "acme/site", "html_url": clone,
                    "clone_url": clone, "default_branch": "main"},
     "pusher": {"name": "ada"}, "sender": {"login": "ada", "id": 1}}
json.dump(p, open(f, "w"), separators=(",", ":"))
PY
}
gh_pr() { # FILE ACTION NUMBER HEAD_REF HEAD_SHA HEAD_CLONE BASE_CLONE [FORK]
	python3 - "$@" <<'PY'
import json, sys
f, action, number, ref, sha, head_clone, base_clone = sys.argv[1:8]
fork = len(sys.argv) > 8 and sys.argv[8] == "fork"
base_repo = {"id": 1, "name": "site", "full_name": "acme/site", "clone_url": base_clone,
             "html_url": base_clone, "default_branch": "main", "fork": False}
head_repo = dict(base_repo, id=2, full_name="eve/site", clone_url=head_clone, html_url=head_clone,
                 fork=True) if fork else base_repo
p = {"action": action, "number": int(number),
     "pull_request": {"number": int(number), "state": "closed" if action == "closed" else "open",
                      "title": "Preview me\nplease", "merged": False,
                      "head": {"label": "x:" + ref, "ref": ref, "sha": sha, "repo": head_repo},
                      "base": {"label": "acme:main", "ref": "main", "sha": "2" * 40, "repo": base_repo}},
     "repository": base_repo, "sender": {"login": "eve" if fork else "ada", "id": 3}}
json.dump(p, open(f, "w"), separators=(",", ":"))
PY
}

# ---- a repository with main and feature/login -------------------------------------------------
R=$T/repo
mkdir -p "$R" && git -C "$R" init -q -b main
echo '<h1>production</h1>' >"$R/index.html"
git -C "$R" add -A && gitc "$R" commit -qm "production"
git -C "$R" checkout -qb feature/login
echo '<h1>login one</h1>' >"$R/index.html"
git -C "$R" add -A && gitc "$R" commit -qm "login one"
L1=$(git -C "$R" rev-parse HEAD)
git -C "$R" checkout -q main

out=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$R\",\"slug\":\"site\",\"branch\":\"main\",\"webhookSecret\":\"$SECRET\",\"previews\":[\"feature/*\"]}")
check_match "project created with previews of feature/*" '^Status: 202' "$out"
out=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$R\",\"slug\":\"bad\",\"previews\":\"some\"}")
check_match "previews must be none, all or patterns: 400" '^Status: 400' "$out"
check_match "... as invalid_previews" '"invalid_previews"' "$out"
out=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$R\",\"slug\":\"bad\",\"previews\":[\"a..b\"]}")
check_match "a pattern that is no branch name: 400" '^Status: 400' "$out"
check_eq "... and no project was written" 0 "$(rcli EXISTS "${P}project:bad")"
dispatch
PROD=$(field "${P}project:site" current)
check_match "production is live" '^[a-z2-7]{12}$' "$PROD"
check_match "production serves main" 'production' "$(serve site /)"
out=$(cgi skiff-status GET /api/projects/site)
check_match "the project reads back its previews setting" '"previews": *\[ *"feature/\*" *\]' "$out"

# ---- a push to the previewed branch ------------------------------------------------------------
gh_push "$T/p1.json" refs/heads/feature/login "$L1" "file://$R"
github push d-p1 "$T/p1.json"
check_eq "push to feature/login answers 202" 202 "$STATUS"
check_eq "... queued as a preview" preview "$(jget data.deployments.0.context)"
D1=$(jget data.deployments.0.deploymentId)
URL=$(jget data.deployments.0.previewUrl)
HOSTL=$(label "$URL")
check_match "the branch address is {slug}--b-{branch}-{hash} ($HOSTL)" '^site--b-feature-login-[0-9a-f]{8}$' "$HOSTL"
check_eq "the record's context is preview" preview "$(field "${P}deployment:$D1" context)"
check_eq "the record's branch" feature/login "$(field "${P}deployment:$D1" branch)"
check_eq "the project's queued production build is not it" "" \
	"$(rcli HGET "${P}project:site" queued | grep -x "$D1")"
dispatch
check_eq "the preview is built" ready "$(field "${P}deployment:$D1" state)"
check_match "the branch address serves the branch" 'login one' "$(serve "$HOSTL" /)"
check_eq "production is untouched" "$PROD" "$(field "${P}project:site" current)"
check_match "production still serves main" 'production' "$(serve site /)"

# ---- a second push moves the branch address; the first deployment keeps its own ---------------
git -C "$R" checkout -q feature/login
echo '<h1>login two</h1>' >"$R/index.html"
git -C "$R" add -A && gitc "$R" commit -qm "login two"
L2=$(git -C "$R" rev-parse HEAD)
git -C "$R" checkout -q main
gh_push "$T/p2.json" refs/heads/feature/login "$L2" "file://$R"
github push d-p2 "$T/p2.json"
D2=$(jget data.deployments.0.deploymentId)
check_eq "the second push has the same address" "$URL" "$(jget data.deployments.0.previewUrl)"
dispatch
check_match "the branch address serves the second push" 'login two' "$(serve "$HOSTL" /)"
check_match "the first deployment's immutable address still serves it" 'login one' "$(serve "site--$D1" /)"
check_eq "production is still untouched" "$PROD" "$(field "${P}project:site" current)"

out=$(cgi skiff-create POST /api/projects/site/rollback "{\"deploymentId\":\"$D1\"}")
check_match "a preview deployment cannot become production: 409" '^Status: 409' "$out"
check_match "... as preview_deployment" '"preview_deployment"' "$out"
check_eq "production is still untouched" "$PROD" "$(field "${P}project:site" current)"

# ---- coalescing per branch: a queued build of the same branch is replaced, no other -----------
gh_push "$T/pm.json" refs/heads/main "$(git -C "$R" rev-parse main)" "file://$R"
github push d-c-main "$T/pm.json"
DM=$(jget data.deployments.0.deploymentId)
github push d-c-1 "$T/p2.json"
DA=$(jget data.deployments.0.deploymentId)
github push d-c-2 "$T/p2.json"
DB=$(jget data.deployments.0.deploymentId)
check_eq "the second queued push of feature/login supersedes the first" "$DA" \
	"$(jget data.deployments.0.superseded)"
check_eq "... which is canceled" canceled "$(field "${P}deployment:$DA" state)"
check_eq "the queued production build stays queued" queued "$(field "${P}deployment:$DM" state)"
dispatch
check_eq "the production build and the newest preview build ran" "ready ready" \
	"$(field "${P}deployment:$DM" state) $(field "${P}deployment:$DB" state)"
PROD=$(field "${P}project:site" current)
check_eq "production is the production build" "$DM" "$PROD"

# ---- what a preview build's commands see, from a real push and pull request --------------------
V=$T/vars
mkdir -p "$V/public" && git -C "$V" init -q -b main
echo '<h1>vars</h1>' >"$V/public/index.html"
git -C "$V" add -A && gitc "$V" commit -qm vars
git -C "$V" checkout -qb feature/env
echo '<h1>vars two</h1>' >"$V/public/index.html"
git -C "$V" add -A && gitc "$V" commit -qm "vars two"
VE=$(git -C "$V" rev-parse HEAD)
git -C "$V" checkout -q main
out=$(cgi skiff-create POST /api/projects "$(python3 -c 'import json, sys
print(json.dumps({"gitURL": "file://" + sys.argv[1], "slug": "vars", "outputDirectory": "public",
  "webhookSecret": sys.argv[2], "previews": "all",
  "buildCommand": "echo ctx=$SKIFF_CONTEXT branch=$SKIFF_BRANCH commit=$SKIFF_COMMIT preview=${SKIFF_PREVIEW_URL:-unset} prev=${PREVIEW_ONLY:-unset} prod=${PROD_ONLY:-unset}",
  "env": [{"name": "PREVIEW_ONLY", "value": "p", "contexts": ["preview"]},
          {"name": "PROD_ONLY", "value": "q", "contexts": ["production"]}]}))' "$V" "$SECRET")")
check_match "a project with context variables" '^Status: 202' "$out"
VP=$(printf '%s\n' "$out" | sed '1,/^\r*$/d' | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["deploymentId"])')
dispatch
vlog() { cgi skiff-status GET "/api/deployments/$1/log" '' '' 2>/dev/null | sed '1,/^\r*$/d' | grep '^ctx='; }
check_eq "its production build sees production's variables and no preview address" \
	"ctx=production branch=main commit=$(git -C "$V" rev-parse main) preview=unset prev=unset prod=q" "$(vlog "$VP")"
gh_push "$T/pv.json" refs/heads/feature/env "$VE" "file://$V"
github push d-vars-push "$T/pv.json"
DV=$(jget data.deployments.0.deploymentId)
VURL=$(jget data.deployments.0.previewUrl)
dispatch
check_eq "a branch preview built from a push sees its context, branch, commit, address and variables" \
	"ctx=preview branch=feature/env commit=$VE preview=$VURL prev=p prod=unset" "$(vlog "$DV")"
gh_pr "$T/pv-pr.json" opened 9 feature/env "$VE" "file://$V" "file://$V"
github pull_request d-vars-pr "$T/pv-pr.json"
DVP=$(jget data.deployments.0.deploymentId)
dispatch
check_eq "a pull request preview's address is its own" \
	"ctx=preview branch=feature/env commit=$VE preview=http://vars--pr-9.localhost/ prev=p prod=unset" "$(vlog "$DVP")"

# ---- a branch without previews, a tag: nothing -------------------------------------------------
gh_push "$T/other.json" refs/heads/experiment "$L1" "file://$R"
github push d-other "$T/other.json"
check_eq "a push to a branch without previews is ignored" ignored "$(jget status)"

# ---- a pull request: opened, synchronized, closed -----------------------------------------------
git -C "$R" checkout -qb fix/typo main
echo '<h1>pr one</h1>' >"$R/index.html"
git -C "$R" add -A && gitc "$R" commit -qm "pr one"
T1=$(git -C "$R" rev-parse HEAD)
git -C "$R" checkout -q main
gh_pr "$T/pr-open.json" opened 7 fix/typo "$T1" "file://$R" "file://$R"
github pull_request d-pr-open "$T/pr-open.json"
check_eq "fix/typo matches no pattern: the pull request is not built" ignored "$(jget status)"
gh_pr "$T/pr-open.json" opened 7 feature/typo "$T1" "file://$R" "file://$R"
git -C "$R" branch -q feature/typo fix/typo
github pull_request d-pr-open2 "$T/pr-open.json"
check_eq "pull request opened: 202" 202 "$STATUS"
DP=$(jget data.deployments.0.deploymentId)
check_eq "... at the address {slug}--pr-7" "http://site--pr-7.localhost/" "$(jget data.deployments.0.previewUrl)"
check_eq "... not a fork" false "$(jget data.deployments.0.fork)"
dispatch
check_match "the pull request's address serves its head" 'pr one' "$(serve site--pr-7 /)"
git -C "$R" checkout -q feature/typo
echo '<h1>pr two</h1>' >"$R/index.html"
git -C "$R" add -A && gitc "$R" commit -qm "pr two"
T2=$(git -C "$R" rev-parse HEAD)
git -C "$R" checkout -q main
gh_pr "$T/pr-sync.json" synchronize 7 feature/typo "$T2" "file://$R" "file://$R"
github pull_request d-pr-sync "$T/pr-sync.json"
check_eq "pull request synchronized: 202" 202 "$STATUS"
DP2=$(jget data.deployments.0.deploymentId)
dispatch
check_match "the address serves the new head" 'pr two' "$(serve site--pr-7 /)"
out=$(cgi skiff-status GET /api/projects/site)
check_match "the project lists the pull request's preview" '"key": *"pr-7"' "$out"
gh_pr "$T/pr-edit.json" edited 7 feature/typo "$T2" "file://$R" "file://$R"
github pull_request d-pr-edit "$T/pr-edit.json"
check_eq "an edited pull request changes nothing" ignored "$(jget status)"
gh_pr "$T/pr-close.json" closed 7 feature/typo "$T2" "file://$R" "file://$R"
github pull_request d-pr-close "$T/pr-close.json"
check_eq "pull request closed: 202" 202 "$STATUS"
check_eq "... its preview removed" removed "$(jget data.deployments.0.action)"
github pull_request d-pr-close-again "$T/pr-close.json"
check_eq "closed again (a new delivery): nothing to remove" "ignored no preview to remove" \
	"$(jget status) $(jget reason)"
serve site--pr-7 / >/dev/null
check_eq "the pull request's address is gone (404)" 404 "$SSTATUS"
check_match "its deployments keep their own addresses" 'pr two' "$(serve "site--$DP2" /)"
check_eq "production is untouched by all of it" "$PROD" "$(field "${P}project:site" current)"
out=$(cgi skiff-status GET /api/projects/site)
check_nomatch "the project no longer lists it" '"key": *"pr-7"' "$out"

# ---- a fork's pull request ----------------------------------------------------------------------
F=$T/fork
git clone -q "$R" "$F"
git -C "$F" checkout -qb feature/evil origin/main
echo '<h1>from a fork</h1>' >"$F/index.html"
git -C "$F" add -A && gitc "$F" commit -qm "fork"
FH=$(git -C "$F" rev-parse HEAD)
gh_pr "$T/fork.json" opened 9 feature/evil "$FH" "file://$F" "file://$R" fork
queued_before=$(rcli LLEN "${P}queue")
github pull_request d-fork "$T/fork.json"
check_eq "a fork's pull request is not built by default" ignored "$(jget status)"
check_match "... and says why" 'previewForks' "$(jget reason)"
check_eq "... nothing queued" "$queued_before" "$(rcli LLEN "${P}queue")"
out=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$R\",\"slug\":\"open\",\"branch\":\"main\",\"webhookSecret\":\"$SECRET\",\"previews\":\"all\",\"previewForks\":true}")
check_match "a project that builds forks' pull requests" '^Status: 202' "$out"
dispatch
post github "$T/fork.json" HTTP_X_GITHUB_EVENT=pull_request HTTP_X_GITHUB_DELIVERY=d-fork-2 \
	HTTP_X_HUB_SIGNATURE_256="$(sign "$SECRET" "$T/fork.json")" QUERY_STRING=project=open \
	REQUEST_URI="/api/hooks/github?project=open"
check_eq "it builds the fork's pull request" queued "$(jget status)"
DF=$(jget data.deployments.0.deploymentId)
check_eq "the record says fork" 1 "$(field "${P}deployment:$DF" fork)"
check_eq "... and context preview (no production secrets)" preview "$(field "${P}deployment:$DF" context)"
check_eq "... built from the fork's repository" "file://$F" "$(field "${P}deployment:$DF" git_url)"
dispatch
check_match "the fork's head is served at open--pr-9" 'from a fork' "$(serve open--pr-9 /)"
check_match "open's production is its main" 'production' "$(serve open /)"
# the fork's clone URL comes from the payload: one skiff would not clone from itself is refused
# before anything is queued (the builder checks it again, too late to say why to the sender)
for bad in "http://169.254.169.254/latest/meta-data.git" "--upload-pack=touch$T/pwned" ""; do
	gh_pr "$T/fork-bad.json" opened 10 feature/evil "$FH" "$bad" "file://$R" fork
	queued_before=$(rcli LLEN "${P}queue")
	post github "$T/fork-bad.json" HTTP_X_GITHUB_EVENT=pull_request \
		HTTP_X_GITHUB_DELIVERY="d-fork-bad-$(printf %s "$bad" | cksum | cut -d' ' -f1)" \
		HTTP_X_HUB_SIGNATURE_256="$(sign "$SECRET" "$T/fork-bad.json")" QUERY_STRING=project=open \
		REQUEST_URI="/api/hooks/github?project=open"
	check_eq "a fork's pull request from '$bad' is not built" ignored "$(jget status)"
	check_match "... and says why" 'repository URL is missing or not allowed' "$(jget reason)"
	check_eq "... nothing queued" "$queued_before" "$(rcli LLEN "${P}queue")"
done

# ---- a deleted branch takes its preview along ---------------------------------------------------
gh_push "$T/del.json" refs/heads/feature/login "$L2" "file://$R" true
github push d-del "$T/del.json"
check_eq "deleting feature/login removes its preview" removed "$(action site)"
serve "$HOSTL" / >/dev/null
check_eq "its address is gone" 404 "$SSTATUS"

# ---- deleting a project takes its previews along ------------------------------------------------
out=$(cgi skiff-create DELETE "/api/projects/open?confirm=open")
check_match "project open deleted" '^Status: 200' "$out"
check_eq "... and with it its previews" "" "$(rcli --scan --pattern "${P}project:open*")"
serve open--pr-9 / >/dev/null
check_eq "... and their addresses" 404 "$SSTATUS"

# ---- the setting changes with PATCH ------------------------------------------------------------
out=$(cgi skiff-create PATCH /api/projects/site '{"previews":"none"}')
check_match "PATCH previews to none: 200" '^Status: 200' "$out"
github push d-after-patch "$T/p2.json"
check_eq "a push to feature/login is ignored now" ignored "$(jget status)"
out=$(cgi skiff-create PATCH /api/projects/site '{"previews":"sometimes"}')
check_match "PATCH with a bad previews value: 400" '^Status: 400' "$out"
check_match "... as invalid_previews" '"invalid_previews"' "$out"
out=$(cgi skiff-create PATCH /api/projects/site '{"previews":["feature/*"],"previewForks":true}')
check_match "PATCH previews back, forks on: 200" '^Status: 200' "$out"
out=$(cgi skiff-status GET /api/projects/site)
check_match "... read back" '"previewForks": *true' "$out"
github push d-after-patch-2 "$T/p2.json"
check_eq "a push to feature/login builds a preview again" preview "$(jget data.deployments.0.context)"

# ---- GitLab (https://docs.gitlab.com/ee/user/project/integrations/webhook_events.html) ----------
G=https://gitlab.example.com/acme/web
out=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"$G.git\",\"slug\":\"web\",\"branch\":\"main\",\"webhookSecret\":\"$SECRET\",\"previews\":\"all\"}")
check_match "a project on GitLab" '^Status: 202' "$out"
rcli DEL "${P}queue" >/dev/null   # its builds cannot clone from here: only the queueing counts
python3 - "$T/gl-push.json" "$G" <<'PY'
# Push events: https://docs.gitlab.com/ee/user/project/integrations/webhook_events.html#push-events
import json, sys
f, g = sys.argv[1:3]
after = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
p = {"object_kind": "push", "event_name": "push", "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
     "after": after, "ref": "refs/heads/main", "ref_protected": True, "checkout_sha": after,
     "user_id": 4, "user_name": "John Smith", "user_username": "jsmith", "project_id": 15,
     "project": {"id": 15, "name": "Web", "web_url": g, "git_ssh_url": "git@gitlab.example.com:acme/web.git",
                 "git_http_url": g + ".git", "namespace": "Acme", "path_with_namespace": "acme/web",
                 "default_branch": "main", "homepage": g, "url": "git@gitlab.example.com:acme/web.git",
                 "ssh_url": "git@gitlab.example.com:acme/web.git", "http_url": g + ".git"},
     "commits": [{"id": after, "message": "fixed readme\n\nmore", "title": "fixed readme",
                  "timestamp": "2012-01-03T23:36:29+02:00", "url": g + "/commit/" + after,
                  "author": {"name": "GitLab dev", "email": "gitlabdev@dv6700.(none)"},
                  "added": [], "modified": ["README.md"], "removed": []}],
     "total_commits_count": 1,
     "repository": {"name": "Web", "url": "git@gitlab.example.com:acme/web.git", "description": "",
                    "homepage": g, "git_http_url": g + ".git",
                    "git_ssh_url": "git@gitlab.example.com:acme/web.git", "visibility_level": 0}}
json.dump(p, open(f, "w"))
PY
gitlab() { # EVENT KEY FILE TOKEN
	post gitlab "$3" HTTP_X_GITLAB_EVENT="$1" HTTP_IDEMPOTENCY_KEY="$2" \
		HTTP_X_GITLAB_EVENT_UUID="$2" HTTP_X_GITLAB_TOKEN="$4"
}
gitlab "Push Hook" 5b2f1a8e-7f44-4c1e-9b0e-2a9d0e6f0a11 "$T/gl-push.json" wrong-token-wrong-token
check_eq "GitLab push with a wrong token: 401" 401 "$STATUS"
check_eq "... bad_signature" bad_signature "$(jget error.code)"
gitlab "Push Hook" 5b2f1a8e-7f44-4c1e-9b0e-2a9d0e6f0a11 "$T/gl-push.json" ""
check_eq "GitLab push without a token: 401" 401 "$STATUS"
gitlab "Push Hook" 5b2f1a8e-7f44-4c1e-9b0e-2a9d0e6f0a11 "$T/gl-push.json" "$SECRET"
check_eq "GitLab push with the token: 202" 202 "$STATUS"
GD=$(jget data.deployments.0.deploymentId)
check_eq "... production of main" production "$(field "${P}deployment:$GD" context)"
check_eq "... with the commit's title" "fixed readme" "$(field "${P}deployment:$GD" commit_message)"
check_eq "... and its delivery id" gitlab-5b2f1a8e-7f44-4c1e-9b0e-2a9d0e6f0a11 "$(field "${P}deployment:$GD" delivery)"
gitlab "Push Hook" 5b2f1a8e-7f44-4c1e-9b0e-2a9d0e6f0a11 "$T/gl-push.json" "$SECRET"
check_eq "the same delivery again (a retry): duplicate" duplicate "$(jget status)"
n=$(rcli ZCARD "${P}project:web:deployments")
gitlab "Push Hook" 0c3e9a51-2d7b-4f0a-8e61-7b5a4c3d2e10 "$T/gl-push.json" "$SECRET"
check_eq "a replay under a new key queues a build of the branch (not the commit)" main \
	"$(field "${P}deployment:$(jget data.deployments.0.deploymentId)" ref)"
check_eq "... superseding the queued one" "$GD" "$(jget data.deployments.0.superseded)"
python3 - "$T/gl-mr.json" "$G" <<'PY'
# Merge request events: https://docs.gitlab.com/ee/user/project/integrations/webhook_events.html#merge-request-events
import json, sys
f, g = sys.argv[1:3]
proj = {"id": 15, "name": "Web", "web_url": g, "git_http_url": g + ".git", "namespace": "Acme",
        "path_with_namespace": "acme/web", "default_branch": "main", "homepage": g}
p = {"object_kind": "merge_request", "event_type": "merge_request",
     "user": {"id": 1, "name": "Administrator", "username": "root"}, "project": proj,
     "object_attributes": {"id": 99, "iid": 1, "target_branch": "main", "source_branch": "ms-viewport",
                           "source_project_id": 15, "target_project_id": 15, "title": "MS-Viewport",
                           "state": "opened", "merge_status": "unchecked", "action": "open",
                           "url": g + "/merge_requests/1", "source": proj, "target": proj,
                           "last_commit": {"id": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
                                           "message": "fixed readme", "title": "fixed readme"}},
     "labels": [], "changes": {}, "repository": {"name": "Web", "url": "git@gitlab.example.com:acme/web.git",
                                                "homepage": g}}
json.dump(p, open(f, "w"))
PY
gitlab "Merge Request Hook" 7d1e5c2a-0b3f-4e8d-a6c9-1f2e3d4c5b6a "$T/gl-mr.json" "$SECRET"
check_eq "GitLab merge request opened: 202" 202 "$STATUS"
check_eq "... a preview at web--pr-1" "http://web--pr-1.localhost/" "$(jget data.deployments.0.previewUrl)"
check_eq "... of its source branch" ms-viewport "$(jget data.deployments.0.branch)"
sed 's/"action": "open"/"action": "merge"/' "$T/gl-mr.json" >"$T/gl-merge.json"
gitlab "Merge Request Hook" 8e2f6d3b-1c4a-4f9e-b7da-2a3b4c5d6e7f "$T/gl-merge.json" "$SECRET"
check_eq "GitLab merge request merged: its preview removed" removed "$(jget data.deployments.0.action)"
check_eq "... and its queued build canceled" canceled \
	"$(field "${P}deployment:$(jget data.deployments.0.canceled)" state)"

# ---- Gitea / Forgejo (https://docs.gitea.com/usage/webhooks) ------------------------------------
E=https://gitea.example.com/gitea/webhooks
out=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"$E\",\"slug\":\"tea\",\"branch\":\"develop\",\"webhookSecret\":\"$SECRET\",\"previews\":[\"feature/*\"]}")
check_match "a project on Gitea" '^Status: 202' "$out"
rcli DEL "${P}queue" >/dev/null
python3 - "$T/gt-push.json" "$E" <<'PY'
# The push example of https://docs.gitea.com/usage/webhooks (its deprecated "secret" field left out)
import json, sys
f, e = sys.argv[1:3]
p = {"ref": "refs/heads/develop", "before": "28e1879d029cb852e4844d9c718537df08844e03",
     "after": "bffeb74224043ba2feb48d137756c8a9331c449a",
     "compare_url": e + "/compare/28e1879d029cb852e4844d9c718537df08844e03...bffeb74224043ba2feb48d137756c8a9331c449a",
     "commits": [{"id": "bffeb74224043ba2feb48d137756c8a9331c449a", "message": "Webhooks Yay!",
                  "url": e + "/commit/bffeb74224043ba2feb48d137756c8a9331c449a",
                  "author": {"name": "Gitea", "email": "someone@gitea.io", "username": "gitea"},
                  "committer": {"name": "Gitea", "email": "someone@gitea.io", "username": "gitea"},
                  "timestamp": "2017-03-13T13:52:11-04:00"}],
     "repository": {"id": 140, "owner": {"id": 1, "login": "gitea", "full_name": "Gitea",
                    "email": "someone@gitea.io", "avatar_url": "https://localhost:3000/avatars/1",
                    "username": "gitea"}, "name": "webhooks", "full_name": "gitea/webhooks",
                    "description": "", "private": False, "fork": False, "html_url": e,
                    "ssh_url": "ssh://gitea@localhost:2222/gitea/webhooks.git",
                    "clone_url": e + ".git", "website": "", "stars_count": 0, "forks_count": 1,
                    "watchers_count": 1, "open_issues_count": 7, "default_branch": "master",
                    "created_at": "2017-02-26T04:29:06-05:00", "updated_at": "2017-03-13T13:51:58-04:00"},
     "pusher": {"id": 1, "login": "gitea", "full_name": "Gitea", "email": "someone@gitea.io",
                "avatar_url": "https://localhost:3000/avatars/1", "username": "gitea"},
     "sender": {"id": 1, "login": "gitea", "full_name": "Gitea", "email": "someone@gitea.io",
                "avatar_url": "https://localhost:3000/avatars/1", "username": "gitea"}}
json.dump(p, open(f, "w"))
PY
gitea() { # EVENT DELIVERY FILE SIGNATURE [forgejo]
	if [ "${5:-}" = forgejo ]; then
		post gitea "$3" HTTP_X_FORGEJO_EVENT="$1" HTTP_X_FORGEJO_DELIVERY="$2" HTTP_X_FORGEJO_SIGNATURE="$4"
	else
		post gitea "$3" HTTP_X_GITEA_EVENT="$1" HTTP_X_GITEA_DELIVERY="$2" HTTP_X_GITEA_SIGNATURE="$4"
	fi
}
gitea push f6266f16-1bf3-46a5-9ea4-602e06ead473 "$T/gt-push.json" "$(sign wrong-secret-wrong-secret "$T/gt-push.json" "")"
check_eq "Gitea push with a bad signature: 401" 401 "$STATUS"
gitea push f6266f16-1bf3-46a5-9ea4-602e06ead473 "$T/gt-push.json" "$(sign "$SECRET" "$T/gt-push.json")"
check_eq "a GitHub-style 'sha256=' signature is not Gitea's: 401" 401 "$STATUS"
gitea push f6266f16-1bf3-46a5-9ea4-602e06ead473 "$T/gt-push.json" "$(sign "$SECRET" "$T/gt-push.json" "")"
check_eq "Gitea push, signed: 202" 202 "$STATUS"
TD=$(jget data.deployments.0.deploymentId)
check_eq "... production of develop" develop "$(field "${P}deployment:$TD" ref)"
check_eq "... with its message" "Webhooks Yay!" "$(field "${P}deployment:$TD" commit_message)"
gitea push f6266f16-1bf3-46a5-9ea4-602e06ead473 "$T/gt-push.json" "$(sign "$SECRET" "$T/gt-push.json" "")"
check_eq "the same delivery again: duplicate" duplicate "$(jget status)"
gitea push 1a2b3c4d-0000-4000-8000-000000000001 "$T/gt-push.json" "$(sign "$SECRET" "$T/gt-push.json" "")" forgejo
check_eq "Forgejo's headers work as well (a new delivery): 202" 202 "$STATUS"
python3 - "$T/gt-pr.json" "$E" <<'PY'
# A pull_request delivery: the PullRequestPayload of Gitea's API (modules/structs/hook.go),
# action "synchronized" for new commits, head.repo_id beside head.repo
import json, sys
f, e = sys.argv[1:3]
repo = {"id": 140, "name": "webhooks", "full_name": "gitea/webhooks", "html_url": e,
        "clone_url": e + ".git", "default_branch": "develop", "fork": False}
p = {"action": "synchronized", "number": 12,
     "pull_request": {"id": 410, "number": 12, "title": "Add the login form", "state": "open",
                      "head": {"label": "feature/form", "ref": "feature/form",
                               "sha": "5f3c8a1d2e4b6c7d8e9f0a1b2c3d4e5f6a7b8c9d", "repo_id": 140, "repo": repo},
                      "base": {"label": "develop", "ref": "develop",
                               "sha": "bffeb74224043ba2feb48d137756c8a9331c449a", "repo_id": 140, "repo": repo},
                      "merged": False},
     "repository": repo, "sender": {"id": 1, "login": "gitea", "username": "gitea"}}
json.dump(p, open(f, "w"))
PY
gitea pull_request 9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d "$T/gt-pr.json" "$(sign "$SECRET" "$T/gt-pr.json" "")"
check_eq "Gitea pull request synchronized: 202" 202 "$STATUS"
check_eq "... a preview at tea--pr-12" "http://tea--pr-12.localhost/" "$(jget data.deployments.0.previewUrl)"
check_eq "... not a fork" false "$(jget data.deployments.0.fork)"

finish
