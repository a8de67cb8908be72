#!/bin/sh
# it_presign.sh — presigned S3 uploads of the deploy protocol against the whole stack
# (lighttpd, skiff-create, Redis) with the s3 store on s3rver behind the stand-in endpoint
# (check/s3/endpoint.mjs), which verifies presigned signatures with @smithy/signature-v4 and
# holds every PUT to its x-amz-checksum-sha256 as S3 does. A `skiff deploy` uploads every blob
# straight to the stand-in (no blob through skiff-create), finish verifies them and the site
# serves from S3; a wrong body, a changed checksum header, a blob under another hash's URL and
# an expired URL are refused by the stand-in and store nothing; finish refuses while a blob is
# missing; with s3_presign_expires = 0 the blobs go through skiff as before.
. "$(dirname "$0")/lib.sh"
. "$ROOT/check/s3/peers.sh"

for tool in curl python3 redis-server lighttpd node; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
for p in skiff skiff-create skiff-status skiff-serve; do
	[ -x "$BIN/$p" ] || { echo "$BIN/$p is not built" >&2; exit 1; }
done

peers_install
start_endpoint
start_stack || { TESTS_RUN=$((TESTS_RUN + 1)); fail "the stack starts"; finish; exit 1; }
U="http://127.0.0.1:$STACK_PORT"
H="Host: localhost:$STACK_PORT"
ORIGIN="Origin: http://localhost:$STACK_PORT"

# the stack's store becomes the s3 store (blobs, manifests) with a serve cache where the
# stack's lighttpd takes X-Sendfile paths from (its x-sendfile-docroot is $T/store/blobs/)
use_s3() {
	sed -i '/^store = /d; /^store_path = /d; /^s3_presign_expires = /d; /^cache_path = /d; /^max_file_mb = /d' "$T/skiff.conf"
	mkdir -p "$T/store/blobs/s3-cache"
	cat >>"$T/skiff.conf" <<CONF
store = s3
s3_endpoint = $EP
s3_bucket = $BUCKET
s3_region = us-east-1
s3_prefix = site/
s3_access_key = $SKIFF_TEST_ACCESS_KEY
s3_secret_key = $SKIFF_TEST_SECRET_KEY
s3_timeout = 10
cache_path = $T/store/blobs/s3-cache
s3_presign_expires = $1
max_file_mb = ${2:-100}
CONF
	stop_lighttpd
	start_lighttpd || fail "lighttpd restarts with the s3 store"
}
use_s3 600
site() { curl -sS -H "Host: $1.localhost:$STACK_PORT" "$U$2"; }
sha() { printf '%s' "$1" | sha256sum | cut -c1-64; }
b64() { printf '%s' "$1" | python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha256(sys.stdin.buffer.read()).digest()).decode())'; }

# a project (its git build fails at once) and a deploy token for it
curl -sS -o "$T/body" -X POST -H "$H" -H "$ORIGIN" -H 'Content-Type: application/json' \
	--data-binary "{\"gitURL\":\"file://$T/no-such-repo\",\"slug\":\"direct\",\"webhookSecret\":false}" "$U/api/projects"
curl -sS -o "$T/body" -X POST -H "$H" -H "$ORIGIN" -H 'Content-Type: application/json' \
	--data-binary '{"name":"presign test"}' "$U/api/projects/direct/tokens"
TOK=$(jget token)
check_match "a deploy token is created" '^skiff_' "$TOK"
export SKIFF_URL=$STACK_URL SKIFF_TOKEN=$TOK

