#!/bin/sh
# it_s3.sh — the s3 store against s3rver behind a stand-in endpoint that recomputes every
# request's SigV4 signature with the AWS SDK's signer (check/s3/endpoint.mjs): the client's
# operations, listing past 1,000 keys, objects read back with @aws-sdk/client-s3, batch
# uploads that skip what the bucket has, skiff-serve's verified and bounded blob cache, a full
# build writing to S3 and served from it, faults: a 503 storm, the store down, expiring
# container credentials; and the credential chain's sources against the stand-ins: IMDSv2,
# profiles, web identity, credential_process, roles (chained, with credential_source), SSO.
. "$(dirname "$0")/lib.sh"
. "$ROOT/check/s3/peers.sh"

peers_install
peers_tools
start_redis
start_endpoint
S3TOOL=$T/s3tool
mkdir -p "$T/work" "$T/cache"
cat >"$T/skiff.conf" <<CONF
redis_socket = $T/redis.sock
$(s3_settings)
cache_path = $T/cache
work_dir = $T/work
build_program = $BIN/skiff-build
sandbox = none
allow_local_git = true
auth_disabled = true
domain = localhost
xsendfile = true
log_level = debug
CONF
export SKIFF_CONFIG="$T/skiff.conf"
export SKIFF_S3_TIMEOUT=10
sha() { sha256sum "$1" | cut -c1-64; }
gets() { stat 's["s3"]["GET"]'; }
puts() { stat 's["s3"]["PUT"]'; }

# ---- the client's operations ----------------------------------------------------------------
printf '{"version":1,"files":{}}' >"$T/m.json"
"$S3TOOL" putmem manifests/one.json "$(cat "$T/m.json")" application/json 2>>"$T/tool.log"
check_eq "PUT from memory succeeds (signature accepted)" 0 $?
head -c 5000 /dev/urandom >"$T/page.html"
"$S3TOOL" put pages/page.html "$T/page.html" "text/html; charset=utf-8" 2>>"$T/tool.log"
check_eq "PUT from a file (UNSIGNED-PAYLOAD) succeeds" 0 $?
check_eq "HEAD reports size and type" "5000 text/html; charset=utf-8" "$("$S3TOOL" head pages/page.html 2>>"$T/tool.log")"
check_eq "HEAD of a missing key" "missing" "$("$S3TOOL" head pages/none.html 2>>"$T/tool.log")"
"$S3TOOL" get pages/page.html "$T/got" 2>>"$T/tool.log"
check_eq "GET returns the same bytes" "$(sha "$T/page.html")" "$(sha "$T/got")"
"$S3TOOL" get pages/none.html "$T/got" 2>"$T/err" && fail "GET of a missing key succeeded"
check_match "GET of a missing key is not found" "not found" "$(cat "$T/err")"

# the AWS SDK reads what skiff wrote: same bytes, same type, Cache-Control as set
meta=$(sdk get site/pages/page.html "$T/sdk.bin")
check_eq "the SDK reads the same bytes" "$(sha "$T/page.html")" "$(sha "$T/sdk.bin")"
check_eq "the SDK sees the content type and cache control" \
	"text/html; charset=utf-8|public, max-age=31536000, immutable" "$meta"
meta=$(sdk get site/manifests/one.json "$T/sdk.json")
check_eq "a manifest read by the SDK" "$(cat "$T/m.json")" "$(cat "$T/sdk.json")"
check_eq "... as JSON that is never cached stale" "application/json|no-cache" "$meta"

# more than 1,000 keys with characters XML must escape: pages of ListObjectsV2
"$S3TOOL" fill many 1100 2>>"$T/tool.log"
check_eq "1,100 objects uploaded in parallel" 0 $?
out=$(S3TOOL_ALL=1 "$S3TOOL" list many/ 2>>"$T/tool.log")
check_eq "the listing follows continuation tokens past 1,000 keys" "count 1100" "$(echo "$out" | tail -n 1)"
check_eq "... tokens with '+', '/' and '=' sent back as signed" 1 "$(stat 's["tokens_in"]')"
check_eq "keys are XML-entity-decoded" "first many/00000&<'\"> 1" "$(echo "$out" | head -n 1)"
check_eq "every key once" 1100 "$(echo "$out" | grep '^key ' | sort -u | wc -l | tr -d ' ')"
check_eq "the SDK lists the same number of keys" 1100 "$(sdk list site/many/)"
"$S3TOOL" delete "many/00007&<'\">" 2>>"$T/tool.log"
check_eq "DELETE succeeds" 0 $?
check_eq "a deleted key is gone from HEAD" "missing" "$("$S3TOOL" head "many/00007&<'\">" 2>>"$T/tool.log")"
check_eq "... and from the listing" "count 1099" "$("$S3TOOL" list many/ 2>>"$T/tool.log" | tail -n 1)"

# IAM: S3 answers a missing key with 404 only to a caller with unconditioned s3:ListBucket
fault '{"iam_list_bucket":"prefix"}'
"$S3TOOL" manifest aaaaaaaaaaaa >/dev/null 2>"$T/err" && fail "a forbidden read succeeded"
check_match "with ListBucket only under a prefix, a missing manifest is a 403 naming the permission" \
	"403 AccessDenied.*s3:ListBucket on the bucket without a prefix condition" "$(cat "$T/err")"
check_nomatch "... not 'not found'" "not found" "$(cat "$T/err")"
"$S3TOOL" head pages/none.html >"$T/out" 2>"$T/err" && fail "a forbidden HEAD counted as missing"
check_match "... and so is a HEAD of a missing blob" "HEAD pages/none.html answered HTTP 403.*s3:ListBucket" \
	"$(cat "$T/err")"
