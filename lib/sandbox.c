/* sandbox.c — a build's pids cgroup (a process limit that holds for root too, and a way to
 * find and kill everything a build started) and its work directory on the host. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* cgroup v1 with a pids hierarchy, else the unified (v2) hierarchy at /sys/fs/cgroup */
static const char *const sandbox_cgroup_roots[] = { "/sys/fs/cgroup/pids", "/sys/fs/cgroup" };

static int sandbox_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

/* The directory of the build's cgroup under the first root with a pids controller. 0 when
 * one exists; root_out gets the hierarchy's root. */
static int sandbox_cgroup_path(const char *id, char *out, size_t cap, const char **root_out)
{
	for (size_t i = 0; i < sizeof(sandbox_cgroup_roots) / sizeof(sandbox_cgroup_roots[0]); i++) {
		const char *root = sandbox_cgroup_roots[i];
		char probe[PATH_MAX];
		snprintf(probe, sizeof(probe), "%s/%s", root,
			 i == 0 ? "cgroup.procs" : "cgroup.controllers");
		if (access(probe, F_OK) < 0)
			continue;
		int n = snprintf(out, cap, "%s/" SANDBOX_CGROUP_NAME "/%s", root, id);
		if (n < 0 || (size_t)n >= cap)
			return -1;
		*root_out = root;
		return 0;
	}
	return -1;
}

int sandbox_cgroup_create(struct sandbox_cgroup *cg, const char *id, long max_pids,
			  struct error *err)
{
	const char *root = NULL;
	char parent[PATH_MAX], file[PATH_MAX + 32], value[32];
	cg->path[0] = '\0';
	if (sandbox_cgroup_path(id, cg->path, sizeof(cg->path), &root) < 0) {
		cg->path[0] = '\0';
		return error_set(err, SKIFF_ESYS, NULL, "no pids cgroup controller on this host");
	}
	sandbox_cgroup_kill(id); /* a leftover of an earlier attempt */
	snprintf(parent, sizeof(parent), "%s/" SANDBOX_CGROUP_NAME, root);
	bool v2 = strcmp(root, sandbox_cgroup_roots[0]) != 0;
	if (v2) {
		snprintf(file, sizeof(file), "%s/cgroup.subtree_control", root);
		sandbox_write_file(file, "+pids");
	}
	if ((mkdir(parent, 0755) < 0 && errno != EEXIST) || mkdir(cg->path, 0755) < 0)
		goto fail;
	if (v2) {
		snprintf(file, sizeof(file), "%s/cgroup.subtree_control", parent);
		sandbox_write_file(file, "+pids");
	}
	snprintf(file, sizeof(file), "%s/pids.max", cg->path);
	snprintf(value, sizeof(value), "%ld", max_pids);
	if (sandbox_write_file(file, value) < 0)
		goto fail;
	return 0;
fail:;
	int e = errno;
	if (cg->path[0])
		rmdir(cg->path);
	cg->path[0] = '\0';
	return error_set(err, SKIFF_ESYS, NULL, "cannot set up a pids cgroup under %s: %s", root,
			 strerror(e));
}

int sandbox_cgroup_procs_fd(const struct sandbox_cgroup *cg)
{
	if (!cg->path[0])
		return -1;
	char file[PATH_MAX + 16];
	snprintf(file, sizeof(file), "%s/cgroup.procs", cg->path);
	return open(file, O_WRONLY | O_CLOEXEC);
}

long sandbox_cgroup_refusals(const struct sandbox_cgroup *cg)
{
	if (!cg->path[0])
		return 0;
	char file[PATH_MAX + 16], line[64];
	snprintf(file, sizeof(file), "%s/pids.events", cg->path);
	FILE *f = fopen(file, "re");
	long n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "max ", 4)) {
			char *end;
			n = strtol(line + 4, &end, 10);
		}
	fclose(f);
	return n;
}

/* SIGKILL to every pid in cgroup.procs; the number of pids found. */
static int sandbox_cgroup_kill_once(const char *path)
{
	char file[PATH_MAX + 16], line[32];
	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	FILE *f = fopen(file, "re");
	int n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *end;
		long pid = strtol(line, &end, 10);
		if (end != line && pid > 1) {
			kill((pid_t)pid, SIGKILL);
			n++;
		}
	}
	fclose(f);
	return n;
}

int sandbox_cgroup_kill(const char *id)
{
	const char *root = NULL;
	char path[PATH_MAX];
	if (sandbox_cgroup_path(id, path, sizeof(path), &root) < 0 || access(path, F_OK) < 0)
		return 0;
	int killed = 0;
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	/* pids.max bounds how fast a fork bomb refills it, so a few passes empty it */
	for (int i = 0; i < SANDBOX_KILL_ROUNDS; i++) {
		int n = sandbox_cgroup_kill_once(path);
		killed += n;
		if (rmdir(path) == 0 || errno == ENOENT)
			break;
		nanosleep(&pause, NULL);
	}
	return killed;
}

int sandbox_workdir(const struct config *cfg, const char *id, char *out, size_t cap,
		    struct error *err)
{
	int n = snprintf(out, cap, "%s/%s", cfg->work_dir, id);
	if (n < 0 || (size_t)n >= cap)
		return error_set(err, SKIFF_EINVALID, NULL, "work_dir path too long");
	return 0;
}

void sandbox_rm_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	char *const roots[] = { (char *)path, NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, NULL);
	if (!fts)
		return;
	FTSENT *e;
	while ((e = fts_read(fts)) != NULL) {
		switch (e->fts_info) {
		case FTS_D:
			chmod(e->fts_accpath, 0700); /* pre-order: make it listable and removable */
			break;
		case FTS_DP:
			rmdir(e->fts_accpath);
			break;
		case FTS_DNR:
		case FTS_ERR:
			break;
		default:
			unlink(e->fts_accpath);
		}
	}
	fts_close(fts);
}

unsigned long long sandbox_tree_bytes(const char *path, unsigned long long limit,
				      unsigned long long *largest)
{
	unsigned long long big = 0;
	char *const roots[] = { (char *)path, NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, NULL);
	if (!fts)
		return 0;
	unsigned long long total = 0;
	FTSENT *e;
	while ((e = fts_read(fts)) != NULL && total <= limit)
		if (e->fts_info == FTS_F || e->fts_info == FTS_D || e->fts_info == FTS_SL ||
		    e->fts_info == FTS_DEFAULT) {
			total += (unsigned long long)e->fts_statp->st_blocks * 512ULL;
			if (e->fts_info == FTS_F && (unsigned long long)e->fts_statp->st_size > big)
				big = (unsigned long long)e->fts_statp->st_size;
		}
	fts_close(fts);
	if (largest)
		*largest = big;
	return total;
}
