# check/apache_sites.sh — Apache httpd with skiff's sites from the shipped
# apache/skiff-sites.conf, as the fast-path test and the serving benchmark start it. Sourced;
# uses T (the run's directory, with skiff.conf), BIN, ROOT and PORT (the sites' port in their
# host names), and adds the processes it starts to PIDS.

APACHE_MODS=/usr/lib/apache2/modules
APACHE_USER=www-data

# apache_skiff_serve: skiff-serve as Apache's virtual host expects it (xsendfile_plain_only:
# mod_xsendfile acts only on plain 200s), one process on $T/run/skiff-serve.sock, which
# Apache's workers may reach and which may read $T; $T/apache-skiff.conf is the
# configuration, for apache_fcgi's other programs too. Fails when the socket does not appear.
apache_skiff_serve() {
	chmod 0711 "$T"
	mkdir -p "$T/run" "$T/apache"
	chgrp "$APACHE_USER" "$T/run" && chmod 0750 "$T/run" || return 1
	sed -e '/^xsendfile/d' "$T/skiff.conf" >"$T/apache-skiff.conf"
	printf 'xsendfile = true\nxsendfile_plain_only = true\n' >>"$T/apache-skiff.conf"
	apache_fcgi skiff-serve
}

# apache_fcgi PROGRAM: skiff's PROGRAM on $T/run/PROGRAM.sock (its own -s, the shipped files'
# socket names) with $T/apache-skiff.conf, logging to $T/apache-NAME.log (skiff-serve:
# apache-serve.log); the socket given to Apache's group as systemd's SocketGroup= does.
# Fails when the socket does not appear.
apache_fcgi() {
	"$BIN/$1" -c "$T/apache-skiff.conf" -s "$T/run/$1.sock" >>"$T/apache-${1#skiff-}.log" 2>&1 &
	PIDS="$PIDS $!"
	_i=0
	until [ -S "$T/run/$1.sock" ]; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && return 1
		sleep 0.1
	done
	chgrp "$APACHE_USER" "$T/run/$1.sock" && chmod 0660 "$T/run/$1.sock"
}

# apache_load MODULE...: their LoadModule lines
apache_load() {
	for _m in "$@"; do
		echo "LoadModule ${_m}_module $APACHE_MODS/mod_$_m.so"
	done
}

# apache_shipped FILE HTTPPORT [SSEPORT]: the shipped apache/FILE with this run's paths and
# ports substituted, nothing else (SSEPORT: the bridge's, for skiff-dashboard.conf)
apache_shipped() {
	sed -e "s|\*:80>|*:$2>|" -e "s|/run/skiff/|$T/run/|g" \
		-e "s|/usr/local/share/skiff/htdocs|$ROOT/htdocs|g" \
		-e "s|/usr/local/share/skiff/apache|$ROOT/apache|g" \
		-e "s|/var/lib/skiff/fastpath|$T/fastpath|g" \
		-e "s|/usr/local/share/skiff/empty|$T/empty|g" \
		-e "s|/usr/local/lib/skiff/|$BIN/|g" \
		-e "s|/var/lib/skiff/store|$T/store|g" \
		-e "s|/var/cache/skiff|$T/cache|g" \
		-e "s|/etc/skiff/htpasswd|$T/htpasswd|g" \
		-e "s|/etc/skiff/apache-token.conf|$T/apache-token.conf|g" \
		-e "s|/etc/skiff/skiff.conf|$T/skiff.conf|g" \
		-e "s|127.0.0.1:8081|127.0.0.1:${3:-8081}|g" \
		"$ROOT/apache/$1"
}

# apache_sites_vhost HTTPPORT: the shipped virtual host, listening on HTTPPORT, with this
# run's paths and *.localhost:$PORT for *.example.com
apache_sites_vhost() {
	apache_shipped skiff-sites.conf "$1" |
		sed -e "s|SKIFF_SITES_SUFFIX .example.com|SKIFF_SITES_SUFFIX .localhost:$PORT|" \
			-e "s|\*\.example\.com|*.localhost|g"
}

# apache_dashboard_vhost HTTPPORT SSEPORT: the shipped dashboard's virtual host on HTTPPORT,
# named localhost (the dashboard_url of scripts/genconf.sh), its /events/ proxied to the
# bridge on SSEPORT, its users in $T/htpasswd, the bridge's token in $T/apache-token.conf
apache_dashboard_vhost() {
	apache_shipped skiff-dashboard.conf "$1" "$2" | sed -e "s|ServerName skiff.example.com|ServerName localhost|"
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