check_eq "... the stand-in denied both" 2 "$(stat 's["iam_denied"]')"
fault '{"iam_list_bucket":"unconditioned"}'
"$S3TOOL" manifest aaaaaaaaaaaa >/dev/null 2>"$T/err" && fail "a missing manifest was read"
check_match "with unconditioned ListBucket (doc/aws.md) a missing manifest is not found" "not found" "$(cat "$T/err")"

# the stand-in really checks signatures: a wrong secret is refused, and never shown
before=$(stat 's["rejected_signature"]')
SKIFF_S3_SECRET_KEY=wrong-secret-value "$S3TOOL" get pages/page.html "$T/got" 2>"$T/err" &&
	fail "a request with a wrong secret was accepted"
check_match "a bad signature is refused with 403" "HTTP 403 SignatureDoesNotMatch" "$(cat "$T/err")"
check_eq "the endpoint counted the mismatch" "$((before + 1))" "$(stat 's["rejected_signature"]')"
check_nomatch "the secret is not in the message" "wrong-secret-value" "$(cat "$T/err")"
check_eq "no request of skiff's was refused for its signature" "$((before + 1))" \
	"$(stat 's["rejected_signature"] + s["rejected_payload"]')"

# a client clock an hour off: S3 answers RequestTimeTooSkewed with its Date; skiff signs again
k0=$(stat 's["rejected_skew"]')
fault '{"clock_offset_s":3600}'
"$S3TOOL" putmem manifests/skew.json '{}' application/json 2>"$T/skew.log"
check_eq "a request from a skewed clock succeeds" 0 $?
check_eq "... after one RequestTimeTooSkewed" $((k0 + 1)) "$(stat 's["rejected_skew"]')"
check_eq "a HEAD (a 403 without a body) from a skewed clock too, by S3's Date" "2 application/json" \
	"$("$S3TOOL" head manifests/skew.json 2>>"$T/skew.log")"
fault '{"clock_offset_s":0}'
check_eq "... after one more refusal" $((k0 + 2)) "$(stat 's["rejected_skew"]')"
check_match "... correcting the clock by S3's Date" "clock skew corrected skew_ms=3[56][0-9]{5}" "$(cat "$T/skew.log")"

# ---- batch uploads skip what the bucket has ---------------------------------------------
mkdir -p "$T/files"
i=0
while [ $i -lt 20 ]; do
	printf 'file %s\n' "$i" >"$T/files/f$i.txt"
	head -c $((i * 500)) /dev/urandom >>"$T/files/f$i.txt"
	i=$((i + 1))
done
p0=$(puts)
check_match "20 new blobs are uploaded" "^uploaded 20 bytes [0-9]+$" "$("$S3TOOL" blobs "$T"/files/*.txt 2>>"$T/tool.log")"
check_eq "... with 20 PUTs" $((p0 + 20)) "$(puts)"
check_eq "the same blobs again upload nothing" "uploaded 0 bytes 0" "$("$S3TOOL" blobs "$T"/files/*.txt 2>>"$T/tool.log")"
check_eq "... not a single PUT" $((p0 + 20)) "$(puts)"
h5=$(sha "$T/files/f5.txt")
meta=$(sdk get "site/blobs/$(echo "$h5" | cut -c1-2)/$h5" "$T/sdk.blob")
check_eq "a blob read back by the SDK" "$h5" "$(sha "$T/sdk.blob")"
check_eq "... is immutable for caches" "text/plain; charset=utf-8|public, max-age=31536000, immutable" "$meta"

# ---- skiff-serve's cache -----------------------------------------------------------------
g0=$(gets)
path=$(umask 027 && "$S3TOOL" blobpath "$h5" 2>>"$T/tool.log") # skiff-serve.service's umask
check_eq "a cold miss lands in the cache" "$T/cache/$(echo "$h5" | cut -c1-2)/$h5" "$path"
check_eq "... where the web server (another user) may enter and read it" "755 644" \
	"$(command stat -c %a "$(dirname "$path")") $(command stat -c %a "$path")"
check_eq "... verified bytes" "$h5" "$(sha "$path")"
check_eq "... for exactly one GET" $((g0 + 1)) "$(gets)"
"$S3TOOL" blobpath "$h5" >/dev/null 2>>"$T/tool.log"
check_eq "a warm hit costs no request" $((g0 + 1)) "$(gets)"
# a blob whose bytes in the bucket do not match its name never enters the cache
printf 'good bytes' >"$T/good"
hg=$(sha "$T/good")
"$S3TOOL" putmem "blobs/$(echo "$hg" | cut -c1-2)/$hg" "evil bytes" text/plain 2>>"$T/tool.log"
"$S3TOOL" blobpath "$hg" >/dev/null 2>"$T/err" && fail "a corrupt blob was served"
check_match "a corrupt blob is refused" "does not match its hash" "$(cat "$T/err")"
check_eq "... and not cached" "no" "$([ -e "$T/cache/$(echo "$hg" | cut -c1-2)/$hg" ] && echo yes || echo no)"
check_eq "... and no temp file is left" "" "$(ls "$T/cache/tmp")"
"$S3TOOL" blobpath 0000000000000000000000000000000000000000000000000000000000000000 >/dev/null 2>"$T/err"
check_match "a blob the bucket lacks is not found" "not found" "$(cat "$T/err")"

