#!/usr/bin/env bash
# Boots the arm64 appliance root file system (NanoPi R2S overlay, busybox,
# spanrec) as an initramfs under qemu-system-aarch64 -M virt with Debian's
# arm64 kernel — no hardware, no Buildroot.
#   scripts/qemu-boot.sh            fetch what is missing, build, boot with the
#                                   serial console on this terminal (Ctrl-A X quits)
#   scripts/qemu-boot.sh --prepare  only fetch and install what the boot needs
#                                   (what `make test-boot` runs before the test)
#   scripts/qemu-boot.sh --fetch    only fetch the kernel and busybox
# What it installs, as root, with apt-get: qemu-system-arm (qemu-system-aarch64),
# cpio; and it downloads without installing (apt-get download, arm64 package
# lists kept in the cache, the system's apt configuration untouched) Debian's
# linux-image-*-arm64 and busybox-static:arm64 into the cache:
#   ${SPANREC_QEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spanrec/qemu}
#     vmlinuz  kernel-version  busybox  modules/*.ko
# The initramfs is scripts/mkinitramfs.sh's.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${SPANREC_QEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spanrec/qemu}
# Kernel modules the image loads (paths under lib/modules/VERSION/kernel):
# the dummy interface that stands in for the SPAN port, the watchdog.
modules=(drivers/net/dummy.ko drivers/watchdog/softdog.ko)

die() { echo "qemu-boot: $*" >&2; exit 1; }

apt_install() { # PACKAGE... — install the Debian packages (root only)
	[ "$(id -u)" = 0 ] || die "missing $*; install as root: apt-get install $*"
	echo "== apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

fetched() {
	[ -s "$cache/vmlinuz" ] && [ -x "$cache/busybox" ] || return 1
	for m in "${modules[@]}"; do [ -s "$cache/modules/$(basename "$m")" ] || return 1; done
}

fetch() {
	fetched && return 0
	[ "$(id -u)" = 0 ] || die "the arm64 kernel and busybox are not in $cache; run this as root once (it uses apt-get)"
	command -v dpkg-deb >/dev/null || die "dpkg-deb not found (Debian only)"
	echo "== fetching Debian's arm64 kernel and busybox-static into $cache"
	mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial" "$cache/modules"
	# Private arm64 package lists: the machine's apt sources, the arm64
	# architecture, without dpkg --add-architecture.
	local apt=(-q -o "Dir::State::Lists=$cache/apt/lists" -o "Dir::Cache=$cache/apt"
		-o APT::Architecture=arm64 -o "APT::Architectures::=arm64" -o APT::Sandbox::User=root)
	apt-get "${apt[@]}" update >/dev/null
	local kpkg
	kpkg=$(apt-cache "${apt[@]}" depends linux-image-arm64 | sed -n -E 's/^[[:space:]]*Depends: (linux-image-[0-9][^[:space:]]*-arm64)$/\1/p' | head -n 1)
	[ -n "$kpkg" ] || die "no linux-image-*-arm64 package found for linux-image-arm64"
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get "${apt[@]}" download "$kpkg" busybox-static:arm64 >/dev/null)
	dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/k"
	dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/bb"
	local kver=${kpkg#linux-image-}
	cp "$tmp/k/boot/vmlinuz-$kver" "$cache/vmlinuz"
	for m in "${modules[@]}"; do
		cp "$tmp/k/lib/modules/$kver/kernel/$m" "$cache/modules/"
	done
	install -m 0755 "$tmp/bb/bin/busybox" "$cache/busybox"
	echo "$kver" >"$cache/kernel-version"
	echo "== kernel $kver, busybox $(dpkg-deb -f "$tmp"/busybox-static_*.deb Version)"
	rm -rf "$tmp" "$cache/apt"
}

prepare() {
	command -v qemu-system-aarch64 >/dev/null || apt_install qemu-system-arm
	command -v cpio >/dev/null || apt_install cpio
	fetch
}

case "${1:-}" in
--fetch) fetch; exit 0 ;;
--prepare) prepare; exit 0 ;;
"") ;;
*) die "usage: $0 [--prepare|--fetch]" ;;
esac

prepare
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SPANREC_QEMU_CACHE=$cache "$repo/scripts/mkinitramfs.sh" "$out/initramfs.cpio.gz"
echo "== booting (serial console here; Ctrl-A X quits qemu, 'poweroff' shuts down)"
qemu-system-aarch64 -M virt -cpu cortex-a53 -m 512 -nographic -no-reboot -nic none \
	-kernel "$cache/vmlinuz" -initrd "$out/initramfs.cpio.gz" \
	-append "console=ttyAMA0 panic=-1"
