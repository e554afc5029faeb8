/*
 * at.c - eUICC access through an AT modem's serial port (see card/at.h).
 *
 * Framing and answer parsing are pure and live in src/core/atline.c; this file does the
 * I/O: the port's lock and termios, one command at a time with a deadline, and the
 * mapping of AT errors to esimctl's statuses.
 *
 * ESIMCTL_AT_TIMEOUT (seconds, default 30) bounds each command: a STORE DATA that
 * installs a profile element can take seconds on a real eUICC.  ESIMCTL_UUCP_LOCK_DIR
 * names the UUCP lock directory to check (default /var/lock).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>

#include "card/at.h"
#include "card/proc.h"
#include "esimctl/atline.h"

#define AT_TIMEOUT_DEFAULT_S 30
#define AT_CMD_MAX 600  /* "AT+CGLA=19,522,\"<522 hex digits>\"" */

struct at_port {
	int fd;
	int csim_only;
	int timeout_ms;
	long session;          /* AT+CCHO session id, -1 when none */
	char path[256];
	char mm[160];          /* "ModemManager (pid N)" when it runs, else "" */
};

/* The kind of an open failure in err->detail, for `euicc scan` (at.h). */
static int set_kind(struct esim_err *err, const char *kind)
{
	if (err)
		snprintf(err->detail, sizeof(err->detail), "%s", kind);
	return -1;
}

/* ---- who holds the port ---- */

/* The process that holds a flock on fd's file, from /proc/locks, or 0. */
static long flock_holder(int fd)
{
	struct stat st;
	char line[256], want[64];
	FILE *f;
	long pid = 0;

	if (fstat(fd, &st) < 0 || !(f = fopen("/proc/locks", "re")))
		return 0;
	snprintf(want, sizeof(want), "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
		 (unsigned long)st.st_ino);
	while (!pid && fgets(line, sizeof(line), f)) {
		char kind[16], adv[16], mode[16], id[64];
		long p;

		if (strstr(line, "->"))
			continue;     /* a waiter, not the holder */
		if (sscanf(line, "%*s %15s %15s %15s %ld %63s", kind, adv, mode, &p, id) == 5 &&
		    strcmp(kind, "FLOCK") == 0 && strcmp(id, want) == 0)
			pid = p;
	}
	fclose(f);
	return pid;
}

/*
 * A UUCP lock file (Filesystem Hierarchy Standard §5.9: /var/lock/LCK..NAME holding the
 * pid as ten ASCII digits, or a binary int from old programs) of a live process other
 * than us: fail naming it.  Stale files are left alone.
 */