# a cache that fills up: bounded, least recently used out first
mkdir -p "$T/lru"
i=0
while [ $i -lt 14 ]; do head -c 102400 /dev/urandom >"$T/lru/b$i"; i=$((i + 1)); done
"$S3TOOL" blobs "$T"/lru/b* >/dev/null 2>>"$T/tool.log"
export SKIFF_CACHE_MAX_MB=1
for i in 0 1 2 3 4 5 6 7; do "$S3TOOL" blobpath "$(sha "$T/lru/b$i")" >/dev/null 2>>"$T/tool.log"; done
cpath() { h=$(sha "$1"); echo "$T/cache/$(echo "$h" | cut -c1-2)/$h"; }
for i in 0 1 2 3 4 5 6 7; do touch -a -d '2 hours ago' "$(cpath "$T/lru/b$i")"; done
# b0 and b1 are used again: they become the most recently used of the old ones
"$S3TOOL" blobpath "$(sha "$T/lru/b0")" "$(sha "$T/lru/b1")" >/dev/null 2>>"$T/tool.log"
touch -a -d '1 hour ago' "$(cpath "$T/lru/b0")" "$(cpath "$T/lru/b1")"
for i in 8 9 10 11 12 13; do "$S3TOOL" blobpath "$(sha "$T/lru/b$i")" >/dev/null 2>>"$T/tool.log"; done
used=$(find "$T/cache" -path "$T/cache/tmp" -prune -o -type f -name '[0-9a-f]*' -printf '%s\n' |
	awk '{ s += $1 } END { print s + 0 }')
check_eq "the cache stays within cache_max_mb" yes "$([ "$used" -le 1048576 ] && echo yes || echo "no ($used)")"
check_eq "the least recently used blobs were evicted" "no no no" \
	"$(for i in 2 3 4; do [ -e "$(cpath "$T/lru/b$i")" ] && printf 'yes ' || printf 'no '; done | sed 's/ $//')"
check_eq "recently used ones stayed" "yes yes yes" \
	"$(for i in 0 1 13; do [ -e "$(cpath "$T/lru/b$i")" ] && printf 'yes ' || printf 'no '; done | sed 's/ $//')"
check_eq "an evicted blob is fetched again on demand" "$(sha "$T/lru/b2")" \
	"$(sha "$("$S3TOOL" blobpath "$(sha "$T/lru/b2")" 2>>"$T/tool.log")")"
unset SKIFF_CACHE_MAX_MB

# a download cut halfway, or stalled: retried from the bytes received (Range), not from 0
head -c 2000000 /dev/urandom >"$T/big.bin"
hb=$(sha "$T/big.bin")
"$S3TOOL" blobs "$T/big.bin" >/dev/null 2>>"$T/tool.log"
g0=$(gets)
fault '{"s3_cut_get":1}'
path=$("$S3TOOL" blobpath "$hb" 2>>"$T/tool.log")
check_eq "a blob download cut halfway still fills the cache with the right bytes" "$hb" "$(sha "$path")"
check_eq "... in two GETs, the second from where the first stopped" "$((g0 + 2)) ['bytes=1000000-']" \
	"$(gets) $(stat 's["ranges"]')"
rm -f "$path"
fault '{"s3_stall_get":1}'
start=$(date +%s)
path=$(SKIFF_S3_TIMEOUT=2 "$S3TOOL" blobpath "$hb" 2>>"$T/tool.log")
check_eq "a download that stalls is given up after the stall limit and resumed" "$hb" "$(sha "$path")"
check_eq "... from the bytes received" "['bytes=1000000-', 'bytes=1000000-']" "$(stat 's["ranges"]')"
check_eq "... within seconds, not a total-time limit" yes "$([ $(($(date +%s) - start)) -lt 10 ] && echo yes || echo no)"

# ---- faults ----------------------------------------------------------------------------------
# a 503 storm: every request fails a few times, the batch still succeeds
mkdir -p "$T/storm"
for i in 0 1 2 3 4 5 6 7 8 9; do printf 'storm %s\n' $i >"$T/storm/s$i"; done
f0=$(stat 's["faults_served"]')
fault '{"s3_status":503,"s3_count":40}'
check_match "uploads succeed through a 503 storm" "^uploaded 10 " \
	"$("$S3TOOL" blobs "$T"/storm/s* 2>>"$T/tool.log")"
check_eq "... after the endpoint answered 503 forty times" $((f0 + 40)) "$(stat 's["faults_served"]')"
fault '{"s3_count":0}'

# the store down: the upload fails within its retry budget, with a clear error
printf 'down\n' >"$T/down.txt"
fault '{"s3_down":true}'
start=$(date +%s)
SKIFF_S3_RETRIES=2 SKIFF_S3_TIMEOUT=2 "$S3TOOL" blobs "$T/down.txt" >/dev/null 2>"$T/err" &&
	fail "an upload to a store that is down succeeded"
check_match "the store down is store_unavailable" "store_unavailable" "$(cat "$T/err")"
check_eq "... reported within the retry budget" yes "$([ $(($(date +%s) - start)) -lt 20 ] && echo yes || echo no)"
fault '{"s3_down":false}'

# container credentials that expire during a long upload are refreshed
mkdir -p "$T/creds"
i=0
while [ $i -lt 30 ]; do printf 'creds %s\n' $i >"$T/creds/c$i"; i=$((i + 1)); done
c0=$(stat 's["creds_fetched"]')
fault '{"creds_ttl":2,"s3_delay_ms":120}'
start=$(date +%s)
out=$(SKIFF_S3_ACCESS_KEY= SKIFF_S3_SECRET_KEY= SKIFF_S3_PARALLEL=2 \
	AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/it-s3 \
	SKIFF_AWS_CONTAINER_CREDENTIALS_HOST="http://127.0.0.1:$EP_PORT" \
	"$S3TOOL" blobs "$T"/creds/c* 2>"$T/creds.log")
