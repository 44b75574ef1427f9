package users

import (
	"errors"
	"fmt"
	"spanrec/firmware/clock/clocktest"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	clk := clocktest.NewTime(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC))
	s := NewSessions(SessionOptions{Idle: 10 * time.Minute, MaxAge: time.Hour, Now: clk.Now})
	a, err := s.Create("alice")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Create("bob")
	if len(a.Token) != 2*TokenBytes || a.Token == b.Token || !a.Expires.Equal(clk.Now().Add(10*time.Minute)) {
		t.Fatalf("sessions: %+v %+v", a, b)
	}
	if name, err := s.Lookup(a.Token); err != nil || name != "alice" {
		t.Fatalf("lookup: %q %v", name, err)
	}
	for _, bad := range []string{"", "x", a.Token[:len(a.Token)-1], a.Token + "0"} {
		if _, err := s.Lookup(bad); !errors.Is(err, ErrNoSession) {
			t.Fatalf("token %q: %v", bad, err)
		}
	}
	// Use keeps a session alive; idleness ends it.
	for range 5 {
		clk.Add(9 * time.Minute)
		if _, err := s.Lookup(a.Token); err != nil {
			t.Fatalf("used session ended: %v", err)
		}
	}
	if _, err := s.Lookup(b.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("idle session: %v", err)
	}
	// However busy, a session ends at MaxAge.
	clk.Add(9 * time.Minute) // 54 min
	if _, err := s.Lookup(a.Token); err != nil {
		t.Fatal(err)
	}
	clk.Add(6 * time.Minute) // 60 min
	if _, err := s.Lookup(a.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session past max age: %v", err)
	}
	// Logout revokes.
	c, _ := s.Create("carol")
	if !s.Revoke(c.Token) || s.Revoke(c.Token) {
		t.Fatal("revoke")
	}
	if _, err := s.Lookup(c.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("revoked session: %v", err)
	}
	// The table is bounded: the oldest goes.
	first, _ := s.Create("first")
	for range MaxSessions {
		clk.Add(time.Second)
		s.Create("x")
	}
	if s.Len() != MaxSessions {
		t.Fatalf("%d sessions", s.Len())
	}
	if _, err := s.Lookup(first.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("oldest session kept: %v", err)
	}
}

func TestFailureDelay(t *testing.T) {
	var got []time.Duration
	for n := 0; n <= 8; n++ {
		got = append(got, FailureDelay(n, time.Second, 30*time.Second))
	}
	want := []time.Duration{0, 1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
	if FailureDelay(3, 0, time.Minute) != 0 || FailureDelay(1<<30, time.Second, 30*time.Second) != 30*time.Second {
		t.Fatal("no delay or a huge count")
	}
}
