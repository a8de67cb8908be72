#!/bin/sh
# it_install.sh — `make install DESTDIR=...` produces the documented tree and nothing else;
# `systemd-analyze verify` passes on the installed units (binaries and manual pages resolved
# inside DESTDIR); sysusers.d and tmpfiles.d apply; the example configuration documents every
# key of lib/config.c with its default and is valid for every program; every program keeps
# the command-line contract (--help, --version, -n, -c, exit statuses) its manual page
# states; the pages lint clean; PREFIX=/usr rewrites every path; uninstall removes it all.
. "$(dirname "$0")/lib.sh"

for tool in make systemd-analyze systemd-sysusers systemd-tmpfiles man lighttpd; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
LIBPROGS="skiff-create skiff-status skiff-serve skiff-hook skiff-build"
SBINPROGS="skiff-dispatch skiff-sse-bridge"
FCGI="skiff-create skiff-status skiff-serve skiff-hook"
UNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
: "${UNITDIR:=/lib/systemd/system}"
SYSUSERSDIR=$(pkg-config --variable=sysusersdir systemd 2>/dev/null)
: "${SYSUSERSDIR:=/usr/lib/sysusers.d}"
TMPFILESDIR=$(pkg-config --variable=tmpfilesdir systemd 2>/dev/null)
: "${TMPFILESDIR:=/usr/lib/tmpfiles.d}"

# inst ARGS...: make in the source tree with this build directory
inst() {
	make --no-print-directory -C "$ROOT" B="$SKIFF_BUILD_DIR" "$@"
}

D=$T/destdir
inst DESTDIR="$D" install >"$T/install.log" 2>&1
check_eq "make install DESTDIR=... succeeds" "0" "$?"

# ---- the documented tree, and nothing else ------------------------------------------------------
{
	for p in $LIBPROGS; do echo "usr/local/lib/skiff/$p"; done
	for p in $SBINPROGS; do echo "usr/local/sbin/$p"; done
	echo usr/local/bin/skiff
	echo usr/local/share/man/man1/skiff.1
	(cd "$ROOT" && find htdocs -type f ! -name '.*' | sed 's|^|usr/local/share/skiff/|')
	for f in skiff-dashboard.conf skiff-sites.conf skiff-fcgid.conf lighttpd-production.conf README.md \
		skiff-fastpath.lua skiff-fastpath-lighttpd.lua skiff-not-modified.asis skiff-domain-site.inc \
		skiff-md.conf skiff-md-event; do
		echo "usr/local/share/skiff/apache/$f"
	done
	echo usr/local/share/skiff/skiff.conf.example
	echo usr/local/share/skiff/stunnel-redis.conf
	echo etc/skiff/skiff.conf
	echo etc/skiff/secret.key
	for f in "$ROOT"/systemd/*.socket "$ROOT"/systemd/*.service "$ROOT"/systemd/*.path \
		"$ROOT"/systemd/*.target; do
		echo "${UNITDIR#/}/${f##*/}"
	done
	echo "${SYSUSERSDIR#/}/skiff.conf"
	echo "${TMPFILESDIR#/}/skiff.conf"
	echo usr/local/share/man/man5/skiff.conf.5
	for p in $LIBPROGS $SBINPROGS; do echo "usr/local/share/man/man8/$p.8"; done
	# lighttpd's fast path module, where lighttpd loads modules from, when it is built
	[ ! -f "$SKIFF_BUILD_DIR/lighttpd/mod_skiff_fastpath.so" ] ||
		[ "$(cat "$SKIFF_BUILD_DIR/lighttpd/version")" != "$(lighttpd -v | sed -n 's|^lighttpd/\([0-9.]*\).*|\1|p')" ] ||
		echo usr/lib/lighttpd/mod_skiff_fastpath.so
} | sort >"$T/expected.files"
(cd "$D" && find . -type f -o -type l | sed 's|^\./||' | sort) >"$T/installed.files"
check_eq "the installed files are exactly the documented ones" "" \
	"$(diff "$T/expected.files" "$T/installed.files" | grep '^[<>]' | tr '\n' ' ')"
check_eq "every unit of systemd/ is installed (4 sockets, 8 services, 1 path, 1 target)" "14" \
	"$(ls "$D$UNITDIR" | grep -c '^skiff')"
check_eq "the FastCGI programs and skiff-build are executable in lib/skiff" "5" \
	"$(find "$D/usr/local/lib/skiff" -type f -perm -0755 | wc -l | tr -d ' ')"
check_eq "the daemons are executable in sbin" "2" \
	"$(find "$D/usr/local/sbin" -type f -perm -0755 | wc -l | tr -d ' ')"
