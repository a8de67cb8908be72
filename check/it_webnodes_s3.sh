#!/bin/sh
# it_webnodes_s3.sh — it_webnodes.sh with the s3 store (check/s3's stand-in of S3) in place of
# the file store: each web node fetches, verifies and caches blobs in its own cache_path,
# which its fast-path tree points into.
WEBNODES_S3=1 exec sh "$(dirname "$0")/it_webnodes.sh"
