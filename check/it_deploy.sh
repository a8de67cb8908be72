#!/bin/sh
# it_deploy.sh — the deploy protocol on the whole stack (lighttpd, skiff-create, Redis, the
# file store, skiff-serve), driven with curl as the CLI or a CI job would: project deploy
# tokens (shown once, stored as a hash, one project, revocable, lastUsed); a 1,000-file
# directory deployed by digest, then again with one file changed (exactly one blob required)
# and unchanged (none); `_redirects` honoured by skiff-serve afterwards; log lines appended
# once however often a batch is sent; preview deployments that never go live; and every kind
# of bad input with its status and JSON error, nothing half-written or promoted.
. "$(dirname "$0")/lib.sh"

for tool in curl python3 redis-server lighttpd sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
for p in skiff-create skiff-status skiff-serve skiff-dispatch; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done

start_stack || { TESTS_RUN=$((TESTS_RUN + 1)); fail "the stack starts"; finish; exit 1; }
# limits small enough to test: a file is at most 1 MB, a deployment at most 1,500 files; an
# api_token, so that a deploy token must be told apart from a wrong admin token
ADMIN=admin-token-for-it-deploy-0123456789
printf 'max_file_mb = 1\nmax_files = 1500\napi_token = %s\n' "$ADMIN" >>"$T/skiff.conf"
stop_lighttpd
start_lighttpd || { TESTS_RUN=$((TESTS_RUN + 1)); fail "lighttpd restarts"; finish; exit 1; }
U="http://127.0.0.1:$STACK_PORT"
H="Host: localhost:$STACK_PORT"
P=skiff:

