/*
 * jsonalloc.h - the allocator cJSON uses in esimctl (install once, at start).
 *
 * A cJSON tree is many small blocks (a node, its key, its value) allocated together and
 * freed together.  jsonalloc_install() makes cJSON take them from 64 KiB chunks by
 * bumping a pointer, without a header per block (a chunk is aligned to its size, so a
 * block's address gives its chunk), and a chunk is wiped (it may hold matching IDs and
 * keys) and given back when the last block in it is freed.  Blocks of 16 KiB or more
 * (printed documents) get a region of their own and are wiped when freed.  A block is
 * aligned as its size allows (8 bytes for a node, none for most strings).
 * Single-threaded, like esimctl.
 */
#ifndef ESIMCTL_JSONALLOC_H
#define ESIMCTL_JSONALLOC_H

#include <stddef.h>

void *jsonalloc_malloc(size_t n);
void jsonalloc_free(void *p);
/* cJSON_InitHooks() with the two above. */
void jsonalloc_install(void);

#endif
