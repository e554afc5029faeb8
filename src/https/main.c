/*
 * esimctl-https - the HTTPS transport of esimctl's ES9+ client (SGP.22 digest §2.1).
 *
 * esimctl itself never links libcurl: commands that need no network must not pay for
 * loading it.  For the length of one ES9+ session esimctl spawns this program and talks
 * to it over a pair of pipes, as git does with its remote helpers.  All ES9+ knowledge
 * (JSON, base64, status codes) stays in esimctl (src/io/es9p.c); this is a dumb, strict
 * transport that knows one server, one set of trust anchors and nothing else.
 *
 * Usage:
 *   esimctl-https --base https://HOST[:PORT] [--ca FILE]... [--resolve HOST:PORT:ADDR]...
 *                 [--connect-timeout MS] [--timeout MS] [--max-size BYTES]
 * ESIMCTL_RESOLVE holds more HOST:PORT:ADDR entries, comma-separated (curl --resolve,
 * one address per entry).  Proxy variables (https_proxy...) work as they do for curl.
 *
 * Protocol (binary-safe, one request at a time; lengths are decimal byte counts):
 *   -> "POST <path>\n<length>\n" <length body bytes>
 *   <- "<http status> <length>\n" <body>                  any HTTP status, 3xx included
 *   <- "<http status> <length> <location>\n" <body>       3xx with a Location (absolute,
 *                                                           bytes outside 0x21..0x7E %XX)
 *   <- "ERR <code> <length>\n" <one-line message>         the request failed:
 *        7  network or TLS (curl's text, plus OpenSSL's verify result for TLS trust
 *           failures), timeouts, a body over --max-size
 *        2  configuration (an unusable --ca file, a bad ESIMCTL_RESOLVE entry): every
 *           request fails the same way, so the message reaches the user through esimctl
 *        1  protocol violation by the caller; the helper exits with status 1 after it
 *   -> "STATS\n"
 *   <- "STATS <requests> <connections opened> <tls handshakes>\n"
 *   EOF on stdin between requests: exit 0.
 * Bad command-line usage: message on stderr, exit 2.
 *
 * Policy, with no switch to weaken it: https only, TLS 1.2 or newer, peer and host name
 * always verified, redirects never followed (a 3xx goes back to esimctl as it is).
 * Trust = the system CA bundle plus each --ca file (PEM with one or more certificates,
 * or one DER certificate); SM-DP+ TLS certificates chain to the GSMA CI, not to a web
 * root, so esimctl passes the CI bundle here.  One easy handle serves the whole session
 * so requests share one keep-alive connection.  Request and response bodies carry
 * session secrets (the matching ID travels inside authenticateServerResponse): they are
 * wiped after use.
 *
 * Self-contained on purpose (libcurl and libcrypto only, no esim_core) to stay small.
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#if LIBCURL_VERSION_NUM < 0x075500
#error "esimctl-https needs libcurl 7.85 or newer (CURLOPT_PROTOCOLS_STR, CURLINFO_CAINFO)"
#endif

#define PROG "esimctl-https"
#define MAX_CA_FILES 32
#define MAX_CA_FILE_SIZE (4L * 1024 * 1024)
#define MAX_REQUEST (16UL * 1024 * 1024)
#define MAX_PATH_LEN 512
#define MAX_LINE 1024
#define MAX_MESSAGE 1024
#define MAX_LOCATION 2048
#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 60000L
#define DEFAULT_MAX_SIZE (4UL * 1024 * 1024)
#define MAX_TIMEOUT_MS (24L * 3600 * 1000)
#define MAX_MAX_SIZE (1024UL * 1024 * 1024)

/* Response body accumulated by the write callback. */
struct body {
	unsigned char *data;
	size_t len;
	size_t alloc;
	size_t limit;
	int too_big;
	int headers_done;  /* the blank line that ends the response header was seen */
};

typedef X509_STORE *(*get_cert_store_fn)(const SSL_CTX *);