# who TOKEN: the credentials of a request: the deploy token when given (a bearer token needs
# no Origin), else the dashboard's Origin (auth_disabled: ambient credentials)
who() {
	if [ -n "$1" ]; then echo "Authorization: Bearer $1"; else echo "Origin: http://localhost:$STACK_PORT"; fi
}
# api METHOD PATH [JSON] [TOKEN]: the body into $T/body, the status into $T/status
api() {
	curl -sS -o "$T/body" -w '%{http_code}' -X "$1" -H "$H" -H 'Content-Type: application/json' \
		-H "$(who "${4:-}")" ${3:+--data-binary "$3"} "$U$2" >"$T/status"
}
# api_file METHOD PATH FILE [TOKEN]: as api, the JSON body read from FILE
api_file() {
	curl -sS -o "$T/body" -w '%{http_code}' -X "$1" -H "$H" -H 'Content-Type: application/json' \
		-H "$(who "${4:-}")" --data-binary "@$3" "$U$2" >"$T/status"
}
# put ID HASH FILE [TOKEN] [CONTENT_TYPE]: uploads FILE as blob HASH of deployment ID
put() {
	curl -sS -o "$T/body" -w '%{http_code}' -X PUT -H "$H" \
		-H "Content-Type: ${5:-application/octet-stream}" ${4:+-H "Authorization: Bearer $4"} \
		--data-binary "@$3" "$U/api/deployments/$1/blobs/$2" >"$T/status"
}
status() { cat "$T/status"; }
jlen() { python3 -c 'import json, sys; print(len(json.load(open(sys.argv[2]))[sys.argv[1]]))' "$1" "$T/body" 2>/dev/null || echo "?"; }
# check_error DESCRIPTION STATUS CODE: the last answer is that status with that JSON error
check_error() {
	check_eq "$1: status" "$2" "$(status)"
	check_eq "$1: error code" "$3" "$(jget error.code)"
}
# manifest DIR OUT: the {"files": {"/path": "sha256"}} request of every file under DIR
manifest() {
	python3 -c 'import hashlib, json, os, sys
root = sys.argv[1]
files = {}
for d, _, names in os.walk(root):
    for n in names:
        p = os.path.join(d, n)
        files["/" + os.path.relpath(p, root)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
json.dump({"files": files}, open(sys.argv[2], "w"))' "$1" "$2"
}
# deploy FILE [TOKEN]: POSTs the file list in FILE to project up; the answer is also kept as
# $T/answer-{deploymentId} for upload_required
deploy() {
	api_file POST /api/projects/up/deployments "$1" "${2:-}"
	id=$(jget deploymentId)
	[ -n "$id" ] && cp "$T/body" "$T/answer-$id"
}
# upload_required ID DIR [TOKEN]: PUTs every blob deployment ID requires, from DIR, over one
# connection; prints how many answered 201
upload_required() {
	python3 -c 'import hashlib, json, os, sys
need = set(json.load(open(sys.argv[1]))["required"])
root, url, host, tok = sys.argv[2:6]
out = []
for d, _, names in os.walk(root):
    for n in names:
        p = os.path.join(d, n)
        h = hashlib.sha256(open(p, "rb").read()).hexdigest()
        if h in need:
            need.discard(h)
            out.append("next\nrequest = \"PUT\"\nurl = \"%s/%s\"\ndata-binary = \"@%s\"\n"
                       "header = \"Content-Type: application/octet-stream\"\nheader = \"%s\"\n"
                       "write-out = \"%%{http_code}\\n\"\noutput = \"/dev/null\"\n" % (url, h, p, host)
                       + ("header = \"Authorization: Bearer %s\"\n" % tok if tok else ""))
sys.stdout.write("".join(out)[5:])' "$T/answer-$1" "$2" "$U/api/deployments/$1/blobs" "$H" "${3:-}" >"$T/curl.cfg"
	[ -s "$T/curl.cfg" ] || { echo 0; return; }
	curl -sS -K "$T/curl.cfg" | grep -c '^201$'
}
site() { curl -sS -H "Host: $1.localhost:$STACK_PORT" "$U$2"; }
site_head() { curl -sS -o /dev/null -D - -H "Host: $1.localhost:$STACK_PORT" "$U$2" | tr -d '\r'; }
deployments() { rcli ZCARD "${P}project:$1:deployments"; }
store_has() { [ -f "$T/store/blobs/$(echo "$1" | cut -c1-2)/$1" ]; }

# ---- projects: their git builds fail at once (no such repository), so only uploads go live --
for s in up other; do
	api POST /api/projects "{\"gitURL\":\"file://$T/no-such-repo-$s\",\"slug\":\"$s\",\"webhookSecret\":false}"
	check_eq "project $s is created" 202 "$(status)"
	first=$(jget data.deploymentId)
	wait_for 30 sh -c "[ \"\$(redis-cli -s $T/redis.sock HGET ${P}deployment:$first state)\" = error ]" ||
		fail "the git build of $s fails"
done

# ---- tokens ------------------------------------------------------------------------------
api POST /api/projects/up/tokens '{"name":"ci","scope":"deploy"}'
check_eq "token: created" 201 "$(status)"
TOK=$(jget token)
TOK_ID=$(jget id)
check_match "token: skiff_ and 32 base32 characters" '^skiff_[a-z2-7]{32}$' "$TOK"
check_eq "token: name, scope" "ci deploy" "$(jget name) $(jget scope)"
check_match "token: created time" '^[0-9]{13}$' "$(jget created)"
redis_text >"$T/redis.txt"
check_match "token: Redis read as text holds the token's record" "^$TOK_ID\$" "$(cat "$T/redis.txt")"
check_eq "token: Redis holds only its hash, not the token itself" "" "$(grep -F "$TOK" "$T/redis.txt")"
api GET /api/projects/up/tokens
check_eq "tokens: listed" "200 1 $TOK_ID" "$(status) $(jget data.0.id | wc -l) $(jget data.0.id)"
check_eq "tokens: the list never shows the token" "" "$(grep -o 'skiff_[a-z2-7]*' "$T/body")"
check_eq "tokens: never used yet" "null" "$(jget data.0.lastUsed)"
api POST /api/projects/other/tokens '{"name":"other ci"}'
TOK_B=$(jget token)
check_eq "token: scope deploy by default" "201 deploy" "$(status) $(jget scope)"
api POST /api/projects/up/tokens '{"name":"previews","scope":"preview"}'
TOK_P=$(jget token)
api POST /api/projects/up/tokens '{"name":"x","scope":"admin"}'
check_error "token: unknown scope" 400 invalid_scope
api POST /api/projects/up/tokens '{"name":"x","expires":1}'
check_error "token: an unknown field" 400 unknown_field
api GET /api/projects/up/tokens
check_eq "token: the refusals created none" '["ci", "previews"]' "$(python3 -c 'import json, sys
print(json.dumps([t["name"] for t in json.load(open(sys.argv[1]))["data"]]))' "$T/body")"
curl -sS -o "$T/body" -w '%{http_code}' -X POST -H "$H" -H 'Content-Type: application/json' \
	-H "Authorization: Bearer $ADMIN" -d '{"name":"by api_token"}' "$U/api/projects/up/tokens" >"$T/status"
check_eq "token: the api_token creates tokens (no Origin needed)" 201 "$(status)"
api DELETE "/api/projects/up/tokens/$(jget id)"
api POST /api/projects/up/tokens '{"name":"x"}' "not-the-api-token"
check_error "token: a wrong bearer token" 401 invalid_token
api POST /api/projects/up/tokens '{"scope":"deploy"}'
check_error "token: no name" 400 invalid_token_name
api POST /api/projects/up/tokens "{\"name\":\"$(printf '%065d' 0)\"}"
check_error "token: name over 64 bytes" 400 invalid_token_name
api POST /api/projects/nope/tokens '{"name":"ci"}'
check_error "token: unknown project" 404 not_found
api POST /api/projects/up/tokens '{"name":"mine"}' "$TOK"
check_error "token: a deploy token cannot create tokens" 403 token_scope
api GET /api/projects/up/tokens "" "$TOK"
check_error "token: a deploy token cannot list tokens" 403 token_scope
api POST /api/projects/up/rollback '{"deploymentId":"aaaaaaaaaaaa"}' "$TOK"
check_error "token: a deploy token cannot roll back" 403 token_scope
api DELETE "/api/projects/up?confirm=up" "" "$TOK"
check_error "token: a deploy token cannot delete the project" 403 token_scope
check_eq "token: the project is still there" 1 "$(rcli EXISTS "${P}project:up")"

# ---- a 1,000-file directory deployed by digest ------------------------------------------
S=$T/site
mkdir -p "$S/assets" "$S/blog"
i=0
while [ $i -lt 997 ]; do printf 'file %d\n' $i >"$S/assets/f$i.txt"; i=$((i + 1)); done
i=0
while [ $i -lt 200 ]; do echo "a line of compressible text, number $i" >>"$S/assets/f0.txt"; i=$((i + 1)); done
printf '<!doctype html><h1>upload v1</h1>\n' >"$S/index.html"
printf '<h1>new page</h1>\n' >"$S/blog/new.html"
printf '/old /blog/new 301\n/app/* /index.html 200\n' >"$S/_redirects"
manifest "$S" "$T/req1.json"
before=$(deployments up)
deploy "$T/req1.json" "$TOK"
check_eq "deploy: 201" 201 "$(status)"
D1=$(jget deploymentId)
check_match "deploy: a deployment id" '^[a-z2-7]{12}$' "$D1"
check_eq "deploy: every blob is required" 1000 "$(jlen required)"
check_eq "deploy: upload method" PUT "$(jget upload.method)"
check_eq "deploy: upload URL" "http://localhost:$STACK_PORT/api/deployments/$D1/blobs/{sha256}" "$(jget upload.url)"
check_eq "deploy: status URL" "http://localhost:$STACK_PORT/api/deployments/$D1" "$(jget statusUrl)"
check_eq "deploy: events URL" "http://localhost:$STACK_PORT/events/$D1" "$(jget eventsUrl)"
check_match "deploy: deployment URL" "^http://up--$D1\\.localhost:$STACK_PORT/?$" "$(jget deploymentUrl)"
check_eq "deploy: building, phase upload, trigger upload" "building upload upload" \
	"$(rcli HGET "${P}deployment:$D1" state) $(rcli HGET "${P}deployment:$D1" phase) $(rcli HGET "${P}deployment:$D1" trigger)"
check_eq "deploy: not queued for a build" "" "$(rcli LRANGE "${P}queue" 0 -1 | grep "$D1")"
check_eq "deploy: in the project's history" $((before + 1)) "$(deployments up)"

api POST "/api/deployments/$D1/finish" '{}' "$TOK"
check_error "finish with every blob missing" 409 missing_blobs
check_eq "finish: lists what is missing" 1000 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["error"]["missing"]))' "$T/body")"
check_eq "finish: still uploading" "building upload" \
	"$(rcli HGET "${P}deployment:$D1" state) $(rcli HGET "${P}deployment:$D1" phase)"

