// Package clock reads the kernel's clock synchronisation state (adjtimex)
// and knows the earliest time the firmware can believe: its own build.
//
// Neither board has a battery-backed clock: after a power cut the clock
// starts in 1970 (or at the last saved time) until the time client
// (chrony or busybox ntpd in the image) sets it. The kernel reports
// "unsynchronised" (STA_UNSYNC) until the client disciplines it, with its
// estimated and maximum error. [Kernel] is that source; clocktest.Fake
// stands in for it in tests. [BuildTime] is the floor: a clock before it
// is wrong, whatever the kernel says. [Sleep] is the firmware's wait that
// a context cancels.
package clock