check_match "an upload outliving its credentials succeeds" "^uploaded 30 " "$out"
check_eq "... it took longer than the credentials lived" yes "$([ $(($(date +%s) - start)) -ge 3 ] && echo yes || echo no)"
check_eq "... because they were fetched again" yes "$([ "$(stat 's["creds_fetched"]')" -ge $((c0 + 2)) ] && echo yes || echo no)"
fault '{"creds_ttl":900,"s3_delay_ms":0}'

# EC2 instance-role credentials (IMDSv2) expiring during an upload are refreshed; the chain
# takes a profile before IMDS (new contents: blobs already stored are not uploaded again)
mkdir -p "$T/imds"
i=0
while [ $i -lt 30 ]; do printf 'imds %s\n' $i >"$T/imds/c$i"; i=$((i + 1)); done
printf 'profile\n' >"$T/imds/profile"
i0=$(stat 's["imds_tokens"]')
r0=$(stat 's["imds_refused"]')
fault '{"creds_ttl":2,"s3_delay_ms":120}'
start=$(date +%s)
out=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY SKIFF_S3_ACCESS_KEY= SKIFF_S3_SECRET_KEY= \
	SKIFF_S3_PARALLEL=2 HOME="$T/nohome" AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$EP_PORT" \
	"$S3TOOL" blobs "$T"/imds/c* 2>"$T/imds.log")
check_match "imds: an upload outliving instance-role credentials succeeds" "^uploaded 30 " "$out"
check_eq "imds: ... it took longer than the credentials lived" yes "$([ $(($(date +%s) - start)) -ge 3 ] && echo yes || echo no)"
check_eq "imds: ... a token was PUT for each fetch (IMDSv2), none refused" yes \
	"$([ "$(stat 's["imds_tokens"]')" -ge $((i0 + 2)) ] && [ "$(stat 's["imds_refused"]')" -eq "$r0" ] && echo yes || echo no)"
check_eq "imds: ... the source is logged once" 1 "$(grep -c 'aws credentials source=imds' "$T/imds.log")"
fault '{"creds_ttl":900,"s3_delay_ms":0}'
mkdir -p "$T/home/.aws"
printf '[default]\naws_access_key_id = NOPE\naws_secret_access_key = nope\n[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$SKIFF_TEST_ACCESS_KEY" "$SKIFF_TEST_SECRET_KEY" >"$T/home/.aws/credentials"
i0=$(stat 's["imds_tokens"]')
out=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY SKIFF_S3_ACCESS_KEY= SKIFF_S3_SECRET_KEY= \
	HOME="$T/home" AWS_PROFILE=ci AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$EP_PORT" \
	"$S3TOOL" blobs "$T/imds/profile" 2>"$T/profile.log")
check_match "profile: AWS_PROFILE's static keys in ~/.aws/credentials work" "^uploaded 1 " "$out"
check_eq "profile: ... and come before IMDS" "$i0 1" "$(stat 's["imds_tokens"]') $(grep -c 'aws credentials source=profile' "$T/profile.log")"

# web identity (EKS IRSA): the token file is exchanged through STS, before a profile, and
# again before the credentials expire, reading the file again (the kubelet rotates it)
i=0
while [ $i -lt 30 ]; do printf 'web %s\n' $i >"$T/imds/w$i"; i=$((i + 1)); done
printf 'jwt-one\n' >"$T/web-token"
fault '{"creds_ttl":2,"s3_delay_ms":120,"web_token":"jwt-one"}'
s0=$(stat 's["sts_calls"]')
f0=$(stat 's["sts_refused"]')
start=$(date +%s)
out=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY SKIFF_S3_ACCESS_KEY= SKIFF_S3_SECRET_KEY= \
	SKIFF_S3_PARALLEL=2 HOME="$T/home" AWS_WEB_IDENTITY_TOKEN_FILE="$T/web-token" \
	AWS_ROLE_ARN=arn:aws:iam::123456789012:role/skiff-web AWS_ENDPOINT_URL_STS="http://127.0.0.1:$EP_PORT/" \
	"$S3TOOL" blobs "$T"/imds/w* 2>"$T/web.log")
check_match "web identity: an upload outliving STS credentials succeeds" "^uploaded 30 " "$out"
check_eq "web identity: ... STS was asked again before expiry, never refused" yes \
	"$([ $(($(date +%s) - start)) -ge 3 ] && [ "$(stat 's["sts_calls"]')" -ge $((s0 + 2)) ] && [ "$(stat 's["sts_refused"]')" -eq "$f0" ] && echo yes || echo no)"
check_eq "web identity: ... comes before the profile, logged once" "1 0" \
	"$(grep -c 'aws credentials source=web-identity' "$T/web.log") $(grep -c 'source=profile' "$T/web.log")"
check_nomatch "web identity: the token is never logged" 'jwt-one' "$(cat "$T/web.log")"
fault '{"creds_ttl":900,"s3_delay_ms":0}'

