/*
 * safepath.c - the rules for files esimctl trusts or writes (see safepath.h).
 *
 * The ownership and mode rules are those of OpenSSH's StrictModes (sshd_config(5)): a
 * file that decides what esimctl does must not be changeable by anyone but the user and
 * root, and neither may any directory on the way to it, because whoever can write a
 * directory can rename another file into its place.  A directory with the sticky bit
 * (/tmp) only lets each user rename their own files, so it is accepted, and the file in
 * it must then be the user's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/safepath.h"

/* Symbolic links followed for one path at most, as the kernel (path_resolution(7)). */
#define MAX_LINKS 40

int home_dir(struct buf *out)
{
	const char *h = getenv("HOME");

	buf_reset(out);
	/* A relative or empty HOME would make the working directory decide. */
	if (!h || *h != '/') {
		const struct passwd *pw = getpwuid(getuid());

		h = pw && pw->pw_dir && *pw->pw_dir == '/' ? pw->pw_dir : NULL;
	}
	if (!h)
		return -1;
	buf_addstr(out, h);
	while (out->len > 1 && out->buf[out->len - 1] == '/')
		out->buf[--out->len] = '\0';
	return 0;
}

void path_dir(const char *path, struct buf *out)
{
	const char *slash = strrchr(path, '/');

	buf_reset(out);
	if (!slash) {
		buf_addch(out, '.');
		return;
	}
	while (slash > path && slash[-1] == '/')
		slash--;
	if (slash == path)
		buf_addch(out, '/');
	else
		buf_add(out, path, (size_t)(slash - path));
}

void uid_name(unsigned uid, char *out, size_t len)
{
	const struct passwd *pw = getpwuid((uid_t)uid);

	if (pw && pw->pw_name && *pw->pw_name)
		snprintf(out, len, "%s (uid %u)", pw->pw_name, uid);
	else
		snprintf(out, len, "uid %u", uid);
}

const char *file_type_name(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

static int trusted_owner(uid_t uid)
{
	return uid == geteuid() || uid == 0;
}

/* "owned by nobody (uid 65534), not by you (alice) or root" */
static void owner_phrase(uid_t uid, char *out, size_t len)
{
	const struct passwd *pw = getpwuid(geteuid());
	char owner[80];

	uid_name((unsigned)uid, owner, sizeof(owner));
	if (geteuid() == 0)
		snprintf(out, len, "owned by %s, not by you (root)", owner);
	else if (pw && pw->pw_name)
		snprintf(out, len, "owned by %s, not by you (%s) or root", owner, pw->pw_name);
	else
		snprintf(out, len, "owned by %s, not by you (uid %u) or root", owner,
			  (unsigned)geteuid());
}

/* ---- directories ---- */

static int check_dir(const char *dir, const struct stat *st, const char *path,
		     const struct trust *t, struct esim_err *err)
{
	char who[200];

	if (S_ISLNK(st->st_mode)) {
		if (trusted_owner(st->st_uid))
			return 0;
		owner_phrase(st->st_uid, who, sizeof(who));
		esim_fail(err, t->status, "%s '%s': the symbolic link '%s' on its path is %s",
			  t->what, path, dir, who);
		return esim_hint(err, "that user decides where it leads; %s", t->elsewhere);
	}
	if (!S_ISDIR(st->st_mode)) {
		esim_fail(err, t->status, "%s '%s': '%s' is %s, not a directory", t->what, path, dir,
			  file_type_name(st->st_mode));
		return esim_hint(err, "%s", t->elsewhere);
	}
	if (!trusted_owner(st->st_uid)) {
		owner_phrase(st->st_uid, who, sizeof(who));
		esim_fail(err, t->status,
			  "%s '%s' is refused: its directory '%s' is %s, so that user can replace the file",
			  t->what, path, dir, who);
		return esim_hint(err, "keep it in a directory that only you can change; %s", t->elsewhere);
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX)) {
		esim_fail(err, t->status,
			  "%s '%s' is refused: its directory '%s' has mode %04o: other users can write it "
			  "(no sticky bit), so they can replace the file",
			  t->what, path, dir, (unsigned)(st->st_mode & 07777));
		return esim_hint(err, "chmod go-w '%s' (or chmod +t '%s'); %s", dir, dir, t->elsewhere);
	}
	return 0;
}

/*
 * Check "/" and each directory leading to dir (absolute), with lstat so that symbolic
 * links are seen.  Stops at the first one that does not exist (it will be created 0700).
 * *exist gets the length of the deepest prefix that exists, *links whether one was a link.
 */
