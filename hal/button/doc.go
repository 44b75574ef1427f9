// Package button reads the appliance's front button.
//
// It owns the Button interface used by the daemon (a stream of debounced
// presses, short or long) and Evdev, the Linux implementation that reads
// struct input_event records from an evdev device (/dev/input/eventN, usually
// a gpio-keys node from the device tree), plus FindDevice to locate the
// device by name. The input_event layout follows the running architecture:
// 24 bytes on 64-bit (arm64, amd64), 16 bytes on 32-bit ARM. A fake for tests
// lives in hal/button/buttontest.
package button