# bad blobs, before the good ones
h_index=$(sha256sum "$S/index.html" | cut -c1-64)
printf 'not the index\n' >"$T/wrong"
put "$D1" "$h_index" "$T/wrong" "$TOK"
check_error "blob: bytes that do not match the name" 400 digest_mismatch
if store_has "$h_index"; then fail "blob: nothing stored under the wrong name"; else ok "blob: nothing stored under the wrong name"; fi
put "$D1" "$(sha256sum "$T/wrong" | cut -c1-64)" "$T/wrong" "$TOK"
check_error "blob: a hash the deployment does not list" 404 unknown_blob
put "$D1" "$h_index" "$S/index.html" "$TOK" application/json
check_error "blob: not application/octet-stream" 415 unsupported_media_type
put "$D1" "NOTAHASH" "$S/index.html" "$TOK"
check_error "blob: not a hash" 400 invalid_hash
put "$D1" "$h_index" "$S/index.html" "$TOK_B"
check_error "blob: a token of another project" 403 token_scope

api GET "/api/projects" ""   # (any request: time passes for lastUsed below)
uploaded=$(upload_required "$D1" "$S" "$TOK")
check_eq "blobs: 1,000 uploaded" 1000 "$uploaded"
put "$D1" "$h_index" "$S/index.html" "$TOK"
check_eq "blob: uploaded again answers 200" "200 false" "$(status) $(jget stored)"

