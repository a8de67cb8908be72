/* sse-client.c — a test and benchmark peer for skiff-sse-bridge (and nchan): opens N SSE
 * connections on one epoll loop and checks or measures what each of them receives.
 *
 * Check mode (default): every connection must receive the same events, ids strictly
 * increasing, and the stream must end with an `end` event before the server closes it.
 * Connection 0's events go to -o FILE as "id<TAB>event<TAB>data" lines.
 *
 * Bench mode (-L LINES): once all N are connected, publishes LINES lines (-R redis socket
 * and -D deployment: XADD + PUBLISH as skiff-build does; or -U path: HTTP POST, for nchan),
 * each carrying its publish time, and prints the publish-to-client latency percentiles over
 * every (connection, line) pair: as read (when this one loop got to the bytes) and, over
 * TCP, as arrived (the kernel's receive timestamp, SO_TIMESTAMPING). -M PID samples that
 * process's VmRSS before connecting, once all are connected, and at the end, and its CPU
 * time (and this client's) from the first line to the end, printed per line.
 *
 * Built by check/it_sse.sh and check/bench/sse.sh:
 *   cc -O2 -o sse-client check/sse-client.c -lhiredis
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/net_tstamp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384
#define CONNECT_WINDOW 256   /* connects in flight at once */

struct conn {
	int fd;
	int state;               /* 0 connecting, 1 headers, 2 body, 3 closed */
	int chunked;
	long chunk_left;         /* bytes left in the current chunk; -1 size line, -2 its CRLF */
	char csize[24];          /* the chunk size line so far */
	size_t cslen;
	int cr;                  /* the last body byte was \r */
	size_t hlen;
	char *hdr;               /* header bytes until the blank line */
	size_t llen;
	char line[LINE_MAX_BYTES];
	char ev_id[128], ev_name[32];
	char *ev_data;
	size_t ev_dlen, ev_dcap;
	int ev_has_data;         /* a data: line came (an event without one is not dispatched) */
	/* results */
	unsigned long events;
	uint64_t hash;
	char last_id[128];
	int unordered, ended, after_end, status;
	unsigned long bench_seen;
};

static struct {
	const char *host, *unix_path, *path, *last_id, *out_path, *ready_path;
	int port, n, timeout_s;
	/* bench */
	int lines, interval_ms;
	const char *redis_sock, *deployment, *prefix, *pub_path;
	int mon_pid;
} opt = { "127.0.0.1", NULL, NULL, NULL, NULL, NULL, 0, 1, 60, 0, 100, NULL, NULL, "skiff:",
	  NULL, 0 };

static struct conn *conns;
static FILE *out;
static int epfd;
static int connected, closed, started;
static double *lat;
static double *arr;          /* arrival latencies: the kernel's receive time (TCP only) */
static size_t narr;
static int64_t rx_ns;        /* the receive time of the bytes being parsed; 0 when unknown */
static double line_first[1000], line_last[1000];   /* per line: first and last arrival */
static size_t nlat, latcap;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* CPU time (user + system, every thread) of process pid in ms, -1 when unknown; *user
 * gets the user part. */
static double cpu_ms(int pid, double *user)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');   /* the command name may hold spaces */
	unsigned long long ut, st;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return -1;
	*user = (double)ut * 1000.0 / (double)sysconf(_SC_CLK_TCK);
	return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static int conn_open(int nonblock)
{
	int fd;
	if (opt.unix_path) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", opt.unix_path);
		fd = socket(AF_UNIX, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
		if (fd < 0)
			die("socket");
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			if (errno == EAGAIN) {   /* the listen queue is full: try again later */
				close(fd);
				return -1;
			}
			if (errno != EINPROGRESS)
				die("connect");
		}
	} else {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
		inet_pton(AF_INET, opt.host, &sin.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
		if (fd < 0)
			die("socket");
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* the kernel's receive time of each segment, for the arrival latency (bench) */
		int ts = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
		if (opt.lines)
			setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &ts, sizeof(ts));
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS)
			die("connect");
	}
	return fd;
}

static int conn_start(int i)
{
	struct conn *c = &conns[i];
	c->fd = conn_open(1);
	if (c->fd < 0)
		return -1;
	c->chunk_left = -1;
	c->hash = 1469598103934665603ull;
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)i };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
	started++;
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->state == 3)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->state = 3;
	closed++;
}

