# check/apache_sites.sh — Apache httpd with skiff's sites from the shipped
# apache/skiff-sites.conf, as the fast-path test and the serving benchmark start it. Sourced;
# uses T (the run's directory, with skiff.conf), BIN, ROOT and PORT (the sites' port in their
# host names), and adds the processes it starts to PIDS.

APACHE_MODS=/usr/lib/apache2/modules
APACHE_USER=www-data

# apache_skiff_serve: skiff-serve as Apache's virtual host expects it (xsendfile_plain_only:
# mod_xsendfile acts only on plain 200s), one process on $T/run/skiff-serve.sock, which
# Apache's workers may reach and which may read $T. Fails when the socket does not appear.
apache_skiff_serve() {
	chmod 0711 "$T"
	mkdir -p "$T/run" "$T/apache"
	chgrp "$APACHE_USER" "$T/run" && chmod 0750 "$T/run" || return 1
	sed -e '/^xsendfile/d' "$T/skiff.conf" >"$T/apache-skiff.conf"
	printf 'xsendfile = true\nxsendfile_plain_only = true\n' >>"$T/apache-skiff.conf"
	"$BIN/skiff-serve" -c "$T/apache-skiff.conf" -s "$T/run/skiff-serve.sock" >>"$T/apache-serve.log" 2>&1 &
	PIDS="$PIDS $!"
	_i=0
	until [ -S "$T/run/skiff-serve.sock" ]; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && return 1
		sleep 0.1
	done
	chgrp "$APACHE_USER" "$T/run/skiff-serve.sock" && chmod 0660 "$T/run/skiff-serve.sock"
}

# apache_load MODULE...: their LoadModule lines
apache_load() {
	for _m in "$@"; do
		echo "LoadModule ${_m}_module $APACHE_MODS/mod_$_m.so"
	done
}

# apache_sites_vhost HTTPPORT: the shipped virtual host, listening on HTTPPORT, with this
# run's paths and *.localhost:$PORT for *.example.com
apache_sites_vhost() {
	sed -e "s|\*:80>|*:$1>|" -e "s|/run/skiff/|$T/run/|g" -e "s|/var/lib/skiff/store|$T/store|g" \
		-e "s|/var/lib/skiff/fastpath|$T/fastpath|g" -e "s|/var/cache/skiff|$T/cache|g" \
		-e "s|/usr/local/share/skiff/apache|$ROOT/apache|g" \
		-e "s|SKIFF_SITES_SUFFIX .example.com|SKIFF_SITES_SUFFIX .localhost:$PORT|" \
		-e "s|\*\.example\.com|*.localhost|g" "$ROOT/apache/skiff-sites.conf"
}

# apache_sites_vhost_plain HTTPPORT: the same without the fast path's lines (skiff-serve alone)
apache_sites_vhost_plain() {
	apache_sites_vhost "$1" | sed '/^\t<IfModule rewrite_module>/,/^\t<\/IfModule>/d'
}

# apache_common: the server-wide lines both need (no Listen, no modules), logs under $T/apache
apache_common() {
	cat <<CONF
Define APACHE_LOG_DIR $T/apache
ServerName localhost
PidFile $T/apache/apache2.pid
DefaultRuntimeDir $T/apache
Mutex file:$T/apache default
ErrorLog $T/apache/error.log
LogLevel warn
User $APACHE_USER
Group $APACHE_USER
TypesConfig /etc/mime.types
<Directory />
	AllowOverride None
	Require all denied
</Directory>
CONF
}
