/*
 * safepath.h - one set of rules for every file esimctl trusts or writes (private to
 * esimctl; see docs/store-format.md "File safety").
 *
 * Trusted files (the store and its lock, a software eUICC's state and its lock, the carrier
 * override file) get the checks ssh's StrictModes makes: the file is a regular file owned
 * by the user (or root), no other user can write it, and every directory from "/" down to
 * it is owned by the user or root and cannot be written by others unless it has the sticky
 * bit (as /tmp does).  Symbolic links are refused, or for files that allow it
 * (TRUST_FOLLOW) followed only when the link and everything around it pass the same
 * checks.  Errors name the file, its owner and the fix, with the status in struct trust.
 *
 * Output files (qr --png/--svg) go through output_resolve(): an existing path that is not
 * a regular file is never replaced (see outfile.h).
 *
 *	static const struct trust t = { "store", ESIM_E_OTHER, 0, "use --store PATH" };
 *	rc = trust_open(path, &t, &fd, err);     // 1: no such file, 0: fd, -1: err
 */
#ifndef ESIMCTL_SAFEPATH_H
#define ESIMCTL_SAFEPATH_H

#include <sys/stat.h>

#include "esimctl/buf.h"
#include "esimctl/error.h"

#define TRUST_SECRET 1u /* refuse a file that group or others can read at all (private keys) */
#define TRUST_FOLLOW 2u /* follow symbolic links owned by the user or root (config files) */

struct trust {
	const char *what;        /* "store", "software eUICC", "carrier override file" */
	enum esim_status status; /* status of a refusal or an access error */
	unsigned flags;          /* TRUST_* */
	const char *elsewhere;   /* how to use another file: "use --store PATH or ESIMCTL_STORE" */
};

/* The user's home: $HOME when it is an absolute path, else the password database. */
int home_dir(struct buf *out);

/* Check every directory that leads to path (StrictModes); path itself may not exist. */
int trust_check_dirs(const char *path, const struct trust *t, struct esim_err *err);
/* Check an open trusted file: regular, owned by the user or root, mode (see above). */
int trust_check_fd(int fd, const char *path, const struct trust *t, struct esim_err *err);
/*
 * Open a trusted file read-only after all the checks: 0 with *fdp, 1 when it does not
 * exist (*fdp -1), -1 with err.  With TRUST_FOLLOW, real (if not NULL) gets the file
 * opened after symbolic links; otherwise it gets path.
 */
int trust_open(const char *path, const struct trust *t, int *fdp, struct buf *real,
	       struct esim_err *err);
/*
 * Open (creating it 0600 if needed) the lock file "<file>.lock" of a trusted file, for
 * flock(): it must be owned by the user and not open to others, who could hold the lock.
 */
int trust_open_lock(const char *lockpath, const struct trust *t, int *fdp, struct esim_err *err);
/*
 * 1 when path (not followed) is a regular file of the user that group or others can read
 * but not write (a warning case; writable is refused by trust_check_fd()); *mode is set.
 */
int trust_exposed(const char *path, unsigned *mode);
/* Read a trusted file whole (NUL-terminated) after trust_open(): 1 when it does not exist. */
int trust_read_file(const char *path, const struct trust *t, struct buf *out, struct buf *real,
		    struct esim_err *err);
/* The rest of fd appended to out; a read error is status, naming path. */
int fd_read_all(int fd, const char *path, struct buf *out, enum esim_status status,
		struct esim_err *err);
/* Directory part of path: "a/b/c" -> "a/b", "c" -> ".", "/c" -> "/". */
void path_dir(const char *path, struct buf *out);
/* Name a uid for messages: "alice" or "uid 1234". */
void uid_name(unsigned uid, char *out, size_t len);
/* A phrase for a file type: "a directory", "a FIFO", "a character device"... */
const char *file_type_name(mode_t mode);

/* Where an output path leads (output_resolve()). */
enum output_kind {
	OUTPUT_STDOUT,   /* "-" */
	OUTPUT_NEW,      /* nothing there yet: create target */
	OUTPUT_REPLACE,  /* a regular file: replace target atomically */
	OUTPUT_IN_PLACE, /* a character device or a FIFO: open target and write */
};
/*
 * Resolve an output path: "-" is stdout; symbolic links owned by the user or root are
 * followed (at most 40) and target gets the file at the end; a directory, a block device,
 * a socket or a link owned by another user is refused (ESIM_E_OUTPUT).
 */
int output_resolve(const char *path, enum output_kind *kind, struct buf *target,
		   struct esim_err *err);

#endif