static void hash_bytes(struct conn *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		c->hash = (c->hash ^ (unsigned char)p[i]) * 1099511628211ull;
}

/* Compares stream ids "ms-seq" numerically; other id forms compare as text. */
static int id_cmp(const char *a, const char *b)
{
	unsigned long long am, as, bm, bs;
	if (sscanf(a, "%llu-%llu", &am, &as) == 2 && sscanf(b, "%llu-%llu", &bm, &bs) == 2) {
		if (am != bm)
			return am < bm ? -1 : 1;
		return as < bs ? -1 : as > bs;
	}
	return strcmp(a, b);
}

static void event_dispatch(struct conn *c)
{
	int idx = (int)(c - conns);
	const char *data = c->ev_data ? c->ev_data : "";
	if (!c->ev_has_data) {
		c->ev_name[0] = '\0';
		return;
	}
	const char *name = c->ev_name[0] ? c->ev_name : "message";
	if (opt.lines) {
		const char *p = strstr(data, "bench ");
		if (p) {
			int64_t sent = strtoll(p + 6, NULL, 10);
			if (nlat == latcap) {
				latcap = latcap ? latcap * 2 : 65536;
				lat = realloc(lat, latcap * sizeof(*lat));
				arr = realloc(arr, latcap * sizeof(*arr));
				if (!lat || !arr)
					die("realloc");
			}
			lat[nlat] = (double)(real_ns() - sent) / 1e6;
			if (rx_ns)
				arr[narr++] = (double)(rx_ns - sent) / 1e6;
			nlat++;
			const char *ln = strstr(p, " line ");
			int k = ln ? (int)strtol(ln + 6, NULL, 10) : -1;
			if (k >= 0 && k < 1000) {
				if (line_first[k] == 0 || lat[nlat - 1] < line_first[k])
					line_first[k] = lat[nlat - 1];
				if (lat[nlat - 1] > line_last[k])
					line_last[k] = lat[nlat - 1];
			}
			c->bench_seen++;
		}
	} else {
		if (c->ended)
			c->after_end++;
		if (c->last_id[0] && id_cmp(c->ev_id, c->last_id) <= 0)
			c->unordered++;
		snprintf(c->last_id, sizeof(c->last_id), "%s", c->ev_id);
		hash_bytes(c, c->ev_id, strlen(c->ev_id));
		hash_bytes(c, "\t", 1);
		hash_bytes(c, name, strlen(name));
		hash_bytes(c, "\t", 1);
		hash_bytes(c, data, c->ev_dlen);
		hash_bytes(c, "\n", 1);
		if (idx == 0 && out) {
			fprintf(out, "%s\t%s\t%s\n", c->ev_id, name, data);
			fflush(out);
		}
		if (!strcmp(name, "end"))
			c->ended = 1;
	}
	c->events++;
	c->ev_name[0] = '\0';
	c->ev_dlen = 0;
	c->ev_has_data = 0;
	if (c->ev_data)
		c->ev_data[0] = '\0';
}

static void sse_line(struct conn *c, char *line, size_t n)
{
	if (n == 0) {
		event_dispatch(c);
		return;
	}
	if (line[0] == ':')
		return;
	char *colon = memchr(line, ':', n);
	size_t flen = colon ? (size_t)(colon - line) : n;
	char *val = colon ? colon + 1 : line + n;
	if (colon && val < line + n && *val == ' ')
		val++;
	size_t vlen = (size_t)(line + n - val);
	if (flen == 2 && !memcmp(line, "id", 2)) {
		snprintf(c->ev_id, sizeof(c->ev_id), "%.*s", (int)vlen, val);
	} else if (flen == 5 && !memcmp(line, "event", 5)) {
		snprintf(c->ev_name, sizeof(c->ev_name), "%.*s", (int)vlen, val);
	} else if (flen == 4 && !memcmp(line, "data", 4)) {
		size_t need = c->ev_dlen + vlen + 2;
		if (need > c->ev_dcap) {
			c->ev_dcap = need * 2;
			c->ev_data = realloc(c->ev_data, c->ev_dcap);
			if (!c->ev_data)
				die("realloc");
		}
		if (c->ev_has_data)
			c->ev_data[c->ev_dlen++] = '\n';
		c->ev_has_data = 1;
		memcpy(c->ev_data + c->ev_dlen, val, vlen);
		c->ev_dlen += vlen;
		c->ev_data[c->ev_dlen] = '\0';
	}
}

