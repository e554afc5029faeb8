/*
 * store.h - the store file: locked read-modify-write with atomic, durable commits.
 *
 * A sidecar lock file "<store>.lock" is flock()ed exclusively from before the read until
 * after the rename, so parallel scripts never lose an update; the kernel drops the lock
 * when the holder dies, so kill -9 never blocks later runs.  Commits write a temp file in
 * the same directory (mkstemp, 0600), fsync it, rename it over the store and fsync the
 * directory: a crash leaves the old or the new store, never a mix.  Leftover temp files
 * ("<store>.tmp." and 6 random characters) from killed runs are removed by the next
 * writer.
 *
 *	struct store_txn *txn;
 *	struct store *s;
 *	if (store_begin(path, wait_s, &txn, &s, err) < 0) return -1;   // locked + loaded
 *	... mutate s ...
 *	rc = store_commit(txn, s, err);    // or store_abort(txn) to leave the file alone
 */
#ifndef ESIMCTL_STORE_H
#define ESIMCTL_STORE_H

#include "esimctl/buf.h"
#include "esimctl/error.h"
#include "esimctl/model.h"

#define STORE_DEFAULT_WAIT_S 5.0

/*
 * Resolve the store path: explicit (--store) if not NULL, else $ESIMCTL_STORE, else
 * $XDG_DATA_HOME/esimctl/store.json, else ~/.local/share/esimctl/store.json.
 */
int store_path(const char *explicit_path, struct buf *out, struct esim_err *err);

/*
 * Read-only load without locking (rename is atomic, so readers see a whole file).  A
 * missing file is an empty store.  Corrupt or unknown schema: ESIM_E_STORE.
 */
int store_load(const char *path, struct store **out, struct esim_err *err);

struct store_txn;

/*
 * Lock (waiting up to wait_s seconds, then ESIM_E_BUSY naming the store), create the
 * directory (0700) if needed, load.  On error nothing is held.
 */
int store_begin(const char *path, double wait_s, struct store_txn **txn, struct store **out,
		struct esim_err *err);
/*
 * Write s durably, unlock, free txn (not s).  On error the old file is untouched.
 * txn is consumed either way: do not store_abort() it after a failed commit.
 */
int store_commit(struct store_txn *txn, const struct store *s, struct esim_err *err);
/* Unlock and free txn without writing. */
void store_abort(struct store_txn *txn);

/*
 * Write bytes to path atomically and durably with mode 0600 (temp + fsync + rename +
 * dir fsync).  Used for the software eUICC state (QR files: output_write(), outfile.h).
 */
int atomic_write_file(const char *path, const void *data, size_t len, struct esim_err *err);
/*
 * Remove the temporary files ("<path>.tmp." + 6 characters) that writers of path killed
 * before their rename left behind.  Call it only while holding the lock that serialises
 * the writers of path (store_begin() does it for the store).
 */
void atomic_write_cleanup(const char *path);
/* Read a whole file (NUL-terminated).  ENOENT -> returns 1 with out empty, else 0 / -1. */
int read_whole_file(const char *path, struct buf *out, struct esim_err *err);
/*
 * atomic_write_file() and read_whole_file() do not follow a symbolic link as the last
 * path component and report failures as ESIM_E_OTHER naming the file; callers re-label
 * the status (the store functions use ESIM_E_STORE).
 */

/*
 * 1 when path (not followed through a symbolic link) is a regular file readable or
 * writable by group or others.  The ownership and directory rules for the store are
 * in src/io/safepath.h.
 */
int store_insecure_mode(const char *path);

#endif
