/*
 * inject.c - an LD_PRELOAD shim that makes esimctl's file-system calls fail on demand.
 *
 * Built as libesimctl_inject.so (tests only) and used by tests/cli/t2000-crash-kill.sh and
 * tests/cli/t2100-faults.sh.  src/store/store.c sends every call on the commit path through
 * libc's write/fsync/close/rename (its fs_* helpers), so interposing those symbols reaches
 * exactly the code that writes the store, the software eUICC state and QR files.  Works
 * for a dynamically linked esimctl without sanitizers (ASan intercepts the same symbols).
 *
 * Environment:
 *   ESIMCTL_FAULT      "CALL:ACTION:WHEN[,CALL:ACTION:WHEN...]"
 *       CALL    write fsync fdatasync close rename mkostemp fchmod unlink
 *       ACTION  an errno name (ENOSPC, EIO, EDQUOT, EROFS, EACCES, EPERM, EXDEV, EMFILE,
 *               ENFILE, EINTR, EBADF, ENOMEM, EFBIG, EAGAIN): the call fails with it and
 *               does nothing (close still closes: Linux releases the descriptor anyway);
 *               "short"     write only: write half of the bytes (at least one), report that;
 *               "kill"      raise SIGKILL instead of making the call;
 *               "killafter" make the call, then raise SIGKILL;
 *               "stop"      raise SIGSTOP, then make the call (the test inspects the
 *                           process and sends SIGCONT)
 *       WHEN    N (the Nth call of CALL in scope), N+ (the Nth and every later one) or *
 *   ESIMCTL_FAULT_DIR  only calls on this directory or files in it are in scope (counted
 *                      and faulted); default: the directory of $ESIMCTL_STORE.  Pipes,
 *                      sockets, terminals and other files are never touched.
 *   ESIMCTL_FAULT_LOG  append one line per call in scope: "PID CALL N PATH[ -> ACTION]"
 *
 * Counting is per process and per CALL, in program order, so a test can first run a
 * command with ESIMCTL_FAULT_LOG only to learn how many calls it makes, then fail each
 * one in turn.  A malformed ESIMCTL_FAULT makes every process exit 126 at start-up, so a
 * typo in a test cannot pass silently.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

enum call { C_WRITE, C_FSYNC, C_FDATASYNC, C_CLOSE, C_RENAME, C_MKOSTEMP, C_FCHMOD, C_UNLINK, C_NCALLS };

static const char *const call_names[C_NCALLS] = {
	"write", "fsync", "fdatasync", "close", "rename", "mkostemp", "fchmod", "unlink"
};

enum action { A_ERRNO, A_SHORT, A_KILL, A_KILLAFTER, A_STOP };

struct rule {
	enum call call;
	enum action action;
	int err;
	const char *name;   /* the ACTION as written, for the log */
	long first;         /* 1-based; 0 with onward: every call */
	int onward;         /* the first-th and every later call */
};

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "EDQUOT", EDQUOT }, { "EROFS", EROFS },
	{ "EACCES", EACCES }, { "EPERM", EPERM }, { "EXDEV", EXDEV }, { "EMFILE", EMFILE },
	{ "ENFILE", ENFILE }, { "EINTR", EINTR }, { "EBADF", EBADF }, { "ENOMEM", ENOMEM },
	{ "EFBIG", EFBIG }, { "EAGAIN", EAGAIN },
};

#define MAX_RULES 16
#define SPEC_MAX 512

static struct rule rules[MAX_RULES];
static size_t nrules;
static char spec_copy[SPEC_MAX];
static long counts[C_NCALLS];
static int initialised;
static char scope[PATH_MAX];
static size_t scope_len;
static int log_fd = -1;

static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_close)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_mkostemp)(char *, int);
static int (*real_fchmod)(int, mode_t);
static int (*real_unlink)(const char *);

/* Messages from the shim itself: straight to fd 2 through the real write. */
static void say(const char *a, const char *b)
{
	if (!real_write)
		return;
	(void)!real_write(2, "esimctl_inject: ", 16);
	(void)!real_write(2, a, strlen(a));
	if (b)
		(void)!real_write(2, b, strlen(b));
	(void)!real_write(2, "\n", 1);
}

static void *next_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		say("libc symbol not found: ", name);
		_exit(126);
	}
	return p;
}

static int parse_rule(char *text, struct rule *r)
{
	char *call = text, *action, *when, *end;
	size_t i;

	action = strchr(call, ':');
	if (!action)
		return -1;
	*action++ = '\0';
	when = strchr(action, ':');
	if (!when)
		return -1;
	*when++ = '\0';
	for (i = 0; i < C_NCALLS; i++)
		if (!strcmp(call, call_names[i]))
			break;
	if (i == C_NCALLS)
		return -1;
	r->call = (enum call)i;
	r->name = action;
	if (!strcmp(action, "short")) {
		if (r->call != C_WRITE)
			return -1;
		r->action = A_SHORT;
	} else if (!strcmp(action, "kill")) {
		r->action = A_KILL;
	} else if (!strcmp(action, "killafter")) {
		r->action = A_KILLAFTER;
	} else if (!strcmp(action, "stop")) {
		r->action = A_STOP;
	} else {
		for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
			if (!strcmp(action, errnos[i].name))
				break;
		if (i == sizeof(errnos) / sizeof(errnos[0]))
			return -1;
		r->action = A_ERRNO;
		r->err = errnos[i].value;
	}
	if (!strcmp(when, "*")) {
		r->first = 1;
		r->onward = 1;
		return 0;
	}
	errno = 0;
	r->first = strtol(when, &end, 10);
	if (errno || end == when || r->first < 1)
		return -1;
	if (*end == '+') {
		r->onward = 1;
		end++;
	}
	return *end ? -1 : 0;
}

