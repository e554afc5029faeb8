/* test_store.c - store file I/O: paths, atomic writes, locking, corruption (src/store/store.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "esimctl/store.h"
#include "store/outfile.h"
#include "store/safepath.h"

struct fixture {
	char dir[256];   /* mkdtemp */
	char path[512];  /* <dir>/a/b/store.json: the parents do not exist yet */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/esimctl-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/a/b/store.json", f->dir);
	*state = f;
	return 0;
}

static void rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	const struct dirent *de;
	char sub[1024];

	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode) && (d = opendir(path)) != NULL) {
		chmod(path, 0700);
		while ((de = readdir(d)) != NULL) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_rf(sub);
		}
		closedir(d);
		rmdir(path);
		return;
	}
	unlink(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rm_rf(f->dir);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static char *slurp(const char *path, size_t *len)
{
	struct buf b = BUF_INIT;
	struct esim_err err = { 0 };

	assert_int_equal(read_whole_file(path, &b, &err), 0);
	return buf_detach(&b, len);
}

static void make_parents(const struct fixture *f)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/a", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/a/b", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
}

static void fill(struct store *s, const char *devname)
{
	struct device d = { 0 };
	struct profile p = { 0 };

	d.name = strdup(devname);
	d.kind = DEV_PHONE;
	d.created = 1795255200;
	model_add_device(s, &d);
	snprintf(p.id, sizeof(p.id), "0bebd4b3");
	if (!model_profile_by_id(s, p.id)) {
		p.carrier = strdup("acme");
		p.created = 1795255200;
		struct actcode ac = { .cc_required = 0 };

		snprintf(ac.smdp, sizeof(ac.smdp), "rsp.example.com");
		snprintf(ac.matching_id, sizeof(ac.matching_id), "ABC-123");
		p.ac = actcode_pack(&ac);
		model_add_profile(s, &p);
	}
	model_add_history(s, 1795255200, "device-add", NULL, NULL, devname, "ok", NULL);
}

static void to_text(const struct store *s, struct buf *out)
{
	buf_reset(out);
	store_to_json(s, out);
}

/* ---- paths ---- */

static void test_store_path(void **state)
{
	struct buf b = BUF_INIT;
	struct esim_err err = { 0 };

	(void)state;
	setenv("ESIMCTL_STORE", "/env/store.json", 1);
	setenv("XDG_DATA_HOME", "/xdg/", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(store_path("given.json", &b, &err), 0);
	assert_string_equal(b.buf, "given.json");
	assert_int_equal(store_path(NULL, &b, &err), 0);
	assert_string_equal(b.buf, "/env/store.json");
	unsetenv("ESIMCTL_STORE");
	assert_int_equal(store_path(NULL, &b, &err), 0);
	assert_string_equal(b.buf, "/xdg/esimctl/store.json");
	setenv("XDG_DATA_HOME", "relative/dir", 1); /* ignored, as the XDG spec says */
	assert_int_equal(store_path(NULL, &b, &err), 0);
	assert_string_equal(b.buf, "/home/u/.local/share/esimctl/store.json");
	unsetenv("XDG_DATA_HOME");
	setenv("ESIMCTL_STORE", "", 1);
	assert_int_equal(store_path(NULL, &b, &err), 0);
	assert_string_equal(b.buf, "/home/u/.local/share/esimctl/store.json");
	assert_int_equal(store_path("", &b, &err), -1);
	assert_int_equal(err.status, ESIM_E_USAGE);
	unsetenv("ESIMCTL_STORE");
	buf_release(&b);
}

/* A relative or missing HOME never makes the working directory the home. */
static void test_home_dir(void **state)
{
	static const struct {
		const char *home; /* NULL: unset */
		const char *want; /* NULL: the password database's */
	} cases[] = {
		{ "/home/u", "/home/u" },
		{ "/home/u//", "/home/u" },
		{ "/", "/" },
		{ "relative", NULL },
		{ ".", NULL },
		{ "", NULL },
		{ NULL, NULL },
	};
	struct buf b = BUF_INIT, pw = BUF_INIT;
	struct esim_err err = { 0 };

	(void)state;
	unsetenv("HOME");
	if (home_dir(&pw) < 0)
		skip();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].home)
			setenv("HOME", cases[i].home, 1);
		else
			unsetenv("HOME");
		assert_int_equal(home_dir(&b), 0);
		assert_string_equal(b.buf, cases[i].want ? cases[i].want : pw.buf);
		assert_true(b.buf[0] == '/');
	}
	setenv("HOME", "relative", 1);
	unsetenv("XDG_DATA_HOME");
	unsetenv("ESIMCTL_STORE");
	assert_int_equal(store_path(NULL, &b, &err), 0);
	assert_true(b.buf[0] == '/');
	unsetenv("HOME");
	buf_release(&b);
	buf_release(&pw);
}

