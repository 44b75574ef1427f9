package labtest

// Phone is what the tests do with a user agent, whichever it is: *Baresip
// and *Linphone satisfy it. The methods must be called from the test's
// goroutine (a wait that times out fails the test); the waits have a
// cursor each, so WaitEstablished twice waits for two calls.
type Phone interface {
	URI() string            // where to call it
	Dial(uri string)        // start a call
	Answer()                // accept the ringing call
	Hangup()                // end, cancel or reject the current call
	Hold()                  // hold the call, return once the re-INVITE is answered
	Resume()                // resume it, likewise
	SendDTMF(digits string) // in the agent's configured DTMF mode
	WaitRegistered()        // the next successful registration
	WaitIncoming() string   // the next incoming call; the caller
	WaitEstablished() string
	WaitClosed() string
	WaitDTMF() string // the next digit received
	Played() Audio    // the file its source plays
	Received() Audio  // what it received in its last call, once recorded completely
}

var (
	_ Phone = (*Baresip)(nil)
	_ Phone = (*Linphone)(nil)
)