# skiff-md.conf's MDMessageCmd names the installed skiff-md-event, which stamps only `renewed`.
cmd=$(sed -n 's/^MDMessageCmd \([^ ]*\) \([^ ]*\)$/\1 \2/p' "$D/usr/local/share/skiff/apache/skiff-md.conf")
check_eq "skiff-md.conf: MDMessageCmd runs the installed skiff-md-event with the stamp directory" \
	"/usr/local/share/skiff/apache/skiff-md-event /var/lib/skiff/md-event" "$cmd"
check_eq "skiff-md-event is executable" "yes" \
	"$([ -x "$D/usr/local/share/skiff/apache/skiff-md-event" ] && echo yes)"
mkdir -p "$T/md-event"
for r in installed expiring errored renewing ocsp-renewed; do
	"$D/usr/local/share/skiff/apache/skiff-md-event" "$T/md-event" "$r" a.example.test
done
check_eq "skiff-md-event: no stamp for reasons that need no restart" "" "$(ls "$T/md-event")"
"$D/usr/local/share/skiff/apache/skiff-md-event" "$T/md-event" renewed 'a.example.test;x' 2>/dev/null
check_eq "skiff-md-event: no stamp for what is not a domain name" "2:" "$?:$(ls "$T/md-event")"
"$D/usr/local/share/skiff/apache/skiff-md-event" "$T/md-event" renewed a.example.test
check_eq "skiff-md-event: renewed writes the stamp" "0:renewed a.example.test" \
	"$?:$(cat "$T/md-event/renewed" 2>/dev/null)"
check_eq "the skiff client is executable in bin and answers --help" "0" \
	"$([ -x "$D/usr/local/bin/skiff" ] && "$D/usr/local/bin/skiff" deploy --help >/dev/null; echo $?)"
check_eq "the empty document root for mod_fcgid's sites vhost exists and is empty" "dir:" \
	"$([ -d "$D/usr/local/share/skiff/empty" ] && echo dir):$(ls -A "$D/usr/local/share/skiff/empty")"
check_eq "/etc/skiff/skiff.conf is not world-readable (secrets)" "640" "$(stat -c %a "$D/etc/skiff/skiff.conf")"
check_eq "the secret key is made: 32 bytes, mode 0600" "32 600" \
	"$(stat -c '%s %a' "$D/etc/skiff/secret.key")"
cp "$D/etc/skiff/secret.key" "$T/secret.key.first"
check_eq "the installed configuration is the example" "same" \
	"$(cmp -s "$D/etc/skiff/skiff.conf" "$D/usr/local/share/skiff/skiff.conf.example" && echo same)"
check_match "it names the installed skiff-build" '^build_program = /usr/local/lib/skiff/skiff-build$' \
	"$(grep '^build_program' "$D/etc/skiff/skiff.conf")"
check_eq "the htdocs are the tree's" "" "$(diff -r "$ROOT/htdocs" "$D/usr/local/share/skiff/htdocs")"

