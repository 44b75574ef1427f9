// Package led drives the appliance's front-panel LEDs.
//
// It owns the LED interface used by the daemon, the State value that describes
// what an LED should show (off, on, blinking with given periods), and SysfsLED,
// the Linux implementation on the LED class (/sys/class/leds/NAME) that blinks
// through the kernel "timer" trigger so that blinking costs no CPU and goes on
// while the daemon is busy. A fake for tests lives in hal/led/ledtest.
package led
