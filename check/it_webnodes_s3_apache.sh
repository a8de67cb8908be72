#!/bin/sh
# it_webnodes_s3_apache.sh — it_webnodes.sh with both: the s3 store (each node's fast-path tree
# pointing into its own verified blob cache) and each node one real Apache httpd (sites, API,
# dashboard, live logs).
WEBNODES_S3=1 WEBNODES_SERVER=apache exec sh "$(dirname "$0")/it_webnodes.sh"