struct helper {
	CURL *curl;
	struct curl_slist *headers;
	struct curl_slist *resolve;
	const char *base;
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_size;
	STACK_OF(X509) *cas;
	get_cert_store_fn get_cert_store;
	char config_error[MAX_MESSAGE]; /* non-empty: every request answers ERR 2 with it */
	char errbuf[CURL_ERROR_SIZE];
	unsigned long requests, connections, handshakes;
};

static void usage(FILE *f)
{
	fputs("usage: " PROG " --base https://HOST[:PORT] [--ca FILE]... [--resolve HOST:PORT:ADDR]...\n"
	      "       [--connect-timeout MS] [--timeout MS] [--max-size BYTES]\n"
	      "Spawned by esimctl for one ES9+ session; speaks its pipe protocol on stdin/stdout.\n", f);
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

static void wipe_free(void *p, size_t n)
{
	if (p) {
		OPENSSL_cleanse(p, n);
		free(p);
	}
}

/* ---- pipe I/O ---- */

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *data, size_t len)
{
	char *p = data;

	while (len > 0) {
		ssize_t r = read(fd, p, len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/*
 * One line from stdin without its '\n', read a byte at a time so nothing past the
 * line is consumed (the body that follows is read with read_all).  Returns the length,
 * -1 on clean EOF before the first byte, -2 on EOF inside the line, an overlong line or
 * a read error.
 */
static long read_line(char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(0, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -2;
		if (r == 0)
			return n == 0 ? -1 : -2;
		if (c == '\n')
			break;
		if (n + 1 >= size)
			return -2;
		line[n++] = c;
	}
	line[n] = '\0';
	return (long)n;
}

/* Keep messages on one line and printable. */
static void one_line(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7F)
			*s = ' ';
}

static void reply_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_err(int code, const char *fmt, ...)
{
	char msg[MAX_MESSAGE], head[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	one_line(msg);
	n = snprintf(head, sizeof(head), "ERR %d %zu\n", code, strlen(msg));
	if (write_all(1, head, (size_t)n) < 0 || write_all(1, msg, strlen(msg)) < 0)
		exit(1);
}

static void protocol_error(const char *what) __attribute__((noreturn));
static void protocol_error(const char *what)
{
	reply_err(1, "protocol error: %s", what);
	fprintf(stderr, PROG ": protocol error: %s\n", what);
	exit(1);
}

/* ---- option values ---- */

static long parse_ms(const char *opt, const char *s)
{
	char *end;
	long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		die_usage("%s '%s': not a number of milliseconds", opt, s);
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > MAX_TIMEOUT_MS)
		die_usage("%s '%s': expected 1..%ld milliseconds", opt, s, MAX_TIMEOUT_MS);
	return v;
}

static size_t parse_size(const char *opt, const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		die_usage("%s '%s': not a number of bytes", opt, s);
	v = strtoull(s, &end, 10);
	if (errno || *end || v < 1 || v > MAX_MAX_SIZE)
		die_usage("%s '%s': expected 1..%lu bytes", opt, s, MAX_MAX_SIZE);
	return (size_t)v;
}

static int is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* "https://HOST[:PORT]": DNS name, IPv4 or bracketed IPv6; nothing after the port. */
static int valid_base(const char *base)
{
	const char *p;

	if (strncmp(base, "https://", 8) != 0)
		return 0;
	p = base + 8;
	if (*p == '[') {
		for (p++; *p && *p != ']'; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
			      (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.'))
				return 0;
		if (*p++ != ']' || p == base + 10)
			return 0;
	} else {
		const char *h = p;

		while (is_host_char(*p))
			p++;
		if (p == h)
			return 0;
	}
	if (*p == ':') {
		const char *d = ++p;
		long port = 0;

		while (*p >= '0' && *p <= '9' && p - d < 5)
			port = port * 10 + (*p++ - '0');
		if (p == d || port < 1 || port > 65535)
			return 0;
	}
	return *p == '\0';
}

/* curl's --resolve syntax, checked loosely: HOST:PORT:ADDR[,ADDR]..., printable. */
static int valid_resolve(const char *s)
{
	const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (!c2 || c1 == s || c2 == c1 + 1 || !c2[1])
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7F)
			return 0;
	return 1;
}

static int add_resolve(struct helper *h, const char *entry)
{
	struct curl_slist *n;

	if (!valid_resolve(entry))
		return -1;
	n = curl_slist_append(h->resolve, entry);
	if (!n)
		die_usage("out of memory");
	h->resolve = n;
	return 0;
}

/*
 * ESIMCTL_RESOLVE: comma-separated HOST:PORT:ADDR entries, one address each.  A bad
 * entry becomes the configuration error every request reports, so it reaches the user
 * through esimctl rather than only this program's stderr.
 */
static void add_resolve_env(struct helper *h)
{
	const char *env = getenv("ESIMCTL_RESOLVE");
	char *copy, *p, *comma;

	if (!env || !*env)
		return;
	copy = strdup(env);
	if (!copy)
		die_usage("out of memory");
	for (p = copy; p; p = comma) {
		comma = strchr(p, ',');
		if (comma)
			*comma++ = '\0';
		if (*p && add_resolve(h, p) < 0 && !h->config_error[0])
			snprintf(h->config_error, sizeof(h->config_error),
				 "ESIMCTL_RESOLVE entry '%.200s': expected HOST:PORT:ADDR", p);
	}
	free(copy);
}

/* ---- trust anchors ---- */

/* Read a --ca file: PEM (any number of certificates, other PEM blocks skipped) or DER. */
static int load_ca_file(struct helper *h, const char *path)
{
	unsigned char *data = NULL;
	long size;
	FILE *f;
	int n = 0, ret = -1;

	f = fopen(path, "rb");
	if (!f) {
		snprintf(h->config_error, sizeof(h->config_error), "cannot open CA file '%s': %s",
			 path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    size > MAX_CA_FILE_SIZE) {
		snprintf(h->config_error, sizeof(h->config_error),
			 "cannot read CA file '%s': not a regular file or larger than %ld bytes",
			 path, MAX_CA_FILE_SIZE);
		goto out;
	}
	data = malloc((size_t)size + 1);
	if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
		snprintf(h->config_error, sizeof(h->config_error), "cannot read CA file '%s'", path);
		goto out;
	}
	data[size] = '\0';
	ERR_clear_error();
	if (strstr((char *)data, "-----BEGIN")) {
		BIO *bio = BIO_new_mem_buf(data, (int)size);
		X509 *x;

		while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			if (!sk_X509_push(h->cas, x)) {
				X509_free(x);
				break;
			}
			n++;
		}
		BIO_free(bio);
		/* The loop ends with "no start line" at the end of the file; anything else is bad. */
		if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE)
			n = -1;
	} else {
		const unsigned char *p = data;
		X509 *x = d2i_X509(NULL, &p, size);

		if (x && p == data + size && sk_X509_push(h->cas, x))
			n = 1;
		else {
			X509_free(x);
			n = -1;
		}
	}
	ERR_clear_error();
	if (n <= 0) {
		snprintf(h->config_error, sizeof(h->config_error),
			 n < 0 ? "CA file '%s' holds an invalid certificate"
			       : "CA file '%s' holds no certificate", path);
		goto out;
	}
	ret = 0;
out:
	free(data);
	fclose(f);
	return ret;
}

/*
 * CURLOPT_SSL_CTX_FUNCTION: add the --ca certificates to the X509_STORE that libcurl
 * has already filled with the system bundle, so both are trusted.
 *
 * SSL_CTX_get_cert_store() lives in libssl, which this program does not link (the build
 * gives it libcurl and libcrypto only).  libcurl's OpenSSL backend has loaded libssl by
 * the time it calls us with an SSL_CTX, so the function is looked up at run time.
 */
static CURLcode on_ssl_ctx(CURL *curl, void *sslctx, void *userdata)
{
	struct helper *h = userdata;
	X509_STORE *store;
	int i;

	(void)curl;
	if (!h->get_cert_store || !(store = h->get_cert_store(sslctx)))
		return CURLE_SSL_CACERT_BADFILE;
	for (i = 0; i < sk_X509_num(h->cas); i++) {
		if (!X509_STORE_add_cert(store, sk_X509_value(h->cas, i)) &&
		    ERR_GET_REASON(ERR_peek_last_error()) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
			ERR_clear_error();
			return CURLE_SSL_CACERT_BADFILE;
		}
	}
	ERR_clear_error();
	return CURLE_OK;
}

/* ---- the request ---- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;

	if (n > b->limit - b->len) {
		b->too_big = 1;
		return 0;       /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (n > b->alloc - b->len) {
		size_t want = b->alloc ? b->alloc : 16384;
		unsigned char *p;

		while (want - b->len < n)
			want = want > b->limit / 2 ? b->limit : want * 2;
		/* No realloc: the old block would be freed with the bytes still in it. */
		p = malloc(want);
		if (!p)
			return 0;
		if (b->len)
			memcpy(p, b->data, b->len);
		wipe_free(b->data, b->alloc);
		b->data = p;
		b->alloc = want;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	return n;
}

