# serve_fixture.sh — the deployments of the serving-rules suite, written straight into the file
# store ($T/store) and Redis (rcli): sourced by it_serve.sh and it_fastpath.sh, which ask the
# same questions of skiff-serve alone and of the web server's fast path.
# Sets BLOBS, S (the site's files), D1 D2 D3 (deployments); defines blob, which lib.sh's entry
# calls.
BLOBS=$T/store/blobs
mkdir -p "$BLOBS" "$T/store/manifests" "$T/empty"

# blob FILE: stores FILE's bytes as a blob; prints its hash
blob() {
	h=$(sha256sum "$1" | cut -c1-64)
	mkdir -p "$BLOBS/$(echo "$h" | cut -c1-2)"
	cp "$1" "$BLOBS/$(echo "$h" | cut -c1-2)/$h"
	echo "$h"
}

# ---- deployment 1 of project "demo": a static site with rules --------------------------
S=$T/site1
mkdir -p "$S/docs" "$S/assets"
printf '<!doctype html><h1>demo home v1</h1>\n' >"$S/index.html"
printf '<h1>docs</h1>\n' >"$S/docs/index.html"
printf '<h1>docs 404</h1>\n' >"$S/docs/404.html"
printf '<h1>top 404</h1>\n' >"$S/404.html"
printf '<h1>new</h1>\n' >"$S/new.html"
fixture_app "$S"
head -c 100000 /dev/urandom >"$S/assets/big.bin"
D1=aaaaaaaaaaa2
cat >"$T/store/manifests/$D1.json" <<JSON
{"version":1,"deployment":"$D1","created":1732270000000,"files":{
$(entry /index.html "$S/index.html"),
$(entry /docs/index.html "$S/docs/index.html"),
$(entry /docs/404.html "$S/docs/404.html"),
$(entry /404.html "$S/404.html"),
$(entry /new.html "$S/new.html"),
$(entry /app.3f2a9c1e.js "$S/app.js" "$S/app.js.gz" "$S/app.js.br"),
$(entry /assets/big.bin "$S/assets/big.bin")},
"config":{"redirects":[
 {"from":"/old","to":"/new","status":301,"force":false,"line":1},
 {"from":"/app/*","to":"/index.html","status":200,"force":false,"line":2},
 {"from":"/go/*","to":"https://example.com/:splat","status":302,"force":false,"line":3},
 {"from":"/index.html","to":"/nope","status":301,"force":false,"line":4}],
 "headers":[{"for":"/*","set":[["X-Frame-Options","DENY"]],"unset":[],"line":1}]}}
JSON
# ---- deployment 2 of "demo" (for rollback), and an SPA project "spa" -------------------
printf '<!doctype html><h1>demo home v2</h1>\n' >"$S/index2.html"
D2=bbbbbbbbbbb2
cat >"$T/store/manifests/$D2.json" <<JSON
{"version":1,"deployment":"$D2","files":{$(entry /index.html "$S/index2.html")}}
JSON
printf '<!doctype html><div id=app></div>\n' >"$S/spa.html"
D3=ccccccccccc2
cat >"$T/store/manifests/$D3.json" <<JSON
{"version":1,"deployment":"$D3","files":{$(entry /index.html "$S/spa.html"),
$(entry /assets/app.js "$S/app.js")}}
JSON
rcli hset skiff:project:demo current $D1 >/dev/null
rcli hset skiff:project:spa current $D3 >/dev/null
rcli hset skiff:deployment:$D1 project demo state ready >/dev/null
rcli hset skiff:deployment:$D2 project demo state expired >/dev/null
rcli hset skiff:deployment:$D3 project spa state ready >/dev/null
# "other": a project whose current names a deployment of demo (a forged or mistaken write)
rcli hset skiff:project:other current $D1 >/dev/null