# a profile with role_arn: STS AssumeRole, signed (the stand-in checks the signature with
# @smithy/signature-v4) with the source profile's credentials, which come from its
# credential_process (split without a shell: the path has a space); assumed again before the
# role's credentials expire
mkdir -p "$T/role/my bin" "$T/rolehome/.aws"
cat >"$T/role/my bin/cred" <<SCRIPT
#!/bin/sh
echo run >>"$T/role/runs"
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s"}\n' "\$1" "\$2"
SCRIPT
chmod 755 "$T/role/my bin/cred"
cat >"$T/rolehome/.aws/config" <<CONF
[profile base]
credential_process = "$T/role/my bin/cred" $SKIFF_TEST_ACCESS_KEY '$SKIFF_TEST_SECRET_KEY'
[profile deployer]
role_arn = arn:aws:iam::123456789012:role/skiff-deployer
source_profile = base
role_session_name = skiff-it
external_id = ext-42
duration_seconds = 900
[profile badsource]
role_arn = arn:aws:iam::123456789012:role/skiff-deployer
source_profile = wrongkeys
[profile ecsrole]
role_arn = arn:aws:iam::123456789012:role/skiff-ecs-deployer
credential_source = EcsContainer
[profile wrongkeys]
aws_access_key_id = $SKIFF_TEST_ACCESS_KEY
aws_secret_access_key = not-the-secret
CONF
i=0
while [ $i -lt 30 ]; do printf 'role %s\n' $i >"$T/role/blob$i"; i=$((i + 1)); done
role_env() { # PROFILE COMMAND...: COMMAND with only the shared files for credentials
	p=$1
	shift
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY SKIFF_S3_ACCESS_KEY= SKIFF_S3_SECRET_KEY= \
		HOME="$T/rolehome" AWS_PROFILE="$p" AWS_EC2_METADATA_DISABLED=true \
		AWS_ENDPOINT_URL_STS="http://127.0.0.1:$EP_PORT/" \
		AWS_ENDPOINT_URL_SSO="http://127.0.0.1:$EP_PORT" "$@"
}
out=$(role_env base "$S3TOOL" blobs "$T/role/blob0" 2>"$T/process.log")
check_match "credential_process: the program's keys work" "^uploaded 1 " "$out"
check_eq "credential_process: ... logged as its source" 1 "$(grep -c 'aws credentials source=process' "$T/process.log")"
fault '{"creds_ttl":2,"s3_delay_ms":120,"external_id":"ext-42"}'
a0=$(stat 's["assume_role_calls"]')
f0=$(stat 's["sts_refused"]')
start=$(date +%s)
out=$(role_env deployer env SKIFF_S3_PARALLEL=2 "$S3TOOL" blobs "$T"/role/blob* 2>"$T/role.log")
check_match "assume role: an upload outliving the role's credentials succeeds" "^uploaded 29 " "$out"
check_eq "assume role: ... STS AssumeRole was asked again before expiry, never refused" yes \
	"$([ $(($(date +%s) - start)) -ge 3 ] && [ "$(stat 's["assume_role_calls"]')" -ge $((a0 + 2)) ] && [ "$(stat 's["sts_refused"]')" -eq "$f0" ] && echo yes || echo no)"
check_eq "assume role: ... signed with the source profile's keys, for the role, session and duration of the profile" \
	"$SKIFF_TEST_ACCESS_KEY arn:aws:iam::123456789012:role/skiff-deployer skiff-it 900" \
	"$(stat 's["assume_role_last"]["caller"], s["assume_role_last"]["role"], s["assume_role_last"]["session"], s["assume_role_last"]["duration"]' | tr -d "(),'")"
check_eq "assume role: ... the source's credential_process ran for each AssumeRole" yes \
	"$([ "$(wc -l <"$T/role/runs")" -ge 3 ] && echo yes || echo no)"
check_eq "assume role: ... logged once" 1 "$(grep -c 'aws credentials source=assume-role' "$T/role.log")"
check_nomatch "assume role: no secret in the log" "$SKIFF_TEST_SECRET_KEY" "$(cat "$T/role.log" "$T/process.log")"
fault '{"creds_ttl":900,"s3_delay_ms":0,"external_id":""}'
printf 'ecs role\n' >"$T/role/ecs"
out=$(role_env ecsrole env AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/it-s3 \
	SKIFF_AWS_CONTAINER_CREDENTIALS_HOST="http://127.0.0.1:$EP_PORT" "$S3TOOL" blobs "$T/role/ecs" 2>"$T/ecsrole.log")
check_match "assume role: credential_source EcsContainer works" "^uploaded 1 " "$out"
check_match "... AssumeRole signed with the task role's temporary keys" \
	'^ASIA[0-9A-F]+ arn:aws:iam::123456789012:role/skiff-ecs-deployer skiff$' \
	"$(stat 's["assume_role_last"]["caller"], s["assume_role_last"]["role"], s["assume_role_last"]["session"]' | tr -d "(),'")"
out=$(role_env badsource "$S3TOOL" blobs "$T/role/blob0" 2>"$T/badrole.log")
check_eq "assume role: a source with a wrong secret uploads nothing" "" "$out"
check_match "... STS refused its signature" 'STS AssumeRole \(profile badsource\) answered HTTP 403' "$(cat "$T/badrole.log")"

