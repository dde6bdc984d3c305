/*
 * xs: a small xenstore client for tsxen's test initramfs (guest side of issue 5).
 *
 *   xs [-t SECONDS] read PATH          prints the value
 *   xs [-t SECONDS] write PATH VALUE
 *   xs [-t SECONDS] ls PATH            prints one child per line
 *   xs [-t SECONDS] rm PATH
 *   xs [-t SECONDS] watch PATH TOKEN N prints N events ("PATH TOKEN"), then exits
 *
 * It speaks the xenstore wire protocol (xen/include/public/io/xs_wire.h: a 16-byte
 * struct xsd_sockmsg {type, req_id, tx_id, len} then len payload bytes) through
 * Linux's xenbus device: /dev/xen/xenbus (drivers/xen/xenbus/xenbus_dev_frontend.c)
 * or /proc/xen/xenbus once xenfs is mounted. Each request goes in one write(); the
 * replies and watch events come back from read() on the same fd as a byte stream,
 * several messages per read possibly, so they are parsed out of a buffer. Paths
 * without a leading '/' are relative to the guest's /local/domain/<domid>.
 *
 * With XENSTORED_PATH set (libxenstore's variable), it connects to that Unix socket
 * instead: a dom0 xenstored's socket speaks the same protocol, which is how the host
 * test (test/guests/xs-client.test.ts) runs this program against tsxen's xenstored.
 *
 * Exit status: 0 done, 1 the store answered XS_ERROR (its name is printed),
 * 2 usage, I/O, protocol error or timeout. -t 0 waits for ever; default 60 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* enum xsd_sockmsg_type (xs_wire.h). */
enum {
	XS_DIRECTORY = 1,
	XS_READ = 2,
	XS_WATCH = 4,
	XS_WRITE = 11,
	XS_RM = 13,
	XS_WATCH_EVENT = 15,
	XS_ERROR = 16,
};

#define XSD_SOCKMSG_SIZE 16
#define XENSTORE_PAYLOAD_MAX 4096 /* xs_wire.h: larger messages kill the connection */

struct msg {
	uint32_t type, req_id, tx_id, len;
	char payload[XENSTORE_PAYLOAD_MAX + 1]; /* +1: always NUL-terminated for printing */
};

/* "read data/x": what error messages name. */
static char prog_op[64] = "xs";
static int timeout_ms = 60 * 1000;
static int xb_fd = -1;
/* Bytes read from the device and not yet parsed: at most one partial message plus one read. */
static unsigned char inbuf[2 * (XSD_SOCKMSG_SIZE + XENSTORE_PAYLOAD_MAX)];
static size_t inlen;
/* Watch events that arrived while waiting for a reply (Linux queues both on one fd). */
#define MAX_PENDING_EVENTS 64
static struct msg pending[MAX_PENDING_EVENTS];
static int npending;
static uint32_t next_req_id = 1;

static void die(const char *what)
{
	fprintf(stderr, "xs: %s: %s\n", prog_op, what);
	exit(2);
}

static void die_errno(const char *what)
{
	fprintf(stderr, "xs: %s: %s: %s\n", prog_op, what, strerror(errno));
	exit(2);
}

static long long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sa.sun_path)
		die("XENSTORED_PATH too long");
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		die_errno("connect to XENSTORED_PATH");
	return fd;
}