/* Body bytes (after any chunked decoding): split into lines at \r\n, \r or \n. */
static void sse_bytes(struct conn *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		int was_cr = c->cr;
		c->cr = ch == '\r';
		if (ch == '\n' && was_cr)
			continue;   /* the \n of \r\n */
		if (ch == '\n' || ch == '\r') {
			c->line[c->llen] = '\0';
			sse_line(c, c->line, c->llen);
			c->llen = 0;
			continue;
		}
		if (c->llen < sizeof(c->line) - 1)
			c->line[c->llen++] = ch;
	}
}

static void body_bytes(struct conn *c, const char *p, size_t n)
{
	if (!c->chunked) {
		sse_bytes(c, p, n);
		return;
	}
	while (n) {
		if (c->chunk_left > 0) {
			size_t take = (size_t)c->chunk_left < n ? (size_t)c->chunk_left : n;
			sse_bytes(c, p, take);
			p += take;
			n -= take;
			c->chunk_left -= (long)take;
			if (c->chunk_left == 0)
				c->chunk_left = -2;   /* the CRLF after the chunk */
			continue;
		}
		char ch = *p++;
		n--;
		if (c->chunk_left == -2) {
			if (ch == '\n')
				c->chunk_left = -1;
			continue;
		}
		if (ch == '\n') {
			c->csize[c->cslen] = '\0';
			c->chunk_left = strtol(c->csize, NULL, 16);
			c->cslen = 0;
			if (c->chunk_left == 0)
				c->chunk_left = -2;
		} else if (ch != '\r' && c->cslen < sizeof(c->csize) - 1) {
			c->csize[c->cslen++] = ch;
		}
	}
}

static void conn_headers(struct conn *c, const char *p, size_t n)
{
	size_t need = c->hlen + n + 1;
	c->hdr = realloc(c->hdr, need);
	if (!c->hdr)
		die("realloc");
	memcpy(c->hdr + c->hlen, p, n);
	c->hlen += n;
	c->hdr[c->hlen] = '\0';
	char *end = strstr(c->hdr, "\r\n\r\n");
	if (!end)
		return;
	size_t hsize = (size_t)(end + 4 - c->hdr);
	sscanf(c->hdr, "HTTP/1.%*d %d", &c->status);
	for (char *q = c->hdr; *q && q < end; q++)
		*q = (char)((*q >= 'A' && *q <= 'Z') ? *q + 32 : *q);
	c->chunked = strstr(c->hdr, "transfer-encoding: chunked") != NULL;
	c->state = 2;
	connected++;
	size_t rest = c->hlen - hsize;
	char *tail = c->hdr + hsize;
	if (rest)
		body_bytes(c, tail, rest);
	free(c->hdr);
	c->hdr = NULL;
	c->hlen = 0;
}

static void conn_send_request(struct conn *c)
{
	char req[1024];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n"
			 "Cache-Control: no-cache\r\n%s%s%s\r\n",
			 opt.path, opt.last_id ? "Last-Event-ID: " : "", opt.last_id ? opt.last_id : "",
			 opt.last_id ? "\r\n" : "");
	if (write(c->fd, req, (size_t)n) != n)
		die("write request");
	c->state = 1;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)(c - conns) };
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_event(int i)
{
	struct conn *c = &conns[i];
	if (c->state == 0) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			fprintf(stderr, "connect %d: %s\n", i, strerror(err));
			conn_close(c);
			return;
		}
		conn_send_request(c);
		return;
	}
	char buf[65536], cbuf[256];
	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		ssize_t r = recvmsg(c->fd, &m, 0);
		rx_ns = 0;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); r > 0 && cm; cm = CMSG_NXTHDR(&m, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPING) {
				struct timespec t[3];
				memcpy(t, CMSG_DATA(cm), sizeof(t));
				rx_ns = (int64_t)t[0].tv_sec * 1000000000 + t[0].tv_nsec;
			}
		if (r > 0) {
			if (c->state == 1)
				conn_headers(c, buf, (size_t)r);
			else
				body_bytes(c, buf, (size_t)r);
			if ((size_t)r < sizeof(buf))
				return;   /* drained; epoll says when more comes */
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(c);
		return;
	}
}