static int walk_dirs(const char *dir, const char *path, const struct trust *t, size_t *exist,
		     int *links, struct esim_err *err)
{
	struct buf p = BUF_INIT;
	int ret = 0;

	*exist = 0;
	*links = 0;
	buf_addstr(&p, dir);
	for (size_t end = 1; end <= p.len; end++) {
		struct stat st;
		char saved;

		/* the prefixes "/", then each one ending before a '/' or at the end */
		if (end > 1 && ((end < p.len && p.buf[end] != '/') || p.buf[end - 1] == '/'))
			continue;
		saved = p.buf[end];
		p.buf[end] = '\0';
		if (lstat(p.buf, &st) < 0) {
			if (errno != ENOENT) {
				esim_fail(err, t->status, "%s '%s': cannot check '%s': %s", t->what, path,
					  p.buf, strerror(errno));
				ret = esim_hint(err, "%s", t->elsewhere);
			}
			p.buf[end] = saved;
			break;
		}
		if ((ret = check_dir(p.buf, &st, path, t, err)) < 0)
			break;
		*links |= S_ISLNK(st.st_mode);
		*exist = end;
		p.buf[end] = saved;
	}
	buf_release(&p);
	return ret;
}

int trust_check_dirs(const char *path, const struct trust *t, struct esim_err *err)
{
	struct buf abs = BUF_INIT, dir = BUF_INIT;
	size_t exist;
	int links, ret = -1;

	if (*path != '/') {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd))) {
			esim_fail(err, t->status, "%s '%s': cannot find the working directory: %s",
				  t->what, path, strerror(errno));
			goto out;
		}
		buf_addf(&abs, "%s/", cwd);
	}
	buf_addstr(&abs, path);
	path_dir(abs.buf, &dir);
	if (walk_dirs(dir.buf, path, t, &exist, &links, err) < 0)
		goto out;
	if (links && exist) {
		/* Through links: check the directories where the path really goes, too. */
		char real[PATH_MAX];
		int links2;

		dir.buf[exist] = '\0';
		if (!realpath(dir.buf, real)) {
			esim_fail(err, t->status, "%s '%s': cannot resolve '%s': %s", t->what, path,
				  dir.buf, strerror(errno));
			goto out;
		}
		if (walk_dirs(real, path, t, &exist, &links2, err) < 0)
			goto out;
	}
	ret = 0;
out:
	buf_release(&abs);
	buf_release(&dir);
	return ret;
}

/* ---- files ---- */

static int check_file(const struct stat *st, const char *path, const struct trust *t,
		      struct esim_err *err)
{
	unsigned mode = (unsigned)(st->st_mode & 07777);
	char who[200];

	if (!S_ISREG(st->st_mode)) {
		esim_fail(err, t->status, "%s '%s' is %s, not a regular file", t->what, path,
			  file_type_name(st->st_mode));
		return esim_hint(err, "move it away; %s", t->elsewhere);
	}
	if (!trusted_owner(st->st_uid)) {
		owner_phrase(st->st_uid, who, sizeof(who));
		esim_fail(err, t->status, "%s '%s' is refused: it is %s; another user may have planted it", t->what, path, who);
		return esim_hint(err, "do not use it (its owner or root can remove it); %s", t->elsewhere);
	}
	if ((t->flags & TRUST_SECRET) && (mode & 077)) {
		esim_fail(err, t->status, "%s '%s' has mode %04o: other users can read its private key",
			  t->what, path, mode);
		return esim_hint(err, "chmod 600 '%s'", path);
	}
	if (mode & (S_IWGRP | S_IWOTH)) {
		esim_fail(err, t->status, "%s '%s' has mode %04o: other users can change it", t->what,
			  path, mode);
		return esim_hint(err, "check its contents, then chmod 600 '%s'", path);
	}
	return 0;
}

int trust_check_fd(int fd, const char *path, const struct trust *t, struct esim_err *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return esim_fail(err, t->status, "cannot check %s '%s': %s", t->what, path,
				 strerror(errno));
	return check_file(&st, path, t, err);
}

/*
 * cur is a symbolic link (st its lstat): check that the user or root owns it, then
 * replace cur by where it points.  Messages name link (the path the user gave).
 */
static int link_step(struct buf *cur, const struct stat *st, const char *what, const char *link,
		     enum esim_status status, struct esim_err *err)
{
	char target[PATH_MAX], who[200];
	struct buf next = BUF_INIT;
	ssize_t n;

	if (!trusted_owner(st->st_uid)) {
		owner_phrase(st->st_uid, who, sizeof(who));
		esim_fail(err, status, "%s '%s': the symbolic link '%s' is %s; esimctl does not "
			  "follow it", what, link, cur->buf, who);
		return esim_hint(err, "give the path of the file itself");
	}
	n = readlink(cur->buf, target, sizeof(target));
	if (n < 0 || (size_t)n >= sizeof(target))
		return esim_fail(err, status, "%s '%s': cannot read the symbolic link '%s': %s", what,
				 link, cur->buf, n < 0 ? strerror(errno) : "target too long");
	target[n] = '\0';
	if (target[0] != '/') {
		path_dir(cur->buf, &next);
		buf_addstr(&next, "/");
	}
	buf_addstr(&next, target);
	buf_reset(cur);
	buf_addstr(cur, next.buf);
	buf_release(&next);
	return 0;
}

