package storage_test

// End to end: calls recorded by the engine, with raw media (a T.38 fax
// after speech: a WAV and its raw media; a G.729 call: raw media only),
// offloaded with delete_after_offload to a directory, a real sshd (SFTP)
// and a real smbd (SMB), and held to the acceptance: signed,
// chained, offloaded, retention-safe.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"spanrec/firmware/anchor"
	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/capture/capturetest/simcall/corpus"
	"spanrec/firmware/config/setting"
	"spanrec/firmware/datadir"
	"spanrec/firmware/engine"
	"spanrec/firmware/index"
	"spanrec/firmware/keys"
	"spanrec/firmware/offload"
	"spanrec/firmware/offload/offloadtest"
	"spanrec/firmware/storage"
	"spanrec/media/sign"
)

// callStart is when the recorded calls begin (capture time).
var callStart = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// recorded is a data directory holding the calls of recordCalls.
type recorded struct {
	dir string
	pub ed25519.PublicKey
	// wav is the fax call's audio entry, raw its raw media (RawOf wav),
	// only the G.729 call's one raw entry.
	wav, raw, only *index.Call
	// content holds each entry's file as recorded, by ID.
	content map[string][]byte
}

// entries returns the three recorded entries, oldest first (the order
// Pending lists them in).
func (r *recorded) entries() []*index.Call { return []*index.Call{r.wav, r.raw, r.only} }

func (r *recorded) local(rel string) string { return filepath.Join(r.dir, filepath.FromSlash(rel)) }

func (r *recorded) exists(c *index.Call) bool {
	_, err := os.Stat(r.local(c.File))
	return err == nil
}

// recordCalls records, with the engine, a call of speech then a T.38 fax
// and a G.729 call into a new data directory, closes the engine and checks
// what it wrote: three signed, chained entries.
func recordCalls(t *testing.T) *recorded {
	t.Helper()
	caller, callee := corpus.Audio(t, false, 21)
	fax := simcall.Generate(simcall.Call{CallerAudio: caller, CalleeAudio: callee, Start: callStart,
		Talk: 20 * time.Second, FaxAt: 3 * time.Second}, simcall.Options{})
	g729 := simcall.Generate(simcall.Call{CallID: "g729-call@10.0.0.1", CallerAudio: caller, CalleeAudio: callee,
		Start: callStart.Add(time.Minute), PT: 18}, simcall.Options{})
	dir := t.TempDir()
	e, err := engine.Open(engine.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var lastTick time.Time
	var f capture.Frame
	f.Link = capture.LinkEthernet
	for _, r := range []*simcall.Result{fax, g729} {
		for _, p := range r.Packets {
			if p.Time.Sub(lastTick) >= time.Second {
				lastTick = p.Time
				e.Tick(p.Time)
			}
			f.Time = p.Time
			f.Data = capturetest.UDP(capturetest.FrameOptions{}, p.Src, p.Dst, p.Payload)
			e.Pipeline().HandleFrame(&f)
		}
	}
	if err := e.Close("test"); err != nil {
		t.Fatal(err)
	}

	pub, err := keys.LoadPublic(datadir.Layout(dir).PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorded{dir: dir, pub: pub, content: map[string][]byte{}}
	ix := openIndex(t, dir)
	defer ix.Close()
	var all []*index.Call
	if err := ix.List(func(c *index.Call) error {
		if c.Recorded {
			all = append(all, c)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		switch {
		case c.Raw() && c.RawOf != "":
			rec.raw = c
		case c.Raw():
			rec.only = c
		case c.RawID != "":
			rec.wav = c
		}
	}
	if len(all) != 3 || rec.wav == nil || rec.raw == nil || rec.only == nil {
		t.Fatalf("recorded %d entries, want a WAV, its raw media and a raw-only call: %s", len(all), describe(all))
	}
	if rec.raw.RawOf != rec.wav.ID || rec.wav.RawID != rec.raw.ID || rec.wav.RawRTP != rec.raw.File ||
		rec.raw.ID != rec.wav.ID+"-raw" {
		t.Fatalf("the WAV and its raw media do not name each other: %s", describe(all))
	}
	if !strings.HasSuffix(rec.wav.File, ".wav") || !strings.HasSuffix(rec.raw.File, ".rtp.pcapng") ||
		!strings.HasSuffix(rec.only.File, rec.only.ID+".rtp.pcapng") || rec.only.RawOf != "" {
		t.Fatalf("files: %s", describe(all))
	}
	if rec.wav.ID >= rec.only.ID {
		t.Fatalf("the G.729 call (%s) does not sort after the fax call (%s)", rec.only.ID, rec.wav.ID)
	}
	for _, c := range rec.entries() {
		b, err := os.ReadFile(rec.local(c.File))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) != c.Size || c.SHA256 == "" {
			t.Fatalf("%s: %d bytes on disk, index says %d", c.ID, len(b), c.Size)
		}
		if err := sign.VerifyFile(rec.local(c.File), pub); err != nil {
			t.Fatalf("recorded file not signed: %v", err)
		}
		rec.content[c.ID] = b
	}
	chainVerifies(t, ix, dir, pub)
	return rec
}

func describe(cs []*index.Call) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "\n  %s file=%s media=%q raw_id=%q raw_of=%q raw_rtp=%q codec=%s flags=%v",
			c.ID, c.File, c.Media, c.RawID, c.RawOf, c.RawRTP, c.Codec, c.Flags)
	}
	return b.String()
}