/*
 * libcurl takes "HTTP/1.1 200 OK\r\nSer" followed by a closed connection for a complete
 * 200 with no body; noting the end of the header block lets us call that a network
 * failure instead.
 */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;

	if ((n == 2 && ptr[0] == '\r' && ptr[1] == '\n') || (n == 1 && ptr[0] == '\n'))
		b->headers_done = 1;
	else
		b->headers_done = 0; /* a 1xx block ended; the final header follows */
	return n;
}

static void body_wipe(struct body *b)
{
	wipe_free(b->data, b->alloc);
	b->data = NULL;
	b->len = b->alloc = 0;
	b->too_big = 0;
}

/* Location for the status line: bytes outside 0x21..0x7E percent-encoded, bounded. */
static void format_location(const char *loc, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *loc && n + 4 < size; loc++) {
		unsigned char c = (unsigned char)*loc;

		if (c > 0x20 && c < 0x7F) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

static void account(struct helper *h)
{
	long conns = 0;
	curl_off_t appconnect = 0;

	h->requests++;
	if (curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK && conns > 0) {
		h->connections += (unsigned long)conns;
		/* A new connection whose TLS handshake completed. */
		if (curl_easy_getinfo(h->curl, CURLINFO_APPCONNECT_TIME_T, &appconnect) == CURLE_OK &&
		    appconnect > 0)
			h->handshakes++;
	}
}

static void report_failure(struct helper *h, CURLcode rc, const struct body *b)
{
	const char *text = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
	const char *verify = NULL;
	long result = X509_V_OK;

	if (b->too_big) {
		reply_err(7, "response larger than %zu bytes", h->max_size);
		return;
	}
	/*
	 * libcurl sets the verify result to X509_V_ERR_UNSPECIFIED when a handshake starts
	 * and stores OpenSSL's result once the chain has been checked, but returns before
	 * storing it when its own host name check fails.  So, for failures of this
	 * handshake only (the value is stale otherwise): a real result names the chain
	 * problem; a peer verification failure without one, about the host name, is that.
	 */
	if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR) {
		if (curl_easy_getinfo(h->curl, CURLINFO_SSL_VERIFYRESULT, &result) != CURLE_OK)
			result = X509_V_ERR_UNSPECIFIED;
		if (result != X509_V_OK && result != X509_V_ERR_UNSPECIFIED)
			verify = X509_verify_cert_error_string(result);
		else if (rc == CURLE_PEER_FAILED_VERIFICATION && strstr(text, "host name"))
			verify = X509_verify_cert_error_string(X509_V_ERR_HOSTNAME_MISMATCH);
	}
	if (verify && !strstr(text, verify))
		reply_err(7, "%s: %s", text, verify);
	else
		reply_err(7, "%s", text);
}

