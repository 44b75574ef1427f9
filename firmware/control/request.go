package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Limits of request values.
const (
	maxIDLen    = 256
	maxBody     = 64 << 10
	maxKeyLen   = 128
	maxValueLen = 4096
	maxQueryLen = 256
)

// request is one request as the adapter (serve) hands it to an
// operation: decoded, validated and authorised.
type request[B any] struct {
	w http.ResponseWriter
	r *http.Request
	// ID is who asks, as the server established it.
	ID Identity
	// Query holds the query parameters the operation takes.
	Query url.Values
	// Body is the decoded JSON body (the zero B when it takes none).
	Body B
}

// op is one endpoint's operation, for serve.
type op[B any] struct {
	// service names the service it needs ("offload"); ready says whether
	// the server has it: without it the answer is 501 "offload not
	// configured".
	service string
	ready   bool
	// query lists the query parameters it takes (none when empty).
	query []string
	// body: a strict JSON body decodes into B; otherwise a change may
	// have no body.
	body bool
	// check validates the request: what is wrong, or "".
	check func(*request[B]) string
	// audit, when set, makes it a change: the command its audit entry
	// names, audited with run's result.
	audit func(*request[B]) string
	// audited tells how: auditResult by default.
	audited auditMode
	// run does it: the answer (nil: {"ok": true}) or an error, answered
	// with its condition's status (wireErrors).
	run func(*request[B]) (any, error)
}

// auditMode is how a change is audited.
type auditMode int

const (
	// auditResult audits the change with its result ("ok" or the error).
	auditResult auditMode = iota
	// auditRefusal audits only a failure: the service audits a success
	// itself (a deletion, in the transaction its proof names).
	auditRefusal
	// auditRequest audits "requested" before the change runs, and a
	// failure after (a reboot: the entry must be written before the
	// system goes down).
	auditRequest
)

// serve is the one adapter of every endpoint: it checks the query and
// the body, decodes and validates them, answers 501 for a service the
// server lacks, runs the operation and audits a change. Authorisation is
// done before it (handler.authorize, by the route's permission).
func serve[B any](h *handler, o op[B]) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq := &request[B]{w: w, r: r, ID: identityOf(r)}
		change := r.Method != http.MethodGet
		q, msg := params(r, change, o.query)
		if msg == "" && change && !o.body && hasBody(r) {
			msg = "no request body expected"
		}
		if msg == "" && o.body {
			msg = decodeBody(w, r, &rq.Body)
		}
		rq.Query = q
		if msg == "" && o.check != nil {
			msg = o.check(rq)
		}
		if msg != "" {
			h.writeError(w, http.StatusBadRequest, "", msg)
			return
		}
		command := ""
		if o.audit != nil {
			command = o.audit(rq)
		}
		var (
			out any
			err error
		)
		switch {
		case !o.ready:
			err = fmt.Errorf("%s %w", o.service, ErrNotConfigured)
		case o.audited == auditRequest:
			h.audit(rq.ID.Account, command, "requested")
			fallthrough
		default:
			out, err = o.run(rq)
		}
		if command != "" && (err != nil || o.audited == auditResult) {
			h.audit(rq.ID.Account, command, resultOf(err))
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if command != "" {
			h.log.Info("control: "+command, "who", rq.ID.Account)
		}
		if out == nil {
			out = okBody{OK: true}
		}
		h.writeJSON(w, http.StatusOK, out)
	}
}

// resultOf is an audit entry's result: "ok", the error, or how a
// refusal is audited.
func resultOf(err error) string {
	var r refusal
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &r):
		return r.audit
	}
	return err.Error()
}

// params checks that the query has only the allowed keys, each at most
// once and printable, and returns it; else what is wrong. A change never
// takes source= (who asks is the server's to say).
func params(r *http.Request, change bool, allowed []string) (url.Values, string) {
	if len(allowed) == 0 && !change && r.URL.RawQuery != "" {
		return nil, "this endpoint takes no query parameters"
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, "bad query: " + err.Error()
	}
	if change && q.Has("source") {
		return nil, noSource
	}
	for k, vs := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		switch {
		case !ok:
			return nil, fmt.Sprintf("unknown query parameter %q", k)
		case len(vs) > 1:
			return nil, k + " given more than once"
		}
		if msg := checkText(k, vs[0], maxQueryLen); msg != "" && vs[0] != "" {
			return nil, msg
		}
	}
	return q, ""
}

// noSource answers 400 for the source= parameter that clients used to
// name themselves with: who asks is now the server's to say.
const noSource = "source is not accepted: the daemon records who you are (your uid, or your console login)"

// intParam parses the query parameter name (def when absent) within
// [0, max]; else it says what is wrong.
func intParam(q url.Values, name string, def, max int) (int, string) {
	s := q.Get(name)
	if s == "" {
		return def, ""
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > max {
		return 0, fmt.Sprintf("%s must be a number from 0 to %d", name, max)
	}
	return n, ""
}

// hasBody reports whether the request has a body.
func hasBody(r *http.Request) bool {
	n, _ := io.ReadFull(io.LimitReader(r.Body, 1), make([]byte, 1))
	return n > 0
}

// decodeBody decodes the JSON request body into v (strictly: no unknown
// fields, one object, at most maxBody bytes); else it says what is
// wrong.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) string {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return "bad request body: " + err.Error()
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "bad request body: more than one JSON value"
	}
	return ""
}

// checks returns the first of msgs that is not "".
func checks(msgs ...string) string {
	for _, m := range msgs {
		if m != "" {
			return m
		}
	}
	return ""
}

// lastN is the operation of a request for the last ?n= items (default
// def, at most max) that fetch returns, never a null list; answer, if
// set, wraps them.
func lastN[T any](service string, ready bool, def, max int, fetch func(int) ([]T, error), answer func([]T) any) op[struct{}] {
	return op[struct{}]{service: service, ready: ready, query: []string{"n"},
		check: func(rq *request[struct{}]) string { _, msg := intParam(rq.Query, "n", def, max); return msg },
		run: func(rq *request[struct{}]) (any, error) {
			n, _ := intParam(rq.Query, "n", def, max)
			items, err := fetch(n)
			if items == nil {
				items = []T{}
			}
			if answer != nil {
				return answer(items), err
			}
			return items, err
		}}
}
