/* net.h — the network of the build's commands: host, none, or egress through slirp4netns. */
#ifndef SKIFF_BUILD_NET_H
#define SKIFF_BUILD_NET_H

#include "build.h"

/* One sandboxed command's setup: bubblewrap reports on info and waits on block. */
struct build_net {
	enum build_net_mode mode;
	int info_fd, block_fd;        /* our ends */
	int child_info, child_block;  /* bwrap's ends: --info-fd 3, --block-fd 4 */
	int resolv_fd;                /* --ro-bind-data 5 /etc/resolv.conf (egress) */
	int sandbox_pid;              /* the sandbox's first process, from the info */
	int ns_pid;                   /* bwrap, in the user and network namespaces proc_run made */
	int slirp_pid;
	int slirp_exit_fd;            /* slirp4netns --exit-fd: closing it stops it */
};

/* Picks the mode from build_network and what the host has, and logs it. */
enum build_net_mode build_net_choose(struct build *b);
/* Pipes (and resolv.conf) for one command, before the fork. */
int build_net_prepare(struct build_net *n, enum build_net_mode mode, struct error *err);
/* After the fork: reads the sandbox's pid, sets up its network (egress), lets it run. */
int build_net_started(struct build_net *n, int bwrap_pid, struct error *err);
/* After the command: stops slirp4netns, closes everything. */
void build_net_finish(struct build_net *n);

#endif