# log lines from a remote builder: a retried batch adds nothing
batch='{"lines":[{"seq":1,"stream":"stdout","text":"building"},{"seq":2,"stream":"stderr","text":"warn\u001b[1m"}]}'
len0=$(rcli XLEN "${P}log:$D1")
api POST "/api/deployments/$D1/log" "$batch" "$TOK"
check_eq "log: appended" "200 2" "$(status) $(jget appended)"
api POST "/api/deployments/$D1/log" "$batch" "$TOK"
check_eq "log: the same batch again appends nothing" "200 0" "$(status) $(jget appended)"
check_eq "log: two entries in the stream" $((len0 + 2)) "$(rcli XLEN "${P}log:$D1")"
api POST "/api/deployments/$D1/log" '{"lines":[{"seq":2,"stream":"stdout","text":"x"},{"seq":3,"stream":"stdout","text":"next"}]}' "$TOK"
check_eq "log: a batch overlapping the last adds only the new line" "200 1" "$(status) $(jget appended)"
check_match "log: readable, control characters made safe" 'building.*warn\?\[1m.*next' \
	"$(curl -sS -H "$H" "$U/api/deployments/$D1/log" | tr '\n' ' ')"
api POST "/api/deployments/$D1/log" '{"lines":[{"seq":9,"stream":"system","text":"x"}]}' "$TOK"
check_error "log: unknown stream" 400 invalid_stream
api POST "/api/deployments/$D1/log" "{\"lines\":[{\"seq\":9,\"stream\":\"stdout\",\"text\":\"$(printf '%04097d' 0)\"}]}" "$TOK"
check_error "log: a line over 4096 bytes" 413 line_too_long

api POST "/api/deployments/$D1/finish" '{}' "$TOK"
check_eq "finish: ready" "200 ready" "$(status) $(jget state)"
cp "$T/body" "$T/finish1.json"
check_eq "finish: counts the served files (_redirects is not one)" 999 "$(jget files)"
check_eq "finish: the deployment is current" "$D1" "$(rcli HGET "${P}project:up" current)"
check_eq "finish: state ready in Redis" ready "$(rcli HGET "${P}deployment:$D1" state)"
xlen=$(rcli XLEN "${P}log:$D1")
api POST "/api/deployments/$D1/finish" '{}' "$TOK"
if [ "$(status)" = 200 ] && cmp -s "$T/finish1.json" "$T/body"; then
	ok "finish replayed: the same answer"
else
	fail "finish replayed: the same answer: $(status) $(head -c 300 "$T/body")"
fi
check_eq "finish replayed: nothing promoted twice (log unchanged)" "$xlen" "$(rcli XLEN "${P}log:$D1")"
put "$D1" "$h_index" "$S/index.html" "$TOK"
check_error "blob: the deployment has finished" 409 not_uploading
api POST "/api/deployments/$D1/fail" '{"error":"late"}' "$TOK"
check_error "fail: the deployment has finished" 409 not_uploading

check_match "serve: the uploaded site" 'upload v1' "$(site up /)"
check_match "serve: an asset" '^file 7$' "$(site up /assets/f7.txt)"
check_match "serve: a gzip variant made at finish" '^Content-Encoding: gzip' \
	"$(curl -sS -o "$T/f0.gz" -D - -H 'Accept-Encoding: gzip' -H "Host: up.localhost:$STACK_PORT" "$U/assets/f0.txt" | tr -d '\r')"
check_eq "serve: the variant holds the file" "$(sha256sum <"$S/assets/f0.txt")" "$(gzip -dc "$T/f0.gz" | sha256sum)"
check_match "serve: _redirects 301" '^HTTP/1.1 301' "$(site_head up /old)"
check_match "serve: _redirects target" '^Location: /blog/new' "$(site_head up /old)"
check_match "serve: _redirects 200 rewrite" 'upload v1' "$(site up /app/anything)"
check_nomatch "serve: _redirects itself is not served" '/old|/blog/new' "$(site up /_redirects)"

