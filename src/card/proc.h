/*
 * proc.h - who else is running (src/card/proc.c), for backends that name the process
 * that holds or may hold their device (ModemManager on a modem port, scdaemon on a
 * PC/SC reader).  Linux /proc; on failure the answers are "?" and 0.
 */
#ifndef ESIMCTL_CARD_PROC_H
#define ESIMCTL_CARD_PROC_H

#include <stddef.h>

/* The command name of process pid (/proc/PID/comm), or "?". */
void proc_comm(long pid, char *out, size_t outsz);
/* The pid of a running process whose command name is name, or 0. */
long proc_find(const char *name);

#endif
