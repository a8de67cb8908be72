/* sandbox.h — what a local build holds on the host, shared by skiff-build (which creates it)
 * and skiff-dispatch (which removes whatever a killed build left): its pids cgroup and its
 * work directory. */
#ifndef SKIFF_SANDBOX_H
#define SKIFF_SANDBOX_H

#include <limits.h>
#include <stddef.h>
#include "config.h"
#include "error.h"

#define SANDBOX_CGROUP_NAME "skiff-build"     /* directory under the pids hierarchy */
#define SANDBOX_KILL_ROUNDS 50                /* SIGKILL passes over a cgroup (10 ms apart) */

/* The pids cgroup of one build (path is "" when the host has none). */
struct sandbox_cgroup {
	char path[PATH_MAX];
};

/* Creates the build's pids cgroup with pids.max = max_pids (a leftover of an earlier attempt
 * is emptied first). SKIFF_ESYS when the host offers no writable pids controller. */
int sandbox_cgroup_create(struct sandbox_cgroup *cg, const char *id, long max_pids,
			  struct error *err);
/* An O_WRONLY descriptor of the cgroup's cgroup.procs: a child writes "0" to it to join
 * (before execve, so that everything it starts is inside). -1 when there is none. */
int sandbox_cgroup_procs_fd(const struct sandbox_cgroup *cg);
/* How often a fork was refused because pids.max was reached. */
long sandbox_cgroup_refusals(const struct sandbox_cgroup *cg);
/* Kills every process of the build's cgroup and removes it; safe when there is none. Returns
 * the number of processes killed. */
int sandbox_cgroup_kill(const char *id);

/* work_dir/{id} into out; 0, or SKIFF_EINVALID when too long. */
int sandbox_workdir(const struct config *cfg, const char *id, char *out, size_t cap,
		    struct error *err);
/* Removes a tree without following symlinks (directories made writable first). */
void sandbox_rm_tree(const char *path);
/* Bytes a tree occupies on disk (st_blocks), without following symlinks; stops counting
 * once past limit. largest (may be NULL) gets the size of its largest file. */
unsigned long long sandbox_tree_bytes(const char *path, unsigned long long limit,
				      unsigned long long *largest);

#endif
