package clock

import (
	"time"

	"golang.org/x/sys/unix"
)

// Kernel reads the state with adjtimex(2) (read only: modes 0).
type Kernel struct{}

// State implements Source.
func (Kernel) State() (State, error) {
	var tx unix.Timex
	st, err := unix.Adjtimex(&tx)
	if err != nil {
		return State{}, err
	}
	return fromTimex(st, int(tx.Status), int64(tx.Esterror), int64(tx.Maxerror)), nil
}

// fromTimex interprets adjtimex's answer: its return value (clock
// state), status bits and errors in microseconds.
func fromTimex(ret, status int, est, maxErr int64) State {
	return State{
		Synced:   status&unix.STA_UNSYNC == 0 && ret != unix.TIME_ERROR,
		EstError: time.Duration(est) * time.Microsecond,
		MaxError: time.Duration(maxErr) * time.Microsecond,
	}
}
