/*
 * outfile.h - output files that are not the store (private to esimctl's commands).
 *
 * atomic_write_output() is atomic_write_file() (store.h) without the two fsync calls:
 * path is replaced by rename, with mode 0600, and never seen half-written, but after a
 * crash it may be the old version (or missing, if it is new).  For files that can be
 * written again from the store, such as QR codes: the fsync alone costs more than
 * encoding and writing the PNG (docs/performance.md).  Messages name path.
 */
#ifndef ESIMCTL_OUTFILE_H
#define ESIMCTL_OUTFILE_H

#include <stddef.h>

#include "esimctl/error.h"

int atomic_write_output(const char *path, const void *data, size_t len, struct esim_err *err);

#endif