func openIndex(t *testing.T, dir string) *index.Index {
	t.Helper()
	ix, err := index.Open(datadir.Layout(dir).Index())
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// chainVerifies checks the hash chain and the signature of every file it
// still names.
func chainVerifies(t *testing.T, ix *index.Index, dir string, pub ed25519.PublicKey) {
	t.Helper()
	problems, err := ix.VerifyChain(dir, func(p string) error { return sign.VerifyFile(p, pub) })
	if err != nil || len(problems) > 0 {
		t.Fatalf("hash chain: %v %v", problems, err)
	}
}

// verifyAll runs what `spanrec verify --all` runs: the hash chain, every
// signature, every file under recordings/. The index must be closed.
func verifyAll(t *testing.T, dir string, pub ed25519.PublicKey) {
	t.Helper()
	v, err := engine.Verify(context.Background(), dir, pub, engine.VerifyOptions{})
	if err != nil || len(v.Problems) > 0 {
		t.Fatalf("verify --all: %+v %v", v.Problems, err)
	}
}

// target is an offload target and the local directory backing it.
type target struct {
	cfg   offload.Config
	share string
	// srv is the server (nil for a directory).
	srv *offloadtest.Proc
}

func dirTarget(t *testing.T) target {
	share := t.TempDir()
	return target{cfg: offload.Config{Kind: offload.KindDir, Path: share}, share: share}
}

func sftpTarget(t *testing.T) target {
	e := offloadtest.StartSSHD(t)
	return target{cfg: offload.Config{Kind: offload.KindSFTP, Host: e.Host, Port: e.Port, User: e.User, Path: e.Share,
		CredentialsFile: e.KeyCredentials(t), HostKeyFingerprint: e.HostKeyFingerprint()},
		share: e.Share, srv: &e.Proc}
}

func smbTarget(t *testing.T) target {
	e := offloadtest.StartSMBD(t)
	return target{cfg: offload.Config{Kind: offload.KindSMB, Host: e.Host, Port: e.Port, User: e.User, Share: e.ShareName,
		CredentialsFile: e.PasswordCredentials(t)},
		share: e.Share, srv: &e.Proc}
}

var targets = []struct {
	name string
	new  func(t *testing.T) target
}{
	{offload.KindDir, dirTarget},
	{offload.KindSFTP, sftpTarget},
	{offload.KindSMB, smbTarget},
}

// watched is the OffloadSource of the data directory, checking after every
// local deletion that a WAV and its raw media are gone only together and
// only once both are offloaded; afterMark, if set, runs after each
// successful MarkOffloaded.
type watched struct {
	*storage.OffloadSource
	t         *testing.T
	ix        *index.Index
	r         *recorded
	afterMark func(id string)
	deletes   []string // the DeleteLocal calls, in order
}

func newWatched(t *testing.T, r *recorded, ix *index.Index, m *storage.Manager) *watched {
	return &watched{OffloadSource: storage.NewOffloadSource(r.dir, ix, m), t: t, ix: ix, r: r}
}

func (w *watched) MarkOffloaded(ctx context.Context, id, remote string, at time.Time) error {
	if err := w.OffloadSource.MarkOffloaded(ctx, id, remote, at); err != nil {
		return err
	}
	if w.afterMark != nil {
		w.afterMark(id)
	}
	return nil
}

func (w *watched) DeleteLocal(ctx context.Context, it offload.Item) error {
	w.deletes = append(w.deletes, it.ID)
	err := w.OffloadSource.DeleteLocal(ctx, it)
	w.checkPair(fmt.Sprintf("after DeleteLocal(%s)", it.ID))
	return err
}

// checkPair fails the test when one of the WAV and its raw media is gone
// locally while the other is not, or before both are offloaded.
func (w *watched) checkPair(when string) {
	w.t.Helper()
	pair := []*index.Call{w.r.wav, w.r.raw}
	var gone, offloaded int
	for _, c := range pair {
		present := w.r.exists(c)
		if _, err := os.Stat(w.r.local(c.File) + hiddenSuffix); err == nil {
			present = true // moved away by hide, not deleted
		}
		if !present {
			gone++
		}
		now, err := w.ix.Get(c.ID)
		if err != nil {
			w.t.Fatal(err)
		}
		if !now.Offloaded.IsZero() {
			offloaded++
		}
		if now.Deleted.IsZero() != present {
			w.t.Errorf("%s: %s present %v, marked deleted %v", when, c.ID, present, !now.Deleted.IsZero())
		}
	}
	if gone != 0 && (gone != 2 || offloaded != 2) {
		w.t.Errorf("%s: %d of the WAV and its raw media deleted locally, %d of them offloaded", when, gone, offloaded)
	}
}

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// tWriter sends log lines to t.Log (shown for failed tests and with -v).
type tWriter struct{ t *testing.T }

var tLogMu sync.Mutex

func (w tWriter) Write(p []byte) (int, error) {
	tLogMu.Lock()
	defer tLogMu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// offloader returns an Offloader of tg over src, deleting after offload
// when del.
func offloader(t *testing.T, tg target, src offload.Source, del bool) *offload.Offloader {
	t.Helper()
	cfg := tg.cfg
	cfg.DeleteAfterOffload = del
	cfg.Timeout = setting.Duration(20 * time.Second)
	cfg.Retry = offload.Retry{Min: setting.Duration(time.Millisecond), Max: setting.Duration(time.Millisecond)}
	o, err := offload.New(cfg, src, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// checkOnShare asserts that the target holds each entry's file, identical
// to the recorded one and verifying with the appliance's key, and its
// manifest naming it; and that the share holds nothing else but the public
// key and valid anchors (no partial or temporary file).
func checkOnShare(t *testing.T, tg target, r *recorded, cs ...*index.Call) {
	t.Helper()
	want := map[string]bool{offload.PublicKeyName: true}
	for _, c := range cs {
		remote := filepath.Join(tg.share, filepath.FromSlash(c.File))
		got, err := os.ReadFile(remote)
		if err != nil {
			t.Fatalf("%s not on the share: %v", c.ID, err)
		}
		if !bytes.Equal(got, r.content[c.ID]) {
			t.Fatalf("%s: the copy on the share differs from the recording (%d vs %d bytes)", c.ID, len(got), len(r.content[c.ID]))
		}
		if err := sign.VerifyFile(remote, r.pub); err != nil {
			t.Fatalf("%s: the copy's signature: %v", c.ID, err)
		}
		mname := path.Join(path.Dir(c.File), c.ID+".json")
		want[c.File], want[mname] = true, true
		checkManifest(t, filepath.Join(tg.share, filepath.FromSlash(mname)), r, c)
	}
	pub, err := os.ReadFile(filepath.Join(tg.share, offload.PublicKeyName))
	if err != nil {
		t.Fatal(err)
	}
	if local, _ := os.ReadFile(datadir.Layout(r.dir).PublicKey()); !bytes.Equal(pub, local) {
		t.Fatal("the public key on the share differs from the appliance's")
	}
	if k, err := keys.LoadPublic(filepath.Join(tg.share, offload.PublicKeyName)); err != nil || !k.Equal(r.pub) {
		t.Fatalf("public key on the share: %v", err)
	}
	var files []string
	if err := filepath.WalkDir(tg.share, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(tg.share, p)
			rel = filepath.ToSlash(rel)
			if path.Dir(rel) == anchor.Dir && !strings.HasPrefix(path.Base(rel), ".") {
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if _, err := anchor.Parse(b, r.pub); err != nil {
					t.Errorf("%s: %v", rel, err)
				}
				want[rel] = true
			}
			files = append(files, rel)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	for _, f := range files {
		if !want[f] {
			t.Errorf("unexpected file on the share: %s", f)
		}
	}
	if len(files) != len(want) {
		t.Errorf("the share holds %v, want %d files", files, len(want))
	}
}

// checkManifest asserts that the manifest is the entry's JSON: its ID,
// file, hash and size, media "raw" for raw media, the links between a WAV
// and its raw media, and no SDES key.
func checkManifest(t *testing.T, p string, r *recorded, c *index.Call) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%s: manifest: %v", c.ID, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: manifest %s: %v", c.ID, p, err)
	}
	var got index.Call
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: manifest: %v", c.ID, err)
	}
	if got.ID != c.ID || got.File != c.File || got.SHA256 != c.SHA256 || got.Size != c.Size || !got.Recorded {
		t.Errorf("%s: manifest names id %q file %q sha256 %s size %d", c.ID, got.ID, got.File, got.SHA256, got.Size)
	}
	switch c.ID {
	case r.wav.ID:
		if m["media"] != nil || got.RawID != r.raw.ID || got.RawRTP != r.raw.File {
			t.Errorf("WAV manifest: media %v, raw_id %q, raw_rtp %q", m["media"], got.RawID, got.RawRTP)
		}
	case r.raw.ID:
		if m["media"] != index.MediaRaw || got.RawOf != r.wav.ID {
			t.Errorf("raw media manifest: media %v, raw_of %q", m["media"], got.RawOf)
		}
	case r.only.ID:
		if m["media"] != index.MediaRaw || got.RawOf != "" {
			t.Errorf("raw-only manifest: media %v, raw_of %q", m["media"], got.RawOf)
		}
	}
	for _, secret := range []string{"a=crypto", "inline:"} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s: manifest holds %q", c.ID, secret)
		}
	}
}

