//go:build !linux

package clock

import "errors"

// Kernel reads the state with adjtimex(2), which needs Linux.
type Kernel struct{}

// State implements Source: always an error here.
func (Kernel) State() (State, error) { return State{}, errors.New("clock: adjtimex needs Linux") }
