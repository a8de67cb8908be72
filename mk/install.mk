# mk/install.mk — `make install` and `make uninstall` (included by GNUmakefile).
#
#   make install                       into /usr/local (PREFIX), /etc/skiff and systemd's dirs
#   make install PREFIX=/usr
#   make install DESTDIR=/tmp/stage    the same tree under /tmp/stage (packaging, tests)
#   make uninstall                     removes what install put there (not a changed skiff.conf)
#
# What goes where (doc/operators.md lists the same):
#   $(PREFIX)/lib/skiff/          skiff-create skiff-status skiff-serve skiff-hook skiff-build
#   $(PREFIX)/sbin/               skiff-dispatch skiff-sse-bridge
#   $(PREFIX)/bin/                skiff (the command-line client)
#   $(PREFIX)/share/skiff/        htdocs/, apache/ (the web server configurations, skiff-domain-site.inc,
#                                 skiff-md-event), empty/,
#                                 skiff.conf.example, stunnel-redis.conf (the Redis TLS tunnel's sample)
#   /etc/skiff/skiff.conf         the example configuration, only when there is none yet
#   /etc/skiff/secret.key         32 random bytes, mode 0600, only when there is none yet; never
#                                 removed (the secrets sealed in Redis need it)
#   $(SYSTEMDUNITDIR)             *.socket, *.service, *.path, skiff.target
#   $(SYSUSERSDIR), $(TMPFILESDIR)  skiff.conf (the user skiff; /var/lib/skiff, /var/cache/skiff)
#   $(PREFIX)/share/man/man1, man5, man8  the manual pages
#   $(LIGHTTPD_MODULEDIR)         mod_skiff_fastpath.so, lighttpd's fast path, when it is built
#                                 (mk/lighttpd.mk; lighttpd loads modules only from there)
# Files that name installed paths (units, web server configurations, the example
# configuration) are written for /usr/local and rewritten for another PREFIX.

PREFIX         ?= /usr/local
DESTDIR        ?=
SYSCONFDIR     ?= /etc
INSTALL        ?= install
SKIFF_LIBDIR   := $(PREFIX)/lib/skiff
SKIFF_SBINDIR  := $(PREFIX)/sbin
SKIFF_BINDIR   := $(PREFIX)/bin
SKIFF_DATADIR  := $(PREFIX)/share/skiff
SKIFF_MANDIR   := $(PREFIX)/share/man
SKIFF_ETCDIR   := $(SYSCONFDIR)/skiff
SYSTEMDUNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
SYSUSERSDIR    ?= $(or $(shell pkg-config --variable=sysusersdir systemd 2>/dev/null),/usr/lib/sysusers.d)
TMPFILESDIR    ?= $(or $(shell pkg-config --variable=tmpfilesdir systemd 2>/dev/null),/usr/lib/tmpfiles.d)

SKIFF_LIB_PROGS  := skiff-create skiff-status skiff-serve skiff-hook skiff-build
SKIFF_SBIN_PROGS := skiff-dispatch skiff-sse-bridge
SKIFF_BIN_PROGS  := skiff
SKIFF_HTDOCS     := $(sort $(shell find htdocs -type f ! -name '.*' 2>/dev/null))
SKIFF_WEBCONF    := apache/skiff-dashboard.conf apache/skiff-sites.conf apache/skiff-fcgid.conf \
                    apache/lighttpd-production.conf apache/README.md \
                    apache/skiff-fastpath.lua apache/skiff-fastpath-lighttpd.lua \
                    apache/skiff-not-modified.asis apache/skiff-domain-site.inc \
                    apache/skiff-md.conf