/* ---- read_whole_file / atomic_write_file ---- */

static void test_read_whole_file(void **state)
{
	struct fixture *f = *state;
	struct buf b = BUF_INIT;
	struct esim_err err = { 0 };
	char p[600];

	snprintf(p, sizeof(p), "%s/missing", f->dir);
	assert_int_equal(read_whole_file(p, &b, &err), 1);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.buf, "");

	snprintf(p, sizeof(p), "%s/text", f->dir);
	write_file(p, "hello\n");
	assert_int_equal(read_whole_file(p, &b, &err), 0);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.buf, "hello\n");

	/* Directories and FIFOs are refused without blocking. */
	assert_int_equal(read_whole_file(f->dir, &b, &err), -1);
	assert_non_null(strstr(err.msg, "is not a regular file"));
	snprintf(p, sizeof(p), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(read_whole_file(p, &b, &err), -1);
	assert_non_null(strstr(err.msg, "is not a regular file"));
	buf_release(&b);
}

static int count_temps(const char *dir)
{
	DIR *d = opendir(dir);
	const struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

static void test_atomic_write(void **state)
{
	struct fixture *f = *state;
	struct esim_err err = { 0 };
	struct stat st;
	char p[600], *data;
	size_t len;
	mode_t old = umask(0);

	snprintf(p, sizeof(p), "%s/file", f->dir);
	write_file(p, "old contents");
	chmod(p, 0666);
	assert_int_equal(atomic_write_file(p, "new\0bytes", 9, &err), 0);
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600); /* not inherited, not from the umask */
	data = slurp(p, &len);
	assert_int_equal(len, 9);
	assert_memory_equal(data, "new\0bytes", 9);
	free(data);
	assert_int_equal(count_temps(f->dir), 0);

	/* A failed rename (the target is a non-empty directory) leaves no temp file. */
	snprintf(p, sizeof(p), "%s/sub", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/sub/x", f->dir);
	write_file(p, "x");
	snprintf(p, sizeof(p), "%s/sub", f->dir);
	assert_int_equal(atomic_write_file(p, "y", 1, &err), -1);
	assert_int_equal(err.status, ESIM_E_OTHER);
	assert_non_null(strstr(err.msg, "cannot replace"));
	assert_int_equal(count_temps(f->dir), 0);

	/* Missing directory: a clear error, nothing created. */
	snprintf(p, sizeof(p), "%s/nodir/file", f->dir);
	assert_int_equal(atomic_write_file(p, "y", 1, &err), -1);
	assert_non_null(strstr(err.msg, "cannot create a temporary file"));
}

/* ---- store_begin / commit / load ---- */

static void test_commit_then_load(void **state)
{
	struct fixture *f = *state;
	struct store_txn *txn;
	struct store *s, *t;
	struct esim_err err = { 0 };
	struct buf one = BUF_INIT, two = BUF_INIT;
	struct stat st;
	char p[600];

	/* Missing store: store_load is empty and creates nothing. */
	assert_int_equal(store_load(f->path, &s, &err), 0);
	assert_int_equal(s->ndevices + s->nprofiles, 0);
	model_free(s);
	snprintf(p, sizeof(p), "%s/a", f->dir);
	assert_int_equal(stat(p, &st), -1);

	assert_int_equal(store_begin(f->path, 1.0, &txn, &s, &err), 0);
	assert_non_null(txn);
	assert_int_equal(s->ndevices, 0);
	fill(s, "pixel");
	assert_int_equal(store_commit(txn, s, &err), 0);

	assert_int_equal(store_load(f->path, &t, &err), 0);
	to_text(s, &one);
	to_text(t, &two);
	assert_string_equal(one.buf, two.buf);
	model_free(t);
	model_free(s);

	/* Second transaction sees the first one's data. */
	assert_int_equal(store_begin(f->path, 1.0, &txn, &t, &err), 0);
	to_text(t, &two);
	assert_string_equal(one.buf, two.buf);
	fill(t, "watch");
	assert_int_equal(store_commit(txn, t, &err), 0);
	model_free(t);
	assert_int_equal(store_load(f->path, &t, &err), 0);
	assert_int_equal(t->ndevices, 2);
	assert_non_null(model_device(t, "watch"));

	/* store_abort leaves the file alone and releases the lock. */
	assert_int_equal(store_begin(f->path, 0, &txn, &s, &err) == 0, 1);
	store_abort(txn);
	model_free(s);
	assert_int_equal(store_begin(f->path, 0, &txn, &s, &err), 0);
	store_abort(txn);
	store_abort(NULL);
	model_free(s);
	model_free(t);
	buf_release(&one);
	buf_release(&two);
}

static void test_modes(void **state)
{
	struct fixture *f = *state;
	struct store_txn *txn;
	struct store *s;
	struct esim_err err = { 0 };
	struct stat st;
	char p[600];
	mode_t old = umask(022);

	assert_int_equal(store_begin(f->path, 1.0, &txn, &s, &err), 0);
	fill(s, "pixel");
	assert_int_equal(store_commit(txn, s, &err), 0);
	umask(old);
	model_free(s);

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(p, sizeof(p), "%s.lock", f->path);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(p, sizeof(p), "%s/a", f->dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(p, sizeof(p), "%s/a/b", f->dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	assert_int_equal(store_insecure_mode(f->path), 0);
	chmod(f->path, 0640);
	assert_int_equal(store_insecure_mode(f->path), 1);
	chmod(f->path, 0604);
	assert_int_equal(store_insecure_mode(f->path), 1);
	chmod(f->path, 0600);
	assert_int_equal(store_insecure_mode(f->path), 0);
	snprintf(p, sizeof(p), "%s/none", f->dir);
	assert_int_equal(store_insecure_mode(p), 0);
}

static const char *const corrupt_stores[] = {
	"{\"schema\":1,\n\"devices\":[\n{\"name\":\"a\"",
	"{\"schema\":2,\"devices\":[]}\n",
	"{\"schema\":1,\"bindings\":[{\"profile\":\"deadbeef\",\"device\":\"x\",\"state\":\"active\"}]}",
	"",
};

static void test_corrupt_untouched(void **state)
{
	struct fixture *f = *state;

	make_parents(f);
	for (size_t i = 0; i < sizeof(corrupt_stores) / sizeof(corrupt_stores[0]); i++) {
		struct store_txn *txn = (struct store_txn *)1;
		struct store *s = (struct store *)1;
		struct esim_err err = { 0 };
		struct stat before, after;
		char *data;
		size_t len;

		write_file(f->path, corrupt_stores[i]);
		assert_int_equal(stat(f->path, &before), 0);
		assert_int_equal(store_begin(f->path, 0.5, &txn, &s, &err), -1);
		assert_null(txn);
		assert_null(s);
		assert_int_equal(err.status, ESIM_E_STORE);
		assert_non_null(strstr(err.msg, f->path));
		/* Byte-identical, same inode: never rewritten. */
		data = slurp(f->path, &len);
		assert_int_equal(len, strlen(corrupt_stores[i]));
		assert_memory_equal(data, corrupt_stores[i], len);
		free(data);
		assert_int_equal(stat(f->path, &after), 0);
		assert_int_equal(before.st_ino, after.st_ino);
		/* The lock was released: a second attempt fails the same way, not BUSY. */
		assert_int_equal(store_begin(f->path, 0, &txn, &s, &err), -1);
		assert_int_equal(err.status, ESIM_E_STORE);
		assert_int_equal(store_load(f->path, &s, &err), -1);
		assert_int_equal(err.status, ESIM_E_STORE);
	}
}

static void test_symlink_refused(void **state)
{
	struct fixture *f = *state;
	struct store_txn *txn;
	struct store *s;
	struct esim_err err = { 0 };
	char real[600];

	make_parents(f);
	snprintf(real, sizeof(real), "%s/real.json", f->dir);
	write_file(real, "{\"schema\":1}");
	assert_int_equal(symlink(real, f->path), 0);
	assert_int_equal(store_load(f->path, &s, &err), -1);
	/* a file the store cannot be, not a corrupt store (docs/EXIT-CODES.md) */
	assert_int_equal(err.status, ESIM_E_OTHER);
	assert_non_null(strstr(err.msg, f->path));
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_int_equal(store_begin(f->path, 0, &txn, &s, &err), -1);
	assert_non_null(strstr(err.msg, "symbolic link"));
}

static void test_stale_temps(void **state)
{
	struct fixture *f = *state;
	struct store_txn *txn;
	struct store *s;
	struct esim_err err = { 0 };
	char p[1024], b[600];
	static const char *const stale[] = { "store.json.tmp.AbC123", "store.json.tmp.zzzzzz" };
	static const char *const kept[] = { "other.json.tmp.AbC123", "store.json.tmp.toolong1",
					    "store.json.tmpx123456", "xstore.json.tmp.AbC123" };

	make_parents(f);
	snprintf(b, sizeof(b), "%s/a/b", f->dir);
	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", b, stale[i]);
		write_file(p, "partial");
	}
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", b, kept[i]);
		write_file(p, "keep");
	}
	assert_int_equal(store_begin(f->path, 1.0, &txn, &s, &err), 0);
	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", b, stale[i]);
		assert_int_equal(access(p, F_OK), -1);
	}
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", b, kept[i]);
		assert_int_equal(access(p, F_OK), 0);
	}
	store_abort(txn);
	model_free(s);
}

