#!/usr/bin/env bash
# Builds the qemu test image: a gzip'd cpio (newc) initramfs for
# qemu-system-aarch64 -M virt made of
#   board/common/rootfs_overlay, board/nanopi-r2s/rootfs_overlay  (the
#       appliance's init script and configuration, as on the R2S)
#   board/qemu-virt/rootfs_overlay  (/init, inittab, rc scripts, stand-ins
#       for the board's hardware)
#   busybox (static, arm64; applet links made at boot), kernel modules, and
#   /usr/bin/spanrec for linux/arm64.
#   scripts/mkinitramfs.sh OUT.cpio.gz
# Env: SPANREC_QEMU_CACHE (kernel modules and busybox, fetched by
# scripts/qemu-boot.sh --fetch), SPANREC_BIN (an arm64 spanrec; default:
# `make arm64`, bin/spanrec-linux-arm64). Downloads nothing.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${SPANREC_QEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spanrec/qemu}
out=${1:?usage: $0 OUT.cpio.gz}
case $out in /*) ;; *) out=$PWD/$out ;; esac

die() { echo "mkinitramfs: $*" >&2; exit 1; }
command -v cpio >/dev/null || die "cpio not found (apt-get install cpio, or scripts/qemu-boot.sh --prepare)"
[ -x "$cache/busybox" ] || die "no arm64 busybox in $cache (scripts/qemu-boot.sh --fetch)"
ls "$cache"/modules/*.ko >/dev/null 2>&1 || die "no kernel modules in $cache/modules (scripts/qemu-boot.sh --fetch)"

bin=${SPANREC_BIN:-}
if [ -z "$bin" ]; then
	make -C "$repo" --no-print-directory arm64 >/dev/null
	bin=$repo/bin/spanrec-linux-arm64
fi
[ -x "$bin" ] || die "spanrec binary $bin not found"
file_out=$(od -An -tx1 -N20 "$bin" | tr -d ' \n')
# ELF, 64-bit, little-endian, e_machine 0xb7 (AArch64) at offset 18.
[[ $file_out == 7f454c46020101* && ${file_out:36:4} == b700 ]] || die "$bin is not a linux/arm64 executable"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,data,root,lib/modules}
mkdir -p "$root/var"
ln -s ../run "$root/var/run"
ln -s ../tmp "$root/var/log"
for o in board/common/rootfs_overlay board/nanopi-r2s/rootfs_overlay board/qemu-virt/rootfs_overlay; do
	[ -d "$repo/$o" ] || die "$o missing"
	cp -a "$repo/$o/." "$root/"
done
rm -f "$root/README.md"
install -m 0755 "$cache/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
ln -s ../bin/busybox "$root/sbin/init"
cp "$cache"/modules/*.ko "$root/lib/modules/"
install -m 0755 "$bin" "$root/usr/bin/spanrec"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'export PATH=/usr/bin:/usr/sbin:/bin:/sbin\nexport PS1="spanrec-qemu# "\n' >"$root/etc/profile"
# The kernel opens /dev/console for /init before devtmpfs is mounted.
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$root/dev/console" c 5 1
fi
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -9 >"$out"
echo "mkinitramfs: $out ($(du -h "$out" | cut -f1))"