// checkState asserts each entry's offload and deletion state in the index
// and on disk: offloaded to the target (with a remote URL naming the file)
// when offloaded, and deleted locally (file gone, deletion chained) when
// deleted.
func checkState(t *testing.T, ix *index.Index, r *recorded, kind string, offloaded, deleted map[string]bool) {
	t.Helper()
	chained := map[string]bool{}
	if err := ix.Chain(func(e *index.ChainEntry) error { chained[e.ID] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, c := range r.entries() {
		now, err := ix.Get(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := !now.Offloaded.IsZero(); got != offloaded[c.ID] {
			t.Errorf("%s: offloaded %v, want %v", c.ID, got, offloaded[c.ID])
		}
		scheme := kind
		if kind == offload.KindDir {
			scheme = "file"
		}
		if offloaded[c.ID] && (!strings.HasPrefix(now.Remote, scheme+"://") || !strings.HasSuffix(now.Remote, c.File)) {
			t.Errorf("%s: remote %q", c.ID, now.Remote)
		}
		if got := !now.Deleted.IsZero(); got != deleted[c.ID] {
			t.Errorf("%s: marked deleted %v (%q), want %v", c.ID, got, now.DeleteReason, deleted[c.ID])
		}
		if deleted[c.ID] && !strings.HasPrefix(now.DeleteReason, "offloaded") && !strings.HasPrefix(now.DeleteReason, "quota") {
			t.Errorf("%s: delete reason %q", c.ID, now.DeleteReason)
		}
		if r.exists(c) == deleted[c.ID] {
			t.Errorf("%s: local file present %v, deleted %v", c.ID, r.exists(c), deleted[c.ID])
		}
		if chained[c.ID+index.DeletedSuffix] != deleted[c.ID] {
			t.Errorf("%s: deletion chained %v, deleted %v", c.ID, chained[c.ID+index.DeletedSuffix], deleted[c.ID])
		}
	}
}

func set(ids ...string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// Every entry of a call with raw media (the WAV, its raw media, a call with
// raw media only) is offloaded, identical and verifiable, with its
// manifest; with delete_after_offload the WAV and its raw media go only
// together, after both are offloaded; every deletion is chained.
func TestRawMediaOffloadEndToEnd(t *testing.T) {
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			tg := tt.new(t)
			r := recordCalls(t)
			ix := openIndex(t, r.dir)
			defer ix.Close()
			src := newWatched(t, r, ix, storage.New(storage.Config{DataDir: r.dir}, ix, nil))
			o := offloader(t, tg, src, true)
			rep, err := o.RunOnce(context.Background())
			if err != nil || rep.Copied != 3 || rep.Failed != 0 {
				t.Fatalf("offload: %+v %v", rep, err)
			}
			checkOnShare(t, tg, r, r.entries()...)
			all := set(r.wav.ID, r.raw.ID, r.only.ID)
			checkState(t, ix, r, tg.cfg.Kind, all, all)
			// The WAV was copied first and waited for its raw media.
			if want := []string{r.wav.ID, r.raw.ID, r.only.ID}; fmt.Sprint(src.deletes) != fmt.Sprint(want) {
				t.Errorf("DeleteLocal calls %v, want %v", src.deletes, want)
			}
			chainVerifies(t, ix, r.dir, r.pub)
			if rep, err := o.RunOnce(context.Background()); err != nil || rep.Copied+rep.Skipped+rep.Failed != 0 {
				t.Fatalf("a second run found work: %+v %v", rep, err)
			}
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
			verifyAll(t, r.dir, r.pub)
		})
	}
}

// hiddenSuffix is appended to the name of a file hide moved away.
const hiddenSuffix = ".away"

// hide moves a recording's local file away (the offload of that entry
// fails: it cannot be opened) and returns the function that puts it back.
func hide(t *testing.T, r *recorded, c *index.Call) (restore func()) {
	t.Helper()
	p := r.local(c.File)
	if err := os.Rename(p, p+hiddenSuffix); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := os.Rename(p+hiddenSuffix, p); err != nil {
			t.Fatal(err)
		}
	}
}

