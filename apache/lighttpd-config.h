/* lighttpd-config.h — what Debian's build of lighttpd 1.4.69 configured, as far as the
 * headers apache/mod_skiff_fastpath.c includes look at it (mk/lighttpd.mk; lighttpd -V). */
#define HAVE_STDINT_H 1
#define HAVE_INTTYPES_H 1
#define HAVE_STRINGS_H 1
#define HAVE_SYS_TIME_H 1
#define HAVE_SYS_UN_H 1
#define HAVE_SYS_MMAN_H 1
#define HAVE_MMAP 1
#define HAVE_SYS_POLL_H 1
#define HAVE_POLL_H 1
#define HAVE_POLL 1
#define HAVE_SYS_EPOLL_H 1
#define HAVE_EPOLL_CTL 1
#define HAVE_SYS_INOTIFY_H 1
#define HAVE_SPLICE 1
#define HAVE_SOCKLEN_T 1
#define HAVE_IPV6 1
#define HAVE_LOCALTIME_R 1
#define HAVE_GMTIME_R 1
#define HAVE_TIMEGM 1
#define HAVE_CLOCK_GETTIME 1
#define HAVE_PCRE2_H 1
#define HAVE_XATTR 1
#define HAVE_XXHASH_H 1
#define LIGHTTPD_VERSION_ID (1 << 16 | 4 << 8 | 69)