/* With TRUST_FOLLOW: follow cur through links, each checked with its directories. */
static int trust_follow(const char *path, const struct trust *t, struct buf *cur,
			struct esim_err *err)
{
	for (int hops = 0;; hops++) {
		struct stat st;

		if (lstat(cur->buf, &st) < 0) {
			if (errno == ENOENT && hops) {
				esim_fail(err, t->status, "%s '%s' is a symbolic link to '%s', which does "
					  "not exist", t->what, path, cur->buf);
				return esim_hint(err, "create the file it points to, or remove the link");
			}
			return 0; /* the open reports it */
		}
		if (!S_ISLNK(st.st_mode))
			return 0;
		if (hops >= MAX_LINKS)
			return esim_fail(err, t->status, "%s '%s': too many levels of symbolic links",
					 t->what, path);
		if (link_step(cur, &st, t->what, path, t->status, err) < 0 ||
		    trust_check_dirs(cur->buf, t, err) < 0)
			return -1;
	}
}

/* Explain a failed open of a trusted file: who owns it, what its mode is, what to do. */
static int open_failed(const char *path, int e, const struct trust *t, const char *verb,
		       struct esim_err *err)
{
	struct stat st;
	char who[200];

	if (e == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		target[n > 0 ? n : 0] = '\0';
		esim_fail(err, t->status, "%s '%s' is a symbolic link (to '%s'), which esimctl does "
			  "not follow", t->what, path, target);
		return esim_hint(err, "use the file it points to, '%s', directly; %s", target,
				 t->elsewhere);
	}
	if ((e == EACCES || e == EPERM) && lstat(path, &st) == 0) {
		if (!trusted_owner(st.st_uid))
			return check_file(&st, path, t, err);
		uid_name((unsigned)st.st_uid, who, sizeof(who));
		esim_fail(err, t->status, "cannot %s %s '%s': %s (owner %s, mode %04o)", verb, t->what,
			  path, strerror(e), who, (unsigned)(st.st_mode & 07777));
		return esim_hint(err, "chmod 600 '%s' as its owner; %s", path, t->elsewhere);
	}
	esim_fail(err, t->status, "cannot %s %s '%s': %s", verb, t->what, path, strerror(e));
	if (e == EACCES || e == EROFS || e == ENOTDIR || e == EISDIR)
		esim_hint(err, "%s", t->elsewhere);
	return -1;
}

int trust_open(const char *path, const struct trust *t, int *fdp, struct buf *real,
	       struct esim_err *err)
{
	struct buf cur = BUF_INIT;
	int fd, ret = -1;

	*fdp = -1;
	buf_addstr(&cur, path);
	if (trust_check_dirs(path, t, err) < 0 ||
	    ((t->flags & TRUST_FOLLOW) && trust_follow(path, t, &cur, err) < 0))
		goto out;
	/* O_NONBLOCK: a FIFO planted at the path must not hang the open. */
	fd = open(cur.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			ret = 1;
		else
			open_failed(cur.buf, errno, t, "read", err);
		goto out;
	}
	if (trust_check_fd(fd, cur.buf, t, err) < 0) {
		close(fd);
		goto out;
	}
	*fdp = fd;
	ret = 0;
out:
	if (real && ret >= 0) {
		buf_reset(real);
		buf_addstr(real, cur.buf);
	}
	buf_release(&cur);
	return ret;
}

int trust_open_lock(const char *lockpath, const struct trust *t, int *fdp, struct esim_err *err)
{
	struct trust lt = *t;
	struct stat st;
	char what[64];
	int fd = -1;

	*fdp = -1;
	snprintf(what, sizeof(what), "lock file of the %s", t->what);
	lt.what = what;
	lt.flags &= ~TRUST_FOLLOW;
	/* Open an existing lock without O_CREAT, so a planted one is explained, not created. */
	for (int tries = 0; fd < 0 && tries < 3; tries++) {
		fd = open(lockpath, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
		if (fd < 0 && errno == ENOENT)
			fd = open(lockpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
				  0600);
		if (fd < 0 && errno != EEXIST)
			return open_failed(lockpath, errno, &lt, "open", err);
	}
	if (fd < 0)
		return open_failed(lockpath, EEXIST, &lt, "open", err);
	if (fstat(fd, &st) < 0 || check_file(&st, lockpath, &lt, err) < 0) {
		close(fd);
		return -1;
	}
	/* Anyone who can open it can flock() it and keep every esimctl waiting. */
	if (st.st_mode & 077) {
		close(fd);
		esim_fail(err, t->status, "%s '%s' has mode %04o: other users can open it and hold "
			  "the lock", what, lockpath, (unsigned)(st.st_mode & 07777));
		return esim_hint(err, "chmod 600 '%s'", lockpath);
	}
	*fdp = fd;
	return 0;
}

int trust_exposed(const char *path, unsigned *mode)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return 0;
	*mode = (unsigned)(st.st_mode & 07777);
	return (st.st_mode & 077) && !(st.st_mode & (S_IWGRP | S_IWOTH));
}