static void set_scope(const char *dir)
{
	char real[PATH_MAX];

	if (realpath(dir, real))
		dir = real;
	if (strlen(dir) >= sizeof(scope))
		return;
	strcpy(scope, dir);
	scope_len = strlen(scope);
	while (scope_len > 1 && scope[scope_len - 1] == '/')
		scope[--scope_len] = '\0';
}

static void init(void)
{
	const char *spec, *dir, *logpath;
	char *p, *next;

	if (initialised)
		return;
	initialised = 1;
	real_write = (ssize_t (*)(int, const void *, size_t))next_sym("write");
	real_fsync = (int (*)(int))next_sym("fsync");
	real_fdatasync = (int (*)(int))next_sym("fdatasync");
	real_close = (int (*)(int))next_sym("close");
	real_rename = (int (*)(const char *, const char *))next_sym("rename");
	real_mkostemp = (int (*)(char *, int))next_sym("mkostemp");
	real_fchmod = (int (*)(int, mode_t))next_sym("fchmod");
	real_unlink = (int (*)(const char *))next_sym("unlink");

	dir = getenv("ESIMCTL_FAULT_DIR");
	if (dir && *dir) {
		set_scope(dir);
	} else if ((dir = getenv("ESIMCTL_STORE")) && *dir) {
		char tmp[PATH_MAX];
		char *slash;

		if (strlen(dir) < sizeof(tmp)) {
			strcpy(tmp, dir);
			slash = strrchr(tmp, '/');
			if (slash && slash != tmp) {
				*slash = '\0';
				set_scope(tmp);
			} else {
				set_scope(slash ? "/" : ".");
			}
		}
	}
	logpath = getenv("ESIMCTL_FAULT_LOG");
	if (logpath && *logpath)
		log_fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	spec = getenv("ESIMCTL_FAULT");
	if (!spec || !*spec)
		return;
	if (strlen(spec) >= sizeof(spec_copy)) {
		say("ESIMCTL_FAULT is too long", NULL);
		_exit(126);
	}
	strcpy(spec_copy, spec);
	for (p = spec_copy; p; p = next) {
		next = strchr(p, ',');
		if (next)
			*next++ = '\0';
		if (!*p)
			continue;
		if (nrules == MAX_RULES || parse_rule(p, &rules[nrules]) < 0) {
			say("bad ESIMCTL_FAULT entry (CALL:ACTION:N, N+ or *): ", p);
			_exit(126);
		}
		nrules++;
	}
}

__attribute__((constructor)) static void inject_init(void)
{
	init();
}

/* 1 when path (absolute, resolved) is the scope directory or below it. */
static int under_scope(const char *path)
{
	if (!scope_len)
		return 0;
	if (strncmp(path, scope, scope_len) != 0)
		return 0;
	return path[scope_len] == '\0' || path[scope_len] == '/' || scope_len == 1;
}

static int fd_path(int fd, char *out, size_t outsz)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, outsz - 1);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	return out[0] == '/' ? 0 : -1;   /* "pipe:[..]", "socket:[..]" */
}

static int fd_in_scope(int fd, char *path, size_t pathsz)
{
	int saved = errno, rc = 0;

	if (fd >= 0 && fd_path(fd, path, pathsz) == 0)
		rc = under_scope(path);
	errno = saved;
	return rc;
}

/* A path argument: its directory resolved (the last component may not exist yet). */
static int path_in_scope(const char *p, char *resolved, size_t resolvedsz)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash;
	int saved = errno, rc = 0;

	if (!p || strlen(p) >= sizeof(dir))
		return 0;
	slash = strrchr(p, '/');
	if (!slash) {
		strcpy(dir, ".");
	} else if (slash == p) {
		strcpy(dir, "/");
	} else {
		memcpy(dir, p, (size_t)(slash - p));
		dir[slash - p] = '\0';
	}
	if (realpath(dir, real)) {
		int n = snprintf(resolved, resolvedsz, "%s/%s", strcmp(real, "/") ? real : "",
				 slash ? slash + 1 : p);

		rc = n > 0 && (size_t)n < resolvedsz && under_scope(real);
	}
	errno = saved;
	return rc;
}