static int check_uucp_lock(const char *path, struct esim_err *err)
{
	const char *dir = getenv("ESIMCTL_UUCP_LOCK_DIR");
	const char *base = strrchr(path, '/');
	char lock[512], data[32], comm[64];
	ssize_t n;
	long pid = 0;
	int fd;

	if (!dir || !*dir)
		dir = "/var/lock";
	base = base ? base + 1 : path;
	snprintf(lock, sizeof(lock), "%s/LCK..%s", dir, base);
	if ((fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return 0;
	n = read(fd, data, sizeof(data) - 1);
	close(fd);
	if (n == 4) {
		int32_t bin;

		memcpy(&bin, data, 4);
		pid = bin;
	} else if (n > 0) {
		data[n] = '\0';
		pid = strtol(data, NULL, 10);
	}
	if (pid <= 0 || pid == (long)getpid())
		return 0;
	if (kill((pid_t)pid, 0) < 0 && errno != EPERM)
		return 0;
	proc_comm(pid, comm, sizeof(comm));
	esim_fail(err, ESIM_E_NOREADER, "serial port '%s' is locked by process %ld (%s): "
		  "lock file %s", path, pid, comm, lock);
	set_kind(err, AT_KIND_BUSY);
	return esim_hint(err, "stop that program, or wait until it is done");
}

/* ---- one command ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int port_timeout(struct at_port *p, const char *what, struct esim_err *err)
{
	esim_fail(err, ESIM_E_NOREADER, "modem on '%s' did not answer %.24s within %d s",
		  p->path, what, p->timeout_ms / 1000);
	set_kind(err, AT_KIND_SILENT);
	if (p->mm[0])
		return esim_hint(err, "%s is running and may be using the port: stop it or mark "
				 "the port ignored (docs/backends.md)", p->mm);
	return esim_hint(err, "check the port (the modem's AT port is often not the first); "
			 "ESIMCTL_AT_TIMEOUT sets the limit in seconds");
}

/* The command's name for messages: "AT+CGLA" of "AT+CGLA=1,...". */
static void cmd_name(const char *cmd, char *out, size_t outsz)
{
	size_t n = strcspn(cmd, "=?");

	snprintf(out, outsz, "%.*s", (int)(n < outsz - 1 ? n : outsz - 1), cmd);
}

static int at_command(struct at_port *p, const char *cmd, const char *prefix, int bare,
		      struct at_answer *a, struct esim_err *err)
{
	char line[AT_CMD_MAX + 2], name[24];
	struct at_lines lb = AT_LINES_INIT;
	size_t len = strlen(cmd), off = 0;
	long deadline = now_ms() + p->timeout_ms;

	cmd_name(cmd, name, sizeof(name));
	if (len > AT_CMD_MAX)
		return esim_fail(err, ESIM_E_EUICC, "%s command of %zu characters is too long",
				 name, len);
	memcpy(line, cmd, len);
	line[len++] = '\r';
	at_answer_init(a, cmd, prefix, bare);
	while (off < len) {
		struct pollfd pfd = { p->fd, POLLOUT, 0 };
		long left = deadline - now_ms();
		ssize_t w;

		if (left <= 0)
			return port_timeout(p, name, err);
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return esim_fail(err, ESIM_E_NOREADER, "serial port '%s': %s", p->path,
					 strerror(errno));
		w = write(p->fd, line + off, len - off);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			int e = errno;

			/* EIO: the other end is gone (a USB modem unplugged, a pty's master closed) */
			return esim_fail(err, ESIM_E_NOREADER, "cannot write to serial port '%s': %s%s",
					 p->path, strerror(e), e == EIO || e == ENXIO || e == ENODEV ?
					 " (modem gone? reconnect it and try again)" : "");
		}
		if (w > 0)
			off += (size_t)w;
	}
	for (;;) {
		struct pollfd pfd = { p->fd, POLLIN, 0 };
		long left = deadline - now_ms();
		char in[256];
		ssize_t r, i;
		int pr;

		if (left <= 0)
			return port_timeout(p, name, err);
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno != EINTR)
			return esim_fail(err, ESIM_E_NOREADER, "serial port '%s': %s", p->path,
					 strerror(errno));
		if (pr <= 0)
			continue;
		if (pfd.revents & (POLLERR | POLLNVAL))
			return esim_fail(err, ESIM_E_NOREADER, "serial port '%s' failed (modem gone?)",
					 p->path);
		r = read(p->fd, in, sizeof(in));
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0) {
			if (pfd.revents & POLLHUP || r == 0)
				return esim_fail(err, ESIM_E_NOREADER, "serial port '%s' hung up (modem "
						 "gone?)", p->path);
			return esim_fail(err, ESIM_E_NOREADER, "cannot read serial port '%s': %s",
					 p->path, strerror(errno));
		}
		for (i = 0; i < r; i++) {
			if (at_lines_push(&lb, in[i]) && at_answer_line(a, lb.line) == AT_DONE)
				return 0; /* what follows the final result is the next URC's */
		}
	}
}

/* A final result other than OK as an error naming the command and the code. */
static int answer_fail(struct at_port *p, const char *cmd, const struct at_answer *a,
		       struct esim_err *err)
{
	char name[24];
	const char *cme;

