/* sse-floor — the machine's own limit for the SSE bridge's fan-out: N loopback TCP
 * connections, the sending ends in this process and the receiving ends in a child (one
 * process may not hold both: the fd limit), one 200-byte SSE event written to every one of
 * them from T sender threads, and what that costs with no server logic at all: wall time of
 * the fan-out, CPU per send (the senders' thread CPU time divided by N), and the arrival
 * latency of the event at each receiving socket (the kernel's receive timestamp, the same
 * clock check/bench/sse.sh judges the bridge by), from just before the senders start.
 *
 * Two receivers: "idle" reads nothing while the event is sent (a client that costs
 * nothing; the sockets are read after the round, their timestamps intact), "drain" reads
 * every socket on epoll as the bytes come (like the benchmark's client process, sharing the
 * machine). Variants of the send itself, to see what lowers the per-send cost:
 *   send     send(MSG_DONTWAIT|MSG_NOSIGNAL), TCP_NODELAY (what skiff-sse-bridge does)
 *   write    write(2)
 *   writev   writev(2) of two pieces (a per-client prefix and the shared event)
 *   delay    send without TCP_NODELAY
 *   cork     TCP_CORK on, write, TCP_CORK off
 *   zerocopy SO_ZEROCOPY and MSG_ZEROCOPY (completions reaped off the clock)
 *   sndbuf   send with SO_SNDBUF of 4 KiB
 *
 * Prints one key=value line per (variant, receiver, threads) with the load average. With -P
 * the CPUs are shared as check/bench/sse.sh shares them with the bridge: the receiver on
 * CPUs 1.., one sender thread alone on CPU 0, several senders on every CPU.
 * Built by make (never run by make check):
 *   build/debug/bin/sse-floor [-n CLIENTS] [-r ROUNDS] [-t "1 2"] [-m "idle drain"]
 *                             [-v "send write ..."|all] [-P]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif

#define FLOOR_THREADS_MAX 8
#define FLOOR_ROUND_GAP_MS 50       /* quiet time between rounds */
#define FLOOR_WAIT_S 10             /* for every client to get a round's event */

enum variant { V_SEND, V_WRITE, V_WRITEV, V_DELAY, V_CORK, V_ZEROCOPY, V_SNDBUF, V_COUNT };
static const char *const variant_names[V_COUNT] = {
	"send", "write", "writev", "delay", "cork", "zerocopy", "sndbuf",
};

static int nclients = 10000;
static int rounds = 10;
static int pin;           /* -P: CPUs as check/bench/sse.sh gives them to the bridge */
static int *srv;          /* the sending ends (this process) */
static char event[200];
static const char prefix[] = "id: 1732270000000-";

/* one round's shared state */
static enum variant cur_variant;
static int cur_threads;
static pthread_barrier_t start_bar, done_bar;
static atomic_int stop_senders;
static double thread_cpu_ms[FLOOR_THREADS_MAX];
static double thread_end_ms[FLOOR_THREADS_MAX];
static atomic_long send_errors;

/* the receiving process: its end of the command pipe and of the reply pipe */
static pid_t receiver_pid;
static int to_receiver = -1, from_receiver = -1;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double ts_ms(struct timespec t)
{
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double now_ms(clockid_t clk)
{
	struct timespec t;
	clock_gettime(clk, &t);
	return ts_ms(t);
}

static void set_int(int fd, int level, int name, int v)
{
	if (setsockopt(fd, level, name, &v, sizeof(v)) < 0)
		die("setsockopt");
}

static void read_full(int fd, void *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("read from the other process");
		p = (char *)p + r;
		n -= (size_t)r;
	}
}

static void write_full(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write to the other process");
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

/* Pins thread (0: the calling process) to CPUs first..last, when the machine has them. */
static void pin_to(pthread_t *thread, int first, int last)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (!pin || ncpu < 2)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	for (int c = first; c <= last && c < ncpu; c++)
		CPU_SET(c, &set);
	if (last < 0)
		for (int c = 0; c < ncpu; c++)
			CPU_SET(c, &set);
	int rc = thread ? pthread_setaffinity_np(*thread, sizeof(set), &set)
			: sched_setaffinity(0, sizeof(set), &set);
	if (rc != 0)
		die("setaffinity");
}

static void raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)nclients + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < want) {
			fprintf(stderr, "sse-floor: the fd limit %ld is below %d clients\n",
				(long)rl.rlim_cur, nclients);
			exit(1);
		}
	}
}

/* ---- the receiving process ----------------------------------------------------------- */

/* Reads what one receiving end holds; *at is the kernel's receive time of its first byte
 * (0 when the read gave none). Returns the bytes read. */