/* ---- locking across processes ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Child: take the store, tell the parent through the pipe, then either hold it until
 * killed (hold_s < 0) or add a device and commit after hold_s seconds.
 */
static pid_t spawn_holder(const char *path, double hold_s)
{
	int fds[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_txn *txn;
		struct store *s;
		struct esim_err err = { 0 };

		close(fds[0]);
		if (store_begin(path, 5.0, &txn, &s, &err) < 0)
			_exit(2);
		if (write(fds[1], "L", 1) != 1)
			_exit(3);
		if (hold_s < 0)
			for (;;)
				pause();
		usleep((useconds_t)(hold_s * 1e6));
		fill(s, "from-child");
		_exit(store_commit(txn, s, &err) == 0 ? 0 : 4);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1); /* the child holds the lock now */
	close(fds[0]);
	return pid;
}

static void test_lock_busy(void **state)
{
	struct fixture *f = *state;
	struct store_txn *txn = (struct store_txn *)1;
	struct store *s = (struct store *)1;
	struct esim_err err = { 0 };
	double t0, waited;
	int status;
	pid_t pid;

	pid = spawn_holder(f->path, -1);
	t0 = now_s();
	assert_int_equal(store_begin(f->path, 0.2, &txn, &s, &err), -1);
	waited = now_s() - t0;
	assert_null(txn);
	assert_null(s);
	assert_int_equal(err.status, ESIM_E_BUSY);
	assert_non_null(strstr(err.msg, f->path));
	assert_non_null(strstr(err.msg, "is locked by another esimctl (waited 0.2 s)"));
	assert_string_equal(err.hint, "--wait-lock SECONDS to wait longer");
	/* It waited its 0.2 s (a lower bound holds on any machine; how much longer is the
	 * machine's business, so it is reported, not checked). */
	assert_true(waited >= 0.2);
	print_message("gave up after %.3f s\n", waited);

	/* Readers do not lock. */
	assert_int_equal(store_load(f->path, &s, &err), 0);
	model_free(s);

	/* SIGKILL drops the kernel lock: the next run gets it without waiting at all. */
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(store_begin(f->path, 0.0, &txn, &s, &err), 0);
	store_abort(txn);
	model_free(s);
}