# ---- the units ----------------------------------------------------------------------------------
units=$(cd "$D$UNITDIR" && ls skiff*)
for u in $units; do
	for cmd in $(sed -n 's/^Exec[A-Za-z]*=[-+!@]*\([^ ]*\).*/\1/p' "$D$UNITDIR/$u"); do
		# skiff's own programs from the tree; others (stunnel4) from their Debian package
		case $cmd in
		/usr/local/*) [ -x "$D$cmd" ] || fail "$u runs $cmd, which make install did not put there" ;;
		*) [ -x "$cmd" ] || fail "$u runs $cmd, which is not installed (scripts/deps.sh)" ;;
		esac
	done
done
ok "every Exec line of the units names an installed program"
check_eq "every service of a skiff program checks the configuration first (ExecStartPre=... -n)" "6" \
	"$(grep -l '^ExecStartPre=.* -n -c /etc/skiff/skiff.conf$' "$D$UNITDIR"/skiff*.service | wc -l | tr -d ' ')"
check_eq "every service runs as skiff, hardened" "7 7 7 7 7 7" \
	"$(for k in '^User=skiff$' '^NoNewPrivileges=yes$' '^ProtectSystem=strict$' '^PrivateTmp=yes$' '^ProtectHome=yes$' '^SystemCallFilter=@system-service'; do
		grep -l "$k" "$D$UNITDIR"/skiff*.service | wc -l | tr -d ' '; done | tr '\n' ' ' | sed 's/ $//')"
check_eq "every socket is www-data's, mode 0660" "4 4" \
	"$(grep -l '^SocketGroup=www-data$' "$D$UNITDIR"/skiff*.socket | wc -l | tr -d ' ') $(grep -l '^SocketMode=0660$' "$D$UNITDIR"/skiff*.socket | wc -l | tr -d ' ')"
check_match "the bridge is Type=notify with a watchdog" 'Type=notify WatchdogSec=[0-9]+' \
	"$(grep -E '^(Type|WatchdogSec)=' "$D$UNITDIR/skiff-sse-bridge.service" | tr '\n' ' ')"
# systemd-analyze verify inside DESTDIR: the distribution's own units (sysinit.target, ...)
# are copied next to ours, and man finds the installed pages for Documentation=.
mkdir -p "$T/vroot"
cp -a "$D/." "$T/vroot/"
mkdir -p "$T/vroot/usr/lib/systemd/system" "$T/vroot/usr/bin"
cp /usr/bin/stunnel4 "$T/vroot/usr/bin/"  # skiff-redis-tunnel.service's program
cp /usr/bin/sleep /usr/bin/systemctl "$T/vroot/usr/bin/"  # skiff-md-reload.service's
cp -a /lib/systemd/system/. "$T/vroot/usr/lib/systemd/system/"
# shellcheck disable=SC2086
out=$(cd / && MANPATH="$T/vroot/usr/local/share/man" systemd-analyze verify --root="$T/vroot" $units 2>&1)
check_eq "systemd-analyze verify passes on the installed units, without a word" "0:" "$?:$out"
printf '[Service]\nExecStart=/usr/local/lib/skiff/skiff-none\nProtectSystem=sometimes\n' \
	>"$T/vroot$UNITDIR/skiff-broken.service"
out=$(cd / && MANPATH="$T/vroot/usr/local/share/man" systemd-analyze verify --root="$T/vroot" skiff-broken.service 2>&1)
check_match "  (and it would notice a broken unit)" 'skiff-none is not executable' "$out"
check_match "  (and a bad value)" 'protect system value' "$out"

# ---- sysusers.d and tmpfiles.d, applied inside the tree -------------------------------------------
cp /etc/passwd /etc/group "$T/vroot/etc/"
: >"$T/vroot/etc/shadow"
: >"$T/vroot/etc/gshadow"
systemd-sysusers --root="$T/vroot" skiff.conf >"$T/sysusers.log" 2>&1
check_eq "systemd-sysusers creates the user skiff" "0 skiff:/var/lib/skiff:/usr/sbin/nologin" \
	"$? $(awk -F: '$1 == "skiff" { print $1 ":" $6 ":" $7 }' "$T/vroot/etc/passwd")"
systemd-tmpfiles --root="$T/vroot" --create skiff.conf >"$T/tmpfiles.log" 2>&1
check_eq "systemd-tmpfiles applies skiff.conf" "0" "$?"
suid=$(awk -F: '$1 == "skiff" { print $3 }' "$T/vroot/etc/passwd")
wgid=$(awk -F: '$1 == "www-data" { print $3 }' "$T/vroot/etc/group")
sgid=$(awk -F: '$1 == "skiff" { print $3 }' "$T/vroot/etc/group")
check_eq "the store: skiff's, entered by the web server's group only" "750 $suid $wgid" \
	"$(stat -c '%a %u %g' "$T/vroot/var/lib/skiff/store")"
check_eq "the blobs: readable by the web server" "755 $suid" "$(stat -c '%a %u' "$T/vroot/var/lib/skiff/store/blobs")"
check_eq "the checkouts: skiff's alone" "700 $suid" "$(stat -c '%a %u' "$T/vroot/var/lib/skiff/work")"
check_eq "the s3 blob cache" "750 $suid $wgid" "$(stat -c '%a %u %g' "$T/vroot/var/cache/skiff")"
check_eq "skiff.conf: root's, readable by the group skiff" "640 0 $sgid" \
	"$(stat -c '%a %u %g' "$T/vroot/etc/skiff/skiff.conf")"

# ---- the example configuration ------------------------------------------------------------------
# every key of lib/config.c's table, shown as "# key = default"
sed -n 's/^[[:space:]]*S\{1,2\}(\([a-z0-9_]*\), "\([^"]*\)").*/\1 \2/p; s/^[[:space:]]*[IB](\([a-z0-9_]*\), "\([^"]*\)".*/\1 \2/p' \
	"$ROOT/lib/config.c" >"$T/keys"
check_match "lib/config.c's key table was read" '^redis_host 127\.0\.0\.1$' "$(cat "$T/keys")"
missing=""
while read -r key def; do
	line=$(printf '# %s =%s' "$key" "${def:+ $def}")
	grep -qxF "$line" "$ROOT/doc/skiff.conf.example" || missing="$missing $key"
