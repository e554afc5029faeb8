#!/usr/bin/env bash
# check-citations.sh - fail when a comment or doc cites the private SGP.22 digest (its file
# name, or "digest §N" / "digest N.N" / "digest section N") instead of SGP.22 itself.  The
# digest is not part of the repository: cite SGP.22, ISO/IEC 7816-4, ETSI TS 102 221,
# 3GPP TS 27.007 or the RFC by section, or the SGP.22 function by name.
# Usage: scripts/check-citations.sh [ROOT]   (default: the tree this script is in)
# Scans ROOT/{src,include,tests,docs,bench}; prints each offending line, exits 1 if any.
set -u
cd "${1:-$(dirname "$0")/..}" || exit 2
dirs=()
for d in src include tests docs bench; do [ -d "$d" ] && dirs+=("$d"); done
[ ${#dirs[@]} -gt 0 ] || { echo "check-citations: no src/ include/ tests/ docs/ bench/ under $PWD" >&2; exit 2; }

# SGP22.md; "SGP.22 digest"; digest['s] followed by §N, N.N, or section(s) N.
pat='SGP22\.md|SGP\.22 [Dd]igest|[Dd]igest('"'"'s)?[[:space:]]*(§[[:space:]]*[0-9]|[0-9]+\.[0-9]|sections?[[:space:]]+[0-9])'
if grep -rnIE -- "$pat" "${dirs[@]}" >&2; then
	echo "check-citations: the lines above cite the SGP.22 digest, which is not in the" \
		"repository; cite SGP.22 (or ISO 7816-4, ETSI TS 102 221, 3GPP TS 27.007, an RFC)" \
		"by section instead" >&2
	exit 1
fi
exit 0