// When the raw media's offload fails, its WAV is offloaded but not deleted
// locally; the next successful run deletes both. The raw media fails on the
// appliance's side (its file cannot be opened) for every target, and for
// SFTP and SMB also on the target's (the server dies right after the WAV
// was copied and marked).
func TestRawMediaOffloadFailureKeepsTheWAV(t *testing.T) {
	for _, tt := range targets {
		t.Run(tt.name+"/local", func(t *testing.T) {
			tg := tt.new(t)
			r := recordCalls(t)
			ix := openIndex(t, r.dir)
			defer ix.Close()
			src := newWatched(t, r, ix, nil)
			o := offloader(t, tg, src, true)
			restore := hide(t, r, r.raw)
			rep, err := o.RunOnce(context.Background())
			if !errors.Is(err, offload.ErrItemsFailed) || !errors.Is(err, offload.ErrLocal) || rep.Copied != 2 || rep.Failed != 1 ||
				len(rep.Failures) != 1 || rep.Failures[0].ID != r.raw.ID {
				t.Fatalf("run with the raw media unreadable: %+v %v", rep, err)
			}
			t.Logf("raw media unreadable: %v", err)
			restore()
			checkOnShare(t, tg, r, r.wav, r.only)
			checkState(t, ix, r, tg.cfg.Kind, set(r.wav.ID, r.only.ID), set(r.only.ID))
			chainVerifies(t, ix, r.dir, r.pub)

			rep, err = o.RunOnce(context.Background())
			if err != nil || rep.Copied != 1 || rep.Failed != 0 {
				t.Fatalf("run after the raw media is back: %+v %v", rep, err)
			}
			checkOnShare(t, tg, r, r.entries()...)
			all := set(r.wav.ID, r.raw.ID, r.only.ID)
			checkState(t, ix, r, tg.cfg.Kind, all, all)
			chainVerifies(t, ix, r.dir, r.pub)
			ix.Close()
			verifyAll(t, r.dir, r.pub)
		})
		if tt.name == offload.KindDir {
			continue
		}
		t.Run(tt.name+"/server-killed", func(t *testing.T) {
			tg := tt.new(t)
			r := recordCalls(t)
			ix := openIndex(t, r.dir)
			defer ix.Close()
			src := newWatched(t, r, ix, nil)
			src.afterMark = func(id string) {
				if id == r.wav.ID {
					tg.srv.Stop()
				}
			}
			o := offloader(t, tg, src, true)
			rep, err := o.RunOnce(context.Background())
			if !errors.Is(err, offload.ErrRemote) || rep.Copied != 1 || len(rep.Failures) != 1 || rep.Failures[0].ID != r.raw.ID {
				t.Fatalf("run with the server killed after the WAV: %+v %v", rep, err)
			}
			t.Logf("server killed after the WAV: %v", err)
			checkOnShare(t, tg, r, r.wav)
			checkState(t, ix, r, tg.cfg.Kind, set(r.wav.ID), nil)
			chainVerifies(t, ix, r.dir, r.pub)

			src.afterMark = nil
			tg.srv.Start(t)
			rep, err = o.RunOnce(context.Background())
			if err != nil || rep.Copied != 2 || rep.Failed != 0 {
				t.Fatalf("run after the restart: %+v %v", rep, err)
			}
			checkOnShare(t, tg, r, r.entries()...)
			all := set(r.wav.ID, r.raw.ID, r.only.ID)
			checkState(t, ix, r, tg.cfg.Kind, all, all)
			chainVerifies(t, ix, r.dir, r.pub)
			ix.Close()
			verifyAll(t, r.dir, r.pub)
		})
	}
}