api GET /api/projects/up/tokens
check_match "tokens: lastUsed recorded" '^[0-9]{13}$' "$(jget data.0.lastUsed)"

# ---- one file changed: exactly one blob; unchanged: none --------------------------------
printf '<!doctype html><h1>upload v2</h1>\n' >"$S/index.html"
manifest "$S" "$T/req2.json"
# with skiff.json settings, as a remote builder sends them (the skiff CLI sends none)
python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
r["config"] = {"skiff.json": {"redirects": [{"source": "/from-skiff-json", "destination": "/blog/new", "statusCode": 302}]}}
json.dump(r, open(sys.argv[1], "w"))' "$T/req2.json"
deploy "$T/req2.json" "$TOK"
D2=$(jget deploymentId)
check_eq "redeploy, one file changed: one blob required" "201 1" "$(status) $(jlen required)"
check_eq "redeploy: it is the changed file" "$(sha256sum "$S/index.html" | cut -c1-64)" "$(jget required.0)"
check_eq "redeploy: uploaded" 1 "$(upload_required "$D2" "$S" "$TOK")"
api POST "/api/deployments/$D2/finish" '{}' "$TOK"
check_eq "redeploy: ready" "200 ready" "$(status) $(jget state)"
check_match "redeploy: served" 'upload v2' "$(site up /)"
check_match "redeploy: skiff.json redirects honoured" '^HTTP/1.1 302' "$(site_head up /from-skiff-json)"
check_match "redeploy: _redirects still honoured" '^HTTP/1.1 301' "$(site_head up /old)"
check_match "redeploy: the first deployment's own URL still serves it" 'upload v1' "$(site "up--$D1" /)"
api_file POST /api/projects/up/deployments "$T/req2.json" "$TOK"
D3=$(jget deploymentId)
check_eq "unchanged: no blob required" "201 0" "$(status) $(jlen required)"
api POST "/api/deployments/$D3/finish" '{}' "$TOK"
check_eq "unchanged: ready without an upload" "200 ready $D3" "$(status) $(jget state) $(rcli HGET "${P}project:up" current)"

# ---- preview tokens: ready, never current ------------------------------------------------
deploy "$T/req1.json" "$TOK_P"
DP=$(jget deploymentId)
check_eq "preview: created as a preview" "201 true" "$(status) $(jget preview)"
upload_required "$DP" "$S" "$TOK_P" >/dev/null
printf '<!doctype html><h1>upload v1</h1>\n' >"$T/v1.html"
put "$DP" "$(sha256sum "$T/v1.html" | cut -c1-64)" "$T/v1.html" "$TOK_P"
api POST "/api/deployments/$DP/finish" '{}' "$TOK_P"
check_eq "preview: ready" "200 ready" "$(status) $(jget state)"
check_eq "preview: production unchanged" "$D3" "$(rcli HGET "${P}project:up" current)"
check_eq "preview: its record says context preview" preview "$(rcli HGET "${P}deployment:$DP" context)"
check_match "preview: served at its own URL" 'upload v1' "$(site "up--$DP" /)"
api POST /api/projects/up/deployments '{}' "$TOK_P"
check_error "preview: no branch redeploy with a preview token" 403 token_scope

