#!/bin/sh
# it_env.sh — project environment variables and settings end to end with a real Redis and real
# builds: variables reach the install and build commands with skiff's own SKIFF_*; a secret the
# build prints shows as *** in the live log and the archive and is nowhere in Redis in clear
# text; PATCH changes the build command for the next build, refuses what creation refuses
# (same errors) and then writes nothing; secrets are kept, set and removed one at a time; a
# missing key file is a clear error; the settings form keeps what was typed.
. "$(dirname "$0")/lib.sh"

start_redis
write_config

body() { sed '1,/^\r*$/d' >"$T/body"; }
status() { sed -n 's/^Status: \([0-9]*\).*/\1/p' | head -n 1; }
# req PROGRAM METHOD PATH [BODY] [TYPE]: the answer's body into $T/body, prints the status
req() {
	cgi "$@" >"$T/resp" 2>>"$T/cgi.log"
	body <"$T/resp"
	status <"$T/resp"
}
commit() { git -C "$1" add -A && git -C "$1" -c user.email=t@example.com -c user.name=t commit -qm "$2"; }
dispatch() { "$BIN/skiff-dispatch" --once >>"$T/dispatch.log" 2>&1; }
field() { rcli hget "skiff:deployment:$1" "$2"; }
log_of() { cgi skiff-status GET "/api/deployments/$1/log" '' '' 2>/dev/null | sed '1,/^\r*$/d'; }

SECRET=sk-live-0123456789abcdefXYZ
SHORT=abc12
site=$T/site
mkdir -p "$site/public"
git -C "$site" init -q -b main
echo '<h1>env</h1>' >"$site/public/index.html"
commit "$site" "a site"

