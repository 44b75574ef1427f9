// Package hal is the hardware abstraction layer of spanrec: the few pieces of
// the appliance that are not network traffic or files.
//
// Each subpackage defines the narrow interface the daemon needs, a Linux
// implementation and, in a "test" subpackage beside it, a fake for the tests of
// code that drives the hardware (the periph.io gpio/gpiotest pattern):
//
//   - hal/led: front-panel LEDs via the Linux LED class (/sys/class/leds),
//     blinking via the kernel timer trigger; fake in hal/led/ledtest.
//   - hal/button: the front button via evdev (/dev/input/eventN, gpio-keys),
//     debounced, short and long presses; fake in hal/button/buttontest.
//   - hal/serial: the technician's console UART (115200 8N1 by default) via
//     go.bug.st/serial; fake in hal/serial/serialtest.
//   - hal/watchdog: the hardware watchdog (/dev/watchdog) and the loop that
//     kicks it while the daemon is healthy; fake in hal/watchdog/watchdogtest.
//   - hal/ledstate: the LED behaviour of the appliance (idle, recording,
//     paused, faults, self-test) as pure logic on top of hal/led.
//
// The Linux implementations take their sysfs/dev paths as arguments so that
// their own tests run against a temporary fake tree, a FIFO or a pty.
// This package itself holds no code.
package hal
