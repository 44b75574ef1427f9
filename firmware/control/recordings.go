package control

import (
	"context"
	"net/http"
	"time"

	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// Limits of the recordings endpoints.
const (
	// DefaultRecordingsLimit is how many recordings a query without a
	// limit returns; MaxRecordingsLimit is the most one may ask for.
	DefaultRecordingsLimit = index.DefaultLimit
	MaxRecordingsLimit     = 10000
	verifyTimeout          = 30 * time.Minute // write deadline of a verify response
)

// Recordings are the index's recordings as the viewer's role may see
// them: a quarantined recording (no consent prompt heard) is an admin's
// only, for everyone else it is not there (index.ErrNotFound).
type Recordings interface {
	// Search returns the calls q matches, newest first.
	Search(viewer users.Role, q index.Query) ([]index.Call, error)
	// Get returns one index entry, or index.ErrNotFound.
	Get(viewer users.Role, id string) (index.Call, error)
	// Verify checks one recording's signature, file hash and chain entry,
	// or with id "all" every recording and the whole hash chain.
	Verify(ctx context.Context, viewer users.Role, id string) (Verification, error)
	// Delete deletes a finished recording (and its raw media, or the WAV
	// it goes with) at by's request: the deletion is chained with a
	// proof naming the audit entry written with it.
	Delete(id, by string) error
}

// Verification is the result of a verify request.
type Verification struct {
	// ID is the recording checked, or "all".
	ID string `json:"id"`
	// Checked counts the recording files checked.
	Checked int `json:"checked"`
	// Valid is true when no problem was found.
	Valid bool `json:"valid"`
	// Problems describe what is wrong, one per line.
	Problems []string `json:"problems"`
	// Key is the fingerprint of the public key the signatures were
	// checked against.
	Key string `json:"key,omitempty"`
}

func (h *handler) recordingRoutes() []route {
	s, ready := h.s.Recordings, h.s.Recordings != nil
	id := func(rq *request[struct{}]) string { return rq.r.PathValue("id") }
	checkID := func(rq *request[struct{}]) string { return checkText("recording id", id(rq), maxIDLen) }
	return []route{
		rt("GET /v1/recordings", users.ViewRecordings, serve(h, op[struct{}]{service: "recordings", ready: ready,
			query: []string{"q", "limit", "all"},
			check: func(rq *request[struct{}]) string { _, msg := recordingQuery(rq); return msg },
			run: func(rq *request[struct{}]) (any, error) {
				q, _ := recordingQuery(rq)
				list, err := s.Search(rq.ID.Role, q)
				if list == nil {
					list = []index.Call{}
				}
				return list, err
			}})),
		rt("GET /v1/recordings/{id}", users.ViewRecordings, serve(h, op[struct{}]{service: "recordings", ready: ready,
			check: checkID,
			run:   func(rq *request[struct{}]) (any, error) { return s.Get(rq.ID.Role, id(rq)) }})),
		rt("GET /v1/recordings/{id}/verify", users.VerifyRecordings, serve(h, op[struct{}]{service: "recordings", ready: ready,
			check: checkID,
			run: func(rq *request[struct{}]) (any, error) {
				// Checking every recording can take longer than the
				// server's write timeout.
				_ = http.NewResponseController(rq.w).SetWriteDeadline(time.Now().Add(verifyTimeout))
				v, err := s.Verify(rq.r.Context(), rq.ID.Role, id(rq))
				if v.Problems == nil {
					v.Problems = []string{}
				}
				return v, err
			}})),
		rt("DELETE /v1/recordings/{id}", users.DeleteRecordings, serve(h, op[struct{}]{service: "deleting recordings", ready: ready,
			check:   checkID,
			audit:   func(rq *request[struct{}]) string { return index.AdminDeleteCommand(id(rq)) },
			audited: auditRefusal,
			run:     func(rq *request[struct{}]) (any, error) { return nil, s.Delete(id(rq), rq.ID.Account) }})),
	}
}

// recordingQuery is the request's query, or what is wrong with it.
func recordingQuery(rq *request[struct{}]) (index.Query, string) {
	limit, msg := intParam(rq.Query, "limit", DefaultRecordingsLimit, MaxRecordingsLimit)
	if limit == 0 {
		limit = DefaultRecordingsLimit
	}
	all := rq.Query.Get("all")
	if msg == "" && all != "" && all != "1" && all != "true" {
		msg = "all must be 1 or true"
	}
	return index.Query{Text: rq.Query.Get("q"), Limit: limit, All: all != ""}, msg
}