done <"$T/keys"
check_eq "doc/skiff.conf.example documents every key with its default" "" "$missing"
extra=$(sed -n 's/^#\{0,1\} *\([a-z0-9_]*\) =.*/\1/p' "$ROOT/doc/skiff.conf.example" | sort -u |
	while read -r k; do grep -q "^$k " "$T/keys" || printf ' %s' "$k"; done)
check_eq "  and no key skiff does not know" "" "$extra"
missing=""
while read -r key def; do
	grep -q "^\.BR $key " "$ROOT/doc/man/skiff.conf.5" || missing="$missing $key"
done <"$T/keys"
check_eq "skiff.conf(5) describes every key" "" "$missing"

# ---- the installed programs: the command-line contract --------------------------------------------
printf 'no_such_key = 1\n' >"$T/bad.conf"
for p in $LIBPROGS $SBINPROGS; do
	bin=$D/usr/local/lib/skiff/$p
	[ -x "$bin" ] || bin=$D/usr/local/sbin/$p
	out=$(env -u SKIFF_CONFIG "$bin" --version 2>&1)
	check_match "$p --version: its name and version, status 0" "^$p [0-9]+\.[0-9]+\.[0-9]+:0\$" "$out:$?"
	out=$(env -u SKIFF_CONFIG "$bin" --help 2>&1)
	rc=$?
	check_match "$p --help: usage with -c and -n, status 0" "usage: $p .*-c.*-n" "$(printf '%s' "$out" | head -n 1):$rc"
	env -u SKIFF_CONFIG "$bin" -n -c "$D/etc/skiff/skiff.conf" >/dev/null 2>&1
	check_eq "$p -n accepts the installed configuration (status 0)" "0" "$?"
	env -u SKIFF_CONFIG "$bin" -n -c "$T/bad.conf" >/dev/null 2>&1
	check_eq "$p -n refuses an unknown key (status 1)" "1" "$?"
	env -u SKIFF_CONFIG "$bin" -n -c "$T/no-such-file.conf" >/dev/null 2>&1
	check_eq "$p -n refuses a missing file (status 1)" "1" "$?"
	env -u SKIFF_CONFIG "$bin" --no-such-option >/dev/null 2>&1
	check_eq "$p with an unknown option: status 2" "2" "$?"
done
for p in $FCGI; do
	"$D/usr/local/lib/skiff/$p" --help | grep -q -- '-s SOCKET' || fail "$p --help mentions -s SOCKET"
done
ok "the FastCGI programs' --help mentions -s SOCKET"

# ---- the manual pages ---------------------------------------------------------------------------------
for f in "$D"/usr/local/share/man/man8/*.8 "$D"/usr/local/share/man/man5/*.5 "$D"/usr/local/share/man/man1/*.1; do
	n=${f##*/}
	out=$(man --warnings -l "$f" 2>&1 >/dev/null)
	check_eq "man --warnings $n: no warnings" "" "$out"
	txt=$(MANWIDTH=100 man -l "$f" 2>/dev/null)
	for s in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
		printf '%s\n' "$txt" | grep -q "^$s" || fail "$n has a $s section"
	done
	case $n in *.8)
		for s in OPTIONS "EXIT STATUS"; do printf '%s\n' "$txt" | grep -q "^$s" || fail "$n has $s"; done
		for o in '-c file' '-n' '--help' '--version'; do
			printf '%s\n' "$txt" | grep -q -- "$o" || fail "$n documents $o"
		done ;;
	esac
done
ok "every page has its sections and documents -c, -n, --help, --version and the exit statuses"
for p in $FCGI; do
	MANWIDTH=100 man -l "$D/usr/local/share/man/man8/$p.8" 2>/dev/null | grep -q -- '-s socket' ||
		fail "$p.8 documents -s"
done
ok "the FastCGI pages document -s"

