/* teststore.h — a file store of a test's own: a fresh temporary directory with the store at
 * {root}/store, opened before each test and removed whole after it. Header-only, included by
 * the test files that need it. */
#ifndef SKIFF_TESTSTORE_H
#define SKIFF_TESTSTORE_H

#include <check.h>
#include <stdio.h>

#include "config.h"
#include "store.h"
#include "testfs.h"

/* A fresh directory /tmp/{name}.XXXXXX into root, cfg at its defaults with the store below
 * root, and that store opened into *st. */
static __attribute__((unused)) void teststore_open(char *root, size_t rootlen, const char *name,
						   struct config *cfg, struct store **st)
{
	testfs_tmpdir(root, rootlen, name);
	config_defaults(cfg);
	snprintf(cfg->store_path, sizeof(cfg->store_path), "%s/store", root);
	struct error err;
	ck_assert_msg(store_open(st, cfg, &err) == 0, "store: %s", err.message);
}

/* Frees *st (whichever backend opened it) and removes root with all below it. */
static __attribute__((unused)) void teststore_close(struct store **st, const char *root)
{
	store_free(*st);
	*st = NULL;
	testfs_rmtree(root);
}

#endif
