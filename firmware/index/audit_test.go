package index

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestAuditAppendListTail(t *testing.T) {
	ix, _ := openTest(t)
	if es, err := ix.AuditTail(10); err != nil || len(es) != 0 {
		t.Fatalf("fresh index: %v %v", es, err)
	}
	for i, cmd := range []string{"pause all", "resume all", "users add bob technician", "config set calls.max_calls 100"} {
		e, err := ix.AppendAudit(AuditEntry{Time: t0.Add(time.Duration(i) * time.Second), User: "console:alice", Command: cmd, Result: "ok"})
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != uint64(i+1) || e.Hash == "" {
			t.Fatalf("entry %d: %+v", i, e)
		}
	}
	var all []AuditEntry
	if err := ix.Audit(func(e *AuditEntry) error { all = append(all, *e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[0].Command != "pause all" || all[3].Seq != 4 || all[1].Prev != all[0].Hash {
		t.Fatalf("audit: %+v", all)
	}
	tail, err := ix.AuditTail(2)
	if err != nil {
		t.Fatal(err)
	}
	if len(tail) != 2 || tail[0].Command != "users add bob technician" || tail[1].Seq != 4 {
		t.Fatalf("tail: %+v", tail)
	}
	if p, err := ix.VerifyAudit(); err != nil || len(p) != 0 {
		t.Fatalf("verify intact: %v %v", p, err)
	}
	// Zero time is stamped; NUL is replaced; long text is cut.
	e, err := ix.AppendAudit(AuditEntry{User: "x\x00y", Command: strings.Repeat("a", 5000)})
	if err != nil {
		t.Fatal(err)
	}
	if e.Time.IsZero() || e.User != "x?y" || len(e.Command) != maxAuditField {
		t.Fatalf("sanitised: %+v", e)
	}
}

func TestAuditTamperDetected(t *testing.T) {
	ix, _ := openTest(t)
	for _, cmd := range []string{"pause all", "resume all", "reboot"} {
		if _, err := ix.AppendAudit(AuditEntry{User: "console:bob", Command: cmd, Result: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	// Rewrite entry 2's user as someone else.
	err := ix.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		var e AuditEntry
		if err := json.Unmarshal(b.Get(seqKey(2)), &e); err != nil {
			return err
		}
		e.User = "console:mallory"
		v, _ := json.Marshal(&e)
		return b.Put(seqKey(2), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ix.VerifyAudit()
	if err != nil || len(p) != 1 || !strings.Contains(p[0], "entry 2 modified") {
		t.Fatalf("modified: %v %v", p, err)
	}
	// Remove entry 1.
	if err := ix.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketAudit).Delete(seqKey(1)) }); err != nil {
		t.Fatal(err)
	}
	p, _ = ix.VerifyAudit()
	if !strings.Contains(strings.Join(p, "\n"), "audit entries 1..1 removed") {
		t.Fatalf("removed: %v", p)
	}
}
