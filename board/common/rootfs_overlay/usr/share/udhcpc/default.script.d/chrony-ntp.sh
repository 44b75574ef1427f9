#!/bin/sh
# udhcpc hook: the NTP servers of DHCP option 42 ($ntpsrv) become chrony's
# sources (sourcedir /run/chrony-dhcp in /etc/chrony.conf).
dir=/run/chrony-dhcp
file=$dir/$interface.sources
case "$1" in
bound | renew)
	mkdir -p "$dir"
	: >"$file.new"
	for s in $ntpsrv; do
		echo "server $s iburst" >>"$file.new"
	done
	mv "$file.new" "$file"
	;;
deconfig | leasefail | nak)
	rm -f "$file"
	;;
*)
	exit 0
	;;
esac
chronyc reload sources >/dev/null 2>&1 || true