// Retention over quota (and by age) never deletes a WAV whose raw media is
// not offloaded, nor the raw media apart from its WAV; once both are
// offloaded they go together.
func TestRetentionKeepsAWAVWhoseRawMediaIsNotOffloaded(t *testing.T) {
	tg := dirTarget(t)
	r := recordCalls(t)
	ix := openIndex(t, r.dir)
	defer ix.Close()
	// The WAV and the G.729 call are offloaded, the raw media is not.
	src := newWatched(t, r, ix, nil)
	o := offloader(t, tg, src, false)
	restore := hide(t, r, r.raw)
	if rep, err := o.RunOnce(context.Background()); !errors.Is(err, offload.ErrItemsFailed) || rep.Copied != 2 {
		t.Fatalf("offload: %+v %v", rep, err)
	}
	restore()
	checkState(t, ix, r, offload.KindDir, set(r.wav.ID, r.only.ID), nil)

	// A quota every recording is over: only the G.729 call may go.
	now := r.only.End.Add(time.Hour)
	m := storage.New(storage.Config{DataDir: r.dir, MaxBytes: 1, MinFreeBytes: -1}, ix, nil)
	rep, err := m.RunOnce(now)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rep.Deleted) != fmt.Sprint([]string{r.only.ID}) {
		t.Fatalf("quota deleted %v, want only the raw-only call %s", rep.Deleted, r.only.ID)
	}
	if st := m.Status(); !st.Full {
		t.Errorf("status %+v: the quota is exceeded and nothing more may go", st)
	}
	checkState(t, ix, r, offload.KindDir, set(r.wav.ID, r.only.ID), set(r.only.ID))
	// Age retention neither.
	aged := storage.New(storage.Config{DataDir: r.dir, MaxAge: 24 * time.Hour, MinFreeBytes: -1}, ix, nil)
	if rep, err := aged.RunOnce(now.Add(30 * 24 * time.Hour)); err != nil || len(rep.Deleted) != 0 {
		t.Fatalf("age retention deleted %v %v", rep.Deleted, err)
	}
	chainVerifies(t, ix, r.dir, r.pub)

	// The raw media offloaded: the quota takes the WAV and it together.
	if rep, err := o.RunOnce(context.Background()); err != nil || rep.Copied != 1 {
		t.Fatalf("offload of the raw media: %+v %v", rep, err)
	}
	checkOnShare(t, tg, r, r.entries()...)
	rep, err = m.RunOnce(now)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rep.Deleted) != fmt.Sprint([]string{r.wav.ID, r.raw.ID}) {
		t.Fatalf("quota deleted %v, want the WAV and its raw media", rep.Deleted)
	}
	all := set(r.wav.ID, r.raw.ID, r.only.ID)
	checkState(t, ix, r, offload.KindDir, all, all)
	chainVerifies(t, ix, r.dir, r.pub)
	ix.Close()
	verifyAll(t, r.dir, r.pub)
}