# chained roles: skiff-top is assumed with skiff-mid's temporary credentials, skiff-mid with
# the base profile's keys (its credential_process); the stand-in's trust policies refuse any
# other signer, so the second AssumeRole must carry the first role's keys and session token.
# The whole chain is assumed again before the last role's credentials expire.
cat >>"$T/rolehome/.aws/config" <<CONF
[profile chain]
role_arn = arn:aws:iam::123456789012:role/skiff-top
source_profile = chainmid
role_session_name = skiff-top
[profile chainmid]
role_arn = arn:aws:iam::123456789012:role/skiff-mid
source_profile = base
external_id = mid-ext
[profile skipmid]
role_arn = arn:aws:iam::123456789012:role/skiff-top
source_profile = base
[profile longchain]
role_arn = arn:aws:iam::123456789012:role/skiff-top
source_profile = chainmid
duration_seconds = 7200
[profile loopa]
role_arn = arn:aws:iam::123456789012:role/skiff-top
source_profile = loopb
[profile loopb]
role_arn = arn:aws:iam::123456789012:role/skiff-mid
source_profile = loopa
[profile withmfa]
role_arn = arn:aws:iam::123456789012:role/skiff-mid
source_profile = base
mfa_serial = arn:aws:iam::123456789012:mfa/operator
[profile fromenv]
role_arn = arn:aws:iam::123456789012:role/skiff-env
credential_source = Environment
[profile fromimds]
role_arn = arn:aws:iam::123456789012:role/skiff-imds
credential_source = Ec2InstanceMetadata
CONF
i=0
while [ $i -lt 30 ]; do printf 'chain %s\n' $i >"$T/role/chain$i"; i=$((i + 1)); done
trust='"role_trust":{"arn:aws:iam::123456789012:role/skiff-top":"arn:aws:iam::123456789012:role/skiff-mid","arn:aws:iam::123456789012:role/skiff-mid":"long-term","arn:aws:iam::123456789012:role/skiff-env":"long-term","arn:aws:iam::123456789012:role/skiff-imds":"imds","arn:aws:iam::123456789012:role/skiff-sso-deployer":"sso:SkiffDeployer"}'
fault "{\"creds_ttl\":2,\"s3_delay_ms\":120,\"external_id\":{\"arn:aws:iam::123456789012:role/skiff-mid\":\"mid-ext\"},$trust}"
a0=$(stat 's["assume_role_calls"]')
f0=$(stat 's["sts_refused"]')
l0=$(stat 'len(s["assume_role_log"])')
start=$(date +%s)
out=$(role_env chain env SKIFF_S3_PARALLEL=2 "$S3TOOL" blobs "$T"/role/chain* 2>"$T/chain.log")
check_match "chained roles: an upload outliving the last role's credentials succeeds" "^uploaded 30 " "$out"
check_eq "chained roles: ... each AssumeRole signed by the principal its role trusts, none refused" \
	"yes $f0" "$([ $(($(date +%s) - start)) -ge 3 ] && [ "$(stat 's["assume_role_calls"]')" -ge $((a0 + 4)) ] && echo yes || echo no) $(stat 's["sts_refused"]')"
check_eq "chained roles: ... the whole chain again at each refresh: mid with the base keys, then top with mid's" \
	"arn:aws:iam::123456789012:role/skiff-mid>skiff-top long-term>skiff-mid" \
	"$(stat '" ".join(sorted(set(e["caller_principal"] + ">" + e["role"].split("/")[-1] for e in s["assume_role_log"]['"$l0"':])))')"
check_eq "chained roles: ... the last role's session name, logged once" "skiff-top 1" \
	"$(stat 's["assume_role_last"]["session"]') $(grep -c 'aws credentials source=assume-role' "$T/chain.log")"
check_nomatch "chained roles: no secret in the log" "$SKIFF_TEST_SECRET_KEY" "$(cat "$T/chain.log")"
fault '{"creds_ttl":900,"s3_delay_ms":0}'
printf 'chain skip\n' >"$T/role/skip"
out=$(role_env skipmid "$S3TOOL" blobs "$T/role/skip" 2>"$T/skip.log")
check_eq "chained roles: the top role with the base keys (not the role it trusts) uploads nothing" "" "$out"
check_match "... STS refused it" 'STS AssumeRole \(profile skipmid\) answered HTTP 403' "$(cat "$T/skip.log")"
out=$(role_env longchain "$S3TOOL" blobs "$T/role/skip" 2>"$T/long.log")
check_match "chained roles: a chained session over an hour is refused by STS, said so" \
	'STS AssumeRole \(profile longchain\) answered HTTP 400' "$out$(cat "$T/long.log")"
a0=$(stat 's["assume_role_calls"]')
out=$(role_env loopa "$S3TOOL" blobs "$T/role/skip" 2>"$T/loop.log")
check_match "chained roles: a loop of source profiles is refused before any call" \
	'profile loopb: source_profile loopa makes a loop' "$(cat "$T/loop.log")"
out=$(role_env withmfa "$S3TOOL" blobs "$T/role/skip" 2>"$T/mfa.log")
check_match "chained roles: mfa_serial is refused clearly" \
	'profile withmfa: mfa_serial is not supported' "$(cat "$T/mfa.log")"
check_eq "... neither called STS" "$a0" "$(stat 's["assume_role_calls"]')"

# credential_source Environment and Ec2InstanceMetadata; AWS_PROFILE makes the environment's
# keys the role's source instead of the credentials used as they are
printf 'from env\n' >"$T/role/env"
out=$(env AWS_ACCESS_KEY_ID="$SKIFF_TEST_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$SKIFF_TEST_SECRET_KEY" \
	SKIFF_S3_ACCESS_KEY= SKIFF_S3_SECRET_KEY= HOME="$T/rolehome" AWS_PROFILE=fromenv \
	AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL_STS="http://127.0.0.1:$EP_PORT/" \
	"$S3TOOL" blobs "$T/role/env" 2>"$T/fromenv.log")
