/* upload.h — the output directory into the store. */
#ifndef SKIFF_BUILD_UPLOAD_H
#define SKIFF_BUILD_UPLOAD_H

#include "build.h"

/* Collects the output directory, hashes and compresses its files, stores the missing blobs
 * and then the manifest. */
int build_upload(struct build *b, struct error *err);

#endif