	cmd_name(cmd, name, sizeof(name));
	switch (a->final) {
	case AT_ERROR:
		return esim_fail(err, ESIM_E_EUICC, "modem on '%s' answered ERROR to %s", p->path,
				 name);
	case AT_CME:
	case AT_CMS:
		if (a->cme < 0)
			return esim_fail(err, ESIM_E_EUICC, "modem on '%s' answered +CM%c ERROR: %s to "
					 "%s", p->path, a->final == AT_CME ? 'E' : 'S', a->cme_text,
					 name);
		cme = a->final == AT_CME ? at_cme_name(a->cme) : NULL;
		esim_fail(err, a->final == AT_CME ? at_cme_status(a->cme) : ESIM_E_EUICC,
			  "modem on '%s' answered +CM%c ERROR: %d (%s) to %s", p->path,
			  a->final == AT_CME ? 'E' : 'S', a->cme, cme ? cme : "unknown code", name);
		if (err)
			snprintf(err->detail, sizeof(err->detail), "+CM%c ERROR: %d",
				 a->final == AT_CME ? 'E' : 'S', a->cme);
		return -1;
	default:
		return esim_fail(err, ESIM_E_EUICC, "modem on '%s': no final result to %s", p->path,
				 name);
	}
}

/* ---- the transport ---- */

static int at_open_cb(void *priv, struct esim_err *err)
{
	(void)priv;
	(void)err;
	return 0;
}

/* Logical channel of a CLA byte (ISO 7816-4 §5.4.1): first or further interindustry. */
static int cla_channel(uint8_t cla)
{
	return cla & 0x40 ? 4 + (cla & 0x0F) : cla & 0x03;
}

static int at_transmit_cb(void *priv, const uint8_t *tx, size_t txlen, uint8_t *rx,
			  size_t *rxlen, struct esim_err *err)
{
	struct at_port *p = priv;
	char cmd[AT_CMD_MAX + 1];
	struct at_answer a;
	const char *prefix;
	int ch, use_cgla;

	if (!p || !tx || txlen < 4)
		return esim_fail(err, ESIM_E_EUICC, "AT modem: invalid APDU");
	ch = cla_channel(tx[0]);
	use_cgla = !p->csim_only && ch != 0;
	prefix = use_cgla ? "+CGLA:" : "+CSIM:";
	if (use_cgla && (p->session < 0 || ch != p->session))
		return esim_fail(err, ESIM_E_EUICC, "AT modem: APDU for logical channel %d, but the "
				 "open channel is %ld", ch, p->session);
	if (p->csim_only && ch != 0)
		return esim_fail(err, ESIM_E_EUICC, "AT modem '%s' (at-csim:) has the basic channel "
				 "only, not channel %d", p->path, ch);
	if (at_format_apdu(cmd, sizeof(cmd), use_cgla ? p->session : -1, tx, txlen) < 0) {
		esim_fail(err, ESIM_E_EUICC, "APDU of %zu bytes is too long for the modem", txlen);
		return APDU_TOO_LONG;
	}
	if (at_command(p, cmd, prefix, 0, &a, err) < 0)
		return -1;
	if (a.final != AT_OK) {
		answer_fail(p, cmd, &a, err);
		/*
		 * A modem refuses a command line longer than it takes with +CME ERROR: 50
		 * (incorrect parameters) or a bare ERROR.  Both may mean other things too: the
		 * ES10 layer tries smaller STORE DATA blocks only where the length can be the
		 * reason (a block longer than any taken before), else it reports this error.
		 */
		if (a.final == AT_ERROR || (a.final == AT_CME && a.cme == 50))
			return APDU_TOO_LONG;
		return -1;
	}
	if (!a.have_info)
		return esim_fail(err, ESIM_E_EUICC, "modem on '%s' answered OK to %.7s without %s",
				 p->path, cmd, prefix);
	if (at_parse_hex_info(a.info, prefix, rx, APDU_RX_MAX, rxlen, err) < 0)
		return -1;
	if (*rxlen < 2)
		return esim_fail(err, ESIM_E_EUICC, "modem answer %s has no status word", prefix);
	return 0;
}

static int at_open_channel_cb(void *priv, const uint8_t *aid, size_t aidlen, int *channel,
			      struct esim_err *err)
{
	static const char digits[] = "0123456789ABCDEF";
	struct at_port *p = priv;
	char cmd[64];
	struct at_answer a;
	size_t i, n;
	long session;