# ---- bad input: each refused with its error, nothing written ------------------------------
snap() { echo "$(deployments up) $(deployments other) $(rcli DBSIZE)"; }
s0=$(snap)
files1='{"files":{"/index.html":"'$h_index'"}}'
api POST /api/projects/nope/deployments "$files1"
check_error "unknown project" 404 not_found
api POST /api/projects/other/deployments "$files1" "$TOK"
check_error "a token of project up on project other" 403 token_scope
api POST "/api/deployments/$D3/cancel" '{}' "$TOK_B"
check_error "cancel with a token of another project" 403 token_scope
api POST /api/projects/up/deployments '{"files":{"/a/../etc/passwd":"'$h_index'"}}' "$TOK"
check_error "a path with .." 400 invalid_path
api POST /api/projects/up/deployments '{"files":{"/a//b":"'$h_index'"}}' "$TOK"
check_error "a path with //" 400 invalid_path
api POST /api/projects/up/deployments '{"files":{"relative.html":"'$h_index'"}}' "$TOK"
check_error "a relative path" 400 invalid_path
api POST /api/projects/up/deployments '{"files":{"/a\u0000b":"'$h_index'"}}' "$TOK"
check_error "a path with NUL" 400 invalid_json
api POST /api/projects/up/deployments '{"files":{"/a\u0001b":"'$h_index'"}}' "$TOK"
check_error "a path with a control character" 400 invalid_path
api POST /api/projects/up/deployments "{\"files\":{\"/$(printf '%01030d' 0)\":\"$h_index\"}}" "$TOK"
check_error "a path over 1024 bytes" 400 invalid_path
api POST /api/projects/up/deployments '{"files":{"/a":"ABC"}}' "$TOK"
check_error "a hash that is not 64 lowercase hex" 400 invalid_hash
api POST /api/projects/up/deployments '{"files":{"/a":"'$h_index'"},"config":{"skiff.json":{"cleanUrls":"yes"}}}' "$TOK"
check_error "a skiff.json that a build would refuse" 400 invalid_config
api POST /api/projects/up/deployments '{"files":{"/a":"'$h_index'"},"config":{"netlify.toml":""}}' "$TOK"
check_error "a config other than skiff.json" 400 invalid_config
api POST /api/projects/up/deployments '{"files":{}}' "$TOK"
check_error "an empty file list" 400 invalid_files
api POST /api/projects/up/deployments '{"files":{"/a":"'$h_index'"},"extra":1}' "$TOK"
check_error "an unknown field" 400 unknown_field
python3 -c 'import json, sys
json.dump({"files": {"/f%d" % i: sys.argv[1] for i in range(1501)}}, open(sys.argv[2], "w"))' "$h_index" "$T/many.json"
api_file POST /api/projects/up/deployments "$T/many.json" "$TOK"
check_error "more files than max_files" 413 too_many_files
check_eq "bad input: nothing written" "$s0" "$(snap)"

# a blob over max_file_mb
head -c 1048577 /dev/zero >"$T/big"
h_big=$(sha256sum "$T/big" | cut -c1-64)
api POST /api/projects/up/deployments "{\"files\":{\"/big.bin\":\"$h_big\",\"/index.html\":\"$h_index\"}}" "$TOK"
DB=$(jget deploymentId)
put "$DB" "$h_big" "$T/big" "$TOK"
check_error "a blob over the size limit" 413 blob_too_large
if store_has "$h_big"; then fail "the big blob is not stored"; else ok "the big blob is not stored"; fi
api POST "/api/deployments/$DB/finish" '{}' "$TOK"
check_error "finish with a blob missing" 409 missing_blobs
check_eq "finish refused: nothing promoted" "building upload $D3" \
	"$(rcli HGET "${P}deployment:$DB" state) $(rcli HGET "${P}deployment:$DB" phase) $(rcli HGET "${P}project:up" current)"
if ls "$T/store/manifests/$DB.json" >/dev/null 2>&1; then fail "finish refused: no manifest"; else ok "finish refused: no manifest"; fi
api POST "/api/deployments/$DB/fail" '{"error":"the CI job was canceled"}' "$TOK"
check_eq "fail: error" "200 error" "$(status) $(rcli HGET "${P}deployment:$DB" state)"
check_eq "fail: the reason is recorded" "the CI job was canceled" "$(rcli HGET "${P}deployment:$DB" error)"

# revoked tokens
api DELETE "/api/projects/other/tokens/$TOK_ID"
check_error "revoke: a token of another project" 404 unknown_token
api DELETE "/api/projects/up/tokens/$TOK_ID"
check_eq "revoke: 200" 200 "$(status)"
api POST /api/projects/up/deployments "$files1" "$TOK"
check_error "a revoked token" 401 invalid_token
api POST /api/projects/up/deployments "$files1" "skiff_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
check_error "a token never issued" 401 invalid_token
api GET /api/projects/up/tokens
check_eq "revoke: gone from the list" 0 "$(grep -c "$TOK_ID" "$T/body")"

# a project deleted and created again does not inherit its tokens
api DELETE "/api/projects/other?confirm=other"
check_eq "the project is deleted" 200 "$(status)"
api POST /api/projects "{\"gitURL\":\"file://$T/no-such-repo-other\",\"slug\":\"other\",\"webhookSecret\":false}"
check_eq "and created again" 202 "$(status)"
api POST /api/projects/other/deployments "$files1" "$TOK_B"
check_error "a token of a deleted project, on its namesake" 401 invalid_token

finish
