package policy

import "sync/atomic"

// Engine decides on new calls under a configuration that can be replaced
// while it runs: Set swaps in a new compiled Policy atomically, calls that
// start afterwards use it (calls already decided keep their decision). The
// zero Engine records every call. It is safe for concurrent use.
type Engine struct {
	cur atomic.Pointer[Policy]
}

// NewEngine returns an Engine using p and r, or the validation errors.
func NewEngine(p PBX, r Rules) (*Engine, error) {
	var e Engine
	if err := e.Set(p, r); err != nil {
		return nil, err
	}
	return &e, nil
}

// Set validates and compiles p and r and makes them current. On error the
// previous configuration stays in force.
func (e *Engine) Set(p PBX, r Rules) error {
	pol, err := Compile(p, r)
	if err != nil {
		return err
	}
	e.cur.Store(pol)
	return nil
}

// Policy returns the current compiled configuration.
func (e *Engine) Policy() *Policy {
	if pol := e.cur.Load(); pol != nil {
		return pol
	}
	e.cur.CompareAndSwap(nil, compileLenient(nil, nil))
	return e.cur.Load()
}

// Decide classifies a new call and decides whether to record it.
func (e *Engine) Decide(c CallInfo) (Class, Decision) {
	pol := e.Policy()
	cl := pol.Classify(c)
	return cl, pol.Decide(cl)
}