# ---- skiff deploy uploads straight to the store --------------------------------------------
D="$T/site"
mkdir -p "$D/css"
echo '<h1>straight to s3</h1>' >"$D/index.html"
echo 'body{color:red}' >"$D/css/a.css"
i=0
while [ $i -lt 10 ]; do echo "file $i" >"$D/f$i.txt"; i=$((i + 1)); done
printf '/old /index.html 301\n' >"$D/_redirects"
stats_reset
before=$(stat 's["presigned"]')
"$BIN/skiff" deploy "$D" --project direct --json >"$T/body" 2>"$T/err"
check_eq "deploy with the s3 store: exit 0, ready" "0 ready" "$? $(jget state)"
check_eq "every blob went to a presigned URL (13 of 13)" "13 13" "$(jget uploaded) $(jget uploadedDirect)"
check_eq "the stand-in verified 13 presigned PUTs" 13 "$(($(stat 's["presigned"]') - before))"
check_eq "…and stored 13 blobs" 13 "$(stat 'len([k for k in s["s3_keys"]["PUT"] if "/blobs/" in k])')"
check_eq "the site serves from S3" '<h1>straight to s3</h1>' "$(site direct /)"
check_eq "…with its rules" 301 "$(curl -sS -o /dev/null -w '%{http_code}' -H "Host: direct.localhost:$STACK_PORT" "$U/old")"
"$BIN/skiff" deploy "$D" --project direct --json >"$T/body" 2>"$T/err"
check_eq "an unchanged deploy uploads nothing" "0 0" "$(jget uploaded) $(jget uploadedBytes)"

# ---- the protocol by hand: what the stand-in refuses -----------------------------------------
good='the right bytes'
other='other bytes'
GH=$(sha "$good")
OH=$(sha "$other")
curl -sS -o "$T/body" -X POST -H "$H" -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
	--data-binary "{\"files\":{\"/a.txt\":\"$GH\",\"/b.txt\":\"$OH\"}}" "$U/api/projects/direct/deployments"
ID=$(jget deploymentId)
check_eq "the create answer lists both blobs as required" "[\"$GH\", \"$OH\"]" \
	"$(python3 -c 'import json,sys; print(json.dumps(sorted(json.load(open(sys.argv[1]))["required"])))' "$T/body")"
check_eq "…with the checksum each presigned PUT must carry (base64 SHA-256)" "$(b64 "$good")" \
	"$(jget "upload.presigned.$GH.headers.x-amz-checksum-sha256")"
check_eq "…and how long the URLs live" 600 "$(jget upload.expires)"
GURL=$(jget "upload.presigned.$GH.url")
OURL=$(jget "upload.presigned.$OH.url")
check_match "the URL is the stand-in's, presigned" "^$EP/|X-Amz-Signature=[0-9a-f]{64}" "$GURL"
check_nomatch "the URL carries no secret of skiff's" "$SKIFF_TEST_SECRET_KEY|$TOK" "$GURL"
# put URL BODY [CHECKSUM]: a PUT with the signed headers; prints the status and the S3 code
put() {
	printf '%s' "$2" >"$T/put.bin"
	curl -sS -o "$T/put.out" -w '%{http_code}' -X PUT -T "$T/put.bin" -H 'Expect:' \
		-H 'content-type: application/octet-stream' -H 'cache-control: public, max-age=31536000, immutable' \
		-H "x-amz-checksum-sha256: $3" "$1"
	printf ' %s' "$(sed -n 's:.*<Code>\(.*\)</Code>.*:\1:p' "$T/put.out")"
}
stats_reset
check_eq "a wrong body under a presigned URL: 400 BadDigest" "400 BadDigest" "$(put "$GURL" "$other" "$(b64 "$good")")"
check_eq "a checksum header changed to match the wrong body: 403 SignatureDoesNotMatch" \
	"403 SignatureDoesNotMatch" "$(put "$GURL" "$other" "$(b64 "$other")")"
check_eq "without the checksum header: 403 (it is signed)" 403 \
	"$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --data-binary "$good" -H 'Expect:' "$GURL")"
