#!/usr/bin/env bash
# Static checks of the Buildroot tree (buildroot/) and the board folders
# (board/<name>/) — fast, offline, no Buildroot source needed:
#   - external.desc names the tree SPANREC; Config.in and external.mk pull in
#     every package;
#   - the spanrec package uses the golang-package infrastructure as intended
#     (local source = this repository, module path = go.mod's, a main package
#     as build target, version stamped, cgo off, no SPANREC_INSTALL_BINS);
#   - every defconfig enables BR2_PACKAGE_SPANREC, keeps the root file system
#     read-only, disables busybox's watchdog daemon, configures DHCP and a
#     getty, and every file it names (overlays, post-build script, genimage
#     config, kernel fragments) is under $(BR2_EXTERNAL_SPANREC_PATH) and
#     exists;
#   - every file a genimage config, post-build script or extlinux.conf needs
#     exists or is one Buildroot produces for that board, the device trees
#     match the defconfig's, the console matches the getty;
#   - the overlays hold the init script, the daemon and board configuration;
#     the shell scripts parse; kernel fragments are well-formed and enable
#     what the appliance needs.
#   scripts/check-buildroot.sh [REPO_ROOT]     (default: this repository)
# Exits 1 with one line per problem.
set -uo pipefail
root=$(cd "${1:-$(dirname "$0")/..}" && pwd) || exit 2
ext=$root/buildroot
errors=0
checks=0

fail() {
	echo "check-buildroot: $*" >&2
	errors=$((errors + 1))
}
ok() { checks=$((checks + 1)); }
rel() { echo "${1#"$root"/}"; }

# value FILE VAR: the value of a Kconfig line VAR="..." or VAR=..., unquoted.
value() {
	sed -n -E "s/^$2=\"?([^\"]*)\"?\$/\\1/p" "$1" | tail -n 1
}
# mkvalue FILE VAR: the value of a make assignment VAR = ... (one line).
mkvalue() {
	sed -n -E "s/^$2[[:space:]]*[:?+]?=[[:space:]]*(.*)\$/\\1/p" "$1" | tail -n 1
}
# expand PATH: replaces $(BR2_EXTERNAL_SPANREC_PATH) by the tree's path.
expand() {
	local p=$1
	realpath -m "${p//\$(BR2_EXTERNAL_SPANREC_PATH)/$ext}"
}

[ -d "$ext" ] || { echo "check-buildroot: no buildroot/ folder in $root" >&2; exit 1; }

# --- the BR2_EXTERNAL tree -------------------------------------------------
if [ ! -f "$ext/external.desc" ]; then
	fail "buildroot/external.desc: missing"
else
	name=$(sed -n -E 's/^name:[[:space:]]*([A-Za-z0-9_]+)[[:space:]]*$/\1/p' "$ext/external.desc")
	if [ "$name" != SPANREC ]; then
		fail "buildroot/external.desc: name is '${name}', want SPANREC (the defconfigs use \$(BR2_EXTERNAL_SPANREC_PATH))"
	else ok; fi
fi
for f in Config.in external.mk; do
	[ -f "$ext/$f" ] || fail "buildroot/$f: missing"
done
if [ -f "$ext/external.mk" ] && ! grep -q 'BR2_EXTERNAL_SPANREC_PATH)/package/' "$ext/external.mk"; then
	fail "buildroot/external.mk: does not include \$(BR2_EXTERNAL_SPANREC_PATH)/package/*/*.mk"
