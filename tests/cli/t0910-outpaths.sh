#!/bin/bash
# t0910-outpaths.sh - the output-file rule (issue 8 item 1, esimctl(1) OUTPUT FILES):
# qr --png/--svg never replaces an existing path that is not a regular file; "-" is stdout
# (a binary format refused on a terminal); character devices and FIFOs are written in
# place and write errors are reported (exit 11); a link of the user's (or root's) is
# followed and its target replaced atomically; "" is a usage error (exit 2).
#
# Safety: every device node, FIFO and link is made in $T (mknod c 1 3 is /dev/null's
# device, c 1 7 /dev/full's).  The real /dev/null, /dev/full and /dev/stdout are used only
# after esimctl has shown on $T's copy of the same node that it writes in place, and
# /dev/null is checked afterwards.
. "$(dirname "$0")/lib.sh"

CODE='LPA:1$rsp.example.com$ABC-123'
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
is_svg() { grep -q '<svg' "$1"; }
no_temps() { check "no temporary file left" [ -z "$(find "$T" -name '*.tmp.*' -print -quit)" ]; }
cd "$T" || exit 1

# ---- "" and "-" --------------------------------------------------------------------------------
run 2 esimctl qr --code "$CODE" --png ''
err_has "esimctl: qr: the output file name is empty"
run 2 esimctl qr --code "$CODE" --svg=
run 2 esimctl --json qr --code "$CODE" --png ''
json_eq '.error | [.status, .name]' '[2,"usage"]'
check "nothing created in the working directory" [ -z "$(ls -A "$T" | grep -v '^\.out$\|^\.err$\|^home$')" ]

run 0 esimctl qr --code "$CODE" --png -
check "--png - writes the PNG on stdout" is_png "$OUT"
err_has "wrote - (PNG"
run 0 esimctl qr --code "$CODE" --svg -
check "--svg - writes the SVG on stdout" is_svg "$OUT"
out_lacks "wrote"
run 2 esimctl --json qr --code "$CODE" --png -
one_json
err_has "standard output carries the JSON document"
if command -v script >/dev/null 2>&1; then
	# stdout on a terminal (script(1) gives the command a pseudo-terminal)
	script -qec "$ESIMCTL qr --code '$CODE' --png -" /dev/null >"$T/tty.out" 2>&1 </dev/null
	check "--png - on a terminal is a usage error (exit 2)" [ $? = 2 ]
	check "... saying why" grep -q "not writing a binary file to the terminal" "$T/tty.out"
	check "... and no PNG on the terminal" sh -c "! grep -qa PNG '$T/tty.out'"
	script -qec "$ESIMCTL qr --code '$CODE' --svg -" /dev/null >"$T/tty.out" 2>&1 </dev/null
	check "--svg - on a terminal is written (text)" [ $? = 0 ]
else
	echo "# script(1) not found: terminal cases not run"
fi

# ---- character devices ---------------------------------------------------------------------------
DEVS=0
if mknod "$T/null" c 1 3 2>/dev/null && mknod "$T/full" c 1 7 2>/dev/null && echo x >"$T/null" 2>/dev/null; then
	DEVS=1
	run 0 esimctl qr --code "$CODE" --png "$T/null"
	check "a character device stays a character device" [ -c "$T/null" ]
	out_has "wrote $T/null (PNG"
	out_lacks "mode 0600"
	run 0 esimctl qr --code "$CODE" --svg "$T/null"
	check "... after --svg too" [ -c "$T/null" ]
	run 11 esimctl qr --code "$CODE" --png "$T/full"
	err_has "esimctl: qr: cannot write '$T/full': No space left on device"
	check "the full device was not replaced" [ -c "$T/full" ]
	run 11 esimctl --json qr --code "$CODE" --svg "$T/full"
	json_eq '.error | [.status, .name]' '[11,"output"]'
	ln -s null "$T/nulllink"
	run 0 esimctl qr --code "$CODE" --png "$T/nulllink"
	check "a link to a device: the link and the device stay" test -L "$T/nulllink" -a -c "$T/null"
	# a block device (loop250: no such device) is never opened nor replaced
	mknod "$T/blk" b 7 250
	run 11 esimctl qr --code "$CODE" --png "$T/blk"
	err_has "not writing '$T/blk': it is a block device; esimctl replaces only regular files"
	check "the block device node stays" [ -b "$T/blk" ]
else
	echo "# cannot make device nodes here (not root, or nodev): device cases not run"
fi
no_temps

