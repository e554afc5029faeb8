#!/usr/bin/env bash
# check-layers.sh - fail when a part of esimctl depends on a part it must not
# (docs/architecture.md).  Reads the #include lines of src/ and a few calls; no build needed.
#
#   part      folder          may include
#   core      src/core        core                                   (pure: no I/O)
#   store     src/store       core store
#   crypto    src/crypto      core crypto
#   card      src/card        core crypto card store(files)          (no printing)
#   rsp       src/rsp         core crypto card rsp                   (no printing)
#   cli       src/cli         core store cli cli-rsp
#   cli-rsp   src/cli/rsp     core store crypto card rsp cli cli-rsp (runs in the module)
#
# Headers of include/esimctl/ belong to the part they describe (apdu: card; es10, es9p,
# lpa: rsp; store, file: store; the rest: core).  A line may opt out with the comment
# "check-layers: ok (REASON)"; the reason is required.
# Usage: scripts/check-layers.sh [SRCDIR]   (default: src next to this script)
set -u
cd "$(dirname "$0")/.."
src=${1:-src}
fail=0

part_of_file() {
	case $1 in
	"$src"/cli/rsp/*) echo cli-rsp ;;
	"$src"/cli/*) echo cli ;;
	"$src"/core/*) echo core ;;
	"$src"/store/*) echo store ;;
	"$src"/crypto/*) echo crypto ;;
	"$src"/card/*) echo card ;;
	"$src"/rsp/*) echo rsp ;;
	"$src"/https/*) echo https ;;
	*) echo unknown ;;
	esac
}

part_of_include() {
	case $1 in
	esimctl/apdu.h) echo card ;;
	esimctl/es10.h | esimctl/es9p.h | esimctl/lpa.h) echo rsp ;;
	esimctl/store.h | esimctl/file.h) echo store ;;
	esimctl/*) echo core ;;
	cli/rsp/*) echo cli-rsp ;;
	cli/* | core/* | store/* | crypto/* | card/* | rsp/*) echo "${1%%/*}" ;;
	*) echo local ;;
	esac
}

allowed() { # from to
	case "$1:$2" in
	*:local) return 0 ;;
	core:core) return 0 ;;
	store:core | store:store) return 0 ;;
	crypto:core | crypto:crypto) return 0 ;;
	card:core | card:crypto | card:card | card:store) return 0 ;;
	rsp:core | rsp:crypto | rsp:card | rsp:rsp) return 0 ;;
	cli:core | cli:store | cli:cli | cli:cli-rsp) return 0 ;;
	cli-rsp:*) return 0 ;;
	https:core) return 0 ;;
	esac
	return 1
}

bad() { echo "check-layers: $*" >&2; fail=1; }

while IFS= read -r f; do
	from=$(part_of_file "$f")
	if [ "$from" = unknown ]; then
		bad "$f: file outside the known parts (src/core, store, crypto, card, rsp, cli)"
		continue
	fi
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		case $line in '#include'*) ;; *) continue ;; esac
		case $line in *"check-layers: ok ("*) continue ;; esac
		case $line in
		'#include "'*)
			inc=${line#\#include \"}; inc=${inc%%\"*}
			to=$(part_of_include "$inc")
			allowed "$from" "$to" || bad "$f:$n: $from must not include $inc ($to)"
			;;
		'#include <'*)
			inc=${line#\#include <}; inc=${inc%%>*}
			if [ "$from" = core ]; then
				case $inc in
				unistd.h | fcntl.h | dirent.h | termios.h | dlfcn.h | poll.h | signal.h | \
				pwd.h | time.h | sys/* | curl/* | openssl/* | PCSC/* | libmbim* | libqmi*)
					bad "$f:$n: core is pure and must not include <$inc>" ;;
				esac
			fi
			case "$from:$inc" in
			core:curl/* | store:curl/* | crypto:curl/* | card:curl/* | cli:curl/* | \
			cli:openssl/* | store:openssl/* | core:openssl/*)
				bad "$f:$n: <$inc> belongs in the module (src/crypto, src/rsp)" ;;
			esac
			;;
		esac
	done <"$f"
done < <(find "$src" -name '*.[ch]' | sort)

# Parts below the command line never print to the terminal: they return text in struct
# esim_err, and src/cli prints it.
while IFS= read -r hit; do
	f=${hit%%:*}
	case $(part_of_file "$f") in core | store | crypto | card | rsp) ;; *) continue ;; esac
	case $hit in *"check-layers: ok ("*) continue ;; esac
	bad "${hit%%:[^0-9]*}: $(part_of_file "$f") must not print to the terminal (return the text in struct esim_err)"
done < <(grep -rnE '(^|[^_a-zA-Z])(printf|puts|putchar|perror|vprintf)[[:space:]]*\(|f(v?printf|puts|putc|write)[[:space:]]*\([^;]*std(out|err)' \
	--include='*.[ch]' "$src")

if [ $fail -ne 0 ]; then
	echo "check-layers: see docs/architecture.md for the parts and the allowed arrows" >&2
	exit 1
fi
echo "check-layers: $(find "$src" -name '*.[ch]' | wc -l) files, every include within the allowed arrows"
