# check/s3/peers.sh — sourced by check/it_s3.sh and check/it_ecs.sh after check/lib.sh:
# the Node test peers (installed with `npm ci` from the committed lockfile when missing),
# the stand-in AWS endpoint on loopback, and the C test drivers built against libskiff.a.
S3DIR=$ROOT/check/s3
export SKIFF_TEST_ACCESS_KEY=AKIASKIFFTEST0000001
export SKIFF_TEST_SECRET_KEY='skiff/test+secret/key0000000000000000000'
BUCKET=skiff-test

# peers_install: node_modules from package-lock.json (CI starts from a clean clone)
peers_install() {
	command -v node >/dev/null 2>&1 || { echo "node is not installed (scripts/deps.sh)" >&2; exit 1; }
	if [ ! -d "$S3DIR/node_modules/s3rver" ] || [ ! -d "$S3DIR/node_modules/@aws-sdk/client-s3" ]; then
		(cd "$S3DIR" && npm ci --no-audit --no-fund --loglevel=error) >"$T/npm.log" 2>&1 ||
			{ cat "$T/npm.log" >&2; echo "npm ci in check/s3 failed" >&2; exit 1; }
	fi
}

# peers_tools: builds s3tool and ecstool (test drivers) against the tested libskiff.a
# (with the sanitizers when that library was built with them)
peers_tools() {
	pk="fcgi libgit2 libcurl hiredis jansson libevent libcrypto zlib libbrotlienc libbrotlidec libsystemd"
	san=""
	nm "$SKIFF_BUILD_DIR/libskiff.a" 2>/dev/null | grep -q __asan_ && san="-fsanitize=address,undefined"
	for tool in s3tool ecstool; do
		# shellcheck disable=SC2046,SC2086
		cc -std=c11 -D_GNU_SOURCE -DSKIFF_VERSION='"test"' -g -I"$ROOT/lib" $(pkg-config --cflags $pk) \
			$san -o "$T/$tool" "$S3DIR/$tool.c" "$SKIFF_BUILD_DIR/libskiff.a" \
			$(pkg-config --libs $pk) -lresolv -lpthread -lm 2>"$T/$tool.cc.log" ||
			{ cat "$T/$tool.cc.log" >&2; echo "cannot build $tool" >&2; exit 1; }
	done
}

# start_endpoint [TASKDEF_JSON]: the stand-in on a free loopback port; sets EP (its URL)
start_endpoint() {
	mkdir -p "$T/aws"
	node "$S3DIR/endpoint.mjs" --dir "$T/aws" --port-file "$T/aws/port" --bucket "$BUCKET" \
		--cluster skiff-test ${1:+--taskdef "$1"} >>"$T/endpoint.log" 2>&1 &
	EP_PID=$!
	PIDS="$PIDS $EP_PID"
	wait_for 20 test -s "$T/aws/port" || { cat "$T/endpoint.log" >&2; echo "the endpoint did not start" >&2; exit 1; }
	EP_PORT=$(cat "$T/aws/port")
	EP=http://localhost:$EP_PORT
}
# s3_settings: skiff.conf's lines for the s3 store in the stand-in's bucket (after start_endpoint)
s3_settings() {
	cat <<CONF
store = s3
s3_endpoint = $EP
s3_bucket = $BUCKET
s3_region = us-east-1
s3_prefix = site/
s3_path_style = false
s3_access_key = $SKIFF_TEST_ACCESS_KEY
s3_secret_key = $SKIFF_TEST_SECRET_KEY
CONF
}
# fault JSON: changes the stand-in's faults ({"s3_count":20}, {"s3_down":true}, ...)
fault() { curl -fsS -X POST -d "$1" "$EP/__admin/fault" >/dev/null; }
# stat EXPR: a value from the stand-in's statistics (python expression over s)
stat() {
	curl -fsS "$EP/__admin/stats" | python3 -c 'import json, sys
s = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}
stats_reset() { curl -fsS -X POST "$EP/__admin/reset" >/dev/null; }
sdk() { NODE_NO_WARNINGS=1 node "$S3DIR/sdk.mjs" "$EP" "$BUCKET" "$@"; }
