#!/bin/sh
# Buildroot post-build script of the NanoPi R2S (BR2_ROOTFS_POST_BUILD_SCRIPT).
# $1 is the target directory; BINARIES_DIR is set by Buildroot. Idempotent:
# Buildroot runs it on every `make`.
set -eu
TARGET_DIR=$1
BOARD_DIR=$(cd "$(dirname "$0")" && pwd)
# Third partition of the SD card (see genimage.cfg).
DATA_DEV=/dev/mmcblk0p3

# /data: mount point in the read-only root, the data partition mounted rw.
mkdir -p "$TARGET_DIR/data"
if ! grep -q '^[^#]*[[:space:]]/data[[:space:]]' "$TARGET_DIR/etc/fstab"; then
	printf '%s\t/data\text4\trw,noatime,nosuid,nodev,noexec\t0\t0\n' "$DATA_DEV" >>"$TARGET_DIR/etc/fstab"
fi

# Boot partition contents for genimage.
install -m 0644 -D "$BOARD_DIR/extlinux.conf" "$BINARIES_DIR/extlinux/extlinux.conf"