static void test_lock_wait_sees_update(void **state)
{
	struct fixture *f = *state;
	struct store_txn *txn;
	struct store *s;
	struct esim_err err = { 0 };
	int status;
	pid_t pid;

	/* The parent waits for the child's commit and then reads the child's data. */
	pid = spawn_holder(f->path, 0.3);
	assert_int_equal(store_begin(f->path, 3600.0, &txn, &s, &err), 0);
	assert_non_null(model_device(s, "from-child"));
	fill(s, "from-parent");
	assert_int_equal(store_commit(txn, s, &err), 0);
	model_free(s);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(store_load(f->path, &s, &err), 0);
	assert_int_equal(s->ndevices, 2);
	model_free(s);
}

static void test_concurrent_writers(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct esim_err err = { 0 };
	enum { N = 8 };
	pid_t pids[N];
	int status;

	/* N processes each add one device: none is lost. */
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct store_txn *txn;
			struct store *t;
			struct esim_err e = { 0 };
			char name[32];

			snprintf(name, sizeof(name), "dev%d", i);
			if (store_begin(f->path, 3600.0, &txn, &t, &e) < 0)
				_exit(2);
			fill(t, name);
			_exit(store_commit(txn, t, &e) == 0 ? 0 : 3);
		}
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(store_load(f->path, &s, &err), 0);
	assert_int_equal(s->ndevices, N);
	assert_int_equal(s->nhistory, N);
	model_free(s);
}

