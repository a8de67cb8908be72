/* net.c — the network of a sandboxed command: bubblewrap holds the command (--block-fd) until
 * its network namespace has a slirp4netns user-mode network with the host's loopback, its own
 * addresses, the private, shared, link-local and multicast ranges and all of IPv6 made
 * unreachable by routes that the command, without capabilities, cannot remove. */
#include "net.h"
#include "build_log.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NET_SLIRP "/usr/bin/slirp4netns"
#define NET_WAIT_MS 10000      /* for bwrap's info and slirp4netns's readiness */
#define NET_INFO_MAX 4096
#define NET_ROUTES_MAX 16384   /* the batch fits a pipe's buffer */
#define NET_RESOLV "nameserver 10.0.2.3\n"   /* slirp4netns's DNS forwarder */

extern char **environ;

/* Ranges a build must not reach through slirp4netns's NAT (10.0.2.0/24, slirp's own gateway and
 * DNS, stays reachable as the more specific connected route; the gateway does not lead to the
 * host's loopback with --disable-host-loopback). */
static const char *const net_blocked[] = {
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16",
	"172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
	"::/0", /* no IPv6 at all: slirp4netns runs without it, this makes it explicit */
};

static const char *const net_ip_paths[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" };

enum build_net_mode build_net_choose(struct build *b)
{
	const char *want = b->cfg->build_network;
	if (strcmp(b->cfg->sandbox, "bwrap")) {
		build_log(b, "Network: sandbox = none, so the build shares the host's network "
			     "(build_network = %s is not applied)", want);
		return BUILD_NET_HOST;
	}
	if (!strcmp(want, "host")) {
		build_log(b, "Network: build_network = host: this build shares the host's network and "
			     "can reach every service on it (Redis, the dashboard API, the private "
			     "network); meant only for trusted single-user setups");
		return BUILD_NET_HOST;
	}
	if (!strcmp(want, "none")) {
		build_log(b, "Network: none (build_network = none)");
		return BUILD_NET_NONE;
	}
	if (access(NET_SLIRP, X_OK) < 0) {
		build_log(b, "Network: none: slirp4netns is not installed, so build_network = egress "
			     "falls back to no network at all");
		return BUILD_NET_NONE;
	}
	build_log(b, "Network: outbound only (slirp4netns); the host, private, link-local and "
		     "multicast addresses are unreachable");
	return BUILD_NET_EGRESS;
}

static void net_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int build_net_prepare(struct build_net *n, enum build_net_mode mode, struct error *err)
{
	int info[2] = { -1, -1 }, block[2] = { -1, -1 };
	memset(n, 0, sizeof(*n));
	n->mode = mode;
	n->info_fd = n->block_fd = n->resolv_fd = n->child_info = n->child_block = -1;
	n->slirp_exit_fd = -1;
	if (pipe2(info, O_CLOEXEC) < 0 || pipe2(block, O_CLOEXEC) < 0)
		goto fail;
	n->info_fd = info[0];
	n->child_info = info[1];
	n->child_block = block[0];
	n->block_fd = block[1];
	if (mode == BUILD_NET_EGRESS) {
		n->resolv_fd = memfd_create("resolv.conf", MFD_CLOEXEC);
		if (n->resolv_fd < 0 ||
		    write(n->resolv_fd, NET_RESOLV, sizeof(NET_RESOLV) - 1) != sizeof(NET_RESOLV) - 1 ||
		    lseek(n->resolv_fd, 0, SEEK_SET) < 0)
			goto fail;
	}
	return 0;
fail:;
	int e = errno;
	if (info[0] >= 0 && n->info_fd < 0) {
		close(info[0]);
		close(info[1]);
	}
	build_net_finish(n);
	return error_set(err, SKIFF_ESYS, NULL, "cannot prepare the sandbox: %s", strerror(e));
}

/* Reads fd until the text is a JSON object or NET_WAIT_MS passed. */
static int net_read_info(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	long long until = clock_mono_ms() + NET_WAIT_MS;
	while (len + 1 < cap) {
		long long left = until - clock_mono_ms();
		struct pollfd p = { fd, POLLIN, 0 };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		ssize_t r = read(fd, buf + len, cap - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		if (strchr(buf, '}'))
			return 0;
	}
	buf[len] = '\0';
	return strchr(buf, '}') ? 0 : -1;
}

/* Starts slirp4netns for the namespace of pid and waits until tap0 is configured. */
static int net_slirp_start(struct build_net *n, struct error *err)
{
	int ready[2] = { -1, -1 }, ex[2] = { -1, -1 };
	char ns[64], userns[80];
	snprintf(ns, sizeof(ns), "/proc/%d/ns/net", n->ns_pid);
	snprintf(userns, sizeof(userns), "--userns-path=/proc/%d/ns/user", n->ns_pid);
	/* the namespaces of bubblewrap itself (proc_run's new_netns), not of the sandbox inside,
	 * whose own user namespace does not own the network */
	const char *argv[] = { NET_SLIRP, "--configure", "--mtu=65520", "--disable-host-loopback",
			       "--enable-seccomp", "--ready-fd=3", "--exit-fd=4", userns,
			       "--netns-type=path", ns, "tap0",
			       /* its own mount namespace needs root */
			       geteuid() == 0 ? "--enable-sandbox" : NULL, NULL };
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0) {
		int e = errno;
		if (ready[0] >= 0) {
			close(ready[0]);
			close(ready[1]);
		}
		return error_set(err, SKIFF_ESYS, NULL, "pipe: %s", strerror(e));
	}
	pid_t child = fork();
	if (child == 0) {
		int devnull = open("/dev/null", O_RDWR);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
		    dup2(ready[1], 3) < 0 || dup2(ex[0], 4) < 0)
			_exit(127);
		close_range(5, ~0U, 0);
		execve(argv[0], (char *const *)argv, environ);
		_exit(127);
	}
	close(ready[1]);
	close(ex[0]);
	n->slirp_exit_fd = ex[1];
	if (child < 0) {
		close(ready[0]);
		return error_set(err, SKIFF_ESYS, NULL, "fork: %s", strerror(errno));
	}
	n->slirp_pid = child;
	char c = 0;
	struct pollfd p = { ready[0], POLLIN, 0 };
	int ok = poll(&p, 1, NET_WAIT_MS) == 1 && read(ready[0], &c, 1) == 1 && c == '1';
	close(ready[0]);
	if (!ok)
		return error_set(err, SKIFF_ESYS, NULL, "slirp4netns did not start the build's network");
	return 0;
}

