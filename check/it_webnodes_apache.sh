#!/bin/sh
# it_webnodes_apache.sh — it_webnodes.sh with each node one real Apache httpd and no lighttpd:
# the shipped apache/skiff-sites.conf (its fast path, skiff-serve behind mod_proxy_fcgi) and
# apache/skiff-dashboard.conf (the API, the pages, the live logs, with its authentication).
WEBNODES_SERVER=apache exec sh "$(dirname "$0")/it_webnodes.sh"