static ssize_t read_one(int fd, double *at)
{
	char buf[4096];
	char ctl[CMSG_SPACE(sizeof(struct scm_timestamping))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	*at = 0;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n <= 0)
		return n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_TIMESTAMPING)
			*at = ts_ms(((struct scm_timestamping *)CMSG_DATA(cm))->ts[0]);
	return n;
}

/* Commands on the pipe, one byte each: 'I' read every socket once now (idle: the event was
 * sent), 'D' answer 'R' and then read every socket on epoll until each has one more event
 * (drain), 'Q' quit. Both answer with the arrival times of the round ([nclients] doubles,
 * realtime ms) and the CPU milliseconds the process spent on it. */
static void receiver_main(const struct sockaddr_in *to, int cmd, int reply)
{
	int *cli = calloc((size_t)nclients, sizeof(*cli));
	double *at = calloc((size_t)nclients, sizeof(*at));
	uint32_t *bytes = calloc((size_t)nclients, sizeof(*bytes));
	if (!cli || !at || !bytes)
		die("calloc");
	int ts = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
	for (int i = 0; i < nclients; i++) {
		cli[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (cli[i] < 0)
			die("socket");
		set_int(cli[i], SOL_SOCKET, SO_TIMESTAMPING, ts);
		set_int(cli[i], IPPROTO_TCP, TCP_NODELAY, 1);
		if (connect(cli[i], (const struct sockaddr *)to, sizeof(*to)) < 0)
			die("connect");
	}
	int ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	for (int i = 0; i < nclients; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, cli[i], &ev) < 0)
			die("epoll_ctl");
	}
	pin_to(NULL, 1, (int)sysconf(_SC_NPROCESSORS_ONLN) - 1);
	write_full(reply, "C", 1);   /* connected */
	struct epoll_event evs[512];
	for (;;) {
		char c;
		read_full(cmd, &c, 1);
		if (c == 'Q')
			break;
		double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
		if (c == 'I') {
			for (int i = 0; i < nclients; i++) {
				double t;
				at[i] = 0;
				while (read_one(cli[i], &t) > 0)
					if (!at[i])
						at[i] = t;
			}
		} else {
			memset(at, 0, (size_t)nclients * sizeof(*at));
			int left = nclients;
			write_full(reply, "R", 1);
			double limit = now_ms(CLOCK_MONOTONIC) + FLOOR_WAIT_S * 1e3;
			while (left > 0 && now_ms(CLOCK_MONOTONIC) < limit) {
				int n = epoll_wait(ep, evs, 512, 100);
				for (int e = 0; e < n; e++) {
					int i = (int)evs[e].data.u32;
					double t;
					uint32_t before = bytes[i];
					ssize_t got = read_one(cli[i], &t);
					if (got <= 0)
						continue;
					/* a round is one event: its first bytes give the arrival */
					if (before % sizeof(event) == 0)
						at[i] = t;
					bytes[i] += (uint32_t)got;
					if (bytes[i] / sizeof(event) > before / sizeof(event))
						left--;
				}
			}
		}
		double cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
		write_full(reply, at, (size_t)nclients * sizeof(*at));
		write_full(reply, &cpu, sizeof(cpu));
	}
	exit(0);
}

/* N connections: the receiving ends in a child process (each process then needs only N
 * descriptors), the sending ends here. */
