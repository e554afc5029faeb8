/* proc.c - other processes by name, from /proc (see proc.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card/proc.h"

void proc_comm(long pid, char *out, size_t outsz)
{
	char p[64];
	FILE *f;

	snprintf(out, outsz, "?");
	snprintf(p, sizeof(p), "/proc/%ld/comm", pid);
	if (!(f = fopen(p, "re")))
		return;
	if (fgets(out, (int)outsz, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

long proc_find(const char *name)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char comm[64];
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		proc_comm(pid, comm, sizeof(comm));
		if (strcmp(comm, name) == 0)
			found = pid;
	}
	closedir(d);
	return found;
}
