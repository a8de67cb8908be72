/* store_file.h — the file backend of the store: a local directory (store_path) holding
 * blobs/, manifests/, logs/ and tmp/, every write renamed into place from tmp/. */
#ifndef SKIFF_STORE_FILE_H
#define SKIFF_STORE_FILE_H

#include "config.h"
#include "error.h"
#include "store_backend.h"

/* Opens the store in dir (absolute, no trailing '/'), creating its directories. */
int store_file_open(struct store_backend **out, const struct config *cfg, const char *dir,
		    struct error *err);

#endif
