package control

import (
	"net/http"

	"spanrec/firmware/users"
)

// AllCalls is the call ID that pauses or resumes every active call.
const AllCalls = "all"

// Daemon is the capture loop's side of the API: its state and the live
// calls (*daemon.Daemon).
type Daemon interface {
	// Status returns the daemon's counters.
	Status() Status
	// Calls returns the active calls.
	Calls() []Call
	// Pause stops recording a call's audio (silence is written instead)
	// until Resume; callID "" or "all" means every active call. source
	// is who asked, as the server authenticated it ("uid:0", "alice").
	// An unknown call is engine.ErrNoSuchCall (wrapped).
	Pause(callID string, source string) error
	// Resume undoes Pause; the arguments and errors are Pause's.
	Resume(callID string, source string) error
}

// actionBody is the JSON body of a successful pause or resume.
type actionBody struct {
	ID     string `json:"id"`
	Paused bool   `json:"paused"`
}

func (h *handler) callRoutes() []route {
	d, ready := h.s.Daemon, h.s.Daemon != nil
	return []route{
		rt("GET /v1/status", users.ViewStatus, serve(h, op[struct{}]{service: "status", ready: ready,
			run: func(*request[struct{}]) (any, error) {
				s := d.Status()
				if s.Interfaces == nil {
					s.Interfaces = []Interface{}
				}
				return s, nil
			}})),
		rt("GET /v1/calls", users.ViewCalls, serve(h, op[struct{}]{service: "calls", ready: ready,
			run: func(*request[struct{}]) (any, error) {
				c := d.Calls()
				if c == nil {
					c = []Call{}
				}
				return c, nil
			}})),
		rt("POST /v1/calls/{id}/pause", users.PauseResume, h.pauseResume(true)),
		rt("POST /v1/calls/{id}/resume", users.PauseResume, h.pauseResume(false)),
	}
}

func (h *handler) pauseResume(pause bool) http.HandlerFunc {
	d := h.s.Daemon
	verb, fn := "resume", func(id, who string) error { return d.Resume(id, who) }
	if pause {
		verb, fn = "pause", func(id, who string) error { return d.Pause(id, who) }
	}
	return serve(h, op[struct{}]{service: verb, ready: d != nil,
		check: func(rq *request[struct{}]) string { return checkText("call id", rq.r.PathValue("id"), maxIDLen) },
		audit: func(rq *request[struct{}]) string { return verb + " " + rq.r.PathValue("id") },
		run: func(rq *request[struct{}]) (any, error) {
			id := rq.r.PathValue("id")
			if err := fn(id, rq.ID.Account); err != nil {
				return nil, err
			}
			return actionBody{ID: id, Paused: pause}, nil
		}})
}
