/*
 * store.c - the store file: path, lock, load, atomic commit (see store.h).
 *
 * Locking: "<store>.lock" is flock()ed, never deleted, and never the staging file, so
 * a killed holder leaves nothing that blocks the next run (git's O_EXCL lockfile does).
 * Writing: mkstemp in the same directory, write, fsync, rename, fsync the directory.
 *
 * Every call that changes the file system on the commit path goes through the fs_*
 * wrappers below, so fault injection can be added in one place.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "esimctl/store.h"
#include "store/outfile.h"
#include "store/safepath.h"

/* The store and its lock: refused files and access problems are status 1, not "corrupt". */
static const struct trust store_trust = {
	"store", ESIM_E_OTHER, 0, "--store PATH or ESIMCTL_STORE selects another store"
};

struct store_txn {
	char *path;
	int lockfd;
};

/* Temp files are "<file>.tmp." plus this many random characters from mkostemp(). */
#define TEMP_SUFFIX_LEN 6

/* ---- the one place for write/fsync/close/rename ---- */

static ssize_t fs_write(int fd, const void *p, size_t n)
{
	return write(fd, p, n);
}

static int fs_fsync(int fd)
{
	return fsync(fd);
}

static int fs_close(int fd)
{
	return close(fd);
}

static int fs_rename(const char *from, const char *to)
{
	return rename(from, to);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = fs_write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- paths ---- */

static void strip_trailing_slashes(struct buf *b)
{
	while (b->len > 1 && b->buf[b->len - 1] == '/')
		b->buf[--b->len] = '\0';
}

int store_path(const char *explicit_path, struct buf *out, struct esim_err *err)
{
	const char *e;

	buf_reset(out);
	if (explicit_path) {
		if (!*explicit_path)
			return esim_fail(err, ESIM_E_USAGE, "the store path is empty");
		buf_addstr(out, explicit_path);
		return 0;
	}
	e = getenv("ESIMCTL_STORE");
	if (e && *e) {
		buf_addstr(out, e);
		return 0;
	}
	/* The XDG base directory spec says to ignore a relative XDG_DATA_HOME. */
	e = getenv("XDG_DATA_HOME");
	if (e && *e == '/') {
		buf_addstr(out, e);
		strip_trailing_slashes(out);
		buf_addstr(out, out->buf[out->len - 1] == '/' ? "" : "/");
		buf_addstr(out, "esimctl/store.json");
		return 0;
	}
	if (home_dir(out) < 0) {
		esim_fail(err, ESIM_E_OTHER, "cannot find a home directory for the default store "
			  "(HOME is not an absolute path and the password database has none)");
		return esim_hint(err, "use --store PATH or set ESIMCTL_STORE");
	}
	buf_addstr(out, out->buf[out->len - 1] == '/' ? "" : "/");
	buf_addstr(out, ".local/share/esimctl/store.json");
	return 0;
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/*
 * mkdir -p with mode 0700 for the directories it creates; existing ones are left alone.
 * Failures are access problems (status 1) that name the directory, the store and the way
 * out.
 */
static int make_dirs(const char *dir, const char *path, struct esim_err *err)
{
	struct buf b = BUF_INIT;
	struct stat st;
	int ret = -1;

	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		esim_fail(err, ESIM_E_OTHER, "cannot use store '%s': '%s' is %s, not a directory",
			  path, dir, file_type_name(st.st_mode));
		return esim_hint(err, "%s", store_trust.elsewhere);
	}
	buf_addstr(&b, dir);
	for (size_t i = 1; i <= b.len; i++) {
		char saved = b.buf[i];

		if (saved != '/' && saved != '\0')
			continue;
		if (b.buf[i - 1] == '/')
			continue;
		b.buf[i] = '\0';
		if (mkdir(b.buf, 0700) < 0 && errno != EEXIST) {
			esim_fail(err, ESIM_E_OTHER, "cannot create directory '%s' for store '%s': %s",
				  b.buf, path, strerror(errno));
			esim_hint(err, "create it; %s", store_trust.elsewhere);
			goto out;
		}
		b.buf[i] = saved;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		esim_fail(err, ESIM_E_OTHER, "cannot create directory '%s' for store '%s': %s", dir,
			  path, S_ISDIR(st.st_mode) ? strerror(errno) : "not a directory");
		esim_hint(err, "%s", store_trust.elsewhere);
		goto out;
	}
	ret = 0;
out:
	buf_release(&b);
	return ret;
}

/* ---- whole-file read and atomic write ---- */

/* Open path for reading: 0 with *fdp, 1 when it does not exist, -1 on error. */
static int open_regular(const char *path, int *fdp, struct esim_err *err)
{
	struct stat st;
	int fd;

	*fdp = -1;
	/* O_NONBLOCK: opening a FIFO planted at the path must not hang. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		if (errno == ELOOP)
			return esim_fail(err, ESIM_E_OTHER,
					 "cannot open '%s': it is a symbolic link, which esimctl does not follow",
					 path);
		return esim_fail(err, ESIM_E_OTHER, "cannot open '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		esim_fail(err, ESIM_E_OTHER, "cannot stat '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		esim_fail(err, ESIM_E_OTHER, "'%s' is not a regular file", path);
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

int read_whole_file(const char *path, struct buf *out, struct esim_err *err)
{
	int fd, rc;

	buf_reset(out);
	if ((rc = open_regular(path, &fd, err)) != 0)
		return rc;
	rc = fd_read_all(fd, path, out, ESIM_E_OTHER, err);
	close(fd);
	if (rc < 0)
		buf_wipe_release(out);
	return rc;
}

/*
 * fsync the directory so the rename itself is durable.  Errors are ignored: the new
 * file is already in place, and some file systems refuse fsync on directories.
 */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	(void)fs_fsync(fd);
	close(fd);
}

/*
 * Writing a file by replacing it: temp_open() creates "<path>.tmp." plus 6 random
 * characters in the same directory with mode 0600, temp_write() appends, temp_commit()
 * renames it over path (with fsync of the file before and of the directory after, when
 * durable), and temp_discard() removes it after a failure.  Messages name path.
 */
struct tempfile {
	struct buf name;
	int fd;
	int created;
};

static int temp_open(const char *path, struct tempfile *t, struct esim_err *err)
{
	buf_init(&t->name, 0);
	t->fd = -1;
	t->created = 0;
	buf_addf(&t->name, "%s.tmp.", path);
	/* mkostemp's template: six 'X' that it replaces by random characters */
	for (int i = 0; i < TEMP_SUFFIX_LEN; i++)
		buf_addch(&t->name, 'X');
	t->fd = mkostemp(t->name.buf, O_CLOEXEC);
	if (t->fd < 0)
		return esim_fail(err, ESIM_E_OTHER, "cannot create a temporary file for '%s': %s", path,
				 strerror(errno));
	t->created = 1;
	/* Exactly 0600 whatever the umask; never inherited from an old file. */
	if (fchmod(t->fd, 0600) < 0)
		return esim_fail(err, ESIM_E_OTHER, "cannot set the mode of a temporary file for '%s': %s",
				 path, strerror(errno));
	return 0;
}

static int temp_write(struct tempfile *t, const char *path, const void *data, size_t len,
		      struct esim_err *err)
{
	if (write_all(t->fd, data, len) < 0)
		return esim_fail(err, ESIM_E_OTHER, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}

static int temp_commit(struct tempfile *t, const char *path, int durable, struct esim_err *err)
{
	struct buf dir = BUF_INIT;
	int fd = t->fd;

	if (durable && fs_fsync(fd) < 0)
		return esim_fail(err, ESIM_E_OTHER, "cannot write '%s': fsync: %s", path, strerror(errno));
	t->fd = -1;
	if (fs_close(fd) < 0)
		return esim_fail(err, ESIM_E_OTHER, "cannot write '%s': close: %s", path, strerror(errno));
	if (fs_rename(t->name.buf, path) < 0)
		return esim_fail(err, ESIM_E_OTHER, "cannot replace '%s': %s", path, strerror(errno));
	t->created = 0;
	if (durable) {
		path_dir(path, &dir);
		sync_dir(dir.buf);
		buf_release(&dir);
	}
	return 0;
}

/* Closes and removes what temp_open() made; a no-op after temp_commit() succeeded. */
static void temp_discard(struct tempfile *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->created)
		unlink(t->name.buf);
	t->created = 0;
	buf_release(&t->name);
}

static int write_file(const char *path, const void *data, size_t len, int durable,
		      struct esim_err *err)
{
	struct tempfile t;
	int ret = -1;

	if (temp_open(path, &t, err) == 0 && temp_write(&t, path, data, len, err) == 0 &&
	    temp_commit(&t, path, durable, err) == 0)
		ret = 0;
	temp_discard(&t);
	return ret;
}

int atomic_write_file(const char *path, const void *data, size_t len, struct esim_err *err)
{
	return write_file(path, data, len, 1, err);
}

/* ---- output files (outfile.h) ---- */

int output_check(const char *path, int binary, int stdout_tty, struct esim_err *err)
{
	if (!*path)
		return esim_fail(err, ESIM_E_USAGE, "the output file name is empty");
	if (binary && stdout_tty && !strcmp(path, "-")) {
		esim_fail(err, ESIM_E_USAGE, "not writing a binary file to the terminal");
		return esim_hint(err, "redirect standard output to a file or a program, or give a file name");
	}
	return 0;
}

/* Same file (device and inode) as our standard output? */
static int is_stdout(const struct stat *st)
{
	struct stat o;

	return fstat(STDOUT_FILENO, &o) == 0 && o.st_dev == st->st_dev && o.st_ino == st->st_ino;
}

static int write_stdout(const char *path, const void *data, size_t len, struct esim_err *err)
{
	if (fflush(stdout) == EOF || write_all(STDOUT_FILENO, data, len) < 0)
		return esim_fail(err, ESIM_E_OUTPUT, "cannot write '%s' (standard output): %s", path,
				 strerror(errno));
	return 0;
}

/* Write a character device or a FIFO where it is: no O_CREAT, no O_TRUNC. */
static int write_in_place(const char *path, const char *target, const void *data, size_t len,
			  int binary, struct output_info *info, struct esim_err *err)
{
	struct stat st;
	int fd;

	/* Blocks on a FIFO until a reader opens it, as a shell's ">" does. */
	do
		fd = open(target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return esim_fail(err, ESIM_E_OUTPUT, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		/* replaced since it was looked at: never write into a regular file in place */
		close(fd);
		return esim_fail(err, ESIM_E_OUTPUT, "not writing '%s': it changed while it was opened",
				 path);
	}
	if (binary && isatty(fd)) {
		close(fd);
		esim_fail(err, ESIM_E_USAGE, "not writing a binary file to the terminal '%s'", path);
		return esim_hint(err, "give a file name, or '-' with standard output redirected");
	}
	info->is_stdout = is_stdout(&st);
	if (write_all(fd, data, len) < 0) {
		esim_fail(err, ESIM_E_OUTPUT, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return esim_fail(err, ESIM_E_OUTPUT, "cannot write '%s': close: %s", path, strerror(errno));
	return 0;
}

int output_write(const char *path, const void *data, size_t len, int binary,
		 struct output_info *info, struct esim_err *err)
{
	struct stat st;

	info->is_stdout = 0;
	if (output_resolve(path, &info->kind, &info->target, err) < 0)
		return -1;
	switch (info->kind) {
	case OUTPUT_STDOUT:
		info->is_stdout = 1;
		buf_addstr(&info->target, "-");
		return write_stdout(path, data, len, err);
	case OUTPUT_IN_PLACE:
		return write_in_place(path, info->target.buf, data, len, binary, info, err);
	case OUTPUT_NEW:
	case OUTPUT_REPLACE:
		break;
	}
	/*
	 * Our own standard output (/dev/stdout while stdout is redirected to a file): write
	 * through it, as "-" does, so the shell's redirection (">>" included) gets the data.
	 */
	if (stat(info->target.buf, &st) == 0 && is_stdout(&st)) {
		info->is_stdout = 1;
		return write_stdout(path, data, len, err);
	}
	if (write_file(info->target.buf, data, len, 0, err) < 0) {
		if (err)
			err->status = ESIM_E_OUTPUT;
		return -1;
	}
	return 0;
}

int store_insecure_mode(const char *path)
{
	struct stat st;

	/* Not followed: a link's target is not the store's own mode. */
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return (st.st_mode & 077) != 0;
}

/* ---- load ---- */

/*
 * The whole text, parsed and checked by store_from_json_buf() (src/store/store_json.c),
 * which wipes it (it holds matching IDs, bearer secrets) as soon as cJSON has parsed it.
 */
int store_load(const char *path, struct store **out, struct esim_err *err)
{
	struct buf b = BUF_INIT;
	int fd = -1, rc;

	*out = NULL;
	rc = trust_open(path, &store_trust, &fd, NULL, err);
	if (rc == 1) {
		*out = model_new();
		return 0;
	}
	if (rc < 0)
		return -1;
	rc = fd_read_all(fd, path, &b, ESIM_E_STORE, err);
	close(fd);
	if (rc == 0)
		return store_from_json_buf(&b, path, out, err) < 0 ? -1 : 0;
	/* Only read() wrote to b, and only its first b.len bytes. */
	secure_wipe(b.buf, b.len);
	buf_release(&b);
	return -1;
}

/* ---- lock ---- */

static double monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define LOCK_POLL_S 0.010
#define LOCK_MAX_REOPEN 100 /* lock file replaced under us this often: give up */

/* 0 locked, 1 busy until the deadline, -1 error. */
static int lock_until(int fd, double deadline)
{
	for (;;) {
		double left;
		struct timespec ts;

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -1;
		left = deadline - monotonic_now();
		if (left <= 0)
			return 1;
		if (left > LOCK_POLL_S)
			left = LOCK_POLL_S;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
}

static int store_lock(const char *path, double wait_s, int *fdp, struct esim_err *err)
{
	struct buf lockpath = BUF_INIT;
	double deadline = monotonic_now() + (wait_s > 0 ? wait_s : 0);
	int fd = -1, ret = -1, tries = 0;

	*fdp = -1;
	buf_addf(&lockpath, "%s.lock", path);
	for (;;) {
		struct stat a, b;
		int rc;

		if (trust_open_lock(lockpath.buf, &store_trust, &fd, err) < 0)
			goto out;
		rc = lock_until(fd, deadline);
		if (rc < 0) {
			esim_fail(err, ESIM_E_STORE, "cannot lock '%s': %s", lockpath.buf,
				  strerror(errno));
			goto out;
		}
		if (rc > 0) {
			esim_fail(err, ESIM_E_BUSY,
				  "store '%s' is locked by another esimctl (waited %g s)", path,
				  wait_s > 0 ? wait_s : 0);
			esim_hint(err, "--wait-lock SECONDS to wait longer");
			goto out;
		}
		/*
		 * If someone replaced the lock file while we waited, our lock is on an inode
		 * nobody else will see: start over on the current one.
		 */
		if (fstat(fd, &a) == 0 && lstat(lockpath.buf, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			break;
		close(fd);
		fd = -1;
		if (++tries >= LOCK_MAX_REOPEN) {
			esim_fail(err, ESIM_E_BUSY,
				  "store '%s' is locked by another esimctl (waited %g s)", path,
				  wait_s > 0 ? wait_s : 0);
			esim_hint(err, "--wait-lock SECONDS to wait longer");
			goto out;
		}
	}
	*fdp = fd;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_release(&lockpath);
	return ret;
}

/*
 * Remove "<base>.tmp.<6 random characters>" left by writers that died before their
 * rename.  Only the lock holder calls this, so no live writer owns such a file.
 */
void atomic_write_cleanup(const char *path)
{
	struct buf dir = BUF_INIT;
	const char *base = base_of(path);
	size_t blen = strlen(base);
	DIR *d;
	const struct dirent *de;

	path_dir(path, &dir);
	d = opendir(dir.buf);
	if (!d)
		goto out;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;

		if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0 ||
		    strlen(name + blen + 5) != TEMP_SUFFIX_LEN)
			continue;
		(void)unlinkat(dirfd(d), name, 0);
	}
	closedir(d);
out:
	buf_release(&dir);
}

/* ---- transactions ---- */

int store_begin(const char *path, double wait_s, struct store_txn **txnp, struct store **out,
		struct esim_err *err)
{
	struct buf dir = BUF_INIT;
	struct store_txn *txn;
	int fd = -1;

	*txnp = NULL;
	*out = NULL;
	path_dir(path, &dir);
	if (trust_check_dirs(path, &store_trust, err) < 0 || make_dirs(dir.buf, path, err) < 0)
		goto fail;
	/* A read-only directory: say so now, not after the work (a download) is done. */
	if (faccessat(AT_FDCWD, dir.buf, W_OK | X_OK, AT_EACCESS) < 0) {
		esim_fail(err, ESIM_E_OTHER, "cannot write store '%s': its directory '%s' is not "
			  "writable: %s", path, dir.buf, strerror(errno));
		if (errno == EROFS)
			esim_hint(err, "%s", store_trust.elsewhere);
		else
			esim_hint(err, "chmod u+w '%s'; %s", dir.buf, store_trust.elsewhere);
		goto fail;
	}
	if (store_lock(path, wait_s, &fd, err) < 0)
		goto fail;
	atomic_write_cleanup(path);
	/* Read only now, under the lock: read-modify-write must not lose updates. */
	if (store_load(path, out, err) < 0)
		goto fail;
	txn = xcalloc(1, sizeof(*txn));
	txn->path = xstrdup(path);
	txn->lockfd = fd;
	*txnp = txn;
	buf_release(&dir);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	buf_release(&dir);
	return -1;
}

static void txn_free(struct store_txn *txn)
{
	if (txn->lockfd >= 0)
		close(txn->lockfd); /* drops the flock */
	free(txn->path);
	free(txn);
}

/*
 * Check what is about to be written with the loader's own checks, so a caller's bug (a
 * live binding to a removed device, an empty carrier) fails this run instead of leaving a
 * store that every later run refuses.
 */
static int verify_text(const char *path, const struct buf *text, struct esim_err *err)
{
	struct esim_err verr = { 0 };
	struct store *check = NULL;

	if (store_from_json(text->buf, text->len, path, &check, &verr) == 0) {
		model_free(check);
		return 0;
	}
	esim_fail(err, ESIM_E_STORE, "not writing the store: %s", verr.msg);
	return esim_hint(err, "this is a bug in esimctl; the store on disk was not modified");
}

int store_commit(struct store_txn *txn, const struct store *s, struct esim_err *err)
{
	struct tempfile t;
	struct buf text = BUF_INIT;
	int ret = -1, opened = 0;

	if (!txn)
		return esim_fail(err, ESIM_E_OTHER, "store_commit without store_begin");
	store_to_json(s, &text);
	if (verify_text(txn->path, &text, err) < 0)
		goto out;
	opened = 1;
	if (temp_open(txn->path, &t, err) < 0)
		goto out;
	if (temp_write(&t, txn->path, text.buf, text.len, err) < 0 ||
	    temp_commit(&t, txn->path, 1, err) < 0)
		goto out;
	ret = 0;
out:
	if (opened)
		temp_discard(&t);
	/* Say that nothing half-written was left behind (a failed check says so itself). */
	if (ret < 0 && err && !err->hint[0])
		esim_hint(err, "the store file was not modified");
	if (ret < 0 && err)
		err->status = ESIM_E_STORE;
	/* The store holds matching IDs, which are bearer secrets. */
	buf_wipe_release(&text);
	txn_free(txn);
	return ret;
}

void store_abort(struct store_txn *txn)
{
	if (txn)
		txn_free(txn);
}