check_match "credential_source Environment: the role is assumed with the environment's keys" \
	"^uploaded 1 .*skiff-env long-term" "$out $(stat 's["assume_role_last"]["role"], s["assume_role_last"]["caller_principal"]' | tr -d "(),'")"
check_eq "... logged as assume-role, not environment" "1 0" \
	"$(grep -c 'aws credentials source=assume-role' "$T/fromenv.log") $(grep -c 'source=environment' "$T/fromenv.log")"
printf 'from imds\n' >"$T/role/imds"
i0=$(stat 's["imds_creds"]')
out=$(role_env fromimds env AWS_EC2_METADATA_DISABLED= AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$EP_PORT" \
	"$S3TOOL" blobs "$T/role/imds" 2>"$T/fromimds.log")
check_match "credential_source Ec2InstanceMetadata: the role is assumed with the instance role's keys" \
	"^uploaded 1 .*skiff-imds imds" "$out $(stat 's["assume_role_last"]["role"], s["assume_role_last"]["caller_principal"]' | tr -d "(),'")"
check_eq "... fetched from IMDSv2" "$((i0 + 1))" "$(stat 's["imds_creds"]')"

# SSO (IAM Identity Center): the token `aws sso login` cached, by the sso-session's name or
# (legacy) by the start URL, exchanged at the portal's GetRoleCredentials (AWS_ENDPOINT_URL_SSO
# points at the stand-in) and again before the role's credentials expire
sso_url=https://d-skiff0001.awsapps.com/start
mkdir -p "$T/rolehome/.aws/sso/cache"
cat >>"$T/rolehome/.aws/config" <<CONF
[sso-session corp]
sso_start_url = $sso_url
sso_region = eu-west-1
sso_registration_scopes = sso:account:access
[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = SkiffDeployer
[profile ssolegacy]
sso_start_url = $sso_url
sso_region = eu-west-1
sso_account_id = 123456789012
sso_role_name = SkiffDeployer
[profile ssorole]
role_arn = arn:aws:iam::123456789012:role/skiff-sso-deployer
source_profile = sso
CONF
sso_cache() { # KEY EXPIRES TOKEN: the file aws sso login writes for KEY
	printf '{"startUrl": "%s", "region": "eu-west-1", "accessToken": "%s", "expiresAt": "%s"}\n' \
		"$sso_url" "$3" "$2" >"$T/rolehome/.aws/sso/cache/$(printf %s "$1" | sha1sum | cut -c1-40).json"
}
later=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
sso_cache corp "$later" sso-token-1
sso_cache "$sso_url" "$later" sso-token-1
i=0
while [ $i -lt 30 ]; do printf 'sso %s\n' $i >"$T/role/sso$i"; i=$((i + 1)); done
fault '{"creds_ttl":2,"s3_delay_ms":120,"sso_token":"sso-token-1"}'
c0=$(stat 's["sso_calls"]')
start=$(date +%s)
out=$(role_env sso env SKIFF_S3_PARALLEL=2 "$S3TOOL" blobs "$T"/role/sso* 2>"$T/sso.log")
check_match "sso: an upload outliving the role's credentials succeeds" "^uploaded 30 " "$out"
check_eq "sso: ... GetRoleCredentials was asked again before expiry, never refused" "yes 0" \
	"$([ $(($(date +%s) - start)) -ge 3 ] && [ "$(stat 's["sso_calls"]')" -ge $((c0 + 2)) ] && echo yes || echo no) $(stat 's["sso_refused"]')"
check_eq "sso: ... logged once, no token in the log" "1 0" \
	"$(grep -c 'aws credentials source=sso' "$T/sso.log") $(grep -c 'sso-token-1' "$T/sso.log")"
fault '{"creds_ttl":900,"s3_delay_ms":0}'
printf 'sso legacy\n' >"$T/role/ssolegacy"
out=$(role_env ssolegacy "$S3TOOL" blobs "$T/role/ssolegacy" 2>"$T/ssolegacy.log")
check_match "sso: the legacy settings find the token by the start URL" "^uploaded 1 " "$out"
printf 'sso role\n' >"$T/role/ssorole"
out=$(role_env ssorole "$S3TOOL" blobs "$T/role/ssorole" 2>"$T/ssorole.log")
check_match "sso: a role assumed with the SSO role's credentials" \
	"^uploaded 1 .*skiff-sso-deployer sso:SkiffDeployer" "$out $(stat 's["assume_role_last"]["role"], s["assume_role_last"]["caller_principal"]' | tr -d "(),'")"
# botocore's own sso client (its service model) asks the stand-in the same way skiff does
skiff_req=$(stat 's["sso_last"]')
boto=$(python3 "$S3DIR/sso_shape.py" "$EP" 123456789012 SkiffDeployer sso-token-1 2>&1)
check_eq "sso: botocore's GetRoleCredentials parses the stand-in's answer" "ok" "$boto"
check_eq "... and its request is the one skiff sends" "$skiff_req" "$(stat 's["sso_last"]')"
sso_cache corp "$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)" sso-token-1
out=$(role_env sso "$S3TOOL" blobs "$T/role/skip" 2>"$T/ssoexp.log")
check_match "sso: an expired cached token says to run aws sso login" \
	'SSO corp: the cached token expired at .*; run `aws sso login --sso-session corp`' "$(cat "$T/ssoexp.log")"
sso_cache corp "$later" sso-token-revoked
r0=$(stat 's["sso_refused"]')
out=$(role_env sso "$S3TOOL" blobs "$T/role/skip" 2>"$T/ssobad.log")
check_match "sso: a token the portal refuses (401) says so" \
	'the portal refused the cached token .*aws sso login --sso-session corp' "$(cat "$T/ssobad.log")"
check_eq "... the portal was asked once, nothing uploaded" "$((r0 + 1)) " "$(stat 's["sso_refused"]') $out"


# ---- a build writing to S3, served through the cache ---------------------------------------
jget() {
	python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("|"):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" 2>/dev/null
}
body() { sed '1,/^\r*$/d'; }
field() { rcli hget "skiff:deployment:$1" "$2"; }
serve() { # HOST PATH [VAR=VALUE...]: skiff-serve as CGI; prints the response
	h=$1 p=$2
	shift 2
	env REQUEST_METHOD=GET REQUEST_URI="$p" HTTP_HOST="$h" GATEWAY_INTERFACE=CGI/1.1 "$@" \
		"$BIN/skiff-serve" 2>>"$T/serve.log" | tr -d '\r'
}
site=$T/site
mkdir -p "$site/css"
git -C "$site" init -q -b main
echo '<h1>served from s3</h1>' >"$site/index.html"
i=0
while [ $i -lt 100 ]; do echo ".c$i { margin: ${i}px }"; i=$((i + 1)); done >"$site/css/site.css"
git -C "$site" add -A && git -C "$site" -c user.email=t@e -c user.name=t commit -qm one
id1=$(cgi skiff-create POST /api/projects "{\"gitURL\":\"file://$site\",\"slug\":\"cloud\"}" 2>/dev/null |
	body | jget "data|deploymentId")
check_match "a project is created" '^[a-z2-7]{12}$' "$id1"
"$BIN/skiff-build" "$id1" >>"$T/build.log" 2>&1
check_eq "the build with the s3 store ends ready" ready "$(field "$id1" state)"
check_eq "its manifest is in the bucket" yes \
	"$("$S3TOOL" head "manifests/$id1.json" 2>>"$T/tool.log" | grep -q application/json && echo yes || echo no)"
check_eq "its log is archived in the bucket" yes \
	"$("$S3TOOL" head "logs/$id1.log" 2>>"$T/tool.log" | grep -q '^[1-9]' && echo yes || echo no)"
out=$(serve cloud.localhost /)
check_match "skiff-serve answers from the s3 store" "^Status: 200|^HTTP/1.1 200" "$(echo "$out" | head -n 1)"
check_match "... with X-Sendfile into the cache" "X-Sendfile: $T/cache/[0-9a-f]{2}/[0-9a-f]{64}" "$out"
check_eq "... the page's bytes" "$(cat "$site/index.html")" \
	"$(serve cloud.localhost / SKIFF_XSENDFILE=false | sed '1,/^$/d')"
check_eq "the CSS through the cache too" "$(sha "$site/css/site.css")" \
	"$(serve cloud.localhost /css/site.css SKIFF_XSENDFILE=false | sed '1,/^$/d' | sha256sum | cut -c1-64)"
"$S3TOOL" get "manifests/$id1.json" "$T/cloud.json" 2>>"$T/tool.log"
gz=$(jget "files|/css/site.css|gzip|hash" <"$T/cloud.json")
check_match "the CSS has a gzip variant" '^[0-9a-f]{64}$' "$gz"
meta=$(sdk get "site/blobs/$(echo "$gz" | cut -c1-2)/$gz" "$T/css.gz")
check_eq "... which a direct reader of the bucket gets labelled as gzip of CSS" \
	"text/css; charset=utf-8|public, max-age=31536000, immutable|gzip" "$meta"
check_eq "... and decompresses to the CSS" "$(sha "$site/css/site.css")" "$(gzip -dc "$T/css.gz" | sha256sum | cut -c1-64)"

# an unchanged redeploy uploads no blob
stats_reset
id2=$(cgi skiff-create POST /api/projects/cloud/deployments '{}' 2>/dev/null | body | jget "data|deploymentId")
"$BIN/skiff-build" "$id2" >>"$T/build.log" 2>&1
check_eq "the redeploy is ready" ready "$(field "$id2" state)"
check_eq "... and PUT no blob" 0 "$(stat 'len([k for k in s["s3_keys"]["PUT"] if "/blobs/" in k])')"
check_eq "... so it uploaded zero bytes" 0 "$(field "$id2" bytes_uploaded)"

# the store down during an upload: the deployment fails, the previous one stays live
echo '<h1>version two</h1>' >"$site/index.html"
git -C "$site" -c user.email=t@e -c user.name=t commit -qam two
id3=$(cgi skiff-create POST /api/projects/cloud/deployments '{}' 2>/dev/null | body | jget "data|deploymentId")
fault '{"s3_down":true}'
SKIFF_S3_RETRIES=1 SKIFF_S3_TIMEOUT=2 "$BIN/skiff-build" "$id3" >>"$T/build.log" 2>&1
fault '{"s3_down":false}'
check_eq "a build whose upload fails ends in error" error "$(field "$id3" state)"
check_match "... saying the store is unavailable" "S3|store" "$(field "$id3" error)"
check_eq "the previous deployment is still current" "$id2" "$(rcli hget skiff:project:cloud current)"
check_eq "... and still served" "<h1>served from s3</h1>" \
	"$(serve cloud.localhost / SKIFF_XSENDFILE=false | sed '1,/^$/d')"

check_eq "no secret in any log" "" "$(grep -rl -- "$SKIFF_TEST_SECRET_KEY" "$T"/*.log 2>/dev/null)"
finish