SKIFF_UNITS      := $(sort $(wildcard systemd/*.socket systemd/*.service systemd/*.path systemd/*.target))
SKIFF_WEBPROGS   := apache/skiff-md-event
SKIFF_MAN1       := $(sort $(wildcard doc/man/*.1))
SKIFF_MAN5       := $(sort $(wildcard doc/man/*.5))
SKIFF_MAN8       := $(sort $(wildcard doc/man/*.8))

# Rewrites the default paths of a shipped file for this PREFIX and SYSCONFDIR.
SKIFF_SUBST := sed -e 's|/usr/local/|$(PREFIX)/|g' -e 's|/etc/skiff/|$(SKIFF_ETCDIR)/|g'

install: $(SKIFF_LIB_PROGS:%=$(B)/bin/%) $(SKIFF_SBIN_PROGS:%=$(B)/bin/%) $(SKIFF_BIN_PROGS:%=$(B)/bin/%)
	@case '$(PREFIX)$(SYSCONFDIR)' in *'|'* | *' '*) echo "install: PREFIX and SYSCONFDIR must not contain '|' or spaces" >&2; exit 2;; esac
	$(INSTALL) -d $(DESTDIR)$(SKIFF_LIBDIR) $(DESTDIR)$(SKIFF_SBINDIR) $(DESTDIR)$(SKIFF_BINDIR) \
		$(DESTDIR)$(SKIFF_DATADIR)/htdocs $(DESTDIR)$(SKIFF_DATADIR)/apache \
		$(DESTDIR)$(SKIFF_DATADIR)/empty $(DESTDIR)$(SKIFF_ETCDIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(SKIFF_MANDIR)/man1 $(DESTDIR)$(SKIFF_MANDIR)/man5 $(DESTDIR)$(SKIFF_MANDIR)/man8
	$(INSTALL) -m 0755 $(SKIFF_LIB_PROGS:%=$(B)/bin/%) $(DESTDIR)$(SKIFF_LIBDIR)/
	$(INSTALL) -m 0755 $(SKIFF_SBIN_PROGS:%=$(B)/bin/%) $(DESTDIR)$(SKIFF_SBINDIR)/
	$(INSTALL) -m 0755 $(SKIFF_BIN_PROGS:%=$(B)/bin/%) $(DESTDIR)$(SKIFF_BINDIR)/
	for f in $(SKIFF_HTDOCS:htdocs/%=%); do \
		$(INSTALL) -D -m 0644 htdocs/$$f $(DESTDIR)$(SKIFF_DATADIR)/htdocs/$$f || exit 1; \
	done
	for f in $(SKIFF_WEBCONF); do \
		$(SKIFF_SUBST) $$f >$(DESTDIR)$(SKIFF_DATADIR)/apache/$${f##*/}.tmp && \
		chmod 0644 $(DESTDIR)$(SKIFF_DATADIR)/apache/$${f##*/}.tmp && \
		mv $(DESTDIR)$(SKIFF_DATADIR)/apache/$${f##*/}.tmp $(DESTDIR)$(SKIFF_DATADIR)/apache/$${f##*/} || exit 1; \
	done
	$(INSTALL) -m 0755 $(SKIFF_WEBPROGS) $(DESTDIR)$(SKIFF_DATADIR)/apache/
	@if [ -f $(B)/lighttpd/mod_skiff_fastpath.so ] && \
	    [ "$$(cat $(B)/lighttpd/version 2>/dev/null)" = "$(LIGHTTPD_VERSION)" ]; then \
		echo "$(INSTALL) -D -m 0644 $(B)/lighttpd/mod_skiff_fastpath.so $(DESTDIR)$(LIGHTTPD_MODULEDIR)/mod_skiff_fastpath.so"; \
		$(INSTALL) -D -m 0644 $(B)/lighttpd/mod_skiff_fastpath.so $(DESTDIR)$(LIGHTTPD_MODULEDIR)/mod_skiff_fastpath.so || exit 1; \
	else \
		echo "install: mod_skiff_fastpath is not built for this lighttpd (mk/lighttpd.mk): lighttpd's fast path is mod_magnet's"; \
	fi
	$(SKIFF_SUBST) doc/skiff.conf.example >$(DESTDIR)$(SKIFF_DATADIR)/skiff.conf.example.tmp
	chmod 0644 $(DESTDIR)$(SKIFF_DATADIR)/skiff.conf.example.tmp
	mv $(DESTDIR)$(SKIFF_DATADIR)/skiff.conf.example.tmp $(DESTDIR)$(SKIFF_DATADIR)/skiff.conf.example
	$(INSTALL) -m 0644 doc/stunnel-redis.conf $(DESTDIR)$(SKIFF_DATADIR)/stunnel-redis.conf
	@if [ -e $(DESTDIR)$(SKIFF_ETCDIR)/skiff.conf ]; then \
		echo "install: keeping $(DESTDIR)$(SKIFF_ETCDIR)/skiff.conf (the new example is $(SKIFF_DATADIR)/skiff.conf.example)"; \
	else \
		echo "$(INSTALL) -m 0640 skiff.conf.example $(DESTDIR)$(SKIFF_ETCDIR)/skiff.conf"; \
		$(INSTALL) -m 0640 $(DESTDIR)$(SKIFF_DATADIR)/skiff.conf.example $(DESTDIR)$(SKIFF_ETCDIR)/skiff.conf; \
	fi
	@if [ ! -e $(DESTDIR)$(SKIFF_ETCDIR)/secret.key ]; then \
		echo "creating $(DESTDIR)$(SKIFF_ETCDIR)/secret.key (32 random bytes, mode 0600; back it up)"; \
		(umask 077 && head -c 32 /dev/urandom >$(DESTDIR)$(SKIFF_ETCDIR)/secret.key.tmp) && \
		mv $(DESTDIR)$(SKIFF_ETCDIR)/secret.key.tmp $(DESTDIR)$(SKIFF_ETCDIR)/secret.key || exit 1; \
	fi
	for f in $(SKIFF_UNITS); do \
		$(SKIFF_SUBST) $$f >$(DESTDIR)$(SYSTEMDUNITDIR)/$${f##*/}.tmp && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${f##*/}.tmp && \
		mv $(DESTDIR)$(SYSTEMDUNITDIR)/$${f##*/}.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/$${f##*/} || exit 1; \
	done
	$(SKIFF_SUBST) systemd/tmpfiles.d/skiff.conf >$(DESTDIR)$(TMPFILESDIR)/skiff.conf
	chmod 0644 $(DESTDIR)$(TMPFILESDIR)/skiff.conf
	$(INSTALL) -m 0644 systemd/sysusers.d/skiff.conf $(DESTDIR)$(SYSUSERSDIR)/skiff.conf
	for f in $(SKIFF_MAN1) $(SKIFF_MAN5) $(SKIFF_MAN8); do \
		d=$(DESTDIR)$(SKIFF_MANDIR)/man$${f##*.}; \
		$(SKIFF_SUBST) $$f >$$d/$${f##*/}.tmp && chmod 0644 $$d/$${f##*/}.tmp && \
		mv $$d/$${f##*/}.tmp $$d/$${f##*/} || exit 1; \
	done
	@if [ -z '$(DESTDIR)' ]; then \
		echo; \
		echo "installed. Next (doc/operators.md):"; \
		echo "  systemd-sysusers skiff.conf && systemd-tmpfiles --create skiff.conf"; \
		echo "  edit $(SKIFF_ETCDIR)/skiff.conf, then: systemctl daemon-reload && systemctl enable --now skiff.target"; \
	fi

uninstall:
	rm -f $(SKIFF_LIB_PROGS:%=$(DESTDIR)$(SKIFF_LIBDIR)/%) $(SKIFF_SBIN_PROGS:%=$(DESTDIR)$(SKIFF_SBINDIR)/%)
	rm -f $(SKIFF_BIN_PROGS:%=$(DESTDIR)$(SKIFF_BINDIR)/%) $(SKIFF_MAN1:doc/man/%=$(DESTDIR)$(SKIFF_MANDIR)/man1/%)
	rm -f $(SKIFF_HTDOCS:htdocs/%=$(DESTDIR)$(SKIFF_DATADIR)/htdocs/%)
	rm -f $(SKIFF_WEBCONF:apache/%=$(DESTDIR)$(SKIFF_DATADIR)/apache/%)
	rm -f $(SKIFF_WEBPROGS:apache/%=$(DESTDIR)$(SKIFF_DATADIR)/apache/%)
	rm -f $(DESTDIR)$(LIGHTTPD_MODULEDIR)/mod_skiff_fastpath.so
	@if [ -f $(DESTDIR)$(SKIFF_ETCDIR)/skiff.conf ] && [ -f $(DESTDIR)$(SKIFF_DATADIR)/skiff.conf.example ] && \
	    cmp -s $(DESTDIR)$(SKIFF_ETCDIR)/skiff.conf $(DESTDIR)$(SKIFF_DATADIR)/skiff.conf.example; then \
		echo "rm -f $(DESTDIR)$(SKIFF_ETCDIR)/skiff.conf"; rm -f $(DESTDIR)$(SKIFF_ETCDIR)/skiff.conf; \
	elif [ -f $(DESTDIR)$(SKIFF_ETCDIR)/skiff.conf ]; then \
		echo "uninstall: keeping $(DESTDIR)$(SKIFF_ETCDIR)/skiff.conf (changed since install)"; \
	fi
	rm -f $(DESTDIR)$(SKIFF_DATADIR)/skiff.conf.example $(DESTDIR)$(SKIFF_DATADIR)/stunnel-redis.conf
	rm -f $(SKIFF_UNITS:systemd/%=$(DESTDIR)$(SYSTEMDUNITDIR)/%)
	rm -f $(DESTDIR)$(SYSUSERSDIR)/skiff.conf $(DESTDIR)$(TMPFILESDIR)/skiff.conf
	rm -f $(SKIFF_MAN5:doc/man/%=$(DESTDIR)$(SKIFF_MANDIR)/man5/%) $(SKIFF_MAN8:doc/man/%=$(DESTDIR)$(SKIFF_MANDIR)/man8/%)
	@[ ! -d $(DESTDIR)$(SKIFF_DATADIR)/htdocs ] || find $(DESTDIR)$(SKIFF_DATADIR)/htdocs -depth -mindepth 1 -type d -empty -delete
	@for d in $(DESTDIR)$(SKIFF_DATADIR)/htdocs $(DESTDIR)$(SKIFF_DATADIR)/apache \
		$(DESTDIR)$(SKIFF_DATADIR)/empty $(DESTDIR)$(SKIFF_DATADIR) $(DESTDIR)$(SKIFF_LIBDIR) \
		$(DESTDIR)$(SKIFF_ETCDIR); do \
		[ ! -d $$d ] || rmdir $$d 2>/dev/null || echo "uninstall: keeping $$d (not empty)"; \
	done
