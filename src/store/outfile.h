/*
 * outfile.h - output files that are not the store (private to esimctl's commands).
 *
 * Every file esimctl writes at the user's request goes through output_write(), with one
 * rule (esimctl(1) "OUTPUT FILES"):
 *   - "" is a usage error; "-" is standard output (a binary format is refused on a
 *     terminal);
 *   - nothing, or a regular file: written as "<file>.tmp." plus 6 random characters (mode 0600) in the same
 *     directory and renamed over it, never seen half-written (no fsync: a file that can
 *     be written again from the store, docs/performance.md);
 *   - a symbolic link owned by the user or root is followed, and the file it leads to is
 *     replaced that way in its own directory (a dangling link: the file is created);
 *   - a character device or a FIFO is opened and written in place (no O_CREAT, no
 *     O_TRUNC), and every write is checked;
 *   - anything else (a directory, a block device, a socket, another user's link) is
 *     refused and left alone.
 * Errors are ESIM_E_OUTPUT naming the path, or ESIM_E_USAGE for the two usage cases.
 */
#ifndef ESIMCTL_OUTFILE_H
#define ESIMCTL_OUTFILE_H

#include <stddef.h>

#include "esimctl/buf.h"
#include "esimctl/error.h"
#include "store/safepath.h"

struct output_info {
	enum output_kind kind;
	struct buf target; /* the file written, after symbolic links (BUF_INIT; caller releases) */
	int is_stdout;     /* the data went to the process's own standard output */
};

/*
 * The usage checks, before any work: an empty path; "-" for a binary format when
 * stdout is a terminal.
 */
int output_check(const char *path, int binary, int stdout_tty, struct esim_err *err);
int output_write(const char *path, const void *data, size_t len, int binary,
		 struct output_info *info, struct esim_err *err);

#endif
