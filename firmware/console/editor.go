package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Line editor limits.
const (
	maxLineRunes = 1024
	maxHistory   = 100
	maxEscape    = 16 // bytes of one escape sequence's parameters
	readChunk    = 256
)

// Errors of the line editor.
var (
	// errInterrupt: Ctrl-C cancelled the line.
	errInterrupt = errors.New("interrupted")
	// errIdle: nothing was typed for the idle timeout.
	errIdle = errors.New("idle timeout")
	// ErrInputClosed: the serial line (or terminal) stopped giving input.
	ErrInputClosed = errors.New("console input closed")
)

// input reads the serial line in its own goroutine (a Read cannot be
// interrupted): chunks arrive on ch, which is closed when Read fails.
type input struct {
	ch      chan []byte
	done    chan struct{}
	err     error // why ch was closed; set before the close
	pending []byte
}

func startInput(r io.Reader) *input {
	in := &input{ch: make(chan []byte, 4), done: make(chan struct{})}
	go func() {
		defer close(in.ch)
		for {
			buf := make([]byte, readChunk)
			n, err := r.Read(buf)
			if n > 0 {
				select {
				case in.ch <- buf[:n]:
				case <-in.done:
					return
				}
			}
			if err != nil {
				in.err = err
				return
			}
		}
	}()
	return in
}

// stop lets the reader goroutine end at its next chunk.
func (in *input) stop() {
	select {
	case <-in.done:
	default:
		close(in.done)
	}
}

// editor reads lines from in and echoes to w.
type editor struct {
	in      *input
	w       *termWriter
	idle    time.Duration
	history []string
	skipLF  bool // the last byte was CR: ignore an LF right after it
}

// lineMode says how readLine treats a line.
type lineMode struct {
	secret   bool                                                  // no echo, no history, no editing keys but backspace
	history  bool                                                  // keep the line in the history
	complete func(before string) (add string, candidates []string) // tab completion
}

// readByte returns the next input byte, waiting at most e.idle.
func (e *editor) readByte(ctx context.Context) (byte, error) {
	if len(e.in.pending) == 0 {
		var timeout <-chan time.Time
		if e.idle > 0 {
			t := time.NewTimer(e.idle)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-timeout:
			return 0, errIdle
		case p, ok := <-e.in.ch:
			if !ok {
				if e.in.err == nil || errors.Is(e.in.err, io.EOF) {
					return 0, ErrInputClosed
				}
				return 0, fmt.Errorf("%w: %w", ErrInputClosed, e.in.err)
			}
			e.in.pending = p
		}
	}
	b := e.in.pending[0]
	e.in.pending = e.in.pending[1:]
	return b, nil
}

// line is the line being edited.
type line struct {
	e      *editor
	prompt string
	buf    []rune
	cur    int
	secret bool
}

func (l *line) out(s string) {
	if !l.secret {
		l.e.w.WriteString(s)
	}
}

// back moves the terminal cursor n columns left.
func (l *line) back(n int) {
	if n > 0 {
		l.out("\x1b[" + strconv.Itoa(n) + "D")
	}
}

// redraw writes the whole line again and puts the cursor in place.
func (l *line) redraw() {
	l.out("\r" + l.prompt + string(l.buf) + "\x1b[K")
	l.back(len(l.buf) - l.cur)
}

// set replaces the line (history) with the cursor at its end.
func (l *line) set(s string) {
	l.buf = []rune(s)
	l.cur = len(l.buf)
	l.redraw()
}

func (l *line) insert(r rune) {
	if len(l.buf) >= maxLineRunes {
		l.out("\a")
		return
	}
	l.buf = slices.Insert(l.buf, l.cur, r)
	l.cur++
	tail := string(l.buf[l.cur:])
	l.out(string(r) + tail)
	l.back(len(l.buf) - l.cur)
}

// deleteBack removes n runes before the cursor.
func (l *line) deleteBack(n int) {
	n = min(n, l.cur)
	if n == 0 {
		return
	}
	l.buf = slices.Delete(l.buf, l.cur-n, l.cur)
	l.cur -= n
	l.back(n)
	tail := string(l.buf[l.cur:])
	l.out(tail + "\x1b[K")
	l.back(len(l.buf) - l.cur)
}

// deleteForward removes the rune under the cursor.
func (l *line) deleteForward() {
	if l.cur >= len(l.buf) {
		return
	}
	l.buf = slices.Delete(l.buf, l.cur, l.cur+1)
	l.out(string(l.buf[l.cur:]) + "\x1b[K")
	l.back(len(l.buf) - l.cur)
}

func (l *line) move(to int) {
	to = max(0, min(to, len(l.buf)))
	if to < l.cur {
		l.back(l.cur - to)
	} else if to > l.cur {
		l.out(string(l.buf[l.cur:to]))
	}
	l.cur = to
}

// wordStart is where the word before the cursor starts (Ctrl-W).
func (l *line) wordStart() int {
	i := l.cur
	for i > 0 && l.buf[i-1] == ' ' {
		i--
	}
	for i > 0 && l.buf[i-1] != ' ' {
		i--
	}
	return i
}

