package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"spanrec/firmware/control"
)

// edit feeds typed to a fresh editor and returns the lines read (until the
// input ends), the errors other than the end, and the output.
func edit(typed string, mode lineMode) (lines []string, errs []error, out string) {
	var buf bytes.Buffer
	e := &editor{in: startInput(strings.NewReader(typed)), w: &termWriter{w: &buf}}
	defer e.in.stop()
	for {
		l, err := e.readLine(context.Background(), "> ", mode)
		if errors.Is(err, ErrInputClosed) {
			return lines, errs, buf.String()
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lines = append(lines, l)
	}
}

func TestEditorKeys(t *testing.T) {
	hist := lineMode{history: true, complete: complete}
	for _, tc := range []struct {
		name, typed string
		want        []string
	}{
		{"plain CR, LF and CRLF", "a\rb\nc\r\nd\r", []string{"a", "b", "c", "d"}},
		{"backspace DEL and BS", "abcd\x7f\x08x\r", []string{"abx"}},
		{"backspace at start", "\x7f\x7fa\r", []string{"a"}},
		{"insert in the middle", "stus\x1b[D\x1b[Dat\r", []string{"status"}},
		{"right arrow and SS3 arrows", "ac\x1bOD\x1bODb\x1b[C\x1b[Cd\r", []string{"bacd"}},
		{"home end delete", "xabc\x1b[H\x1b[3~\x1b[Fd\x1b[1~>\r", []string{">abcd"}},
		{"ctrl keys", "hello world\x17\x15abc\x01X\x05Y\x02\x02\x0b\r", []string{"Xab"}},
		{"history up and down", "one\rtwo\r\x1b[A\x1b[A\r\x1b[A\x1b[A\x1b[B\r", []string{"one", "two", "one", "one"}},
		{"history keeps the draft", "one\rdra\x1b[A\x1b[Bft\r", []string{"one", "draft"}},
		{"ctrl-p ctrl-n", "a\rb\r\x10\x10\x0e\r", []string{"a", "b", "b"}},
		{"tab completes a command", "wh\t\rsto\t\rst\t\r", []string{"whoami ", "storage ", "st"}},
		{"utf-8", "gr\xc3\xbc\xc3\x9f\x1b[D\xe2\x82\xac\r", []string{"grü€ß"}},
		{"unknown escapes are dropped", "a\x1b[99;5Xb\x1b[12~c\x1bzd\r", []string{"abcd"}},
		{"ctrl-d deletes under the cursor", "abc\x1b[D\x1b[D\x04\r", []string{"ac"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs, out := edit(tc.typed, hist)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(errs) != 0 {
				t.Fatalf("lines %q errors %v, want %q\noutput %q", got, errs, tc.want, out)
			}
		})
	}
}

func TestEditorCtrlCAndCtrlD(t *testing.T) {
	got, errs, out := edit("abc\x03x\r\x04", lineMode{history: true})
	if len(got) != 1 || got[0] != "x" || len(errs) != 2 || !errors.Is(errs[0], errInterrupt) || !errors.Is(errs[1], io.EOF) {
		t.Fatalf("lines %q errors %v", got, errs)
	}
	if !strings.Contains(out, "abc^C\r\n") {
		t.Fatalf("output %q", out)
	}
}

func TestEditorSecretHasNoEcho(t *testing.T) {
	got, _, out := edit("s3cr\x1b[Det!\x7f\r", lineMode{secret: true})
	if len(got) != 1 || got[0] != "s3cret" {
		t.Fatalf("lines %q", got)
	}
	if out != "> \r\n> " {
		t.Fatalf("password echoed: %q", out)
	}
	// A secret line never enters the history.
	var buf bytes.Buffer
	e := &editor{in: startInput(strings.NewReader("pw\r\x1b[A\r")), w: &termWriter{w: &buf}}
	e.readLine(context.Background(), "", lineMode{secret: true})
	l, _ := e.readLine(context.Background(), "", lineMode{history: true})
	if l != "" || len(e.history) != 0 {
		t.Fatalf("history %q, line %q", e.history, l)
	}
}

func TestEditorIdle(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	var buf bytes.Buffer
	e := &editor{in: startInput(r), w: &termWriter{w: &buf}, idle: 50 * time.Millisecond}
	defer e.in.stop()
	if _, err := e.readLine(context.Background(), "> ", lineMode{}); !errors.Is(err, errIdle) {
		t.Fatalf("idle: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.idle = 0
	if _, err := e.readLine(ctx, "> ", lineMode{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestTermWriterCRLF(t *testing.T) {
	var buf bytes.Buffer
	w := &termWriter{w: &buf}
	w.WriteString("a\nb\r\nc\n")
	w.WriteString("\n")
	if buf.String() != "a\r\nb\r\nc\r\n\r\n" {
		t.Fatalf("%q", buf.String())
	}
	if control.Printable("caller\x1b[2J\x00\xff\u202e") != "caller?[2J???" {
		t.Fatalf("safe: %q", control.Printable("caller\x1b[2J\x00\xff\u202e"))
	}
}

func TestSuggestAndComplete(t *testing.T) {
	for typed, want := range map[string]string{"stauts": "status", "stat": "status", "recording": "recordings", "lgout": "logout", "xyzzy": "", "quti": "quit"} {
		if got := suggest(typed); got != want {
			t.Errorf("suggest(%q) = %q, want %q", typed, got, want)
		}
	}
	if add, c := complete("re"); add != "" || len(c) != 3 {
		t.Errorf("complete re: %q %v", add, c)
	}
	if add, c := complete("rec"); add != "ordings " || len(c) != 1 {
		t.Errorf("complete rec: %q %v", add, c)
	}
	if add, _ := complete("pause x"); add != "" {
		t.Errorf("complete arguments: %q", add)
	}
}

// FuzzEditor: any bytes from the serial line give lines of valid UTF-8
// without control characters, never a panic; a secret line echoes nothing.
func FuzzEditor(f *testing.F) {
	f.Add([]byte("status\r"), false)
	f.Add([]byte("stus\x1b[D\x1b[Dat\r\x1b[A\r"), false)
	f.Add([]byte("\x1b[1;5C\x1b[200~paste\x1b[201~\x1bOA\r"), false)
	f.Add([]byte("\xff\xfe\xc3\x28\xe2\x82\r\x03\x04"), false)
	f.Add([]byte("pw\x7f\x08\x15\r"), true)
	f.Fuzz(func(t *testing.T, typed []byte, secret bool) {
		lines, _, out := edit(string(typed), lineMode{secret: secret, history: true, complete: complete})
		for _, l := range lines {
			if !utf8.ValidString(l) || strings.ContainsFunc(l, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("line %q has control characters or bad UTF-8", l)
			}
			if utf8.RuneCountInString(l) > maxLineRunes {
				t.Fatalf("line of %d runes", utf8.RuneCountInString(l))
			}
		}
		if secret {
			rest := strings.NewReplacer("> ", "", "\r\n", "", "^C", "").Replace(out)
			if rest != "" {
				t.Fatalf("secret input echoed %q", rest)
			}
		}
	})
}