# ---- the web server files, as installed -------------------------------------------------------------
out=$(lighttpd -tt -f "$D/usr/local/share/skiff/apache/lighttpd-production.conf" 2>&1)
check_eq "lighttpd -tt accepts the installed lighttpd-production.conf" "0:" "$?:$out"
# switched to the installed mod_skiff_fastpath as its comments say (loaded from a directory of
# links beside Debian's modules: lighttpd loads modules from one directory)
if [ -f "$D/usr/lib/lighttpd/mod_skiff_fastpath.so" ]; then
	mkdir -p "$T/lighttpd-modules"
	ln -sf /usr/lib/lighttpd/*.so "$T/lighttpd-modules/"
	ln -sf "$D/usr/lib/lighttpd/mod_skiff_fastpath.so" "$T/lighttpd-modules/"
	sed -e 's/"mod_magnet", "mod_fastcgi"/"mod_skiff_fastpath", "mod_fastcgi"/' -e '/magnet\.attract/d' \
		-e 's/^\([[:space:]]*\)#skiff\.fastpath-dir/\1skiff.fastpath-dir/' \
		"$D/usr/local/share/skiff/apache/lighttpd-production.conf" >"$T/production-module.conf"
	check_eq "... and with mod_skiff_fastpath in place of mod_magnet, as its comments say" \
		"0: 1" "$(lighttpd -m "$T/lighttpd-modules" -tt -f "$T/production-module.conf" 2>&1; echo "$?:") $(
			grep -c '^[[:space:]]*skiff\.fastpath-dir' "$T/production-module.conf")"
fi

# ---- another PREFIX -----------------------------------------------------------------------------------
D2=$T/destdir-usr
inst DESTDIR="$D2" PREFIX=/usr install >"$T/install-usr.log" 2>&1
check_eq "make install PREFIX=/usr succeeds" "0" "$?"
check_eq "the programs are in /usr/lib/skiff and /usr/sbin" "yes yes" \
	"$([ -x "$D2/usr/lib/skiff/skiff-serve" ] && echo yes) $([ -x "$D2/usr/sbin/skiff-dispatch" ] && echo yes)"
check_eq "no installed text names /usr/local" "" \
	"$(grep -rl '/usr/local' "$D2" --exclude-dir=lib --exclude-dir=sbin 2>/dev/null | sed "s|^$D2||" | tr '\n' ' ')"
check_eq "the units start /usr/lib/skiff/skiff-status" "/usr/lib/skiff/skiff-status -c /etc/skiff/skiff.conf" \
	"$(sed -n 's/^ExecStart=//p' "$D2$UNITDIR/skiff-status.service")"
check_eq "the Apache site serves /usr/share/skiff/htdocs" "DocumentRoot /usr/share/skiff/htdocs" \
	"$(grep -o 'DocumentRoot .*' "$D2/usr/share/skiff/apache/skiff-dashboard.conf")"

# ---- upgrades keep the configuration; uninstall removes the rest -----------------------------------
printf '\n# changed by the operator\nconcurrency = 3\n' >>"$D/etc/skiff/skiff.conf"
inst DESTDIR="$D" install >"$T/install2.log" 2>&1
check_match "a second install keeps a changed skiff.conf" "concurrency = 3" "$(cat "$D/etc/skiff/skiff.conf")"
check_eq "a second install keeps the secret key" "same" \
	"$(cmp -s "$D/etc/skiff/secret.key" "$T/secret.key.first" && echo same)"
inst DESTDIR="$D" uninstall >"$T/uninstall.log" 2>&1
check_eq "make uninstall succeeds" "0" "$?"
check_eq "uninstall leaves only the changed skiff.conf and the secret key" \
	"etc/skiff/secret.key etc/skiff/skiff.conf" \
	"$(cd "$D" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ' | sed 's/ $//')"
inst DESTDIR="$D2" PREFIX=/usr uninstall >"$T/uninstall2.log" 2>&1
check_eq "uninstall of an unchanged install leaves only the secret key (sealed values need it)" \
	"./etc/skiff/secret.key" "$(cd "$D2" && find . -type f)"
# ---- the builder image's build stage, without a Docker engine -------------------------------------
# builder/Dockerfile's first stage copies a few paths of the tree and runs make on them: do
# the same in an empty directory, so that a file the build needs and the image lacks fails here.
ctx=$T/image-context
mkdir -p "$ctx"
copies=$(awk '/^FROM/ { n++ } n == 1 && /^COPY / && !/--from/ { print $2 }' "$ROOT/builder/Dockerfile")
missing=""
for src in $copies; do
	mkdir -p "$ctx/$(dirname "$src")"
	cp -R "$ROOT/${src%/}" "$ctx/$(dirname "$src")/" || missing="$missing $src"
	grep -qxF "!${src%/}$( [ "${src%/}" != "$src" ] && echo '/**')" "$ROOT/builder/Dockerfile.dockerignore" ||
		missing="$missing $src(dockerignore)"
done
check_eq "the build stage's COPY sources exist and the .dockerignore admits them" "" "$missing"
out=$(cd "$ctx" && make --no-print-directory -j2 B=out WERROR=1 out/bin/skiff-build 2>&1 | tail -n 3 &&
	out/bin/skiff-build --version)
check_match "... and make builds skiff-build from them alone" "skiff-build .*0\.[0-9]" "$out"

finish
