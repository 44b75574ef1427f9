package led

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultSysfsRoot is where the Linux LED class lives.
const DefaultSysfsRoot = "/sys/class/leds"

// SysfsLED is an LED of the Linux LED class: a directory NAME under the
// sysfs root holding the attributes brightness, max_brightness and trigger,
// plus delay_on and delay_off while the "timer" trigger is active.
//
// SysfsLED remembers the last state it set and does not rewrite an unchanged
// state, so that calling Blink again with the same periods does not restart
// the blink phase. It assumes it is the only writer of the LED. It is safe for
// concurrent use.
type SysfsLED struct {
	name string
	dir  string
	max  string // max_brightness as the kernel wrote it, e.g. "255"

	mu    sync.Mutex
	known bool  // state below is what the LED shows
	state State // last state set
}

var _ LED = (*SysfsLED)(nil)

// Open opens the LED name under sysfsRoot (DefaultSysfsRoot in production).
// It fails with ErrNotFound if the LED does not exist and ErrNoTimerTrigger
// if the kernel cannot blink it. It does not change what the LED shows.
func Open(sysfsRoot, name string) (*SysfsLED, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return nil, fmt.Errorf("open LED %q: %w", name, ErrBadName)
	}
	dir := filepath.Join(sysfsRoot, name)
	if _, err := os.Stat(filepath.Join(dir, "brightness")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open LED %q under %s: %w", name, sysfsRoot, ErrNotFound)
		}
		return nil, fmt.Errorf("open LED %q: %w", name, err)
	}
	maxRaw, err := os.ReadFile(filepath.Join(dir, "max_brightness"))
	if err != nil {
		return nil, fmt.Errorf("open LED %q: read max_brightness: %w", name, err)
	}
	maxStr := strings.TrimSpace(string(maxRaw))
	if n, err := strconv.ParseUint(maxStr, 10, 32); err != nil || n == 0 {
		return nil, fmt.Errorf("open LED %q: max_brightness %q: %w", name, maxStr, ErrMalformed)
	}
	trig, err := os.ReadFile(filepath.Join(dir, "trigger"))
	if err != nil {
		return nil, fmt.Errorf("open LED %q: read trigger: %w", name, err)
	}
	avail, _, err := ParseTriggers(trig)
	if err != nil {
		return nil, fmt.Errorf("open LED %q: trigger: %w", name, err)
	}
	hasTimer := false
	for _, t := range avail {
		if t == "timer" {
			hasTimer = true
			break
		}
	}
	if !hasTimer {
		return nil, fmt.Errorf("open LED %q: triggers %v (load ledtrig-timer): %w", name, avail, ErrNoTimerTrigger)
	}
	return &SysfsLED{name: name, dir: dir, max: maxStr}, nil
}

// ParseTriggers parses the content of an LED's trigger attribute: the
// available triggers separated by spaces, the current one in [brackets].
// It returns the available triggers (without brackets) and the current one.
func ParseTriggers(b []byte) (available []string, current string, err error) {
	for _, f := range strings.Fields(string(b)) {
		if strings.HasPrefix(f, "[") || strings.HasSuffix(f, "]") {
			if len(f) < 3 || f[0] != '[' || f[len(f)-1] != ']' || current != "" {
				return nil, "", fmt.Errorf("trigger list %q: %w", b, ErrMalformed)
			}
			f = f[1 : len(f)-1]
			current = f
		}
		if strings.ContainsAny(f, "[]") {
			return nil, "", fmt.Errorf("trigger list %q: %w", b, ErrMalformed)
		}
		available = append(available, f)
	}
	if len(available) == 0 {
		return nil, "", fmt.Errorf("empty trigger list: %w", ErrMalformed)
	}
	return available, current, nil
}

// Name returns the LED's sysfs name.
func (l *SysfsLED) Name() string { return l.name }

// Set turns the LED steadily on (max_brightness) or off, first selecting the
// "none" trigger so that blinking stops.
func (l *SysfsLED) Set(on bool) error {
	want := Steady(on)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.known && l.state == want {
		return nil
	}
	if !l.known || l.state.Mode == ModeBlink {
		l.known = false
		if err := l.write("trigger", "none"); err != nil {
			return err
		}
	}
	v := "0"
	if on {
		v = l.max
	}
	if err := l.write("brightness", v); err != nil {
		l.known = false
		return err
	}
	l.known, l.state = true, want
	return nil
}

// Blink makes the LED blink with the kernel timer trigger. Periods are
// rounded to whole milliseconds, at least 1 ms.
func (l *SysfsLED) Blink(on, off time.Duration) error {
	if on <= 0 || off <= 0 {
		return fmt.Errorf("led %s: blink %v/%v: %w", l.name, on, off, ErrBadPeriod)
	}
	onMS, offMS := millis(on), millis(off)
	want := Blinking(time.Duration(onMS)*time.Millisecond, time.Duration(offMS)*time.Millisecond)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.known && l.state == want {
		return nil
	}
	l.known = false
	// Full brightness for the "on" phases (the kernel blinks at the
	// brightness last written, or max_brightness if none).
	if err := l.write("brightness", l.max); err != nil {
		return err
	}
	if err := l.write("trigger", "timer"); err != nil {
		return err
	}
	// delay_on and delay_off appear once the timer trigger is active.
	if err := l.write("delay_on", strconv.FormatInt(onMS, 10)); err != nil {
		return err
	}
	if err := l.write("delay_off", strconv.FormatInt(offMS, 10)); err != nil {
		return err
	}
	l.known, l.state = true, want
	return nil
}

func millis(d time.Duration) int64 {
	ms := (d + time.Millisecond/2) / time.Millisecond
	if ms < 1 {
		ms = 1
	}
	return int64(ms)
}

// write writes v to the attribute in a single write(2), as sysfs requires.
// It never creates the attribute: a missing one is an error, as on sysfs.
func (l *SysfsLED) write(attr, v string) error {
	f, err := os.OpenFile(filepath.Join(l.dir, attr), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("led %s: %s: %w", l.name, attr, err)
	}
	_, err = f.WriteString(v)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("led %s: write %s=%s: %w", l.name, attr, v, err)
	}
	return nil
}

// List returns the names of the LEDs under sysfsRoot, sorted.
func List(sysfsRoot string) ([]string, error) {
	ents, err := os.ReadDir(sysfsRoot)
	if err != nil {
		return nil, fmt.Errorf("list LEDs: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(sysfsRoot, e.Name(), "brightness")); err == nil {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
