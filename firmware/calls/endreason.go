package calls

// EndReason says why a call ended, or why one file of it did (the
// recorder's reasons): the index keeps it as its text. The tracker and the
// recorder both use these constants; shutdown reasons given to
// Tracker.Close ("capture-ended", "shutdown", ...) are the caller's.
type EndReason string

// Why a call ended (set by the Tracker).
const (
	EndByeCaller       EndReason = "bye-caller"        // the caller hung up
	EndByeCallee       EndReason = "bye-callee"        // the callee hung up
	EndByeBeforeAnswer EndReason = "bye-before-answer" // a BYE before any answer was seen
	EndCancelled       EndReason = "cancelled"         // CANCEL or 487: the caller gave up
	EndRejected        EndReason = "rejected"          // a final answer other than 2xx
	EndNoFinalResponse EndReason = "no-final-response" // the INVITE was never answered
	EndMediaTimeout    EndReason = "media-timeout"     // no RTP nor in-dialog SIP for calls.media_timeout
	EndHoldTimeout     EndReason = "hold-timeout"      // on hold longer than calls.hold_timeout
	EndSignalTimeout   EndReason = "signal-timeout"    // no signalling within the session interval
	EndTableFull       EndReason = "evicted-table-full"
	EndSIPBudget       EndReason = "evicted-sip-budget"
	EndCallIDReused    EndReason = "call-id-reused" // a new call came with the same Call-ID
	EndMediaReused     EndReason = "media-reused"   // another call took its media address
)

// Why one file of a call ended before the call (set by the recorder).
const (
	EndMediaIdle       EndReason = "media-idle"         // RTP stopped while the dialog goes on
	EndSplit           EndReason = "split-max-duration" // calls.max_duration reached: the next part follows
	EndOpenFilesBudget EndReason = "evicted-open-files" // its files were released for another call's
	// EndInProgress is the end reason of an index entry whose recording
	// is still being written; one found at start-up was cut short.
	EndInProgress EndReason = "in-progress"
)

// endBye is the end reason of a BYE from side.
func endBye(from Side) EndReason {
	if from == Caller {
		return EndByeCaller
	}
	return EndByeCallee
}