	if (aidlen < 5 || aidlen > 16)
		return esim_fail(err, ESIM_E_USAGE, "AID of %zu bytes", aidlen);
	n = (size_t)snprintf(cmd, sizeof(cmd), "AT+CCHO=\"");
	for (i = 0; i < aidlen; i++) {
		cmd[n++] = digits[aid[i] >> 4];
		cmd[n++] = digits[aid[i] & 15];
	}
	cmd[n++] = '"';
	cmd[n] = '\0';
	if (at_command(p, cmd, "+CCHO:", 1, &a, err) < 0)
		return -1;
	if (a.final != AT_OK) {
		answer_fail(p, cmd, &a, err);
		if (a.final == AT_ERROR)
			esim_hint(err, "the modem may not support logical channels (AT+CCHO): try "
				  "at-csim:%s", p->path);
		else
			esim_hint(err, "the modem could not open a channel to the ISD-R: is the SIM an "
				  "eUICC?");
		return -1;
	}
	if (!a.have_info)
		return esim_fail(err, ESIM_E_EUICC, "modem on '%s' answered OK to AT+CCHO without "
				 "a session id", p->path);
	if (at_parse_session(a.info, &session, err) < 0)
		return -1;
	/*
	 * The session id is the logical channel's number on every modem we know of (lpac
	 * makes the same assumption); the APDUs code it in CLA, and AT+CGLA names it.
	 */
	p->session = session;
	*channel = session <= 0x7FFF ? (int)session : -1;
	return 0;
}

static void at_close_channel_cb(void *priv, int channel)
{
	struct at_port *p = priv;
	struct at_answer a;
	struct esim_err ignored;
	char cmd[32];

	if (!p || p->session < 0 || channel != p->session)
		return;
	snprintf(cmd, sizeof(cmd), "AT+CCHC=%ld", p->session);
	at_command(p, cmd, NULL, 0, &a, &ignored);
	p->session = -1;
}

static void at_close_cb(void *priv)
{
	struct at_port *p = priv;

	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);      /* drops the flock */
	free(p);
}

static int set_raw(struct at_port *p, struct esim_err *err)
{
	struct termios tio;

	if (tcgetattr(p->fd, &tio) < 0)
		return esim_fail(err, ESIM_E_NOREADER, "'%s' is not a serial port: %s", p->path,
				 strerror(errno));
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cflag &= ~(tcflag_t)CRTSCTS;
	tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	cfsetispeed(&tio, B115200);
	cfsetospeed(&tio, B115200);
	if (tcsetattr(p->fd, TCSANOW, &tio) < 0)
		return esim_fail(err, ESIM_E_NOREADER, "cannot set serial port '%s' raw: %s",
				 p->path, strerror(errno));
	tcflush(p->fd, TCIOFLUSH);
	return 0;
}

