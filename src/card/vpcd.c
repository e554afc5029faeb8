/*
 * vpcd.c - a card for vsmartcard's virtual PC/SC reader (see card/vpcd.h).
 *
 * The socket: TCP_NODELAY, and each frame (length and payload together) in one send(),
 * so Nagle's algorithm never holds back the second half of a frame for the peer's
 * delayed ACK (which costs up to 40 ms per APDU, seconds per profile download).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "card/vpcd.h"

#define FRAME_MAX 0xFFFF
#define CONNECT_TIMEOUT_MS 5000
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define POLL_MS 500        /* how often *stop is looked at while idle */

enum { CTRL_OFF = 0, CTRL_ON = 1, CTRL_RESET = 2, CTRL_ATR = 4 };

int vpcd_parse_address(const char *text, char *host, size_t hostsz, char *port, size_t portsz,
		       struct esim_err *err)
{
	const char *h = text, *p = NULL;
	size_t hl;
	char *end;
	long num;

	if (!text || !*text)
		return esim_fail(err, ESIM_E_USAGE, "--vpcd needs HOST:PORT (e.g. %s:%s)",
				 VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || (close[1] && close[1] != ':'))
			return esim_fail(err, ESIM_E_USAGE, "--vpcd '%s': expected [ADDRESS]:PORT", text);
		h = text + 1;
		hl = (size_t)(close - h);
		p = close[1] ? close + 2 : NULL;
	} else {
		const char *colon = strrchr(text, ':');

		if (colon && strchr(text, ':') != colon)
			return esim_fail(err, ESIM_E_USAGE, "--vpcd '%s': write an IPv6 address as "
					 "[ADDRESS]:PORT", text);
		hl = colon ? (size_t)(colon - text) : strlen(text);
		p = colon ? colon + 1 : NULL;
	}
	if (hl == 0 || hl >= hostsz)
		return esim_fail(err, ESIM_E_USAGE, "--vpcd '%s': no host (HOST:PORT)", text);
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (!p) {
		snprintf(port, portsz, "%s", VPCD_DEFAULT_PORT);
		return 0;
	}
	errno = 0;
	num = strtol(p, &end, 10);
	if (!*p || *end || errno || num < 1 || num > 65535)
		return esim_fail(err, ESIM_E_USAGE, "--vpcd '%s': the port must be a number from 1 "
				 "to 65535", text);
	snprintf(port, portsz, "%ld", num);
	return 0;
}

static void note(struct vpcd_serve *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct vpcd_serve *s, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (!s->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->note(s->note_arg, msg);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);     /* a signal ends it early: the caller checks *stop */
}

/*
 * ACK at once what arrived.  vpcd up to vsmartcard 0.8 (Debian 12's 3.3) sends a frame's
 * length and its data in two send() calls without TCP_NODELAY: Nagle's algorithm holds
 * the data until the length is acknowledged, and a delayed ACK costs 40 ms per APDU.
 * TCP_QUICKACK is not sticky on Linux (tcp(7)), so it is set again after every recv().
 */
static void quick_ack(int fd)
{
#ifdef TCP_QUICKACK
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)fd;
#endif
}

/*
 * One connection attempt: the socket, or -1 with *why set to the errno (0 and -2 when the
 * host does not resolve, -3 when *stop was set while waiting).
 */
static int try_connect(struct vpcd_serve *s, int *why)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	*why = 0;
	if ((gai = getaddrinfo(s->host, s->port, &hints, &res)) != 0) {
		*why = gai;
		return -2;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		int one = 1, soerr = 0, r;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			*why = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			*why = errno;
			close(fd);
			fd = -1;
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		for (int waited = 0; waited < CONNECT_TIMEOUT_MS && !*s->stop; waited += POLL_MS) {
			r = poll(&pfd, 1, POLL_MS);
			if (r != 0)
				break;
		}
		if (*s->stop) {
			close(fd);
			freeaddrinfo(res);
			return -3;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (!(pfd.revents & (POLLOUT | POLLERR | POLLHUP)))
			soerr = ETIMEDOUT;
		if (soerr) {
			*why = soerr;
			close(fd);
			fd = -1;
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		quick_ack(fd);
		break;
	}
	freeaddrinfo(res);
	return fd;
}

/* Send one frame in one send() (looping only if the kernel takes part of it). */
static int send_frame(int fd, const uint8_t *data, size_t len)
{
	uint8_t out[2 + FRAME_MAX];
	size_t done = 0, total = len + 2;

	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	memcpy(out + 2, data, len);
	while (done < total) {
		struct pollfd pfd = { fd, POLLOUT, 0 };
		ssize_t n = send(fd, out + done, total - done, MSG_NOSIGNAL);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    poll(&pfd, 1, CONNECT_TIMEOUT_MS) > 0)
			continue;
		return -1;
	}
	return 0;
}

