#!/usr/bin/env bash
# Install what esimctl needs to build and test, from Debian packages (apt-get; through
# sudo when not root).  Packages already installed are left alone, so this is quick and
# works offline on a prepared machine.
set -euo pipefail

pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libcjson-dev libqrencode-dev libpng-dev libssl-dev libcurl4-openssl-dev libcmocka-dev
      openssl python3 python3-cryptography zbar-tools librsvg2-bin jq
      libpcsclite-dev pcscd vsmartcard-vpcd pcsc-tools)
if [ "${1:-}" = "--bench" ]; then
	pkgs+=(hyperfine qrencode time valgrind)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