static void connect_all(void)
{
	raise_fd_limit();
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	set_int(lfd, SOL_SOCKET, SO_REUSEADDR, 1);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	socklen_t sl = sizeof(sin);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 4096) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) < 0)
		die("listen");
	int down[2], up[2];
	if (pipe(down) < 0 || pipe(up) < 0)
		die("pipe");
	receiver_pid = fork();
	if (receiver_pid < 0)
		die("fork");
	if (receiver_pid == 0) {
		close(lfd);
		close(down[1]);
		close(up[0]);
		receiver_main(&sin, down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	to_receiver = down[1];
	from_receiver = up[0];
	srv = calloc((size_t)nclients, sizeof(*srv));
	if (!srv)
		die("calloc");
	for (int i = 0; i < nclients; i++) {
		srv[i] = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (srv[i] < 0)
			die("accept");
	}
	close(lfd);
	char c;
	read_full(from_receiver, &c, 1);
}

/* The sending ends' options for a variant (each run starts from the same state). */
static void configure(enum variant v)
{
	for (int i = 0; i < nclients; i++) {
		set_int(srv[i], IPPROTO_TCP, TCP_NODELAY, v != V_DELAY);
		set_int(srv[i], SOL_SOCKET, SO_SNDBUF, v == V_SNDBUF ? 4096 : 1 << 16);
		if (v == V_ZEROCOPY)
			set_int(srv[i], SOL_SOCKET, SO_ZEROCOPY, 1);
	}
}

static int send_one(int fd, enum variant v)
{
	ssize_t w;
	switch (v) {
	case V_WRITE:
		w = write(fd, event, sizeof(event));
		break;
	case V_WRITEV: {
		struct iovec iov[2] = {
			{ (void *)event, sizeof(prefix) - 1 },
			{ event + sizeof(prefix) - 1, sizeof(event) - (sizeof(prefix) - 1) },
		};
		w = writev(fd, iov, 2);
		break;
	}
	case V_CORK:
		set_int(fd, IPPROTO_TCP, TCP_CORK, 1);
		w = write(fd, event, sizeof(event));
		set_int(fd, IPPROTO_TCP, TCP_CORK, 0);
		break;
	case V_ZEROCOPY:
		w = send(fd, event, sizeof(event), MSG_DONTWAIT | MSG_NOSIGNAL | MSG_ZEROCOPY);
		break;
	default:
		w = send(fd, event, sizeof(event), MSG_DONTWAIT | MSG_NOSIGNAL);
		break;
	}
	return w == (ssize_t)sizeof(event) ? 0 : -1;
}

static void *sender_main(void *arg)
{
	int k = (int)(intptr_t)arg;
	for (;;) {
		pthread_barrier_wait(&start_bar);
		if (atomic_load(&stop_senders))
			return NULL;
		if (k < cur_threads) {
			double c0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
			long errs = 0;
			for (int i = k; i < nclients; i += cur_threads)
				errs += send_one(srv[i], cur_variant) < 0;
			thread_cpu_ms[k] = now_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
			thread_end_ms[k] = now_ms(CLOCK_REALTIME);
			atomic_fetch_add(&send_errors, errs);
		}
		pthread_barrier_wait(&done_bar);
	}
}

static void reap_zerocopy(void)
{
	char ctl[128];
	for (int i = 0; i < nclients; i++)
		for (;;) {
			struct msghdr mh = { .msg_control = ctl, .msg_controllen = sizeof(ctl) };
			if (recvmsg(srv[i], &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
				break;
		}
}

static void sleep_ms(int ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	if (!n)
		return -1;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static void run(enum variant v, int drain, int threads, pthread_t *senders)
{
	cur_variant = v;
	cur_threads = threads;
	for (int k = 0; k < threads; k++)
		pin_to(&senders[k], 0, threads == 1 ? 0 : -1);
	configure(v);
	atomic_store(&send_errors, 0);
	double *walls = calloc((size_t)rounds, sizeof(double));
	double *arrival = calloc((size_t)nclients * (size_t)rounds, sizeof(double));
	double *at = calloc((size_t)nclients, sizeof(double));
	if (!walls || !arrival || !at)
		die("calloc");
	size_t narrival = 0;
	double cpu_total = 0, receiver_cpu = 0;
	int incomplete = 0;
	for (int r = 0; r < rounds; r++) {
		sleep_ms(FLOOR_ROUND_GAP_MS);
		if (drain) {
			char c;
			write_full(to_receiver, "D", 1);
			read_full(from_receiver, &c, 1);
		}
		double t0 = now_ms(CLOCK_REALTIME);
		pthread_barrier_wait(&start_bar);
		pthread_barrier_wait(&done_bar);
		double end = 0, cpu = 0;
		for (int k = 0; k < threads; k++) {
			if (thread_end_ms[k] > end)
				end = thread_end_ms[k];
			cpu += thread_cpu_ms[k];
		}
		walls[r] = end - t0;
		cpu_total += cpu;
		if (!drain)
			write_full(to_receiver, "I", 1);
		double rcpu;
		read_full(from_receiver, at, (size_t)nclients * sizeof(*at));
		read_full(from_receiver, &rcpu, sizeof(rcpu));
		receiver_cpu += rcpu;
		int got = 0;
		for (int i = 0; i < nclients; i++)
			if (at[i] > 0) {
				arrival[narrival++] = at[i] - t0;
				got++;
			}
		incomplete += got < nclients;
		if (v == V_ZEROCOPY)
			reap_zerocopy();
	}
	qsort(walls, (size_t)rounds, sizeof(double), cmp_double);
	qsort(arrival, narrival, sizeof(double), cmp_double);
	double load[3] = { -1, -1, -1 };
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	double sends = (double)nclients * rounds;
	printf("floor variant=%s receiver=%s threads=%d clients=%d rounds=%d "
	       "fanout_wall_p50_ms=%.1f fanout_wall_max_ms=%.1f cpu_ms_per_line=%.1f "
	       "cpu_us_per_send=%.2f arrival_p50_ms=%.1f arrival_p99_ms=%.1f arrival_max_ms=%.1f "
	       "arrivals=%zu",
	       variant_names[v], drain ? "drain" : "idle", threads, nclients, rounds,
	       pct(walls, (size_t)rounds, 0.5), walls[rounds - 1], cpu_total / rounds,
	       cpu_total * 1e3 / sends, pct(arrival, narrival, 0.5), pct(arrival, narrival, 0.99),
	       narrival ? arrival[narrival - 1] : -1, narrival);
	if (drain)
		printf(" receiver_cpu_ms_per_line=%.1f", receiver_cpu / rounds);
	printf(" send_errors=%ld incomplete_rounds=%d load1=%.2f\n", atomic_load(&send_errors),
	       incomplete, load[0]);
	fflush(stdout);
	free(walls);
	free(arrival);
	free(at);
}

/* Each word of list that names a variant (or "all"). */
static int variants_of(const char *list, int *out)
{
	int n = 0;
	for (int v = 0; v < V_COUNT; v++) {
		const char *p = list;
		size_t len = strlen(variant_names[v]);
		int want = strstr(list, "all") != NULL;
		while (!want && (p = strstr(p, variant_names[v]))) {
			want = (p == list || p[-1] == ' ') && (p[len] == '\0' || p[len] == ' ');
			p += len;
		}
		if (want)
			out[n++] = v;
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *tlist = "1 2", *mlist = "idle drain", *vlist = "send";
	int o;
	while ((o = getopt(argc, argv, "n:r:t:m:v:P")) != -1) {
		switch (o) {
		case 'n': nclients = (int)strtol(optarg, NULL, 10); break;
		case 'r': rounds = (int)strtol(optarg, NULL, 10); break;
		case 't': tlist = optarg; break;
		case 'm': mlist = optarg; break;
		case 'v': vlist = optarg; break;
		case 'P': pin = 1; break;
		default:
			fprintf(stderr, "usage: sse-floor [-n CLIENTS] [-r ROUNDS] [-t \"1 2\"] "
					"[-m \"idle drain\"] [-v \"send write writev delay cork "
					"zerocopy sndbuf\"|all] [-P]\n");
			return 2;
		}
	}
	if (nclients < 1 || nclients > 1000000 || rounds < 1 || rounds > 1000) {
		fprintf(stderr, "sse-floor: -n 1..1000000, -r 1..1000\n");
		return 2;
	}
	int variants[V_COUNT];
	int nv = variants_of(vlist, variants);
	if (!nv) {
		fprintf(stderr, "sse-floor: no known variant in -v \"%s\"\n", vlist);
		return 2;
	}
	/* an SSE event of 200 bytes, as the bridge frames a log line */
	memset(event, 'x', sizeof(event));
	memcpy(event, prefix, sizeof(prefix) - 1);
	static const char mid[] = "0\nevent: line\ndata: {\"s\":\"stdout\",\"m\":\"";
	memcpy(event + sizeof(prefix) - 1, mid, sizeof(mid) - 1);
	memcpy(event + sizeof(event) - 4, "\"}\n\n", 4);
	connect_all();
	pthread_barrier_init(&start_bar, NULL, FLOOR_THREADS_MAX + 1);
	pthread_barrier_init(&done_bar, NULL, FLOOR_THREADS_MAX + 1);
	pthread_t th[FLOOR_THREADS_MAX];
	for (int k = 0; k < FLOOR_THREADS_MAX; k++)
		if (pthread_create(&th[k], NULL, sender_main, (void *)(intptr_t)k) != 0)
			die("pthread_create");
	for (int a = 0; a < nv; a++)
		for (const char *m = mlist; *m; m++) {
			if (m != mlist && m[-1] != ' ')
				continue;
			int drain = !strncmp(m, "drain", 5);
			if (!drain && strncmp(m, "idle", 4))
				continue;
			for (const char *t = tlist; *t; t++) {
				if (t != tlist && t[-1] != ' ')
					continue;
				int threads = (int)strtol(t, NULL, 10);
				if (threads >= 1 && threads <= FLOOR_THREADS_MAX)
					run((enum variant)variants[a], drain, threads, th);
			}
		}
	atomic_store(&stop_senders, 1);
	pthread_barrier_wait(&start_bar);
	for (int k = 0; k < FLOOR_THREADS_MAX; k++)
		pthread_join(th[k], NULL);
	write_full(to_receiver, "Q", 1);
	waitpid(receiver_pid, NULL, 0);
	for (int i = 0; i < nclients; i++)
		close(srv[i]);
	return 0;
}
