// Package boottest boots the appliance's arm64 root file system under
// qemu-system-aarch64 (-M virt, Debian's arm64 kernel, an initramfs made by
// scripts/mkinitramfs.sh from the NanoPi R2S overlay, busybox and spanrec
// for linux/arm64) and drives it over the emulated serial console the way a
// technician on the UART would: it waits for the init scripts to start
// spanrec on its SPAN interface, runs `spanrec status` and `spanrec
// version` at the shell, and powers the machine off, which stops spanrec
// through its init script.
//
// The package has only a test. It runs when SPANREC_BOOT_TEST=1 (`make
// test-boot`, which first runs scripts/qemu-boot.sh --prepare to install
// qemu and cpio and fetch the kernel and busybox into the cache); otherwise
// it is skipped. It downloads nothing itself.
package boottest