// readLine shows prompt and reads one line: Enter ends it (CR, LF or
// CRLF), Ctrl-C cancels it (errInterrupt), Ctrl-D on an empty line is
// io.EOF. Keys: Backspace (DEL or BS), Delete, Left/Right, Home/End,
// Up/Down (history), Ctrl-A/E/B/F/P/N/K/U/W/L, Tab (completion).
func (e *editor) readLine(ctx context.Context, prompt string, mode lineMode) (string, error) {
	l := &line{e: e, prompt: prompt, secret: mode.secret}
	e.w.WriteString(prompt)
	histPos := len(e.history)
	draft := ""
	var partial []byte // an incomplete UTF-8 sequence
	showHistory := func(pos int) {
		if pos < 0 || pos > len(e.history) || pos == histPos {
			return
		}
		if histPos == len(e.history) {
			draft = string(l.buf)
		}
		histPos = pos
		if pos == len(e.history) {
			l.set(draft)
		} else {
			l.set(e.history[pos])
		}
	}
	for {
		b, err := e.readByte(ctx)
		if err != nil {
			return "", err
		}
		if e.skipLF {
			e.skipLF = false
			if b == '\n' {
				continue
			}
		}
		if len(partial) > 0 || b >= 0x80 {
			partial = append(partial, b)
			if utf8.FullRune(partial) {
				r, _ := utf8.DecodeRune(partial)
				partial = partial[:0]
				if r != utf8.RuneError {
					l.insert(r)
				}
			}
			continue
		}
		switch b {
		case '\r', '\n':
			e.skipLF = b == '\r'
			e.w.WriteString("\r\n")
			s := string(l.buf)
			if mode.history && !mode.secret && strings.TrimSpace(s) != "" &&
				(len(e.history) == 0 || e.history[len(e.history)-1] != s) {
				e.history = append(e.history, s)
				if len(e.history) > maxHistory {
					e.history = slices.Delete(e.history, 0, len(e.history)-maxHistory)
				}
			}
			return s, nil
		case 0x03: // Ctrl-C
			e.w.WriteString("^C\r\n")
			return "", errInterrupt
		case 0x04: // Ctrl-D
			if len(l.buf) == 0 {
				e.w.WriteString("\r\n")
				return "", io.EOF
			}
			l.deleteForward()
		case 0x7f, 0x08: // Backspace
			l.deleteBack(1)
		case 0x15: // Ctrl-U
			l.deleteBack(l.cur)
		case 0x17: // Ctrl-W
			l.deleteBack(l.cur - l.wordStart())
		case 0x0b: // Ctrl-K
			if l.cur < len(l.buf) {
				l.buf = l.buf[:l.cur]
				l.out("\x1b[K")
			}
		case 0x01: // Ctrl-A
			l.move(0)
		case 0x05: // Ctrl-E
			l.move(len(l.buf))
		case 0x02: // Ctrl-B
			l.move(l.cur - 1)
		case 0x06: // Ctrl-F
			l.move(l.cur + 1)
		case 0x10: // Ctrl-P
			if !mode.secret && mode.history {
				showHistory(histPos - 1)
			}
		case 0x0e: // Ctrl-N
			if !mode.secret && mode.history {
				showHistory(histPos + 1)
			}
		case 0x0c: // Ctrl-L
			l.out("\x1b[H\x1b[2J")
			l.redraw()
		case '\t':
			if mode.secret || mode.complete == nil || l.cur != len(l.buf) {
				continue
			}
			add, cands := mode.complete(string(l.buf))
			for _, r := range add {
				l.insert(r)
			}
			if len(cands) > 1 {
				e.w.WriteString("\r\n" + strings.Join(cands, "  ") + "\r\n")
				l.redraw()
			}
		case 0x1b:
			key, err := e.escape(ctx)
			if err != nil {
				return "", err
			}
			if mode.secret {
				continue
			}
			switch key {
			case keyUp:
				if mode.history {
					showHistory(histPos - 1)
				}
			case keyDown:
				if mode.history {
					showHistory(histPos + 1)
				}
			case keyLeft:
				l.move(l.cur - 1)
			case keyRight:
				l.move(l.cur + 1)
			case keyHome:
				l.move(0)
			case keyEnd:
				l.move(len(l.buf))
			case keyDelete:
				l.deleteForward()
			}
		default:
			if b >= 0x20 {
				l.insert(rune(b))
			}
		}
	}
}

// Keys from escape sequences.
const (
	keyNone = iota
	keyUp
	keyDown
	keyRight
	keyLeft
	keyHome
	keyEnd
	keyDelete
)

// escape reads the rest of an escape sequence (after ESC): CSI "ESC [
// params final" or SS3 "ESC O final"; unknown sequences are keyNone.
func (e *editor) escape(ctx context.Context) (int, error) {
	b, err := e.readByte(ctx)
	if err != nil {
		return keyNone, err
	}
	switch b {
	case 'O':
		f, err := e.readByte(ctx)
		if err != nil {
			return keyNone, err
		}
		return finalKey(f, ""), nil
	case '[':
		var params []byte
		for {
			f, err := e.readByte(ctx)
			if err != nil {
				return keyNone, err
			}
			if f >= 0x40 && f <= 0x7e {
				return finalKey(f, string(params)), nil
			}
			if f < 0x20 || len(params) >= maxEscape {
				return keyNone, nil // not a sequence after all: drop it
			}
			params = append(params, f)
		}
	}
	return keyNone, nil
}

func finalKey(f byte, params string) int {
	switch f {
	case 'A':
		return keyUp
	case 'B':
		return keyDown
	case 'C':
		return keyRight
	case 'D':
		return keyLeft
	case 'H':
		return keyHome
	case 'F':
		return keyEnd
	case '~':
		switch params {
		case "1", "7":
			return keyHome
		case "4", "8":
			return keyEnd
		case "3":
			return keyDelete
		}
	}
	return keyNone
}
