/* upload_remote.h — skiff-build --remote's upload through the deploy protocol. */
#ifndef SKIFF_BUILD_UPLOAD_REMOTE_H
#define SKIFF_BUILD_UPLOAD_REMOTE_H

#include "build.h"

/* The output (build_collect), hashed and sent by the deploy protocol: the file list with the
 * site configuration, then only the blobs the API asks for. Finishing is remote_finish's. */
int build_upload_remote(struct build *b, struct error *err);

#endif