static void do_post(struct helper *h, const char *path, unsigned char *req, size_t len)
{
	char url[MAX_LINE + 64], head[MAX_LOCATION + 64], loc[MAX_LOCATION];
	struct body b = { NULL, 0, 0, h->max_size, 0, 0 };
	long status = 0;
	char *redirect = NULL;
	CURLcode rc;
	int n;

	snprintf(url, sizeof(url), "%s%s", h->base, path);
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, (char *)req);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &b);
	rc = curl_easy_perform(h->curl);
	account(h);
	/* Take the body away from libcurl before it is wiped and freed. */
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	if (rc != CURLE_OK) {
		report_failure(h, rc, &b);
		body_wipe(&b);
		return;
	}
	if (!b.headers_done) {
		static const char msg[] = "the connection closed inside the response header";
		char eh[64];

		n = snprintf(eh, sizeof(eh), "ERR 7 %zu\n", sizeof(msg) - 1);
		if (write_all(1, eh, (size_t)n) < 0 || write_all(1, msg, sizeof(msg) - 1) < 0) {
			body_wipe(&b);
			exit(1);
		}
		body_wipe(&b);
		return;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	loc[0] = '\0';
	if (status >= 300 && status < 400 &&
	    curl_easy_getinfo(h->curl, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect)
		format_location(redirect, loc, sizeof(loc));
	n = snprintf(head, sizeof(head), loc[0] ? "%ld %zu %s\n" : "%ld %zu\n", status, b.len, loc);
	if (write_all(1, head, (size_t)n) < 0 || (b.len && write_all(1, b.data, b.len) < 0)) {
		body_wipe(&b);
		exit(1);
	}
	body_wipe(&b);
}

static void handle_post(struct helper *h, const char *path)
{
	char line[MAX_LINE], *end;
	unsigned char *req;
	unsigned long long len;
	size_t i;

	if (path[0] != '/' || strlen(path) > MAX_PATH_LEN)
		protocol_error("bad path");
	for (i = 0; path[i]; i++) {
		char c = path[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '-' || c == '.' || c == '_' || c == '~'))
			protocol_error("bad path");
	}
	if (read_line(line, sizeof(line)) < 0)
		protocol_error("missing body length");
	errno = 0;
	len = strtoull(line, &end, 10);
	if (line[0] < '0' || line[0] > '9' || *end || errno || strlen(line) > 10 || len > MAX_REQUEST)
		protocol_error("bad body length");
	req = malloc((size_t)len + 1);
	if (!req)
		protocol_error("out of memory");
	if (read_all(0, req, (size_t)len) < 0) {
		wipe_free(req, (size_t)len + 1);
		protocol_error("end of input inside a request body");
	}
	if (h->config_error[0])
		reply_err(2, "%s", h->config_error);
	else
		do_post(h, path, req, (size_t)len);
	wipe_free(req, (size_t)len + 1);
}

