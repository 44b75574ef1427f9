package daemon

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"spanrec/firmware/control"
	"spanrec/firmware/index"
	"spanrec/firmware/users"
	"spanrec/firmware/web"
)

// TestSearchRecordingsPages: every page of a search over many more
// matches than it keeps is the same slice of the whole sorted list, for
// each order; the total counts every match; out-of-range pages are
// refused.
func TestSearchRecordingsPages(t *testing.T) {
	dir, ix := importSample(t)
	b := NewConsoleBackend(BackendConfig{DataDir: dir, Index: ix, ConsoleOptions: ConsoleOptions{Users: users.Options{Cost: bcrypt.MinCost}}})
	list, err := b.Recordings.Search(users.Admin, index.Query{})
	if err != nil || len(list) != 1 {
		t.Fatal(list, err)
	}
	var all []index.Call
	for i := range 260 {
		c := list[0]
		c.Start = c.Start.Add(time.Duration(i*37%260) * time.Second)
		c.ID, c.CallID = index.NewID(c.Start), fmt.Sprintf("c%d@test", i)
		c.DurationS, c.Caller, c.Callee = float64(i%13), fmt.Sprintf("%03d", i%17), fmt.Sprintf("%03d", i%5)
		c.OneWay = i%3 == 0
		if err := ix.Put(&c); err != nil {
			t.Fatal(err)
		}
		if c.OneWay {
			all = append(all, c)
		}
	}
	for _, sort := range []string{web.SortStart, web.SortDuration, web.SortParties} {
		for _, asc := range []bool{false, true} {
			q := web.Search{Flags: []string{"one_way"}, Sort: sort, Ascending: asc, Limit: 10}
			want := slices.Clone(all)
			slices.SortFunc(want, func(a, b index.Call) int { return q.Compare(&a, &b) })
			for q.Offset = 0; q.Offset < len(want)+10; q.Offset += q.Limit {
				got, err := b.Recordings.SearchPage(users.Admin, q)
				if err != nil {
					t.Fatal(err)
				}
				end := min(q.Offset+q.Limit, len(want))
				if got.Total != len(want) || len(got.List) != max(end-q.Offset, 0) {
					t.Fatalf("%s asc %v offset %d: total %d, %d rows", sort, asc, q.Offset, got.Total, len(got.List))
				}
				for i := range got.List {
					if got.List[i].ID != want[q.Offset+i].ID {
						t.Fatalf("%s asc %v offset %d row %d: %s, want %s", sort, asc, q.Offset, i, got.List[i].ID, want[q.Offset+i].ID)
					}
				}
			}
		}
	}
	for _, q := range []web.Search{{Limit: 0}, {Offset: -1, Limit: 10}, {Offset: control.MaxRecordingsLimit, Limit: 1}} {
		if _, err := b.Recordings.SearchPage(users.Admin, q); !errors.Is(err, control.ErrBadRequest) {
			t.Errorf("%+v: %v", q, err)
		}
	}
}

// TestReleaseQuarantine: a released recording is no longer quarantined;
// its chain entry and file stay; releasing twice is a bad request.
func TestReleaseQuarantine(t *testing.T) {
	dir, ix := importSample(t)
	b := NewConsoleBackend(BackendConfig{DataDir: dir, Index: ix, ConsoleOptions: ConsoleOptions{Users: users.Options{Cost: bcrypt.MinCost}}})
	list, _ := b.Recordings.Search(users.Admin, index.Query{})
	c := list[0]
	c.Quarantined = true
	if err := ix.Put(&c); err != nil {
		t.Fatal(err)
	}
	before, err := b.Recordings.ChainPosition(c.ID)
	if err != nil || before.Seq != 1 || !before.Linked || before.Prev != "" {
		t.Fatalf("chain position: %+v %v", before, err)
	}
	if err := b.Recordings.ReleaseQuarantine(c.ID, "web:ann"); err != nil {
		t.Fatal(err)
	}
	got, _ := ix.Get(c.ID)
	after, _ := b.Recordings.ChainPosition(c.ID)
	if got.Quarantined || got.SHA256 != c.SHA256 || after != before {
		t.Errorf("after the release: quarantined %v, chain %+v", got.Quarantined, after)
	}
	if v, err := b.Recordings.Verify(t.Context(), users.Admin, c.ID); err != nil || !v.Valid {
		t.Errorf("verify after the release: %+v %v", v, err)
	}
	if err := b.Recordings.ReleaseQuarantine(c.ID, "web:ann"); !errors.Is(err, control.ErrBadRequest) {
		t.Errorf("second release: %v", err)
	}
	if _, err := b.Recordings.ChainPosition("nope"); !errors.Is(err, index.ErrNotFound) {
		t.Errorf("chain position of nothing: %v", err)
	}
}

func TestChangedSections(t *testing.T) {
	a := "# a comment\ncalls:\n  media_timeout: 30s\nweb:\n  listen: ':443'\nlog:\n  level: info\n"
	b := "calls:\n  media_timeout: 30s # same value, new comment\nweb:\n  listen: ':8443'\nstorage:\n  quota_gb: 10\n"
	if got := changedSections([]byte(a), []byte(b)); !slices.Equal(got, []string{"log", "storage", "web"}) {
		t.Errorf("changed %q", got)
	}
	if got := changedSections([]byte(a), []byte(a+"# more\n")); len(got) != 0 {
		t.Errorf("comments only: %q", got)
	}
}
