#!/bin/sh
# it_webnodes_apache.sh — it_webnodes.sh with each node's sites under a real Apache httpd from the
# shipped apache/skiff-sites.conf (its fast path and skiff-serve behind mod_proxy_fcgi).
WEBNODES_SERVER=apache exec sh "$(dirname "$0")/it_webnodes.sh"
