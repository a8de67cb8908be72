/* upload.h — the output directory into the store. */
#ifndef SKIFF_BUILD_UPLOAD_H
#define SKIFF_BUILD_UPLOAD_H

#include "build.h"
#include "collect.h"

/* Collects the output directory, hashes and compresses its files, stores the missing blobs
 * and then the manifest. */
int build_upload(struct build *b, struct error *err);
/* The output directory's files into *cr (the caller disposes of it), within the configured
 * limits; returns the descriptor of the output directory (the caller closes it) or a negative
 * error. */
int build_collect(struct build *b, struct collect_result *cr, struct error *err);

#endif