int fd_read_all(int fd, const char *path, struct buf *out, enum esim_status status,
		struct esim_err *err)
{
	struct stat st;

	/*
	 * Room for the whole file at once, and more only when it is full: a bigger buffer
	 * would be touched for nothing when the caller wipes it (buf_wipe_release()).
	 */
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		buf_grow(out, (size_t)st.st_size);
	for (;;) {
		ssize_t n;

		if (out->alloc - out->len < 2)
			buf_grow(out, 65536);
		n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return esim_fail(err, status, "cannot read '%s': %s", path, strerror(errno));
		}
		if (n == 0)
			return 0;
		out->len += (size_t)n;
		out->buf[out->len] = '\0';
	}
}

int trust_read_file(const char *path, const struct trust *t, struct buf *out, struct buf *real,
		    struct esim_err *err)
{
	int fd, rc;

	buf_reset(out);
	if ((rc = trust_open(path, t, &fd, real, err)) != 0)
		return rc;
	rc = fd_read_all(fd, path, out, t->status, err);
	close(fd);
	if (rc < 0)
		buf_wipe_release(out);
	return rc;
}

/* ---- output files ---- */

int output_resolve(const char *path, enum output_kind *kind, struct buf *target,
		   struct esim_err *err)
{
	buf_reset(target);
	if (!*path)
		return esim_fail(err, ESIM_E_USAGE, "the output file name is empty");
	if (!strcmp(path, "-")) {
		*kind = OUTPUT_STDOUT;
		return 0;
	}
	buf_addstr(target, path);
	for (int hops = 0;; hops++) {
		struct stat st, real;
		struct buf link = BUF_INIT;

		if (lstat(target->buf, &st) < 0) {
			if (errno != ENOENT)
				return esim_fail(err, ESIM_E_OUTPUT, "cannot write '%s': %s", path,
						 strerror(errno));
			*kind = OUTPUT_NEW;
			return 0;
		}
		if (S_ISREG(st.st_mode)) {
			*kind = OUTPUT_REPLACE;
			return 0;
		}
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
			*kind = OUTPUT_IN_PLACE;
			return 0;
		}
		if (!S_ISLNK(st.st_mode)) {
			if (hops)
				esim_fail(err, ESIM_E_OUTPUT, "not writing '%s': it leads to '%s', which is "
					  "%s; esimctl replaces only regular files", path, target->buf,
					  file_type_name(st.st_mode));
			else
				esim_fail(err, ESIM_E_OUTPUT, "not writing '%s': it is %s; esimctl replaces "
					  "only regular files", path, file_type_name(st.st_mode));
			if (S_ISDIR(st.st_mode))
				esim_hint(err, "give a file name, e.g. '%s/qr.png'", target->buf);
			return -1;
		}
		if (hops >= MAX_LINKS)
			return esim_fail(err, ESIM_E_OUTPUT, "cannot write '%s': too many levels of "
					 "symbolic links", path);
		buf_addstr(&link, target->buf);
		if (link_step(target, &st, "output file", path, ESIM_E_OUTPUT, err) < 0) {
			buf_release(&link);
			return -1;
		}
		/*
		 * A /proc "magic" link (/dev/stdout -> /proc/self/fd/1 -> "pipe:[1234]") names no
		 * path: the kernel opens the object itself.  Write in place when that is a
		 * character device or a FIFO.
		 */
		if (lstat(target->buf, &st) < 0 && errno == ENOENT && stat(link.buf, &real) == 0) {
			buf_reset(target);
			buf_addstr(target, link.buf);
			buf_release(&link);
			if (S_ISCHR(real.st_mode) || S_ISFIFO(real.st_mode)) {
				*kind = OUTPUT_IN_PLACE;
				return 0;
			}
			return esim_fail(err, ESIM_E_OUTPUT, "not writing '%s': it leads to %s, and "
					 "esimctl replaces only regular files", path,
					 file_type_name(real.st_mode));
		}
		buf_release(&link);
	}
}