static void test_commit_failure_keeps_old(void **state)
{
	struct fixture *f = *state;
	struct store_txn *txn;
	struct store *s;
	struct esim_err err = { 0 };
	char *before, *after, p[600];
	size_t blen, alen;

	assert_int_equal(store_begin(f->path, 1.0, &txn, &s, &err), 0);
	fill(s, "pixel");
	assert_int_equal(store_commit(txn, s, &err), 0);
	model_free(s);
	before = slurp(f->path, &blen);

	/*
	 * Make the rename fail whoever we run as: replace the store by a non-empty
	 * directory after store_begin read it.
	 */
	assert_int_equal(store_begin(f->path, 1.0, &txn, &s, &err), 0);
	snprintf(p, sizeof(p), "%s/saved.json", f->dir);
	assert_int_equal(rename(f->path, p), 0);
	assert_int_equal(mkdir(f->path, 0700), 0);
	snprintf(p, sizeof(p), "%s/keep", f->path);
	write_file(p, "x");
	fill(s, "watch");
	assert_int_equal(store_commit(txn, s, &err), -1);
	assert_int_equal(err.status, ESIM_E_STORE);
	assert_non_null(strstr(err.msg, f->path));
	model_free(s);
	snprintf(p, sizeof(p), "%s/a/b", f->dir);
	assert_int_equal(count_temps(p), 0);

	/* Put the old store back: the lock was released and the content is as before. */
	snprintf(p, sizeof(p), "%s/keep", f->path);
	unlink(p);
	rmdir(f->path);
	snprintf(p, sizeof(p), "%s/saved.json", f->dir);
	assert_int_equal(rename(p, f->path), 0);
	assert_int_equal(store_begin(f->path, 0, &txn, &s, &err), 0);
	store_abort(txn);
	model_free(s);
	after = slurp(f->path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(before, after, blen);
	free(before);
	free(after);
}

static void test_commit_refuses_invalid(void **state)
{
	struct fixture *f = *state;
	struct store_txn *txn;
	struct store *s;
	struct esim_err err = { 0 };
	struct binding b = { 0 };
	char *before, *after;
	size_t blen, alen;

	assert_int_equal(store_begin(f->path, 1.0, &txn, &s, &err), 0);
	fill(s, "pixel");
	assert_int_equal(store_commit(txn, s, &err), 0);
	model_free(s);
	before = slurp(f->path, &blen);

	/* A caller bug: the device goes, its live binding stays. */
	assert_int_equal(store_begin(f->path, 1.0, &txn, &s, &err), 0);
	b.profile = strdup("0bebd4b3");
	b.device = strdup("pixel");
	b.state = BIND_ACTIVE;
	b.since = 1795255200;
	model_add_binding(s, &b);
	assert_int_equal(model_remove_device(s, "pixel"), 0);
	assert_int_equal(store_commit(txn, s, &err), -1);
	assert_int_equal(err.status, ESIM_E_STORE);
	assert_non_null(strstr(err.msg, "not writing the store"));
	assert_non_null(strstr(err.msg, "bindings[0].device: unknown device 'pixel'"));
	model_free(s);
	after = slurp(f->path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(before, after, blen);
	free(after);

	/* Empty optional strings are simply left out. */
	assert_int_equal(store_begin(f->path, 1.0, &txn, &s, &err), 0);
	s->devices[0].platform = strdup("");
	assert_int_equal(store_commit(txn, s, &err), 0);
	model_free(s);
	after = slurp(f->path, &alen);
	assert_int_equal(alen, blen);
	free(after);
	free(before);
}

static void test_parent_not_directory(void **state)
{
	struct fixture *f = *state;
	struct store_txn *txn;
	struct store *s;
	struct esim_err err = { 0 };
	char p[600];

	snprintf(p, sizeof(p), "%s/a", f->dir);
	write_file(p, "not a dir");
	assert_int_equal(store_begin(f->path, 0, &txn, &s, &err), -1);
	assert_int_equal(err.status, ESIM_E_OTHER);
	assert_non_null(strstr(err.msg, "not a directory"));
}

/* ---- file safety (safepath.h): modes of the store's directories, the store, the lock ---- */

/* Directory modes on the way to the store: others may write only with the sticky bit. */
static void test_dir_modes(void **state)
{
	static const struct {
		mode_t mode;
		int ok;
	} cases[] = {
		{ 0700, 1 }, { 0755, 1 }, { 0711, 1 }, { 01777, 1 }, { 01770, 1 },
		{ 0775, 0 }, { 0777, 0 }, { 0770, 0 }, { 0703, 0 }, { 0720, 0 },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char d[600], p[700];
		struct esim_err err = { 0 };
		struct store_txn *txn;
		struct store *s = NULL;
		int rc;

		snprintf(d, sizeof(d), "%s/d%zu", f->dir, i);
		assert_int_equal(mkdir(d, 0700), 0);
		assert_int_equal(chmod(d, cases[i].mode), 0);
		/* the store one level below: an ancestor is checked as well */
		snprintf(p, sizeof(p), "%s/sub/store.json", d);
		rc = store_begin(p, 0, &txn, &s, &err);
		if (cases[i].ok) {
			assert_int_equal(rc, 0);
			store_abort(txn);
			model_free(s);
			assert_int_equal(store_load(p, &s, &err), 0);
			model_free(s);
		} else {
			assert_int_equal(rc, -1);
			assert_int_equal(err.status, ESIM_E_OTHER);
			assert_non_null(strstr(err.msg, d));
			assert_non_null(strstr(err.msg, "other users can write it (no sticky bit)"));
			assert_non_null(strstr(err.hint, "chmod go-w"));
			snprintf(p, sizeof(p), "%s/sub", d);
			assert_int_equal(access(p, F_OK), -1); /* nothing created under it */
			assert_int_equal(store_load(d, &s, &err), -1);
		}
	}
}

/* The store's own mode: readable by others is a warning elsewhere, writable is refused. */
static void test_file_modes(void **state)
{
	static const struct {
		mode_t mode;
		int ok;
	} cases[] = {
		{ 0600, 1 }, { 0400, 1 }, { 0640, 1 }, { 0644, 1 },
		{ 0660, 0 }, { 0620, 0 }, { 0606, 0 }, { 0602, 0 }, { 0666, 0 },
	};
	struct fixture *f = *state;

	make_parents(f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct esim_err err = { 0 };
		struct store *s = NULL;
		unsigned mode = 0;

		write_file(f->path, "{\"schema\":1}");
		assert_int_equal(chmod(f->path, cases[i].mode), 0);
		assert_int_equal(store_load(f->path, &s, &err), cases[i].ok ? 0 : -1);
		model_free(s);
		assert_int_equal(trust_exposed(f->path, &mode), cases[i].ok && (cases[i].mode & 077));
		if (!cases[i].ok) {
			assert_int_equal(err.status, ESIM_E_OTHER);
			assert_non_null(strstr(err.msg, "other users can change it"));
			assert_non_null(strstr(err.hint, "chmod 600"));
		}
		unlink(f->path);
	}
}

/* A lock that others can open could be held by them: refused, with the fix. */
static void test_lock_modes(void **state)
{
	struct fixture *f = *state;
	struct esim_err err = { 0 };
	struct store_txn *txn;
	struct store *s = NULL;
	char lock[600];
	int fd;

	make_parents(f);
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	fd = open(lock, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(lock, 0644), 0);
	assert_int_equal(store_begin(f->path, 0, &txn, &s, &err), -1);
	assert_int_equal(err.status, ESIM_E_OTHER);
	assert_non_null(strstr(err.msg, "can open it and hold the lock"));
	assert_int_equal(chmod(lock, 0600), 0);
	assert_int_equal(store_begin(f->path, 0, &txn, &s, &err), 0);
	store_abort(txn);
	model_free(s);
	/* a lock that is not a regular file */
	unlink(lock);
	assert_int_equal(mkdir(lock, 0700), 0);
	assert_int_equal(store_begin(f->path, 0, &txn, &s, &err), -1);
	assert_non_null(strstr(err.msg, "lock file of the store"));
}

/* Where an output path leads (the rule of outfile.h). */
static void test_output_resolve(void **state)
{
	struct fixture *f = *state;
	char p[600], q[600];
	struct buf target = BUF_INIT;
	struct esim_err err = { 0 };
	enum output_kind kind;
	static const struct {
		const char *name;  /* under the fixture's directory; "" and "-" as they are */
		int rc;
		enum esim_status status;
		enum output_kind kind;
		const char *target; /* under the fixture's directory, or NULL: the path itself */
	} cases[] = {
		{ "", -1, ESIM_E_USAGE, OUTPUT_NEW, NULL },
		{ "-", 0, ESIM_OK, OUTPUT_STDOUT, NULL },
		{ "new.png", 0, ESIM_OK, OUTPUT_NEW, NULL },
		{ "reg.png", 0, ESIM_OK, OUTPUT_REPLACE, NULL },
		{ "fifo", 0, ESIM_OK, OUTPUT_IN_PLACE, NULL },
		{ "dir", -1, ESIM_E_OUTPUT, OUTPUT_NEW, NULL },
		{ "l-reg", 0, ESIM_OK, OUTPUT_REPLACE, "reg.png" },
		{ "l-l-reg", 0, ESIM_OK, OUTPUT_REPLACE, "reg.png" },
		{ "l-dangling", 0, ESIM_OK, OUTPUT_NEW, "dir/created.png" },
		{ "l-fifo", 0, ESIM_OK, OUTPUT_IN_PLACE, "fifo" },
		{ "l-dir", -1, ESIM_E_OUTPUT, OUTPUT_NEW, NULL },
		{ "l-loop", -1, ESIM_E_OUTPUT, OUTPUT_NEW, NULL },
	};
	static const char *const links[][2] = {
		{ "reg.png", "l-reg" }, { "l-reg", "l-l-reg" }, { "dir/created.png", "l-dangling" },
		{ "fifo", "l-fifo" }, { "dir", "l-dir" }, { "l-loop", "l-loop" },
	};

	snprintf(p, sizeof(p), "%s/reg.png", f->dir);
	write_file(p, "x");
	snprintf(p, sizeof(p), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	snprintf(p, sizeof(p), "%s/dir", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, links[i][1]);
		assert_int_equal(symlink(links[i][0], p), 0);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = cases[i].name;

		if (*name && strcmp(name, "-"))
			snprintf(p, sizeof(p), "%s/%s", f->dir, name);
		else
			snprintf(p, sizeof(p), "%s", name);
		esim_err_clear(&err);
		assert_int_equal(output_resolve(p, &kind, &target, &err), cases[i].rc);
		if (cases[i].rc < 0) {
			assert_int_equal(err.status, cases[i].status);
			continue;
		}
		assert_int_equal(kind, cases[i].kind);
		if (cases[i].target) {
			snprintf(q, sizeof(q), "%s/%s", f->dir, cases[i].target);
			assert_string_equal(target.buf, q);
		} else if (kind != OUTPUT_STDOUT) {
			assert_string_equal(target.buf, p);
		}
	}
	buf_release(&target);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_path),
		cmocka_unit_test(test_home_dir),
		T(test_read_whole_file),
		T(test_atomic_write),
		T(test_commit_then_load),
		T(test_modes),
		T(test_corrupt_untouched),
		T(test_symlink_refused),
		T(test_stale_temps),
		T(test_lock_busy),
		T(test_lock_wait_sees_update),
		T(test_concurrent_writers),
		T(test_commit_failure_keeps_old),
		T(test_commit_refuses_invalid),
		T(test_parent_not_directory),
		T(test_dir_modes),
		T(test_file_modes),
		T(test_lock_modes),
		T(test_output_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