static void setup_curl(struct helper *h)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	struct curl_slist *l = NULL;
	static const char *const headers[] = {
		"Content-Type: application/json",
		"X-Admin-Protocol: gsma/rsp/v2.2.0",
		"User-Agent: gsma-rsp-lpad",
		"Expect:",
	};
	size_t i;
	CURL *c;

	if (!(c = h->curl = curl_easy_init()))
		die_usage("cannot initialise libcurl");
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		struct curl_slist *n = curl_slist_append(l, headers[i]);

		if (!n)
			die_usage("out of memory");
		l = n;
	}
	h->headers = l;
	/*
	 * Every option that matters for security is checked: a libcurl that silently
	 * ignored one would otherwise run with a weaker policy than this file shows.
	 */
	if (curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
	    /* SGP.22 allows brainpoolP256r1 TLS certificates (TLS 1.2): offer the group too */
	    curl_easy_setopt(c, CURLOPT_SSL_EC_CURVES,
			     "X25519:P-256:P-384:P-521:brainpoolP256r1:brainpoolP384r1:brainpoolP512r1") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf) != CURLE_OK)
		die_usage("libcurl %s refused a required option", v->version);
	if (h->resolve && curl_easy_setopt(c, CURLOPT_RESOLVE, h->resolve) != CURLE_OK)
		die_usage("libcurl %s refused CURLOPT_RESOLVE", v->version);
	if (sk_X509_num(h->cas) > 0 && !h->config_error[0]) {
		char *cainfo = NULL;

		h->get_cert_store = (get_cert_store_fn)dlsym(RTLD_DEFAULT, "SSL_CTX_get_cert_store");
		if (!v->ssl_version || strncmp(v->ssl_version, "OpenSSL", 7) != 0 || !h->get_cert_store ||
		    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) != CURLE_OK ||
		    curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, h) != CURLE_OK) {
			snprintf(h->config_error, sizeof(h->config_error),
				 "--ca needs libcurl with OpenSSL, this one uses %s",
				 v->ssl_version ? v->ssl_version : "no TLS");
			return;
		}
		/*
		 * libcurl refuses to run when its default bundle is missing, even though the
		 * --ca anchors would be enough: then do without the bundle.
		 */
		if (curl_easy_getinfo(c, CURLINFO_CAINFO, &cainfo) == CURLE_OK && cainfo &&
		    access(cainfo, R_OK) != 0)
			curl_easy_setopt(c, CURLOPT_CAINFO, (char *)NULL);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "ca", required_argument, NULL, 'c' },
		{ "connect-timeout", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "resolve", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct helper h;
	const char *ca_files[MAX_CA_FILES];
	size_t nca = 0, i;
	char line[MAX_LINE];
	int opt;

	/* Request bodies carry the matching ID: like esimctl (main.c), no core, no same-user ptrace. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	memset(&h, 0, sizeof(h));
	h.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	h.timeout_ms = DEFAULT_TIMEOUT_MS;
	h.max_size = DEFAULT_MAX_SIZE;
	/* A dead reader must turn into EPIPE and an exit, not a silent signal death. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die_usage("cannot initialise libcurl");

	while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			h.base = optarg;
			break;
		case 'c':
			if (nca == MAX_CA_FILES)
				die_usage("too many --ca files (at most %d)", MAX_CA_FILES);
			ca_files[nca++] = optarg;
			break;
		case 'C':
			h.connect_timeout_ms = parse_ms("--connect-timeout", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'm':
			h.max_size = parse_size("--max-size", optarg);
			break;
		case 'r':
			if (add_resolve(&h, optarg) < 0)
				die_usage("--resolve '%s': expected HOST:PORT:ADDR", optarg);
			break;
		case 't':
			h.timeout_ms = parse_ms("--timeout", optarg);
			break;
		default:
			/* getopt_long has named the option on stderr. */
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!h.base)
		die_usage("--base is required");
	if (!valid_base(h.base))
		die_usage("--base '%s': expected https://HOST[:PORT]", h.base);
	add_resolve_env(&h);

	h.cas = sk_X509_new_null();
	if (!h.cas)
		die_usage("out of memory");
	for (i = 0; i < nca && !h.config_error[0]; i++)
		load_ca_file(&h, ca_files[i]);
	setup_curl(&h);

	for (;;) {
		long n = read_line(line, sizeof(line));

		if (n == -1)
			break;
		if (n < 0)
			protocol_error("bad or unterminated command line");
		if (strcmp(line, "STATS") == 0) {
			char out[128];
			int len = snprintf(out, sizeof(out), "STATS %lu %lu %lu\n", h.requests,
					   h.connections, h.handshakes);

			if (write_all(1, out, (size_t)len) < 0)
				return 1;
		} else if (strncmp(line, "POST ", 5) == 0) {
			handle_post(&h, line + 5);
		} else {
			protocol_error("unknown command");
		}
	}

	curl_easy_cleanup(h.curl);
	curl_slist_free_all(h.headers);
	curl_slist_free_all(h.resolve);
	sk_X509_pop_free(h.cas, X509_free);
	curl_global_cleanup();
	return 0;
}
