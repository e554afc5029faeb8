/*
 * secretin.c - activation codes and confirmation codes from a file or standard input,
 * and keeping them out of /proc/PID/cmdline (see cmd.h).
 *
 * A code on the command line is readable by every local user in /proc/PID/cmdline for
 * the whole run and is recorded by exec-time audit logs; --code-file and
 * --confirmation-code-file keep it out of both.  Policy (docs/esimctl.1):
 * - FILE must be a regular file or a FIFO (a pipe, process substitution); "-" is
 *   standard input, whatever it is.  Anything else (a directory, a device) is refused.
 * - At most max bytes of content: an activation code is at most 1024 characters
 *   (actcode.c), a confirmation code at most 128.  A longer file is refused, so that a
 *   wrong file (a log, /dev/zero behind a pipe) is not read forever.
 * - One line: one trailing "\n" or "\r\n" is removed; another line with text, or a
 *   control character inside the code, is refused; an empty code is refused.
 * - A file that other users can write is refused (they could choose what is downloaded);
 *   one that other users can read is read, with a warning naming the fix (chmod 600),
 *   as for the store.
 * - The bytes are read with read(2) into a buffer that is wiped, never through stdio.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd.h"

#define SECRET_FILE_MAX 1024

int app_read_secret(struct app *app, const char *opt, const char *path, size_t max, char **out)
{
	char data[SECRET_FILE_MAX + 3];
	const char *shown = strcmp(path, "-") ? path : "standard input";
	struct stat st;
	size_t len = 0, end;
	int fd, rc = -1;

	*out = NULL;
	if (max > SECRET_FILE_MAX)
		max = SECRET_FILE_MAX;
	if (!strcmp(path, "-")) {
		fd = STDIN_FILENO;
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		/* "add --code LPA:1$..." abbreviates --code-file: never echo what may be the code. */
		if (strchr(path, '$')) {
			app_fail(app, ESIM_E_USAGE, "%s: cannot open the file: %s; the argument looks like an "
				 "activation code, not a file name", opt, strerror(errno));
			return esim_hint(&app->err, "put the code in a file (mode 0600) or give it on standard input (-)");
		}
		return app_fail(app, ESIM_E_USAGE, "%s '%s': %s", opt, path, strerror(errno));
	}
	if (fd != STDIN_FILENO) {
		if (fstat(fd, &st) < 0) {
			app_fail(app, ESIM_E_USAGE, "%s '%s': %s", opt, path, strerror(errno));
			goto out;
		}
		if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
			app_fail(app, ESIM_E_USAGE, "%s '%s' is not a regular file or a pipe", opt, path);
			goto out;
		}
		if (st.st_mode & (S_IWGRP | S_IWOTH)) {
			app_fail(app, ESIM_E_USAGE, "%s '%s' has mode %04o: other users can change the code in it",
				 opt, path, (unsigned)(st.st_mode & 07777));
			esim_hint(&app->err, "chmod 600 '%s'", path);
			goto out;
		}
		if (st.st_mode & (S_IRGRP | S_IROTH))
			app_warn(app, "%s '%s' has mode %04o: other users can read the code in it; fix: chmod 600 '%s'",
				 opt, path, (unsigned)(st.st_mode & 07777), path);
	}
	/*
	 * One byte more than a code with "\r\n" may have tells a file that is too long.  On a
	 * terminal the code ends with the line (Enter), elsewhere with the end of the file.
	 */
	while (len < max + 3 && !(len && data[len - 1] == '\n' && isatty(fd))) {
		ssize_t n = read(fd, data + len, max + 3 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			app_fail(app, ESIM_E_USAGE, "%s: cannot read %s: %s", opt, shown, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	end = len;
	if (end && data[end - 1] == '\n')
		end--;
	if (end && data[end - 1] == '\r')
		end--;
	if (end > max) {
		app_fail(app, ESIM_E_USAGE, "%s: %s holds more than %zu bytes: not a code", opt, shown, max);
		goto out;
	}
	if (!end) {
		app_fail(app, ESIM_E_USAGE, "%s: %s is empty", opt, shown);
		goto out;
	}
	for (size_t i = 0; i < end; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\n' || c == '\r') {
			app_fail(app, ESIM_E_USAGE, "%s: %s holds more than one line: give one code", opt, shown);
			goto out;
		}
		if (c < 0x20 || c == 0x7f) {
			app_fail(app, ESIM_E_USAGE, "%s: %s holds a control character (byte %zu)", opt, shown, i + 1);
			goto out;
		}
	}
	*out = xstrndup(data, end);
	rc = 0;
out:
	secure_wipe(data, sizeof(data));
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

int app_take_secret_arg(struct app *app, const char *opt, char *arg, size_t max, char **out)
{
	size_t n = strlen(arg);

	*out = NULL;
	if (n > max) {
		secure_wipe(arg, n);
		return app_fail(app, ESIM_E_USAGE, "%s: more than %zu characters: not a code", opt, max);
	}
	*out = xstrdup(arg);
	/* Overwritten in place: /proc/PID/cmdline reads these bytes. */
	secure_wipe(arg, n);
	return 0;
}

void app_drop_secret(char **s)
{
	if (*s) {
		secure_wipe(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

int app_can_prompt(const struct app *app)
{
	int fd;

	if (!app->stdin_tty)
		return 0;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0)
		return 0;
	close(fd);
	return 1;
}