fi
if [ -f "$ext/Config.in" ]; then
	while read -r src; do
		p=${src//\$BR2_EXTERNAL_SPANREC_PATH/$ext}
		[ -f "$p" ] || fail "buildroot/Config.in: sources $src, which does not exist"
		ok
	done < <(sed -n -E 's/^[[:space:]]*source[[:space:]]+"([^"]+)".*/\1/p' "$ext/Config.in")
	for pc in "$ext"/package/*/Config.in; do
		[ -f "$pc" ] || continue
		grep -q "package/$(basename "$(dirname "$pc")")/Config.in" "$ext/Config.in" ||
			fail "buildroot/Config.in: does not source $(rel "$pc")"
	done
fi

# --- the spanrec package ---------------------------------------------------
mk=$ext/package/spanrec/spanrec.mk
pcfg=$ext/package/spanrec/Config.in
if [ ! -f "$mk" ]; then
	fail "buildroot/package/spanrec/spanrec.mk: missing"
else
	m=$(rel "$mk")
	grep -q '^\$(eval \$(golang-package))' "$mk" || fail "$m: does not end with \$(eval \$(golang-package))"
	[ -n "$(mkvalue "$mk" SPANREC_VERSION)" ] || fail "$m: SPANREC_VERSION not set"
	site=$(mkvalue "$mk" SPANREC_SITE)
	if [ -z "$site" ]; then
		fail "$m: SPANREC_SITE not set"
	elif [ ! -f "$(expand "$site")/go.mod" ]; then
		fail "$m: SPANREC_SITE = $site is not the repository (no go.mod at $(expand "$site"))"
	else ok; fi
	[ "$(mkvalue "$mk" SPANREC_SITE_METHOD)" = local ] || fail "$m: SPANREC_SITE_METHOD must be local (the source is this repository)"
	module=$(sed -n -E 's/^module[[:space:]]+([^[:space:]]+).*/\1/p' "$root/go.mod" 2>/dev/null)
	gomod=$(mkvalue "$mk" SPANREC_GOMOD)
	[ -n "$module" ] && [ "$gomod" = "$module" ] || fail "$m: SPANREC_GOMOD = '$gomod', go.mod says module '$module'"
	targets=$(mkvalue "$mk" SPANREC_BUILD_TARGETS)
	if [ -z "$targets" ]; then
		fail "$m: SPANREC_BUILD_TARGETS not set (would build the module root, which has no main package)"
	fi
	for t in $targets; do
		if ! grep -qs '^package main' "$root/$t"/*.go; then
			fail "$m: build target $t is not a main package of the repository"
		else ok; fi
	done
	# golang-package names a single target's binary after it and installs it
	# to /usr/bin; the init script runs /usr/bin/spanrec.
	if [ "$(echo "$targets" | wc -w)" -eq 1 ] && [ "$(basename "$targets")" != spanrec ]; then
		fail "$m: the build target $targets installs /usr/bin/$(basename "$targets"), the init script runs /usr/bin/spanrec"
	fi
	if grep -qE '^SPANREC_INSTALL_BINS' "$mk"; then
		fail "$m: SPANREC_INSTALL_BINS is set: newer Buildroot rejects it (the binary name follows SPANREC_BUILD_TARGETS)"
	fi
	ldflags=$(mkvalue "$mk" SPANREC_LDFLAGS)
	[[ $ldflags == *"-X main.version="* ]] || fail "$m: SPANREC_LDFLAGS does not stamp -X main.version= (spanrec version would say dev)"
	[[ $(mkvalue "$mk" SPANREC_GO_ENV) == *CGO_ENABLED=0* ]] || fail "$m: SPANREC_GO_ENV does not set CGO_ENABLED=0 (the infrastructure turns cgo on with a threaded toolchain)"
	grep -q 'SPANREC_PRE_CONFIGURE_HOOKS.*+=' "$mk" && grep -q 'mod vendor' "$mk" ||
		fail "$m: no hook vendors the Go modules (Buildroot builds with -mod=vendor, GOPROXY=off, and never downloads a local package)"
	if grep -qE '^SPANREC_(BUILD|INSTALL_TARGET)_CMDS' "$mk"; then
		fail "$m: overrides the golang-package build/install commands"
	fi
	ok
fi
if [ ! -f "$pcfg" ]; then
	fail "buildroot/package/spanrec/Config.in: missing"
else
	grep -q '^config BR2_PACKAGE_SPANREC$' "$pcfg" || fail "$(rel "$pcfg"): no 'config BR2_PACKAGE_SPANREC'"
	grep -q 'depends on BR2_PACKAGE_HOST_GO_TARGET_ARCH_SUPPORTS' "$pcfg" ||
		fail "$(rel "$pcfg"): must depend on BR2_PACKAGE_HOST_GO_TARGET_ARCH_SUPPORTS (golang-package)"
fi

# --- kernel fragments --------------------------------------------------------
check_fragment() {
	local f=$1 n=0 line
	while IFS= read -r line; do
		n=$((n + 1))
		case $line in
		'' | '#'*) [[ $line =~ ^#\ CONFIG_ && ! $line =~ ^#\ CONFIG_[A-Za-z0-9_]+\ is\ not\ set$ ]] &&
			fail "$(rel "$f"):$n: malformed '$line' (want '# CONFIG_X is not set')" ;;
		CONFIG_*=*) [[ $line =~ ^CONFIG_[A-Za-z0-9_]+=(y|m|-?[0-9]+|0x[0-9a-fA-F]+|\".*\")$ ]] ||
			fail "$(rel "$f"):$n: malformed '$line'" ;;
		*) fail "$(rel "$f"):$n: not a kernel config line: '$line'" ;;
		esac
	done <"$f"
	for opt in PACKET WATCHDOG LEDS_CLASS LEDS_TRIGGER_TIMER KEYBOARD_GPIO EXT4_FS; do
		grep -q "^CONFIG_$opt=y" "$f" || fail "$(rel "$f"): CONFIG_$opt=y missing (the appliance needs it)"
	done
	ok
}

# --- genimage: files Buildroot produces, per board ---------------------------
# produced BOARD_DEFCONFIG NAME: whether NAME is an output of the build.
produced() {
	local cfg=$1 name=$2 dts d
	case $name in
	rootfs.ext4 | rootfs.ext2) grep -q '^BR2_TARGET_ROOTFS_EXT2=y' "$cfg" ;;
	rootfs.squashfs) grep -q '^BR2_TARGET_ROOTFS_SQUASHFS=y' "$cfg" ;;
	Image) grep -q '^BR2_aarch64=y' "$cfg" && grep -q '^BR2_LINUX_KERNEL=y' "$cfg" ;;
	zImage) grep -q '^BR2_arm=y' "$cfg" && grep -q '^BR2_LINUX_KERNEL=y' "$cfg" ;;
	*.dtb)
		dts=$(value "$cfg" BR2_LINUX_KERNEL_INTREE_DTS_NAME)
		for d in $dts; do [ "$(basename "$d").dtb" = "$name" ] && return 0; done
		return 1 ;;
	u-boot.img | u-boot.bin) grep -q '^BR2_TARGET_UBOOT=y' "$cfg" ;;
	*) [ "$(value "$cfg" BR2_TARGET_UBOOT_SPL_NAME)" = "$name" ] ||
		[ "$(value "$cfg" BR2_TARGET_UBOOT_FORMAT_CUSTOM_NAME)" = "$name" ] ;;
	esac
}

# --- defconfigs ----------------------------------------------------------------
shopt -s nullglob
defconfigs=("$ext"/configs/*_defconfig)
[ ${#defconfigs[@]} -gt 0 ] || fail "buildroot/configs: no defconfig"
for cfg in "${defconfigs[@]}"; do
	c=$(rel "$cfg")
	bins=""
	grep -q '^BR2_PACKAGE_SPANREC=y$' "$cfg" || fail "$c: BR2_PACKAGE_SPANREC=y missing"
	grep -q '^BR2_TARGET_GENERIC_REMOUNT_ROOTFS_RW=y' "$cfg" && fail "$c: BR2_TARGET_GENERIC_REMOUNT_ROOTFS_RW=y: the root must stay read-only"
	grep -q '^# BR2_TARGET_GENERIC_REMOUNT_ROOTFS_RW is not set' "$cfg" ||
		fail "$c: needs '# BR2_TARGET_GENERIC_REMOUNT_ROOTFS_RW is not set' (its default is y: root remounted read-write)"
	grep -q '^# BR2_PACKAGE_BUSYBOX_WATCHDOG is not set' "$cfg" ||
		fail "$c: needs '# BR2_PACKAGE_BUSYBOX_WATCHDOG is not set' (spanrec kicks /dev/watchdog itself)"
	dhcp=$(value "$cfg" BR2_SYSTEM_DHCP)
	[ -n "$dhcp" ] || fail "$c: BR2_SYSTEM_DHCP (the management port) not set"
	[ "$(value "$cfg" BR2_PACKAGE_CHRONY)" = y ] || fail "$c: BR2_PACKAGE_CHRONY not set (no battery-backed clock: the image needs a time client)"
	getty=$(value "$cfg" BR2_TARGET_GENERIC_GETTY_PORT)
	[ -n "$getty" ] || fail "$c: BR2_TARGET_GENERIC_GETTY_PORT (the serial console) not set"

	# Every path the defconfig names: under the external tree, and there.
	overlays=$(value "$cfg" BR2_ROOTFS_OVERLAY)
	postbuild=$(value "$cfg" BR2_ROOTFS_POST_BUILD_SCRIPT)
	fragments=$(value "$cfg" BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES)
	args=$(value "$cfg" BR2_ROOTFS_POST_SCRIPT_ARGS)
	genimage=$(sed -n -E 's/.*-c[[:space:]]+([^[:space:]]+).*/\1/p' <<<"$args")
	[ -n "$overlays" ] || fail "$c: BR2_ROOTFS_OVERLAY not set"
	[ -n "$postbuild" ] || fail "$c: BR2_ROOTFS_POST_BUILD_SCRIPT not set"
	[ -n "$genimage" ] || fail "$c: BR2_ROOTFS_POST_SCRIPT_ARGS has no '-c GENIMAGE_CFG'"
	grep -q '^BR2_ROOTFS_POST_IMAGE_SCRIPT="support/scripts/genimage.sh"' "$cfg" ||
		fail "$c: BR2_ROOTFS_POST_IMAGE_SCRIPT is not support/scripts/genimage.sh"
	for p in $overlays $postbuild $fragments $genimage; do
		if [[ $p != '$(BR2_EXTERNAL_SPANREC_PATH)/'* ]]; then
			fail "$c: $p is not under \$(BR2_EXTERNAL_SPANREC_PATH)"
		elif [ ! -e "$(expand "$p")" ]; then
			fail "$c: $p does not exist ($(expand "$p"))"
		else ok; fi
	done
	for p in $postbuild; do
		f=$(expand "$p")
		[ -f "$f" ] || continue
		[ -x "$f" ] || fail "$c: post-build script $p is not executable"
		sh -n "$f" || fail "$(rel "$f"): shell syntax error"
		# Files the script takes from its board folder.
		bd=$(dirname "$f")
		while read -r dep; do
			[ -e "$bd/$dep" ] || fail "$(rel "$f"): uses \$BOARD_DIR/$dep, which does not exist"
			ok
		done < <(grep -oE '\$BOARD_DIR/[A-Za-z0-9_./-]+' "$f" | sed 's|^\$BOARD_DIR/||' | sort -u)
		grep -q '/data' "$f" || fail "$(rel "$f"): does not set up the /data mount point and fstab line"
		# Files the script installs into BINARIES_DIR (for genimage).
		bins=$(grep -oE '\$BINARIES_DIR/[A-Za-z0-9_./-]+' "$f" | sed 's|^\$BINARIES_DIR/||' | sort -u)
	done
	for p in $fragments; do
		f=$(expand "$p")
		[ -f "$f" ] && check_fragment "$f"
	done
	for p in $genimage; do
		g=$(expand "$p")
		[ -f "$g" ] || continue
		made=$(sed -n -E 's/^[[:space:]]*image[[:space:]]+([^[:space:]{]+)[[:space:]]*\{.*/\1/p' "$g")
		while read -r need; do
			[ -n "$need" ] || continue
			if grep -qxF "$need" <<<"$made" || grep -qxF "$need" <<<"${bins:-}" || produced "$cfg" "$need"; then
				ok
			else
				fail "$(rel "$g"): needs '$need', which neither this file, the post-build script nor the build ($c) produces"
			fi
		done < <({
			sed -n -E 's/^[[:space:]]*image[[:space:]]*=[[:space:]]*"([^"]+)".*/\1/p' "$g"
			# the names listed in vfat { files = { "a", "b" } }
			awk '/files[[:space:]]*=[[:space:]]*\{/ {inlist=1; next} inlist && /\}/ {inlist=0} inlist' "$g" |
				sed -n -E 's/^[[:space:]]*"([^"]+)",?.*/\1/p'
		} | sort -u)
		grep -q 'mountpoint[[:space:]]*=' "$g" &&
			fail "$(rel "$g"): uses 'mountpoint', but Buildroot's genimage.sh gives genimage an empty root path"
		# Partition numbers (pN) of the entries in the partition table.
		parts=$(awk '
			/^[[:space:]]*partition[[:space:]]+[^[:space:]]+[[:space:]]*\{/ { name=$2; intable=1; next }
			name != "" && /in-partition-table[[:space:]]*=[[:space:]]*"?(no|false)"?/ { intable=0 }
			name != "" && /^[[:space:]]*\}/ { if (intable) print name; name="" }
		' "$g" | awk '{ print NR, $1 }')
		data_n=$(awk '$2 == "data" { print $1 }' <<<"$parts")
		root_n=$(awk '$2 == "rootfs" { print $1 }' <<<"$parts")
		[ -n "$data_n" ] || fail "$(rel "$g"): no partition named data (mounted at /data)"
		[ -n "$root_n" ] || fail "$(rel "$g"): no partition named rootfs"
		grep -q 'rootfs\.\(ext4\|squashfs\)' "$g" || fail "$(rel "$g"): no root partition image"
		for p2 in $postbuild; do
			f=$(expand "$p2")
			[ -f "$f" ] || continue
			dev=$(sed -n -E 's/^DATA_DEV=([^[:space:]]+).*/\1/p' "$f")
			if [ -z "$dev" ]; then
				fail "$(rel "$f"): no DATA_DEV=... (the data partition's device for fstab)"
			elif [ -n "$data_n" ] && [[ $dev != *p$data_n ]]; then
				fail "$(rel "$f"): DATA_DEV=$dev, but data is partition $data_n in $(rel "$g")"
			else ok; fi
			x=$(dirname "$f")/extlinux.conf
			if [ -f "$x" ] && [ -n "$root_n" ]; then
				grep -qE "root=[^[:space:]]*p$root_n([[:space:]]|$)" "$x" ||
					fail "$(rel "$x"): root= is not partition $root_n (rootfs in $(rel "$g"))"
			fi
		done
	done
	# extlinux.conf: device tree and console match the defconfig.
	for p in $postbuild; do
		x=$(dirname "$(expand "$p")")/extlinux.conf
		[ -f "$x" ] || continue
		fdt=$(sed -n -E 's/^[[:space:]]*(fdt|devicetree)[[:space:]]+\/?(.*)$/\2/p' "$x")
		[ -z "$fdt" ] || produced "$cfg" "$(basename "$fdt")" || fail "$(rel "$x"): device tree $fdt is not built by $c"
		grep -qE "console=$getty(,|[[:space:]]|$)" "$x" || fail "$(rel "$x"): kernel console is not the getty port $getty of $c"
		grep -qE '(^|[[:space:]])ro([[:space:]]|$)' "$x" || fail "$(rel "$x"): root not mounted read-only (ro)"
	done
	# Overlays: the init script, the daemon's and the board's configuration.
	found_init="" found_cfg="" found_board="" found_chrony="" found_hook=""
	for p in $overlays; do
		o=$(expand "$p")
		[ -x "$o/etc/init.d/S90spanrec" ] && found_init=$o/etc/init.d/S90spanrec
		[ -f "$o/etc/spanrec/spanrec.yaml" ] && found_cfg=$o/etc/spanrec/spanrec.yaml
		[ -f "$o/etc/spanrec/board.yaml" ] && found_board=$o/etc/spanrec/board.yaml
		[ -f "$o/etc/chrony.conf" ] && found_chrony=$o/etc/chrony.conf
		[ -x "$o/usr/share/udhcpc/default.script.d/chrony-ntp.sh" ] && found_hook=$o/usr/share/udhcpc/default.script.d/chrony-ntp.sh
	done
	if [ -z "$found_chrony" ]; then
		fail "$c: no overlay has etc/chrony.conf"
	else
		# chrony clears the kernel's STA_UNSYNC (what spanrec reads) only with rtcsync.
		grep -qE '^rtcsync' "$found_chrony" || fail "$(rel "$found_chrony"): no rtcsync (spanrec would never see the clock synchronised)"
		grep -qE '^sourcedir /run/chrony-dhcp' "$found_chrony" || fail "$(rel "$found_chrony"): no sourcedir for the DHCP servers"
	fi
	if [ -z "$found_hook" ]; then
		fail "$c: no overlay has an executable usr/share/udhcpc/default.script.d/chrony-ntp.sh (NTP servers by DHCP)"
	else
		sh -n "$found_hook" || fail "$(rel "$found_hook"): shell syntax error"
	fi
	if [ -z "$found_init" ]; then
		fail "$c: no overlay has an executable etc/init.d/S90spanrec"
	else
		sh -n "$found_init" || fail "$(rel "$found_init"): shell syntax error"
		grep -q '/usr/bin/spanrec' "$found_init" || fail "$(rel "$found_init"): does not run /usr/bin/spanrec"
		grep -q '/etc/spanrec/spanrec.yaml' "$found_init" || fail "$(rel "$found_init"): does not pass /etc/spanrec/spanrec.yaml"
	fi
	if [ -z "$found_cfg" ]; then
		fail "$c: no overlay has etc/spanrec/spanrec.yaml"
	else
		grep -qE '^data_dir:[[:space:]]*/data[[:space:]]*$' "$found_cfg" || fail "$(rel "$found_cfg"): data_dir is not /data"
		grep -qE "^[[:space:]]*-[[:space:]]*${dhcp}[[:space:]]*$" "$found_cfg" &&
			fail "$(rel "$found_cfg"): captures on the management port $dhcp"
	fi
	[ -n "$found_board" ] || fail "$c: no overlay has etc/spanrec/board.yaml (LEDs, button, ports)"
	ok
done

if [ $errors -gt 0 ]; then
	echo "check-buildroot: $errors problem(s) found" >&2
	exit 1
fi
echo "check-buildroot: ok (${#defconfigs[@]} defconfigs, $checks checks)"