static void log_line(enum call c, long n, const char *path, const char *what)
{
	char line[PATH_MAX + 128];
	int len;

	if (log_fd < 0)
		return;
	len = snprintf(line, sizeof(line), "%ld %s %ld %s%s%s\n", (long)getpid(), call_names[c], n, path,
		       what ? " -> " : "", what ? what : "");
	if (len > 0)
		(void)!real_write(log_fd, line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
}

/*
 * Count a call in scope and find the rule for it (NULL: make the call normally).
 * Logs the call, and the action taken.
 */
static const struct rule *decide(enum call c, const char *path)
{
	long n = ++counts[c];

	for (size_t i = 0; i < nrules; i++) {
		const struct rule *r = &rules[i];

		if (r->call != c)
			continue;
		if (n == r->first || (r->onward && n >= r->first)) {
			log_line(c, n, path, r->name);
			return r;
		}
	}
	log_line(c, n, path, NULL);
	return NULL;
}

/*
 * Before the call: kill, stop, or report an errno.  Returns 1 when the call must fail
 * with errno set, 0 to go ahead (and *after_kill when SIGKILL follows the call).
 */
static int before(const struct rule *r, int *after_kill)
{
	*after_kill = 0;
	if (!r)
		return 0;
	switch (r->action) {
	case A_KILL:
		raise(SIGKILL);
		return 0;
	case A_STOP:
		raise(SIGSTOP);
		return 0;
	case A_KILLAFTER:
		*after_kill = 1;
		return 0;
	case A_ERRNO:
		errno = r->err;
		return 1;
	case A_SHORT:
		return 0;
	}
	return 0;
}

ssize_t write(int fd, const void *buf, size_t count)
{
	char path[PATH_MAX];
	const struct rule *r;
	int kill_after;
	ssize_t n;

	init();
	if (!fd_in_scope(fd, path, sizeof(path)))
		return real_write(fd, buf, count);
	r = decide(C_WRITE, path);
	if (before(r, &kill_after))
		return -1;
	if (r && r->action == A_SHORT && count > 1)
		count /= 2;
	n = real_write(fd, buf, count);
	if (kill_after)
		raise(SIGKILL);
	return n;
}

static int sync_common(enum call c, int (*real)(int), int fd)
{
	char path[PATH_MAX];
	const struct rule *r;
	int kill_after, rc;

	init();
	if (!fd_in_scope(fd, path, sizeof(path)))
		return real(fd);
	r = decide(c, path);
	if (before(r, &kill_after))
		return -1;
	rc = real(fd);
	if (kill_after)
		raise(SIGKILL);
	return rc;
}

int fsync(int fd)
{
	init();
	return sync_common(C_FSYNC, real_fsync, fd);
}

int fdatasync(int fd)
{
	init();
	return sync_common(C_FDATASYNC, real_fdatasync, fd);
}

int close(int fd)
{
	char path[PATH_MAX];
	const struct rule *r;
	int kill_after, rc, e;

	init();
	if (!fd_in_scope(fd, path, sizeof(path)))
		return real_close(fd);
	r = decide(C_CLOSE, path);
	if (before(r, &kill_after)) {
		/* Linux frees the descriptor even when close reports an error. */
		e = errno;
		real_close(fd);
		errno = e;
		return -1;
	}
	rc = real_close(fd);
	if (kill_after)
		raise(SIGKILL);
	return rc;
}

int fchmod(int fd, mode_t mode)
{
	char path[PATH_MAX];
	const struct rule *r;
	int kill_after, rc;

	init();
	if (!fd_in_scope(fd, path, sizeof(path)))
		return real_fchmod(fd, mode);
	r = decide(C_FCHMOD, path);
	if (before(r, &kill_after))
		return -1;
	rc = real_fchmod(fd, mode);
	if (kill_after)
		raise(SIGKILL);
	return rc;
}

int rename(const char *from, const char *to)
{
	char path[PATH_MAX], path2[PATH_MAX];
	const struct rule *r;
	int kill_after, rc, in_from, in_to;

	init();
	in_from = path_in_scope(from, path, sizeof(path));
	in_to = path_in_scope(to, path2, sizeof(path2));
	if (!in_from && !in_to)
		return real_rename(from, to);
	r = decide(C_RENAME, in_to ? path2 : path);
	if (before(r, &kill_after))
		return -1;
	rc = real_rename(from, to);
	if (kill_after)
		raise(SIGKILL);
	return rc;
}

int unlink(const char *p)
{
	char path[PATH_MAX];
	const struct rule *r;
	int kill_after, rc;

	init();
	if (!path_in_scope(p, path, sizeof(path)))
		return real_unlink(p);
	r = decide(C_UNLINK, path);
	if (before(r, &kill_after))
		return -1;
	rc = real_unlink(p);
	if (kill_after)
		raise(SIGKILL);
	return rc;
}

int mkostemp(char *tmpl, int flags)
{
	char path[PATH_MAX];
	const struct rule *r;
	int kill_after, rc;

	init();
	if (!path_in_scope(tmpl, path, sizeof(path)))
		return real_mkostemp(tmpl, flags);
	r = decide(C_MKOSTEMP, path);
	if (before(r, &kill_after))
		return -1;
	rc = real_mkostemp(tmpl, flags);
	if (kill_after)
		raise(SIGKILL);
	return rc;
}
