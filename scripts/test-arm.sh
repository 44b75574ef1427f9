#!/usr/bin/env bash
# Runs the media and firmware tests compiled for the appliance's CPUs —
# linux/arm (GOARM=7, the BeagleBone Black) and linux/arm64 (the NanoPi R2S)
# — under qemu user-mode emulation (Debian package qemu-user-static, which
# this script installs when it is missing and it runs as root).
#   scripts/test-arm.sh [arm|arm64]...     (default: both)
# Env: GOTESTFLAGS (default "-short -count=1"), PKGS (default
# "./media/... ./firmware/...").
#
# qemu-user runs the test binaries on this machine's kernel but does not
# emulate every socket option: AF_PACKET's SOL_PACKET options (TPACKET_V3
# rings) fail with ENOPROTOOPT, so live-capture tests must skip on that
# error (errors.Is(err, unix.ENOPROTOOPT)). Tests that build and exec a
# spanrec binary of the host's toolchain get SPANREC_QEMU_USER=1 in their
# environment to tell them they run emulated.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(arm arm64)
read -r -a flags <<<"${GOTESTFLAGS:--short -count=1}"
read -r -a pkgs <<<"${PKGS:-./media/... ./firmware/...}"

need_qemu() {
	command -v qemu-arm-static >/dev/null 2>&1 && command -v qemu-aarch64-static >/dev/null 2>&1 && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "test-arm: qemu-arm-static/qemu-aarch64-static missing; install them: apt-get install qemu-user-static" >&2
		exit 1
	fi
	echo "== installing qemu-user-static"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
}
need_qemu

status=0
for arch in "${arches[@]}"; do
	case $arch in
	arm) env=(GOARCH=arm GOARM=7) exec_prog=qemu-arm-static ;;
	arm64) env=(GOARCH=arm64) exec_prog=qemu-aarch64-static ;;
	*) echo "test-arm: unknown architecture $arch (want arm or arm64)" >&2; exit 2 ;;
	esac
	echo "== go test ${flags[*]} ${pkgs[*]} for linux/$arch under $exec_prog"
	start=$(date +%s)
	if ! env "${env[@]}" GOOS=linux CGO_ENABLED=0 SPANREC_QEMU_USER=1 \
		go test "${flags[@]}" -exec "$exec_prog" "${pkgs[@]}"; then
		status=1
	fi
	echo "== linux/$arch took $(($(date +%s) - start))s"
done
exit $status