/* /dev/xen/xenbus first; else xenfs's /proc/xen/xenbus, mounting xenfs if it is not yet. */
static int open_xenbus(void)
{
	const char *sock = getenv("XENSTORED_PATH");
	int fd;

	if (sock && *sock)
		return open_socket(sock);
	fd = open("/dev/xen/xenbus", O_RDWR);
	if (fd >= 0)
		return fd;
	fd = open("/proc/xen/xenbus", O_RDWR);
	if (fd >= 0)
		return fd;
	/* /proc/xen exists once xenfs is loaded (CONFIG_XEN_COMPAT_XENFS). */
	if (mount("xenfs", "/proc/xen", "xenfs", 0, NULL) != 0 && errno != EBUSY)
		die_errno("no /dev/xen/xenbus, and mounting xenfs on /proc/xen failed (is xenfs loaded?)");
	fd = open("/proc/xen/xenbus", O_RDWR);
	if (fd < 0)
		die_errno("open /proc/xen/xenbus");
	return fd;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* Sends one message (header + parts) in a single write(), as the device expects. */
static uint32_t send_msg(uint32_t type, const char *a, size_t alen, const char *b, size_t blen)
{
	static unsigned char out[XSD_SOCKMSG_SIZE + XENSTORE_PAYLOAD_MAX];
	size_t len = alen + blen;
	uint32_t id = next_req_id++;
	ssize_t n;

	if (len > XENSTORE_PAYLOAD_MAX)
		die("request longer than XENSTORE_PAYLOAD_MAX (4096)");
	put_u32(out + 0, type);
	put_u32(out + 4, id);
	put_u32(out + 8, 0); /* no transaction */
	put_u32(out + 12, (uint32_t)len);
	memcpy(out + XSD_SOCKMSG_SIZE, a, alen);
	if (blen)
		memcpy(out + XSD_SOCKMSG_SIZE + alen, b, blen);
	do
		n = write(xb_fd, out, XSD_SOCKMSG_SIZE + len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die_errno("write to xenbus");
	if ((size_t)n != XSD_SOCKMSG_SIZE + len)
		die("short write to xenbus");
	return id;
}

/* Takes one whole message out of inbuf; 0 when none is complete yet. */
static int parse_msg(struct msg *m)
{
	uint32_t len;

	if (inlen < XSD_SOCKMSG_SIZE)
		return 0;
	len = get_u32(inbuf + 12);
	if (len > XENSTORE_PAYLOAD_MAX)
		die("reply longer than XENSTORE_PAYLOAD_MAX: protocol error");
	if (inlen < XSD_SOCKMSG_SIZE + len)
		return 0;
	m->type = get_u32(inbuf);
	m->req_id = get_u32(inbuf + 4);
	m->tx_id = get_u32(inbuf + 8);
	m->len = len;
	memcpy(m->payload, inbuf + XSD_SOCKMSG_SIZE, len);
	m->payload[len] = '\0';
	inlen -= XSD_SOCKMSG_SIZE + len;
	memmove(inbuf, inbuf + XSD_SOCKMSG_SIZE + len, inlen);
	return 1;
}

/* Next message from the device, waiting until `deadline` (monotonic ms; -1 = none). */
static void next_msg(struct msg *m, long long deadline)
{
	while (!parse_msg(m)) {
		struct pollfd pfd = { .fd = xb_fd, .events = POLLIN };
		int wait = -1, r;
		ssize_t n;

		if (deadline >= 0) {
			long long left = deadline - monotonic_ms();
			if (left <= 0)
				die("timed out waiting for xenstore");
			wait = (int)left;
		}
		r = poll(&pfd, 1, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die_errno("poll on xenbus");
		if (r == 0)
			continue; /* the deadline check above ends the loop */
		n = read(xb_fd, inbuf + inlen, sizeof inbuf - inlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read from xenbus");
		if (n == 0)
			die("xenbus closed");
		inlen += (size_t)n;
	}
}

static long long deadline_from_now(void)
{
	return timeout_ms > 0 ? monotonic_ms() + timeout_ms : -1;
}

/* Waits for the reply to request `id`, keeping watch events for later; exits 1 on XS_ERROR. */
static void wait_reply(uint32_t id, uint32_t type, struct msg *reply)
{
	long long deadline = deadline_from_now();

	for (;;) {
		next_msg(reply, deadline);
		if (reply->type == XS_WATCH_EVENT) {
			if (npending < MAX_PENDING_EVENTS)
				pending[npending++] = *reply;
			continue;
		}
		if (reply->req_id != id)
			continue; /* not ours: nothing else is outstanding, ignore */
		if (reply->type == XS_ERROR) {
			fprintf(stderr, "xs: %s: %s\n", prog_op, reply->payload);
			exit(1);
		}
		if (reply->type != type)
			die("reply of an unexpected type");
		return;
	}
}

static struct msg reply;

static void request(uint32_t type, const char *path, const char *value, size_t vlen)
{
	uint32_t id = send_msg(type, path, strlen(path) + 1, value, vlen);
	wait_reply(id, type, &reply);
}

static int cmd_read(const char *path)
{
	request(XS_READ, path, NULL, 0);
	fwrite(reply.payload, 1, reply.len, stdout);
	putchar('\n');
	return 0;
}

static int cmd_write(const char *path, const char *value)
{
	/* XS_WRITE: path\0value, the value without a trailing NUL. */
	request(XS_WRITE, path, value, strlen(value));
	return 0;
}

static int cmd_ls(const char *path)
{
	uint32_t i = 0;

	request(XS_DIRECTORY, path, NULL, 0);
	/* Each child name is followed by a NUL. */
	while (i < reply.len) {
		size_t n = strnlen(reply.payload + i, reply.len - i);
		printf("%.*s\n", (int)n, reply.payload + i);
		i += n + 1;
	}
	return 0;
}

static int cmd_rm(const char *path)
{
	request(XS_RM, path, NULL, 0);
	return 0;
}

/* Prints an XS_WATCH_EVENT (payload path\0token\0) as "PATH TOKEN" if the token is ours. */
static int print_event(const struct msg *m, const char *token)
{
	const char *path = m->payload;
	size_t plen = strnlen(path, m->len), tlen;
	const char *tok;

	if (plen >= m->len)
		return 0; /* malformed: no token */
	tok = path + plen + 1;
	tlen = strnlen(tok, m->len - plen - 1);
	if (tlen != strlen(token) || memcmp(tok, token, tlen) != 0)
		return 0;
	printf("%s %s\n", path, token);
	fflush(stdout);
	return 1;
}

static int cmd_watch(const char *path, const char *token, const char *count)
{
	char *end;
	long want = strtol(count, &end, 10);
	size_t plen = strlen(path) + 1;
	char body[XENSTORE_PAYLOAD_MAX];
	int seen = 0, i;
	long long deadline;
	uint32_t id;

	if (*count == '\0' || *end != '\0' || want < 1 || want > 1000000)
		die("N must be a positive number");
	if (plen + strlen(token) + 1 > sizeof body)
		die("path and token too long");
	/* XS_WATCH: path\0token\0; the store fires once at once, then on every change at or below path. */
	memcpy(body, path, plen);
	id = send_msg(XS_WATCH, body, plen, token, strlen(token) + 1);
	wait_reply(id, XS_WATCH, &reply);
	for (i = 0; i < npending && seen < want; i++)
		seen += print_event(&pending[i], token);
	deadline = deadline_from_now();
	while (seen < want) {
		next_msg(&reply, deadline);
		if (reply.type == XS_WATCH_EVENT)
			seen += print_event(&reply, token);
	}
	/* Closing the fd drops the watch (the device unregisters a file's watches on release). */
	return 0;
}

static void usage(void)
{
	fputs("usage: xs [-t SECONDS] read PATH | write PATH VALUE | ls PATH | rm PATH | watch PATH TOKEN N\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	int i = 1, rc;
	const char *cmd;

	if (i + 1 < argc && strcmp(argv[i], "-t") == 0) {
		char *end;
		long s = strtol(argv[i + 1], &end, 10);
		if (*argv[i + 1] == '\0' || *end != '\0' || s < 0 || s > 86400)
			usage();
		timeout_ms = (int)s * 1000;
		i += 2;
	}
	if (i >= argc)
		usage();
	cmd = argv[i++];
	snprintf(prog_op, sizeof prog_op, "%s %s", cmd, i < argc ? argv[i] : "");
	if (strcmp(cmd, "read") == 0 && argc - i == 1) {
		xb_fd = open_xenbus();
		rc = cmd_read(argv[i]);
	} else if (strcmp(cmd, "write") == 0 && argc - i == 2) {
		xb_fd = open_xenbus();
		rc = cmd_write(argv[i], argv[i + 1]);
	} else if (strcmp(cmd, "ls") == 0 && argc - i == 1) {
		xb_fd = open_xenbus();
		rc = cmd_ls(argv[i]);
	} else if (strcmp(cmd, "rm") == 0 && argc - i == 1) {
		xb_fd = open_xenbus();
		rc = cmd_rm(argv[i]);
	} else if (strcmp(cmd, "watch") == 0 && argc - i == 3) {
		xb_fd = open_xenbus();
		rc = cmd_watch(argv[i], argv[i + 1], argv[i + 2]);
	} else {
		usage();
	}
	fflush(stdout);
	close(xb_fd);
	return rc;
}