# ---- a FIFO with a reader -----------------------------------------------------------------------
mkfifo "$T/fifo"
timeout 30 cat "$T/fifo" >"$T/fifo.out" &
reader=$!
run 0 esimctl qr --code "$CODE" --png "$T/fifo"
if [ -p "$T/fifo" ]; then wait "$reader"; else kill "$reader" 2>/dev/null; wait "$reader"; fi
check "the FIFO stays a FIFO" [ -p "$T/fifo" ]
check "the reader got the PNG" is_png "$T/fifo.out"

# ---- standard output through a link (what /dev/stdout is) --------------------------------------
ln -s /proc/self/fd/1 "$T/stdout"
run 0 esimctl qr --code "$CODE" --png "$T/stdout"
check "stdout (a file) got the PNG" is_png "$OUT"
check "the link stays a link" [ -L "$T/stdout" ]
err_has "wrote $T/stdout (PNG"
"$ESIMCTL" qr --code "$CODE" --png "$T/stdout" 2>/dev/null | cat >"$T/piped.png"
check "stdout (a pipe) got the PNG" is_png "$T/piped.png"
printf 'before\n' >"$T/appended"
"$ESIMCTL" qr --code "$CODE" --svg "$T/stdout" >>"$T/appended" 2>/dev/null
check "stdout opened for appending keeps what was there" [ "$(head -1 "$T/appended")" = before ]
check "... and gets the SVG after it" is_svg "$T/appended"
check "the link is still a link" [ -L "$T/stdout" ]

# ---- symbolic links to regular files ------------------------------------------------------------
mkdir "$T/sub"
printf 'old' >"$T/sub/real.png"
chmod 644 "$T/sub/real.png"
ln -s sub/real.png "$T/link.png"
run 0 esimctl qr --code "$CODE" --png "$T/link.png"
out_has "wrote $T/link.png -> $T/sub/real.png (PNG"
check "the link stays a link" [ -L "$T/link.png" ]
check "its target was replaced by the PNG" is_png "$T/sub/real.png"
check "... with mode 0600" [ "$(mode_of "$T/sub/real.png")" = 600 ]
ln -s "$T/sub/new.svg" "$T/dangling.svg"
run 0 esimctl qr --code "$CODE" --svg "$T/dangling.svg"
check "a dangling link of the user's: the link stays" [ -L "$T/dangling.svg" ]
check "... and the file it names is created" is_svg "$T/sub/new.svg"
ln -s loop2 "$T/loop1"
ln -s loop1 "$T/loop2"
run 11 esimctl qr --code "$CODE" --png "$T/loop1"
err_has "too many levels of symbolic links"
check "looping links stay" test -L "$T/loop1" -a -L "$T/loop2"
no_temps

# ---- directories ----------------------------------------------------------------------------------
mkdir "$T/dir"
run 11 esimctl qr --code "$CODE" --png "$T/dir"
err_has "not writing '$T/dir': it is a directory; esimctl replaces only regular files"
err_has "hint: give a file name, e.g. '$T/dir/qr.png'"
check "the directory stays" test -d "$T/dir" -a -z "$(ls -A "$T/dir")"
ln -s dir "$T/dirlink"
run 11 esimctl qr --code "$CODE" --svg "$T/dirlink"
err_has "it leads to '$T/dir', which is a directory"
check "the link to it stays" [ -L "$T/dirlink" ]
no_temps

# ---- a link owned by another user is not followed (root only) ------------------------------------
if [ "$(id -u)" = 0 ]; then
	printf 'keep' >"$T/victim"
	ln -s victim "$T/planted.png"
	chown -h 65534 "$T/planted.png"
	run 11 esimctl qr --code "$CODE" --png "$T/planted.png"
	err_has "the symbolic link '$T/planted.png' is owned by"
	check "the link stays" [ -L "$T/planted.png" ]
	check "its target is untouched" [ "$(cat "$T/victim")" = keep ]
fi

# ---- the real nodes, once the copies above showed they are written in place -----------------------
if [ "$DEVS" = 1 ] && [ -c "$T/null" ] && [ -c "$T/full" ] && [ -c /dev/null ]; then
	run 0 esimctl qr --code "$CODE" --png /dev/null
	run 11 esimctl qr --code "$CODE" --png /dev/full
	err_has "cannot write '/dev/full': No space left on device"
	check "/dev/null is still the null character device" test -c /dev/null -a "$(stat -c %t:%T /dev/null)" = 1:3
	check "/dev/full is still a character device" [ -c /dev/full ]
fi
if [ -L "$T/stdout" ] && [ -L /dev/stdout ]; then
	run 0 esimctl qr --code "$CODE" --png /dev/stdout
	check "/dev/stdout: the PNG went to stdout" is_png "$OUT"
	check "/dev/stdout is still a link" [ -L /dev/stdout ]
fi
finish