static void publish_redis(redisContext *rc, int k)
{
	char key[256], ch[256], m[64];
	snprintf(key, sizeof(key), "%slog:%s", opt.prefix, opt.deployment);
	snprintf(ch, sizeof(ch), "%sevents:%s", opt.prefix, opt.deployment);
	snprintf(m, sizeof(m), "bench %lld line %d", (long long)real_ns(), k);
	redisReply *r = redisCommand(rc, "XADD %s * k line s stdout m %s", key, m);
	if (!r || r->type != REDIS_REPLY_STRING)
		die("XADD");
	redisReply *p = redisCommand(rc, "PUBLISH %s %s", ch, r->str);
	freeReplyObject(p);
	freeReplyObject(r);
}

static void publish_http(int k)
{
	char body[64], req[512], resp[4096];
	int bl = snprintf(body, sizeof(body), "bench %lld line %d", (long long)real_ns(), k);
	int n = snprintf(req, sizeof(req),
			 "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
			 "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			 opt.pub_path, bl, body);
	int fd = conn_open(0);
	if (fd < 0)
		die("publish connect");
	if (write(fd, req, (size_t)n) != n)
		die("publish write");
	while (read(fd, resp, sizeof(resp)) > 0)
		;
	close(fd);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct_of(const double *v, size_t n, double p)
{
	if (!n)
		return -1;
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i];
}

static double pct(double p)
{
	return pct_of(lat, nlat, p);
}

static int num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 100000000) {
		fprintf(stderr, "not a number: %s\n", s);
		exit(2);
	}
	return (int)v;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: sse-client (-p PORT [-h HOST] | -u UNIXSOCK) -P PATH [-n N] [-l LASTID]\n"
		"       [-o FILE] [-r READYFILE] [-t TIMEOUT_S]\n"
		"       bench: -L LINES [-I INTERVAL_MS] (-R REDISSOCK -D DEPLOYMENT [-x PREFIX] | -U PUBPATH) [-M PID]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int ch;
	while ((ch = getopt(argc, argv, "p:h:u:P:n:l:o:r:t:L:I:R:D:x:U:M:")) != -1) {
		switch (ch) {
		case 'p': opt.port = num(optarg); break;
		case 'h': opt.host = optarg; break;
		case 'u': opt.unix_path = optarg; break;
		case 'P': opt.path = optarg; break;
		case 'n': opt.n = num(optarg); break;
		case 'l': opt.last_id = optarg; break;
		case 'o': opt.out_path = optarg; break;
		case 'r': opt.ready_path = optarg; break;
		case 't': opt.timeout_s = num(optarg); break;
		case 'L': opt.lines = num(optarg); break;
		case 'I': opt.interval_ms = num(optarg); break;
		case 'R': opt.redis_sock = optarg; break;
		case 'D': opt.deployment = optarg; break;
		case 'x': opt.prefix = optarg; break;
		case 'U': opt.pub_path = optarg; break;
		case 'M': opt.mon_pid = num(optarg); break;
		default: usage();
		}
	}
	if (!opt.path || opt.n < 1 || (!opt.port && !opt.unix_path))
		usage();
	if (opt.lines && !opt.pub_path && (!opt.redis_sock || !opt.deployment))
		usage();
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (opt.out_path && !(out = fopen(opt.out_path, "w")))
		die(opt.out_path);
	conns = calloc((size_t)opt.n, sizeof(*conns));
	epfd = epoll_create1(0);
	if (!conns || epfd < 0)
		die("setup");
	redisContext *rc = NULL;
	if (opt.lines && opt.redis_sock) {
		rc = redisConnectUnix(opt.redis_sock);
		if (!rc || rc->err)
			die("redis");
	}

	long rss_base = opt.mon_pid ? rss_kb(opt.mon_pid) : -1, rss_conn = -1, rss_end = -1;
	double cpu_conn = -1, cpu_end = -1, self_conn = -1, self_end = -1, user_conn = 0,
	       user_end = 0, unused;
	double t0 = now_s(), deadline = t0 + opt.timeout_s, t_conn = 0, next_pub = 0;
	int ready = 0, published = 0;
	struct epoll_event evs[1024];
	while (now_s() < deadline) {
		/* keep a bounded number of connects in flight */
		while (started < opt.n && started - connected - closed < CONNECT_WINDOW)
			if (conn_start(started) < 0)
				break;
		if (!ready && connected + closed >= opt.n) {
			ready = 1;
			t_conn = now_s();
			fprintf(stderr, "connected %d in %.2fs\n", connected, t_conn - t0);
			if (opt.ready_path) {
				FILE *f = fopen(opt.ready_path, "w");
				if (f) {
					fprintf(f, "ready %d\n", connected);
					fclose(f);
				}
			}
			next_pub = t_conn + 1.0;   /* let the server settle before measuring */
		}
		int wait_ms = 100;
		if (opt.lines && ready && published < opt.lines) {
			double d = next_pub - now_s();
			if (d <= 0) {
				if (published == 0 && opt.mon_pid) {
					rss_conn = rss_kb(opt.mon_pid);
					cpu_conn = cpu_ms(opt.mon_pid, &user_conn);
					self_conn = cpu_ms(getpid(), &unused);
				}
				if (rc)
					publish_redis(rc, published);
				else
					publish_http(published);
				published++;
				next_pub += opt.interval_ms / 1000.0;
				continue;
			}
			wait_ms = (int)(d * 1000) + 1;
		}
		if (opt.lines && published == opt.lines) {
			unsigned long want = (unsigned long)opt.lines, done = 0;
			for (int i = 0; i < opt.n; i++)
				done += conns[i].bench_seen >= want || conns[i].state == 3;
			if (done == (unsigned long)opt.n)
				break;
		}
		if (!opt.lines && closed == opt.n)
			break;
		int k = epoll_wait(epfd, evs, 1024, wait_ms);
		for (int i = 0; i < k; i++)
			conn_event((int)evs[i].data.u32);
	}
	int timed_out = now_s() >= deadline;
	if (opt.mon_pid) {
		rss_end = rss_kb(opt.mon_pid);
		cpu_end = cpu_ms(opt.mon_pid, &user_end);
		self_end = cpu_ms(getpid(), &unused);
	}

	if (opt.lines) {
		qsort(lat, nlat, sizeof(*lat), cmp_double);
		unsigned long expect = (unsigned long)opt.lines * (unsigned long)opt.n;
		printf("clients=%d connected=%d connect_s=%.2f lines=%d received=%zu expected=%lu "
		       "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
		       opt.n, connected, t_conn - t0, opt.lines, nlat, expect, pct(50), pct(90),
		       pct(99), nlat ? lat[nlat - 1] : -1.0);
		if (narr) {
			qsort(arr, narr, sizeof(*arr), cmp_double);
			printf("arrival_p50_ms=%.2f arrival_p99_ms=%.2f arrival_max_ms=%.2f arrivals=%zu\n",
			       pct_of(arr, narr, 50), pct_of(arr, narr, 99), arr[narr - 1], narr);
		}
		if (getenv("SSE_CLIENT_VERBOSE"))
			for (int k = 0; k < opt.lines && k < 1000; k++)
				fprintf(stderr, "line %d: first %.2f ms, last %.2f ms\n", k, line_first[k],
					line_last[k]);
		if (opt.mon_pid)
			printf("rss_base_kb=%ld rss_connected_kb=%ld rss_end_kb=%ld per_client_bytes=%.0f\n",
			       rss_base, rss_conn, rss_end,
			       connected ? (double)(rss_conn - rss_base) * 1024.0 / connected : -1.0);
		/* CPU from the first line to the last arrival, per line: the server's whole
		 * process (reads, formatting, every send) and this client's */
		if (opt.mon_pid && cpu_conn >= 0 && cpu_end >= 0)
			printf("server_cpu_ms_per_line=%.1f server_user_ms_per_line=%.1f "
			       "client_cpu_ms_per_line=%.1f\n",
			       (cpu_end - cpu_conn) / opt.lines, (user_end - user_conn) / opt.lines,
			       (self_end - self_conn) / opt.lines);
		return nlat == expect && !timed_out ? 0 : 1;
	}

	/* check mode: every connection saw the same events, in order, ending with end */
	int identical = 0, ordered = 0, ended = 0, ok200 = 0;
	for (int i = 0; i < opt.n; i++) {
		struct conn *c = &conns[i];
		identical += c->events == conns[0].events && c->hash == conns[0].hash;
		ordered += c->unordered == 0;
		ended += c->ended && c->after_end == 0;
		ok200 += c->status == 200;
	}
	printf("connections=%d status200=%d events=%lu identical=%d ordered=%d ended=%d "
	       "timed_out=%d\n",
	       opt.n, ok200, conns[0].events, identical, ordered, ended, timed_out);
	if (out)
		fclose(out);
	return identical == opt.n && ordered == opt.n && ended == opt.n && ok200 == opt.n &&
			       !timed_out
		       ? 0
		       : 1;
}