# the install command prints the secret on stderr, the build command on stdout, also at the
# place where proc cuts a long line (4096 bytes: the secret's first 21 characters before it)
build_cmd="echo token=\$API_TOKEN; echo plain=\$PUBLIC_URL; echo short=\$SHORT_SECRET; \
echo preview=\${PREVIEW_ONLY:-unset}; env | grep '^SKIFF_' | sort; \
printf '%s%s\\n' \"\$(head -c 4075 /dev/zero | tr '\\0' x)\" \"\$API_TOKEN\""
install_cmd='echo install sees $API_TOKEN >&2'
create_body=$(python3 -c 'import json, sys
print(json.dumps({"gitURL": sys.argv[1], "slug": "envsite", "outputDirectory": "public",
  "buildCommand": sys.argv[2], "installCommand": sys.argv[3],
  "env": [{"name": "API_TOKEN", "value": sys.argv[4], "secret": True},
          {"name": "PUBLIC_URL", "value": "https://api.example"},
          {"name": "SHORT_SECRET", "value": sys.argv[5], "secret": True},
          {"name": "PREVIEW_ONLY", "value": "p", "contexts": ["preview"]}]}))' \
	"file://$site" "$build_cmd" "$install_cmd" "$SECRET" "$SHORT")

check_eq "a project is created with variables" "202" "$(req skiff-create POST /api/projects "$create_body")"
id1=$(jget data.deploymentId)
dispatch
check_eq "its build is ready" "ready" "$(field "$id1" state)"
commit1=$(field "$id1" commit)
log_of "$id1" >"$T/log1.txt"; log1=$(cat "$T/log1.txt")
check_match "the build command sees the secret, shown as ***" '^token=\*\*\*$' "$(printf "%s\n" "$log1" | grep '^token=')"
check_match "the install command's stderr too" 'install sees \*\*\*' "$log1"
printf "%s\n" "$log1" | grep '^xxxx' >"$T/long.txt"
check_match "a long line cut inside the secret hides the part before the cut" \
	'^x{4075}\*\*\* \[line cut\]$' "$(cat "$T/long.txt")"
check_eq "a plain variable shows as it is" "plain=https://api.example" "$(printf "%s\n" "$log1" | grep '^plain=')"
check_eq "a secret under 6 characters is not masked (documented)" "short=$SHORT" "$(printf "%s\n" "$log1" | grep '^short=')"
check_eq "a preview-only variable is not in a production build" "preview=unset" "$(printf "%s\n" "$log1" | grep '^preview=')"
check_eq "SKIFF_CONTEXT" "SKIFF_CONTEXT=production" "$(printf "%s\n" "$log1" | grep '^SKIFF_CONTEXT=')"
check_eq "SKIFF_BRANCH (the remote's default branch)" "SKIFF_BRANCH=main" "$(printf "%s\n" "$log1" | grep '^SKIFF_BRANCH=')"
check_eq "SKIFF_COMMIT" "SKIFF_COMMIT=$commit1" "$(printf "%s\n" "$log1" | grep '^SKIFF_COMMIT=')"
check_eq "SKIFF_DEPLOYMENT_ID" "SKIFF_DEPLOYMENT_ID=$id1" "$(printf "%s\n" "$log1" | grep '^SKIFF_DEPLOYMENT_ID=')"
check_eq "SKIFF_URL" "SKIFF_URL=http://envsite.localhost/" "$(printf "%s\n" "$log1" | grep '^SKIFF_URL=')"
check_eq "SKIFF_DEPLOYMENT_URL" "SKIFF_DEPLOYMENT_URL=http://envsite--$id1.localhost/" \
	"$(printf "%s\n" "$log1" | grep '^SKIFF_DEPLOYMENT_URL=')"
check_match "the log names the variables, never a value" 'Environment \(production\): .*API_TOKEN \(secret\)' "$log1"
check_eq "the secret is nowhere in the log" "" "$(printf "%s\n" "$log1" | grep -F "$SECRET")"
check_eq "nor in the archived log" "" "$(grep -F "$SECRET" "$T/store/logs/$id1.log")"
check_eq "the archive has the masked line" "token=***" "$(grep '^token=' "$T/store/logs/$id1.log")"
check_eq "nor anywhere in Redis (every key, every value)" "" "$(redis_text | grep -F "$SECRET")"
check_match "Redis holds it sealed" '"value":"v1:' "$(rcli hget skiff:project:envsite:env API_TOKEN)"
check_eq "nor in the programs' own logs" "" "$(cat "$T"/*.log | grep -F "$SECRET")"

check_eq "GET the project" "200" "$(req skiff-status GET /api/projects/envsite '' '')"
check_eq "... lists the secret as set, without its value" "true true " \
	"$(python3 -c 'import json, sys
e = {v["name"]: v for v in json.load(open(sys.argv[1]))["data"]["env"]}
t = e["API_TOKEN"]
print(str(t["secret"]).lower(), str(t["set"]).lower(), t.get("value", ""))' "$T/body")"
check_eq "... and the plain one with it" "https://api.example" \
	"$(python3 -c 'import json, sys
e = {v["name"]: v for v in json.load(open(sys.argv[1]))["data"]["env"]}
print(e["PUBLIC_URL"]["value"])' "$T/body")"
check_eq "no answer carries the secret" "" "$(grep -F "$SECRET" "$T/body")"
check_eq "GET .../env" "200" "$(req skiff-status GET /api/projects/envsite/env '' '')"
check_eq "... four variables, no secret value" "4 " \
	"$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["data"]
print(len(d), "".join(v.get("value", "") for v in d if v["secret"]))' "$T/body")"

# ---- PATCH: the next build uses the new build command ---------------------------------------
before=$(rcli hgetall skiff:project:envsite | tr '\n' ' ')
check_eq "PATCH the build command" "200" \
	"$(req skiff-create PATCH /api/projects/envsite '{"buildCommand":"echo patched-build-ran token=$API_TOKEN"}')"
check_eq "... answers what changed" '["buildCommand"]' "$(jget data.changed)"
check_match "... with updatedAt" '^[0-9]{13}$' "$(jget data.updatedAt)"
check_eq "... and the change in the history" '["buildCommand"]' "$(jget data.changes.0.fields)"
check_eq "the current build is untouched" "$id1" "$(rcli hget skiff:project:envsite current)"
check_eq "redeploy" "202" "$(req skiff-create POST /api/projects/envsite/deployments '{}')"
id2=$(jget data.deploymentId)
dispatch
log2=$(log_of "$id2")
check_eq "the next build runs the new command" "patched-build-ran token=***" "$(printf "%s\n" "$log2" | grep '^patched-build-ran')"

# ---- invalid PATCHes: the creation's errors, nothing written --------------------------------
same_error() { # DESCRIPTION FIELD_JSON [CREATION_BASE]
	st=$(req skiff-create POST /api/projects "{${3-\"gitURL\":\"file://$site\",}\"slug\":\"other\",$2}")
	want="$st $(jget error.code)"
	before=$(rcli hgetall skiff:project:envsite | tr '\n' ' ')
	envb=$(rcli hgetall skiff:project:envsite:env | tr '\n' ' ')
	st=$(req skiff-create PATCH /api/projects/envsite "{$2}")
	check_eq "PATCH $1 is refused as creation refuses it" "$want" "$st $(jget error.code)"
	check_eq "... and writes nothing" "$before|$envb" \
		"$(rcli hgetall skiff:project:envsite | tr '\n' ' ')|$(rcli hgetall skiff:project:envsite:env | tr '\n' ' ')"
}
same_error "a bad branch" '"branch":"bad..name"'
same_error "a bad git URL" '"gitURL":"ftp://example.com/x.git"' ""
same_error "a build command with a newline" '"buildCommand":"a\nb"'
same_error "an output directory outside the repository" '"outputDirectory":"../up"'
same_error "an unknown field" '"colour":"blue"'
same_error "a reserved variable name" '"env":[{"name":"LD_PRELOAD","value":"/tmp/x.so"}]'
same_error "a SKIFF_ variable" '"env":[{"name":"SKIFF_COMMIT","value":"x"}]'
# the build cache's own settings (run.c sets them for every build)
same_error "pnpm's store of the build cache" '"env":[{"name":"npm_config_store_dir","value":"/tmp/x"}]'
same_error "yarn's cache of the build cache" '"env":[{"name":"YARN_CACHE_FOLDER","value":"/tmp/x"}]'
for v in npm_config_prefer_offline NPM_CONFIG_CACHE yarn_cache_folder; do
	check_eq "$v is a reserved name" "400 invalid_env_name" \
		"$(req skiff-create PATCH /api/projects/envsite "{\"env\":[{\"name\":\"$v\",\"value\":\"x\"}]}") $(jget error.code)"
done
same_error "a valid command with a bad branch" '"buildCommand":"make","branch":"-x"'
check_eq "the refused creations created nothing" "" "$(rcli exists skiff:project:other | grep 1)"
check_eq "PATCH of a missing project" "404" "$(req skiff-create PATCH /api/projects/nope '{"branch":"x"}')"
check_eq "PATCH from another origin" "403" \
	"$(HTTP_ORIGIN=https://evil.example req skiff-create PATCH /api/projects/envsite '{"branch":"x"}')"

# ---- variables: keep a secret, set and remove one at a time -----------------------------------
sealed=$(rcli hget skiff:project:envsite:env API_TOKEN)
check_eq "PATCH env keeping the secret (no value)" "200" \
	"$(req skiff-create PATCH /api/projects/envsite '{"env":[{"name":"API_TOKEN","secret":true},{"name":"NEW_VAR","value":"n"}]}')"
check_eq "... the sealed value is kept as it was" "$sealed" "$(rcli hget skiff:project:envsite:env API_TOKEN)"
check_eq "... the others are replaced" "API_TOKEN NEW_VAR" "$(rcli hkeys skiff:project:envsite:env | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "a new secret needs a value" "400 invalid_env_value" \
	"$(req skiff-create PATCH /api/projects/envsite '{"env":[{"name":"FRESH","secret":true}]}') $(jget error.code)"
check_eq "PUT one secret" "200" \
	"$(req skiff-create PUT /api/projects/envsite/env/DB_PASSWORD '{"value":"pg-pass-987654","secret":true}')"
check_eq "... not in the answer" "" "$(grep -F pg-pass-987654 "$T/body")"
check_eq "PUT with a bad name" "400 invalid_env_name" \
	"$(req skiff-create PUT /api/projects/envsite/env/LD_AUDIT '{"value":"x"}') $(jget error.code)"
check_eq "DELETE it" "200" "$(req skiff-create DELETE /api/projects/envsite/env/DB_PASSWORD '' '')"
check_eq "DELETE it again" "404 env_not_found" \
	"$(req skiff-create DELETE /api/projects/envsite/env/DB_PASSWORD '' '') $(jget error.code)"
# a variable saved before skiff reserved its name (as stored by an older version)
rcli hset skiff:project:envsite:env YARN_CACHE_FOLDER '{"value":"/tmp/elsewhere","secret":false,"contexts":["production","preview"]}' >/dev/null
check_eq "the third build keeps the secret" "ready" \
	"$(req skiff-create POST /api/projects/envsite/deployments '{}' >/dev/null; id3=$(jget data.deploymentId); dispatch; field "$id3" state)"
check_match "... masked" 'patched-build-ran token=\*\*\*' "$(log_of "$(jget data.deploymentId)")"
check_match "... leaving out a stored variable whose name is reserved now, saying so" \
	'Variable not given to the build: YARN_CACHE_FOLDER is set by skiff' "$(log_of "$(jget data.deploymentId)")"
rcli hdel skiff:project:envsite:env YARN_CACHE_FOLDER >/dev/null

# ---- the key file -----------------------------------------------------------------------------
mv "$T/secret.key" "$T/secret.key.away"
check_eq "without the key file a new secret is refused" "500 secret_key_unavailable" \
	"$(req skiff-create PUT /api/projects/envsite/env/K2 '{"value":"another-secret","secret":true}') $(jget error.code)"
check_match "... naming the file" 'secret.key' "$(jget error.message)"
check_eq "... nothing written" "0" "$(rcli hexists skiff:project:envsite:env K2)"
check_eq "a plain variable needs no key" "200" \
	"$(req skiff-create PUT /api/projects/envsite/env/PLAIN2 '{"value":"p"}')"
chmod 0644 "$T/secret.key.away"
mv "$T/secret.key.away" "$T/secret.key"
check_eq "a key readable by others is refused" "500 secret_key_unavailable" \
	"$(req skiff-create PUT /api/projects/envsite/env/K2 '{"value":"another-secret","secret":true}') $(jget error.code)"
chmod 0600 "$T/secret.key"

# ---- webhook secret rotation -------------------------------------------------------------------
check_eq "PATCH webhookSecret true generates one" "200" \
	"$(req skiff-create PATCH /api/projects/envsite '{"webhookSecret":true}')"
hook=$(jget data.webhook.secret)
check_match "... shown once in the answer" '^[0-9a-f]{48}$' "$hook"
check_eq "... and never by a read" "" \
	"$(cgi skiff-status GET /api/projects/envsite '' '' 2>/dev/null | grep -F "$hook")"

# ---- the settings form ---------------------------------------------------------------------------
check_eq "the settings page" "200" "$(req skiff-status GET /projects/envsite/settings '' '')"
check_match "... shows the build command" 'patched-build-ran' "$(cat "$T/body")"
check_match "... shows the secret as set" 'name="env.[0-9]+.value" type="password"' "$(cat "$T/body")"
check_eq "... never its value" "" "$(grep -F "$SECRET" "$T/body")"
form="gitURL=file%3A%2F%2F$(echo "$site" | sed 's|/|%2F|g')&branch=bad..name&buildCommand=typed-cmd&env.0.name=API_TOKEN&env.0.value=&env.0.secret=on"
check_eq "a form post with a bad branch" "400" \
	"$(req skiff-create POST /projects/envsite/settings "$form" application/x-www-form-urlencoded)"
check_match "... shows the form again with what was typed" 'value="typed-cmd"' "$(cat "$T/body")"
check_match "... and the error by its field" 'data-field="branch"' "$(cat "$T/body")"
check_eq "... nothing written" "echo patched-build-ran token=\$API_TOKEN" "$(rcli hget skiff:project:envsite build_command)"
form="gitURL=file%3A%2F%2F$(echo "$site" | sed 's|/|%2F|g')&buildCommand=form-cmd&env.0.name=API_TOKEN&env.0.value=&env.0.secret=on&env.1.name=FROM_FORM&env.1.value=f&env.1.context=preview"
check_eq "a good form post" "303" \
	"$(req skiff-create POST /projects/envsite/settings "$form" application/x-www-form-urlencoded)"
check_eq "... saved" "form-cmd" "$(rcli hget skiff:project:envsite build_command)"
check_eq "... the secret kept" "$sealed" "$(rcli hget skiff:project:envsite:env API_TOKEN)"
check_match "... the new variable for previews" '"contexts":\["preview"\]' "$(rcli hget skiff:project:envsite:env FROM_FORM)"
rm_form="gitURL=file%3A%2F%2F$(echo "$site" | sed 's|/|%2F|g')&buildCommand=form-cmd&env.0.name=API_TOKEN&env.0.value=&env.0.secret=on&env.1.name=FROM_FORM&env.1.value=f&env.1.remove=on"
check_eq "a form post that removes a variable" "303" \
	"$(req skiff-create POST /projects/envsite/settings "$rm_form" application/x-www-form-urlencoded)"
check_eq "... removes it, keeps the rest" "API_TOKEN" "$(rcli hkeys skiff:project:envsite:env | tr '\n' ' ' | sed 's/ $//')"
unsecret="gitURL=file%3A%2F%2F$(echo "$site" | sed 's|/|%2F|g')&env.0.name=API_TOKEN&env.0.value="
check_eq "a secret made plain without a value is refused" "400" \
	"$(req skiff-create POST /projects/envsite/settings "$unsecret" application/x-www-form-urlencoded)"
check_match "... by the variables" 'data-field="env"' "$(cat "$T/body")"
check_eq "... and kept sealed" "$sealed" "$(rcli hget skiff:project:envsite:env API_TOKEN)"
check_eq "a form post that generates a webhook secret answers the page" "200" \
	"$(req skiff-create POST /projects/envsite/settings "$form&rotateWebhookSecret=on" application/x-www-form-urlencoded)"
formhook=$(sed -n 's/.*<code id="new-webhook-secret">\([0-9a-f]*\)<.*/\1/p' "$T/body")
check_match "... with the new secret, shown once" '^[0-9a-f]{48}$' "$formhook"
check_match "... never stored by a cache" 'Cache-Control: no-store' "$(tr -d '\r' <"$T/resp")"
check_eq "... which replaced the one of the API" "$formhook" "$(rcli hget skiff:project:envsite webhook_secret)"
check_eq "... and the settings page never shows it" "" \
	"$(cgi skiff-status GET /projects/envsite/settings '' '' 2>/dev/null | grep -F "$formhook")"
check_eq "a form post from another origin" "403" \
	"$(HTTP_ORIGIN=https://evil.example req skiff-create POST /projects/envsite/settings "$form" application/x-www-form-urlencoded)"

# ---- contexts: a preview deployment gets the preview variables ---------------------------------
# (the record's context is set by hand before the build, as a preview's creation does;
# it_preview.sh makes previews from pushes and pull requests)
check_eq "PATCH variables per context" "200" "$(req skiff-create PATCH /api/projects/envsite \
	'{"buildCommand":"echo ctx=$SKIFF_CONTEXT prev=${PREVIEW_ONLY:-unset} prod=${PROD_ONLY:-unset} token=$API_TOKEN","env":[{"name":"API_TOKEN","secret":true},{"name":"PREVIEW_ONLY","value":"p","contexts":["preview"]},{"name":"PROD_ONLY","value":"q","contexts":["production"]}]}')"
req skiff-create POST /api/projects/envsite/deployments '{}' >/dev/null
idp=$(jget data.deploymentId)
rcli hset "skiff:deployment:$idp" context preview >/dev/null
dispatch
check_eq "a preview build sees the preview variables, not the production ones" \
	"ctx=preview prev=p prod=unset token=***" "$(log_of "$idp" | grep '^ctx=')"
# a fork's pull request: a preview without any secret
req skiff-create POST /api/projects/envsite/deployments '{}' >/dev/null
idf=$(jget data.deploymentId)
rcli hset "skiff:deployment:$idf" context preview fork 1 >/dev/null
dispatch
check_eq "a fork's preview build gets no secret" \
	"ctx=preview prev=p prod=unset token=" "$(log_of "$idf" | grep '^ctx=')"
check_match "... and its log says so" 'Secret variables withheld \(1\)' "$(log_of "$idf")"
req skiff-create POST /api/projects/envsite/deployments '{}' >/dev/null
idq=$(jget data.deploymentId)
dispatch
check_eq "a production build the other way round" \
	"ctx=production prev=unset prod=q token=***" "$(log_of "$idq" | grep '^ctx=')"

finish