static int open_port(struct at_port *p, struct esim_err *err)
{
	long holder;
	char comm[64];

	if (check_uucp_lock(p->path, err) < 0)
		return -1;
	p->fd = open(p->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (p->fd < 0) {
		int e = errno;

		esim_fail(err, ESIM_E_NOREADER, "cannot open serial port '%s': %s", p->path,
			  strerror(e));
		set_kind(err, e == EACCES || e == EPERM ? AT_KIND_DENIED : e == ENOENT ?
			 AT_KIND_ABSENT : e == EBUSY ? AT_KIND_BUSY : AT_KIND_OTHER);
		if (e == EACCES || e == EPERM)
			return esim_hint(err, "add yourself to the group that owns the port (often "
					 "'dialout'), then log in again");
		if (e == ENOENT)
			return esim_hint(err, "is the modem plugged in? 'ls /dev/ttyUSB* /dev/ttyACM*' "
					 "lists the ports");
		return -1;
	}
	if (!isatty(p->fd)) {
		esim_fail(err, ESIM_E_NOREADER, "'%s' is not a serial port", p->path);
		return set_kind(err, AT_KIND_NOT_MODEM);
	}
	if (flock(p->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return esim_fail(err, ESIM_E_NOREADER, "cannot lock serial port '%s': %s",
					 p->path, strerror(errno));
		holder = flock_holder(p->fd);
		if (holder > 0) {
			proc_comm(holder, comm, sizeof(comm));
			esim_fail(err, ESIM_E_NOREADER, "serial port '%s' is in use by process %ld "
				  "(%s)", p->path, holder, comm);
		} else {
			esim_fail(err, ESIM_E_NOREADER, "serial port '%s' is in use by another process",
				  p->path);
		}
		set_kind(err, AT_KIND_BUSY);
		if (p->mm[0] && holder > 0 && strcmp(comm, "ModemManager") == 0)
			return esim_hint(err, "stop ModemManager or mark the port ignored "
					 "(docs/backends.md)");
		return esim_hint(err, "stop that program, or wait until it is done");
	}
	return set_raw(p, err);
}

int at_transport_open(const char *device, int csim_only, struct apdu_transport *out,
		      struct esim_err *err)
{
	return at_transport_open_timeout(device, csim_only, 0, out, err);
}

int at_transport_open_timeout(const char *device, int csim_only, int timeout_ms,
			      struct apdu_transport *out, struct esim_err *err)
{
	struct at_port *p;
	struct at_answer a;
	const char *env = getenv("ESIMCTL_AT_TIMEOUT");
	long mm;

	memset(out, 0, sizeof(*out));
	if (!device || !*device)
		return esim_fail(err, ESIM_E_USAGE, "eUICC backend '%s' needs a serial port: "
				 "%s:/dev/ttyUSB2", csim_only ? "at-csim" : "at",
				 csim_only ? "at-csim" : "at");
	if (strlen(device) >= sizeof(p->path))
		return esim_fail(err, ESIM_E_USAGE, "serial port name too long");
	if (!(p = calloc(1, sizeof(*p))))
		return esim_fail(err, ESIM_E_OTHER, "out of memory");
	p->fd = -1;
	p->session = -1;
	p->csim_only = csim_only;
	snprintf(p->path, sizeof(p->path), "%s", device);
	p->timeout_ms = timeout_ms > 0 ? timeout_ms : AT_TIMEOUT_DEFAULT_S * 1000;
	if (timeout_ms <= 0 && env && *env) {
		char *end;
		long v = strtol(env, &end, 10);

		if (*end || v < 1 || v > 3600) {
			free(p);
			return esim_fail(err, ESIM_E_USAGE, "ESIMCTL_AT_TIMEOUT='%.20s': want whole "
					 "seconds, 1..3600", env);
		}
		p->timeout_ms = (int)v * 1000;
	}
	if ((mm = proc_find("ModemManager")) > 0) {
		snprintf(p->mm, sizeof(p->mm), "ModemManager (pid %ld)", mm);
		snprintf(out->warning, sizeof(out->warning), "%.40s is running and may use '%.100s' "
			 "too: stop it or mark the port ignored (docs/backends.md)", p->mm, p->path);
	}
	if (open_port(p, err) < 0)
		goto fail;
	/* Echo off (V.250 §6.2.4); echoes are tolerated anyway, a modem may turn it back on. */
	if (at_command(p, "ATE0", NULL, 0, &a, err) < 0)
		goto fail;
	if (a.final != AT_OK) {
		answer_fail(p, "ATE0", &a, err);
		if (err)
			err->status = ESIM_E_NOREADER;
		set_kind(err, AT_KIND_NOT_MODEM);
		esim_hint(err, "is '%s' the modem's AT port?", p->path);
		goto fail;
	}
	out->open = at_open_cb;
	out->transmit = at_transmit_cb;
	out->close = at_close_cb;
	if (csim_only) {
		out->basic_channel = 1;
	} else {
		out->open_channel = at_open_channel_cb;
		out->close_channel = at_close_channel_cb;
	}
	out->priv = p;
	return 0;
fail:
	{
		char warning[sizeof(out->warning)];

		if (p->mm[0] && err && !err->hint[0])
			esim_hint(err, "%s is running and may hold the port: stop it or mark the "
				  "port ignored (docs/backends.md)", p->mm);
		memcpy(warning, out->warning, sizeof(warning));
		at_close_cb(p);
		memset(out, 0, sizeof(*out));
		memcpy(out->warning, warning, sizeof(warning));
	}
	return -1;
}