/* Appends "route add unreachable ADDR/32" for each of the host's own IPv4 addresses: a service
 * bound to 0.0.0.0 answers on them, and slirp4netns would connect to them from the host. */
static void net_host_routes(struct buf *batch)
{
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs) < 0)
		return;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		char text[INET_ADDRSTRLEN];
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)i->ifa_addr;
		if (inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)))
			buf_printf(batch, "route replace unreachable %s/32\n", text);
	}
	freeifaddrs(ifs);
}

/* `ip -batch -` inside the namespace of the sandbox (setns from here: the command has no
 * capability to undo it): its loopback up, and with egress the unreachable routes. */
static int net_routes(struct build_net *n, struct error *err)
{
	const char *ip = NULL;
	for (size_t i = 0; i < sizeof(net_ip_paths) / sizeof(net_ip_paths[0]) && !ip; i++)
		if (access(net_ip_paths[i], X_OK) == 0)
			ip = net_ip_paths[i];
	if (!ip)
		return error_set(err, SKIFF_ESYS, NULL, "ip (iproute2) is not installed");
	struct buf batch = BUF_INIT(NET_ROUTES_MAX);
	buf_puts(&batch, "link set lo up\n");
	for (size_t i = 0; n->mode == BUILD_NET_EGRESS && i < sizeof(net_blocked) / sizeof(net_blocked[0]); i++)
		buf_printf(&batch, "route add unreachable %s\n", net_blocked[i]);
	if (n->mode == BUILD_NET_EGRESS)
		net_host_routes(&batch);
	char path[64], upath[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", n->ns_pid);
	snprintf(upath, sizeof(upath), "/proc/%d/ns/user", n->ns_pid);
	int ns = open(path, O_RDONLY | O_CLOEXEC), uns = open(upath, O_RDONLY | O_CLOEXEC);
	int in[2] = { -1, -1 }, rc = 0;
	if (batch.err || ns < 0 || uns < 0 || pipe2(in, O_CLOEXEC) < 0) {
		rc = error_set(err, SKIFF_ESYS, NULL, "cannot reach the sandbox's network: %s (%s)",
			       batch.err ? "too many addresses" : strerror(errno), path);
		goto out;
	}
	/* the whole batch fits the pipe's buffer: written before the child reads it */
	if (write(in[1], batch.data, batch.len) != (ssize_t)batch.len) {
		rc = error_set(err, SKIFF_ESYS, NULL, "cannot write the routes: %s", strerror(errno));
		goto out;
	}
	net_close(&in[1]);
	const char *argv[] = { ip, "-batch", "-", NULL };
	pid_t child = fork();
	if (child == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		if (setns(uns, CLONE_NEWUSER) < 0 || setns(ns, CLONE_NEWNET) < 0 ||
		    dup2(in[0], 0) < 0 || devnull < 0 ||
		    dup2(devnull, 1) < 0)
			_exit(127);
		execve(ip, (char *const *)argv, environ);
		_exit(127);
	}
	int status = 0;
	if (child < 0 || waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		rc = error_set(err, SKIFF_ESYS, NULL, "cannot install the sandbox's routes (%s)",
			       child < 0 ? strerror(errno) : "ip failed");
out:
	if (ns >= 0)
		close(ns);
	if (uns >= 0)
		close(uns);
	net_close(&in[0]);
	net_close(&in[1]);
	buf_dispose(&batch);
	return rc;
}

int build_net_started(struct build_net *n, int bwrap_pid, struct error *err)
{
	n->ns_pid = bwrap_pid;
	char info[NET_INFO_MAX];
	net_close(&n->child_info);
	net_close(&n->child_block);
	net_close(&n->resolv_fd);
	if (net_read_info(n->info_fd, info, sizeof(info)) < 0)
		return error_set(err, SKIFF_ESYS, NULL, "bubblewrap did not start the sandbox");
	json_t *j = json_loads(info, JSON_DISABLE_EOF_CHECK, NULL);
	json_int_t pid = json_integer_value(json_object_get(j, "child-pid"));
	json_decref(j);
	if (pid <= 1)
		return error_set(err, SKIFF_ESYS, NULL, "bubblewrap did not say the sandbox's pid");
	n->sandbox_pid = (pid_t)pid;
	int rc = 0;
	if (n->mode == BUILD_NET_EGRESS && (rc = net_slirp_start(n, err)) < 0)
		return rc;
	if (n->mode != BUILD_NET_HOST && (rc = net_routes(n, err)) < 0)
		return rc;
	if (write(n->block_fd, "1", 1) != 1)
		return error_set(err, SKIFF_ESYS, NULL, "cannot start the sandbox: %s", strerror(errno));
	net_close(&n->block_fd);
	return 0;
}

void build_net_finish(struct build_net *n)
{
	net_close(&n->info_fd);
	net_close(&n->block_fd);
	net_close(&n->resolv_fd);
	net_close(&n->child_info);
	net_close(&n->child_block);
	net_close(&n->slirp_exit_fd); /* slirp4netns exits when this closes */
	if (n->slirp_pid > 0) {
		int status;
		long long until = clock_mono_ms() + 2000;
		pid_t w;
		while ((w = waitpid(n->slirp_pid, &status, WNOHANG)) == 0 && clock_mono_ms() < until)
			usleep(10000);
		if (w == 0) {
			kill(n->slirp_pid, SIGKILL);
			waitpid(n->slirp_pid, &status, 0);
		}
		n->slirp_pid = 0;
	}
}
