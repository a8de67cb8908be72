# mk/lighttpd.mk — apache/mod_skiff_fastpath.c, lighttpd's fast path as a module of its own
# (included by GNUmakefile). It builds against the source of the installed lighttpd release,
# which scripts/lighttpd-src.sh puts under build/lighttpd-src (make deps-run and deps-check
# run it); without that source nothing is built here and the fast path stays with mod_magnet.
#
#   $(B)/lighttpd/mod_skiff_fastpath.so   the module, built for the lighttpd installed now
#   $(B)/lighttpd/version                 that lighttpd's release: scripts/genconf.sh uses the
#                                         module only while `lighttpd -v` says the same
#   $(B)/lighttpd/                        also links to every module of LIGHTTPD_MODULEDIR, so
#                                         that `lighttpd -m $(B)/lighttpd` loads Debian's
#                                         modules and this one (scripts/genconf.sh's config)
# The module is built without sanitizers whatever SAN says: it runs inside Debian's lighttpd.

LIGHTTPD_MODULEDIR ?= /usr/lib/lighttpd
LIGHTTPD_VERSION := $(shell lighttpd -v 2>/dev/null | sed -n 's|^lighttpd/\([0-9.]*\).*|\1|p')
LIGHTTPD_SRC := $(if $(LIGHTTPD_VERSION),$(wildcard build/lighttpd-src/lighttpd-$(LIGHTTPD_VERSION)/src/plugin.h))
ifneq ($(LIGHTTPD_SRC),)
LIGHTTPD_INC := $(dir $(LIGHTTPD_SRC))
LIGHTTPD_MOD := $(B)/lighttpd/mod_skiff_fastpath.so
all programs: $(LIGHTTPD_MOD)

# lighttpd's headers test a few HAVE_* macros that change the layout of what the module reads
# (a stat cache entry); apache/lighttpd-config.h sets them as Debian's build of lighttpd has
# them. The module checks the layout once at run time and stands aside if it is wrong.
# lib/fastpath_match.c is compiled in: the path rule and the If-None-Match match skiff-serve
# uses (lighttpd's include directory comes first: both have a log.h and a config.h).
$(LIGHTTPD_MOD): apache/mod_skiff_fastpath.c lib/fastpath_match.c lib/fastpath_match.h \
		apache/lighttpd-config.h $(LIGHTTPD_SRC)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) -Wno-shadow -Wno-strict-prototypes -fPIC -shared \
		-D_GNU_SOURCE -include apache/lighttpd-config.h -I$(LIGHTTPD_INC) -Ilib -o $@.tmp \
		apache/mod_skiff_fastpath.c lib/fastpath_match.c
	$(Q)for m in $(LIGHTTPD_MODULEDIR)/mod_*.so; do \
		[ -e "$$m" ] && ln -sfn "$$m" $(dir $@); done; true
	$(Q)mv $@.tmp $@
	$(Q)echo $(LIGHTTPD_VERSION) >$(dir $@)version
endif