check_eq "a malformed checksum: 400 InvalidRequest, or 403" "4" "$(put "$GURL" "$good" "not-base64" | cut -c1)"
check_eq "nothing reached the bucket" 0 "$(stat 's["s3"]["PUT"]')"
curl -sS -o "$T/body" -X POST -H "$H" -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
	--data-binary '{}' "$U/api/deployments/$ID/finish"
check_eq "finish with blobs missing: 409, nothing promoted" "missing_blobs" "$(jget error.code)"
check_eq "the right body: 200" "200 " "$(put "$GURL" "$good" "$(b64 "$good")")"
check_eq "the other blob, right" "200 " "$(put "$OURL" "$other" "$(b64 "$other")")"
curl -sS -o "$T/body" -X POST -H "$H" -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
	--data-binary '{}' "$U/api/deployments/$ID/finish"
check_eq "finish verifies presence and promotes" ready "$(jget state)"
check_eq "the blob is served with its bytes" "$good" "$(site direct /a.txt)"
# an expired URL: the stand-in's clock two hours on
fault '{"clock_offset_s":7200}'
check_eq "an expired presigned URL: 403 AccessDenied" "403 AccessDenied" "$(put "$GURL" "$good" "$(b64 "$good")")"
fault '{"clock_offset_s":0}'

# ---- a wrong file under a presigned URL through the CLI: refused, the deployment fails ------
echo '<h1>changed</h1>' >"$D/index.html"
CH=$(sha256sum "$D/index.html" | cut -c1-64)
curl -sS -o "$T/body" -X POST -H "$H" -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
	--data-binary "{\"files\":{\"/index.html\":\"$CH\"}}" "$U/api/projects/direct/deployments"
check_eq "a changed file is required again" "[\"$CH\"]" "$(jget required)"
check_eq "…its presigned PUT refuses other bytes" "400 BadDigest" \
	"$(put "$(jget "upload.presigned.$CH.url")" 'not the file' "$(b64 "$(cat "$D/index.html")
")")"

# ---- s3_presign_expires = 0: blobs go through skiff-create ----------------------------------
use_s3 0
echo 'through skiff' >"$D/f0.txt"
stats_reset
"$BIN/skiff" deploy "$D" --project direct --json >"$T/body" 2>"$T/err"
check_eq "with presigned uploads off: ready, 2 blobs, none direct" "ready 2 0" \
	"$(jget state) $(jget uploaded) $(jget uploadedDirect)"
check_eq "…skiff-create stored them in S3 itself (signed PUTs)" 2 \
	"$(stat 'len([k for k in s["s3_keys"]["PUT"] if "/blobs/" in k])')"
check_eq "the site serves the new file" 'through skiff' "$(site direct /f0.txt)"

# ---- a presigned PUT has no size limit of skiff's: finish holds blobs to max_file_mb ------
use_s3 600 1
head -c 1500000 /dev/urandom >"$T/big.bin"
BH=$(sha256sum "$T/big.bin" | cut -c1-64)
BB=$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).decode())' "$T/big.bin")
curl -sS -o "$T/body" -X POST -H "$H" -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
	--data-binary "{\"files\":{\"/big.bin\":\"$BH\"}}" "$U/api/projects/direct/deployments"
BID=$(jget deploymentId)
check_eq "a blob over max_file_mb goes up its presigned URL" 200 \
	"$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -T "$T/big.bin" -H 'Expect:' \
		-H 'content-type: application/octet-stream' -H 'cache-control: public, max-age=31536000, immutable' \
		-H "x-amz-checksum-sha256: $BB" "$(jget "upload.presigned.$BH.url")")"
curl -sS -o "$T/body" -w '%{http_code}' -X POST -H "$H" -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
	--data-binary '{}' "$U/api/deployments/$BID/finish" >"$T/code"
check_eq "…finish refuses it: 413 blob_too_large" "413 blob_too_large" "$(cat "$T/code") $(jget error.code)"
check_eq "…and nothing was promoted" 'through skiff' "$(site direct /f0.txt)"

finish
