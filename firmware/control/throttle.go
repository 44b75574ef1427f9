package control

import (
	"time"

	"spanrec/firmware/users"
)

// loginThrottle holds back logins over the socket from a local user
// after failed ones (users.Throttle by uid). Root is not held back: it is
// the serial console, which slows each of its lines itself (so one
// hammered line does not hold back the admin on another).
type loginThrottle struct{ t *users.Throttle[uint32] }

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{t: users.NewThrottle[uint32](now)}
}

// wait returns how long uid must still wait before its next login (0:
// go ahead).
func (t *loginThrottle) wait(uid uint32) time.Duration {
	if uid == 0 {
		return 0
	}
	return t.t.Wait(uid)
}

// failed counts a failed login of uid.
func (t *loginThrottle) failed(uid uint32) {
	if uid != 0 {
		t.t.Failed(uid)
	}
}

// succeeded forgets uid's failures.
func (t *loginThrottle) succeeded(uid uint32) { t.t.Succeeded(uid) }
