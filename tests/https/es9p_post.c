/*
 * es9p_post.c - drive the ES9+ transport (src/rsp/es9p.c, libcurl) by hand, for
 * tests/cli/t0700-https.sh.
 *
 *   es9p_post ADDRESS [--ca FILE]... [--system-ca] [--connect-timeout MS] [--timeout MS]
 *             [--max-size BYTES] < REQUESTS > FRAMES
 *
 * One session to https://ADDRESS; requests come from stdin, one after another:
 *   "POST <path>\n<length>\n" <length bytes>      -> "<status> <length>[ <location>]\n" <body>
 *                                                  or "ERR <exit status> <length>\n" <message>
 *   "STATS\n"                                     -> "STATS <requests> <connections> <handshakes>\n"
 * Ends at EOF with status 0; bad input: status 2.  A test tool, not part of esimctl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esimctl/buf.h"
#include "esimctl/error.h"
#include "esimctl/es9p.h"
#include "rsp/es9p_internal.h"

static int bad(const char *what)
{
	fprintf(stderr, "es9p_post: %s\n", what);
	return 2;
}

int main(int argc, char **argv)
{
	const char *cas[ES9P_MAX_CA_FILES + 1];
	struct es9p_opts o = { 0 };
	struct esim_err err = { 0 };
	struct es9p *s = NULL;
	char line[1024];
	int i;

	if (argc < 2)
		return bad("usage: es9p_post ADDRESS [--ca FILE]... [--system-ca] [--connect-timeout MS] "
			   "[--timeout MS] [--max-size BYTES]");
	o.ca_files = cas;
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--system-ca") == 0)
			o.system_ca = 1;
		else if (i + 1 >= argc)
			return bad("option without a value");
		else if (strcmp(argv[i], "--ca") == 0 && o.nca <= ES9P_MAX_CA_FILES)
			cas[o.nca++] = argv[++i];
		else if (strcmp(argv[i], "--connect-timeout") == 0)
			o.connect_timeout_ms = atol(argv[++i]);
		else if (strcmp(argv[i], "--timeout") == 0)
			o.timeout_ms = atol(argv[++i]);
		else if (strcmp(argv[i], "--max-size") == 0)
			o.max_body = strtoul(argv[++i], NULL, 10);
		else
			return bad("unknown option");
	}
	if (es9p_open(argv[1], &o, &s, &err) < 0) {
		printf("ERR %d %zu\n%s", err.status, strlen(err.msg), err.msg);
		return 0;
	}
	while (fgets(line, sizeof(line), stdin)) {
		struct buf req = BUF_INIT, resp = BUF_INIT;
		char location[2048], *nl = strchr(line, '\n');
		unsigned rq = 0, cn = 0, hs = 0;
		int status = 0;
		size_t len;

		if (!nl)
			return bad("unterminated line");
		*nl = '\0';
		if (strcmp(line, "STATS") == 0) {
			es9p_stats(s, &rq, &cn, &hs, &err);
			printf("STATS %u %u %u\n", rq, cn, hs);
			continue;
		}
		if (strncmp(line, "POST /", 6) != 0)
			return bad("expected POST or STATS");
		{
			char path[1024], lenline[32];

			snprintf(path, sizeof(path), "%s", line + 5);
			if (!fgets(lenline, sizeof(lenline), stdin))
				return bad("missing length");
			len = strtoul(lenline, NULL, 10);
			buf_grow(&req, len);
			if (len && fread(req.buf, 1, len, stdin) != len)
				return bad("short body");
			req.len = len;
			req.buf[len] = '\0';
			if (es9p_post(s, path, &req, "request", &status, &resp, location, sizeof(location),
				      &err) < 0) {
				printf("ERR %d %zu\n%s", err.status, strlen(err.msg), err.msg);
			} else {
				printf(location[0] ? "%d %zu %s\n" : "%d %zu\n", status, resp.len, location);
				fwrite(resp.buf, 1, resp.len, stdout);
			}
		}
		fflush(stdout);
		buf_release(&req);
		buf_release(&resp);
	}
	es9p_close(s);
	return 0;
}
