package hal

import (
	"strings"

	"spanrec/firmware/config/setting"
)

// Config is the configuration file's hardware section: the board's LEDs
// (Linux LED class), front button (an evdev input device) and hardware
// watchdog; an empty name means absent.
type Config struct {
	LEDSysfs        string           `yaml:"leds_sysfs"` // default /sys/class/leds
	StatusLED       string           `yaml:"status_led"`
	FaultLED        string           `yaml:"fault_led"`
	ButtonDevice    string           `yaml:"button_device"` // /dev/input/eventN
	ButtonCode      uint16           `yaml:"button_code"`   // default 148 (KEY_PROG1)
	Watchdog        string           `yaml:"watchdog"`      // /dev/watchdog
	WatchdogTimeout setting.Duration `yaml:"watchdog_timeout"`
	// NoSIPAlarm lights the fault LED when no SIP was seen this long (0:
	// never).
	NoSIPAlarm setting.Duration `yaml:"no_sip_alarm"`
}

// MaxKeyCode is the highest evdev key code (KEY_MAX).
const MaxKeyCode = 0x2ff

// Validate checks the section; keys are relative to it.
func (c Config) Validate() error {
	var p setting.Problems
	for key, name := range map[string]string{"status_led": c.StatusLED, "fault_led": c.FaultLED} {
		if strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
			p.Bad(key, "%q is not an LED name (a folder of %s)", name, "leds_sysfs")
		}
	}
	if c.ButtonCode > MaxKeyCode {
		p.Bad("button_code", "must be an evdev key code 0 to %d, got %d", MaxKeyCode, c.ButtonCode)
	}
	if c.Watchdog != "" {
		p.Positive("watchdog_timeout", c.WatchdogTimeout)
	}
	if c.NoSIPAlarm < 0 {
		p.Bad("no_sip_alarm", "must not be negative (0: never), got %s", c.NoSIPAlarm)
	}
	return p.Err()
}
