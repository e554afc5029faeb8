#!/usr/bin/env bash
# t0005-layers.sh - the parts of src/ depend only on the parts they may (scripts/check-layers.sh,
# docs/architecture.md), and the check really fails on each kind of forbidden arrow.
. "$(dirname "$0")/lib.sh"

check=$ESIMCTL_SRC/scripts/check-layers.sh

run 0 "$check" "$ESIMCTL_SRC/src"

# A copy of the tree with one forbidden arrow each: the check fails and names the file.
for case in 'core/ids.c:#include "esimctl/store.h"' 'core/ids.c:#include <unistd.h>' \
	    'rsp/lpa.c:#include "cli/cmd.h"' 'card/transport.c:#include "rsp/es9p_internal.h"' \
	    'store/store.c:#include "esimctl/es10.h"' 'cli/list.c:#include <openssl/evp.h>' \
	    'rsp/es10.c:	printf("x\n");' 'card/soft/soft.c:	fprintf(stderr, "x");'; do
	file=${case%%:*}; line=${case#*:}
	rm -rf "$T/src"; cp -r "$ESIMCTL_SRC/src" "$T/src"
	printf '%s\n' "$line" >>"$T/src/$file"
	run 1 "$check" "$T/src"
	err_has "src/$file"
done
finish
