// Package watchdog drives the hardware watchdog that reboots the appliance
// when the daemon hangs.
//
// It owns the Watchdog interface, DevWatchdog (the Linux /dev/watchdog
// implementation: WDIOC_SETTIMEOUT/GETTIMEOUT, WDIOC_KEEPALIVE, magic close),
// Run, the loop that kicks the watchdog only while the daemon reports itself
// healthy, and Heartbeat, a ready-made health check for a main loop. A fake
// for tests lives in hal/watchdog/watchdogtest.
package watchdog