/* Power on, power off, reset: a new card session, as after a real reset. */
static void card_reset(struct vpcd_serve *s)
{
	struct esim_err ignored = { 0 };

	if (s->card->open)
		s->card->open(s->card->priv, &ignored);
}

/* Handle one frame from vpcd; -1 when the connection must end. */
static int handle(struct vpcd_serve *s, int fd, const uint8_t *msg, size_t len)
{
	uint8_t rx[APDU_RX_MAX];
	size_t rxlen = sizeof(rx);
	struct esim_err e = { 0 };

	if (len == 1) {
		switch (msg[0]) {
		case CTRL_OFF:
		case CTRL_ON:
		case CTRL_RESET:
			card_reset(s);
			return 0;
		case CTRL_ATR:
			return send_frame(fd, s->atr, s->atrlen);
		default:
			return 0;      /* unknown control message: ignored, as vpicc does */
		}
	}
	if (len < 4) {
		/* Not even CLA INS P1 P2: what a card says to a malformed command. */
		static const uint8_t wrong_length[] = { 0x67, 0x00 };

		return send_frame(fd, wrong_length, sizeof(wrong_length));
	}
	if (s->card->transmit(s->card->priv, msg, len, rx, &rxlen, &e) < 0 || rxlen < 2) {
		static const uint8_t no_info[] = { 0x6F, 0x00 };

		return send_frame(fd, no_info, sizeof(no_info));
	}
	s->apdus++;
	return send_frame(fd, rx, rxlen);
}

/* Serve one connection until it ends (0) or *stop (1). */
static int serve_connection(struct vpcd_serve *s, int fd)
{
	static uint8_t in[2 + FRAME_MAX];
	size_t have = 0;

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;
		int r;

		if (*s->stop)
			return 1;
		r = poll(&pfd, 1, POLL_MS);
		if (r < 0 && errno != EINTR)
			return 0;
		if (r <= 0)
			continue;
		n = recv(fd, in + have, sizeof(in) - have, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0)
			return 0;
		quick_ack(fd);
		have += (size_t)n;
		while (have >= 2) {
			size_t len = (size_t)in[0] << 8 | in[1];

			if (have < 2 + len)
				break;
			if (len > 0 && handle(s, fd, in + 2, len) < 0)
				return 0;
			memmove(in, in + 2 + len, have - 2 - len);
			have -= 2 + len;
		}
	}
}

int vpcd_serve(struct vpcd_serve *s, struct esim_err *err)
{
	long backoff = BACKOFF_FIRST_MS;
	int fd, why, lost = 0;

	for (;;) {
		if (*s->stop)
			return 0;
		fd = try_connect(s, &why);
		if (fd == -3)
			return 0;
		if (fd == -2) {
			if (s->connections == 0)
				return esim_fail(err, ESIM_E_USAGE, "vpcd host '%s': %s", s->host,
						 gai_strerror(why));
			fd = -1;
		}
		if (fd < 0) {
			if (s->connections == 0) {
				esim_fail(err, ESIM_E_NOREADER, "cannot connect to vpcd at %s port %s: %s",
					  s->host, s->port, strerror(why));
				return esim_hint(err, "is pcscd running with the vpcd driver "
						 "(vsmartcard-vpcd; /etc/reader.conf.d/vpcd names the port)?");
			}
			if (!lost)
				note(s, "lost vpcd at %s port %s; reconnecting", s->host, s->port);
			lost = 1;
			sleep_ms(backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		s->connections++;
		backoff = BACKOFF_FIRST_MS;
		lost = 0;
		card_reset(s);
		note(s, "connected to vpcd at %s port %s", s->host, s->port);
		if (serve_connection(s, fd)) {
			close(fd);
			return 0;
		}
		close(fd);
		card_reset(s);
		if (!*s->stop) {
			note(s, "vpcd at %s port %s closed the connection; reconnecting", s->host,
			     s->port);
			lost = 1;
		}
	}
}
