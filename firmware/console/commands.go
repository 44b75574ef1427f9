package console

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"spanrec/firmware/control"
	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// command is one console command.
type command struct {
	name    string
	aliases []string
	usage   string // after the name: "[ID|all]"
	summary string
	help    string           // more, for `help NAME`
	perm    users.Permission // needed to run it at all
	subPerm bool             // the command checks perm per subcommand ("cannot add users")
	run     func(s *session, a args) error
}

// args is a command's arguments: fields, and the raw text of the line.
type args struct {
	f    []string // fields after the command name
	line string   // the whole line, trimmed
}

// rest returns the raw text after the first n fields of the line (the
// command name is field 0), e.g. a configuration value with spaces.
func (a args) rest(n int) string {
	s := a.line
	for range n {
		s = strings.TrimLeft(s, " \t")
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			return ""
		}
		s = s[i:]
	}
	return strings.TrimSpace(s)
}

// errUsage asks run to print the command's usage.
var errUsage = errors.New("usage")

// commandList returns the console's commands in help order.
func commandList() []command {
	return []command{
		{name: "help", usage: "[COMMAND]", summary: "list the commands, or explain one", run: cmdHelp},
		{name: "status", summary: "the daemon's state: capture, calls, storage, faults", perm: users.ViewStatus, run: cmdStatus},
		{name: "calls", summary: "the active calls", perm: users.ViewCalls, run: cmdCalls},
		{name: "pause", usage: "[ID|all]", summary: "pause recording a call (silence is written instead)", perm: users.PauseResume,
			help: "ID is a call's ID from 'calls' (any unique part of it will do); 'all' pauses every\nactive call; without ID, the only active call.", run: cmdPauseResume(true)},
		{name: "resume", usage: "[ID|all]", summary: "resume recording a paused call", perm: users.PauseResume,
			help: "The arguments are pause's.", run: cmdPauseResume(false)},
		{name: "recordings", usage: "list [N] | search TEXT | show ID | verify ID|all | delete ID", summary: "the recordings in the index",
			help: "list [N]       the newest N recordings (default 20)\n" +
				"search TEXT    calls (recorded or not) whose ID, number, name, Call-ID or\n" +
				"               start time (2006-01-02 15:04:05, UTC) contains TEXT\n" +
				"show ID        every detail of one call\n" +
				"verify ID      check one recording's signature, hash and chain entry\n" +
				"verify all     check every recording, the hash chain and the audit log\n" +
				"delete ID      delete one recording and its raw media (admin; asks first):\n" +
				"               the deletion is chained and names you in the audit log",
			perm: users.ViewRecordings, run: cmdRecordings},
		{name: "config", usage: "show | set KEY VALUE", summary: "show or change the configuration",
			help: "show           the effective configuration (file, defaults and flags)\n" +
				"set KEY VALUE  change one key of the configuration file, e.g.\n" +
				"               config set calls.media_timeout 45s\n" +
				"               config set interfaces [eth1, eth2]\n" +
				"               The file is checked first; calls.*, interfaces and nat_aliases\n" +
				"               apply at once, other keys at the next start.",
			perm: users.ViewConfig, run: cmdConfig},
		{name: "storage", summary: "free space and the recordings' size", perm: users.ViewStatus, run: cmdStorage},
		{name: "offload", usage: "now | status", summary: "copy recordings to the network share now, or its state", perm: users.Offload, run: cmdOffload},
		{name: "users", usage: "list | add NAME ROLE | del NAME | passwd NAME | role NAME ROLE | unlock NAME", summary: "console accounts (admin)",
			help: "ROLE is admin (everything), technician (status, calls, pause/resume, offload,\n" +
				"diagnostics, reboot) or auditor (recordings: list, search, show, verify; audit\n" +
				"log). Wrong passwords never lock an account (each line slows down instead);\n" +
				"unlock clears an account's count of them.",
			perm: users.ManageUsers, subPerm: true, run: cmdUsers},
		{name: "passwd", summary: "change your own password", run: cmdPasswd},
		{name: "log", usage: "tail [N]", summary: "the daemon's last N log lines (default 50)", perm: users.Diagnostics, run: cmdLog},
		{name: "audit", usage: "[N]", summary: "the last N changes made through the console (default 20)", perm: users.ViewAudit, run: cmdAudit},
		{name: "led", usage: "test", summary: "cycle every LED (self-test)", perm: users.Diagnostics, run: cmdLED},
		{name: "time", summary: "the appliance's clock", perm: users.ViewStatus, run: cmdTime},
		{name: "reboot", summary: "reboot the appliance (open recordings are finalised first)", perm: users.Reboot, run: cmdReboot},
		{name: "whoami", summary: "who is logged in, and the role", run: cmdWhoami},
		{name: "logout", aliases: []string{"exit", "quit"}, summary: "end the session (also Ctrl-D)", run: func(*session, args) error { return errLogout }},
	}
}

// lookup returns the command named name (or an alias).
func lookup(name string) (command, bool) {
	for _, c := range commandList() {
		if c.name == name || slices.Contains(c.aliases, name) {
			return c, true
		}
	}
	return command{}, false
}

// complete completes the command name (the first word) for Tab.
func complete(before string) (string, []string) {
	if strings.ContainsAny(before, " \t") {
		return "", nil
	}
	var cands []string
	for _, c := range commandList() {
		if strings.HasPrefix(c.name, before) {
			cands = append(cands, c.name)
		}
	}
	switch len(cands) {
	case 0:
		return "", nil
	case 1:
		return cands[0][len(before):] + " ", cands
	}
	common := cands[0]
	for _, c := range cands[1:] {
		for !strings.HasPrefix(c, common) {
			common = common[:len(common)-1]
		}
	}
	return common[len(before):], cands
}

// suggest returns the command name closest to a mistyped one ("" if none
// is close).
func suggest(name string) string {
	best, bestD := "", 3
	for _, c := range commandList() {
		for _, n := range append([]string{c.name}, c.aliases...) {
			d := editDistance(name, n)
			if strings.HasPrefix(n, name) && len(name) >= 2 {
				d = 1
			}
			if d < bestD {
				best, bestD = n, d
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// run parses and runs one command line.
func (s *session) run(line string) error {
	line = strings.TrimSpace(line)
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	name := strings.ToLower(f[0])
	cmd, ok := lookup(name)
	if !ok {
		msg := fmt.Sprintf("unknown command '%s'", control.Printable(f[0]))
		if sg := suggest(name); sg != "" {
			msg += fmt.Sprintf(" - did you mean '%s'?", sg)
		}
		return errors.New(msg + " (type 'help' for the commands)")
	}
	if cmd.perm != "" && !cmd.subPerm {
		if err := s.need(cmd.perm, cmd.name); err != nil {
			return err
		}
	}
	err := cmd.run(s, args{f: f[1:], line: line})
	if errors.Is(err, errUsage) {
		return fmt.Errorf("usage: %s", strings.TrimSpace(cmd.name+" "+cmd.usage))
	}
	return err
}

// phrase says what p allows, for "permission denied: ROLE cannot ...".
func phrase(p users.Permission, what string) string {
	switch p {
	case users.ViewStatus:
		return "see the status"
	case users.ViewCalls:
		return "see the live calls"
	case users.PauseResume:
		return "pause or resume recording"
	case users.Offload:
		return "run the offload"
	case users.Diagnostics:
		return "run diagnostics (" + what + ")"
	case users.Reboot:
		return "reboot the appliance"
	case users.ViewRecordings:
		return "see recordings"
	case users.VerifyRecordings:
		return "verify recordings"
	case users.ViewAudit:
		return "read the audit log"
	case users.ViewConfig:
		return "see the configuration"
	case users.Configure:
		return "change the configuration"
	case users.ManageUsers:
		return "manage users"
	}
	return string(p)
}

// need returns a permission error unless the session may do p.
func (s *session) need(p users.Permission, what string) error {
	if s.open || users.Can(s.user.Role, p) {
		return nil
	}
	return fmt.Errorf("permission denied: %s cannot %s", s.user.Role, phrase(p, what))
}

// needTo is need with the exact action named ("add users").
func (s *session) needTo(p users.Permission, action string) error {
	if s.open || users.Can(s.user.Role, p) {
		return nil
	}
	return fmt.Errorf("permission denied: %s cannot %s", s.user.Role, action)
}

// confirm asks a yes/no question; only y or yes is yes.
func (s *session) confirm(question string) (bool, error) {
	ans, err := s.c.ed.readLine(s.ctx, question+" [y/N] ", lineMode{})
	if errors.Is(err, errInterrupt) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	a := strings.ToLower(strings.TrimSpace(ans))
	return a == "y" || a == "yes", nil
}

// newPassword asks for a password twice without echo.
func (s *session) newPassword(prompt string) (string, error) {
	p1, err := s.c.ed.readLine(s.ctx, prompt, lineMode{secret: true})
	if err != nil {
		return "", err
	}
	if err := users.CheckPassword(p1); err != nil {
		return "", err
	}
	p2, err := s.c.ed.readLine(s.ctx, "Retype "+strings.ToLower(prompt[:1])+prompt[1:], lineMode{secret: true})
	if err != nil {
		return "", err
	}
	if p1 != p2 {
		return "", errors.New("the passwords do not match; nothing changed")
	}
	return p1, nil
}

func cmdHelp(s *session, a args) error {
	w := s.c.w
	if len(a.f) > 1 {
		return errUsage
	}
	if len(a.f) == 1 {
		cmd, ok := lookup(strings.ToLower(a.f[0]))
		if !ok {
			msg := fmt.Sprintf("no command '%s'", control.Printable(a.f[0]))
			if sg := suggest(strings.ToLower(a.f[0])); sg != "" {
				msg += fmt.Sprintf(" - did you mean '%s'?", sg)
			}
			return errors.New(msg)
		}
		fmt.Fprintf(w, "usage: %s\n%s\n", strings.TrimSpace(cmd.name+" "+cmd.usage), cmd.summary)
		if cmd.help != "" {
			fmt.Fprintf(w, "\n%s\n", cmd.help)
		}
		if len(cmd.aliases) > 0 {
			fmt.Fprintf(w, "also: %s\n", strings.Join(cmd.aliases, ", "))
		}
		if cmd.perm != "" {
			var roles []string
			for _, r := range users.Roles() {
				if users.Can(r, cmd.perm) {
					roles = append(roles, string(r))
				}
			}
			fmt.Fprintf(w, "roles: %s\n", strings.Join(roles, ", "))
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "commands")
	if !s.open {
		fmt.Fprintf(tw, " (%s may use those not marked -)", s.user.Role)
	}
	fmt.Fprintf(tw, ":\n")
	for _, c := range commandList() {
		mark := " "
		if c.perm != "" && !s.open && !users.Can(s.user.Role, c.perm) {
			mark = "-"
		}
		fmt.Fprintf(tw, "%s %s\t%s\n", mark, strings.TrimSpace(c.name+" "+c.usage), c.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "'help COMMAND' explains one. Keys: arrows edit and recall, Tab completes,\nCtrl-C cancels, Ctrl-D logs out.\n")
	return nil
}

func cmdStatus(s *session, a args) error {
	if len(a.f) != 0 {
		return errUsage
	}
	var st control.Status
	if err := s.rpc(func(ctx context.Context) (err error) { st, err = s.api.Status(ctx); return }); err != nil {
		return err
	}
	return control.WriteStatus(s.c.w, st)
}

func cmdCalls(s *session, a args) error {
	if len(a.f) != 0 {
		return errUsage
	}
	var calls []control.Call
	if err := s.rpc(func(ctx context.Context) (err error) { calls, err = s.api.Calls(ctx); return }); err != nil {
		return err
	}
	return control.WriteCalls(s.c.w, calls)
}

// resolveCall turns what was typed into an active call's ID: "all", an
// exact ID or SIP Call-ID, or a unique part of an ID.
func (s *session) resolveCall(typed string) (string, error) {
	if typed == control.AllCalls {
		return typed, nil
	}
	var calls []control.Call
	if err := s.rpc(func(ctx context.Context) (err error) { calls, err = s.api.Calls(ctx); return }); err != nil {
		return "", err
	}
	if typed == "" {
		switch len(calls) {
		case 0:
			return "", errors.New("no active calls")
		case 1:
			return calls[0].ID, nil
		}
		control.WriteCalls(s.c.w, calls)
		return "", errors.New("several calls are active: give a call's ID (or part of it) or 'all'")
	}
	var found []string
	for _, c := range calls {
		if c.ID == typed || c.CallID == typed {
			return c.ID, nil
		}
		if strings.Contains(strings.ToLower(c.ID), strings.ToLower(typed)) {
			found = append(found, c.ID)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no active call matches '%s' (see 'calls')", control.Printable(typed))
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("'%s' matches %d calls: %s", control.Printable(typed), len(found), strings.Join(found, ", "))
}

func cmdPauseResume(pause bool) func(*session, args) error {
	return func(s *session, a args) error {
		if len(a.f) > 1 {
			return errUsage
		}
		typed := ""
		if len(a.f) == 1 {
			typed = a.f[0]
		}
		id, err := s.resolveCall(typed)
		if err != nil {
			return err
		}
		err = s.rpc(func(ctx context.Context) error {
			if pause {
				return s.api.Pause(ctx, id)
			}
			return s.api.Resume(ctx, id)
		})
		if err != nil {
			return err
		}
		what := "call " + control.Printable(id)
		if id == control.AllCalls {
			what = "every active call"
		}
		if pause {
			s.c.printf("paused %s: silence is recorded until 'resume'\n", what)
		} else {
			s.c.printf("resumed %s\n", what)
		}
		return nil
	}
}

func cmdRecordings(s *session, a args) error {
	if len(a.f) == 0 {
		return errUsage
	}
	switch a.f[0] {
	case "list":
		n := control.DefaultRecordingsLimit
		if len(a.f) > 2 {
			return errUsage
		}
		if len(a.f) == 2 {
			v, err := strconv.Atoi(a.f[1])
			if err != nil || v < 1 || v > control.MaxRecordingsLimit {
				return fmt.Errorf("N must be a number from 1 to %d", control.MaxRecordingsLimit)
			}
			n = v
		}
		return s.listRecordings(index.Query{Limit: n}, "no recordings yet")
	case "search":
		text := a.rest(2)
		if text == "" {
			return errUsage
		}
		return s.listRecordings(index.Query{Text: text, All: true, Limit: 50}, "no call matches '"+control.Printable(text)+"'")
	case "show":
		if len(a.f) != 2 {
			return errUsage
		}
		c, err := s.findRecording(a.f[1])
		if err != nil {
			return err
		}
		s.showRecording(c)
		return nil
	case "verify":
		if len(a.f) != 2 {
			return errUsage
		}
		if err := s.needTo(users.VerifyRecordings, "verify recordings"); err != nil {
			return err
		}
		return s.verify(a.f[1])
	case "delete":
		if len(a.f) != 2 {
			return errUsage
		}
		if err := s.needTo(users.DeleteRecordings, "delete recordings"); err != nil {
			return err
		}
		return s.deleteRecording(a.f[1])
	}
	return errUsage
}

// deleteRecording deletes one recording after asking.
func (s *session) deleteRecording(typed string) error {
	c, err := s.findRecording(typed)
	if err != nil {
		return err
	}
	ok, err := s.confirm(fmt.Sprintf("delete recording %s (%s -> %s, %s) for good: are you sure?",
		c.ID, control.Printable(c.Caller), control.Printable(c.Callee), c.Start.UTC().Format("2006-01-02 15:04:05")))
	if err != nil {
		return err
	}
	if !ok {
		s.c.printf("not deleted\n")
		return nil
	}
	if err := s.rpc(func(ctx context.Context) error { return s.api.DeleteRecording(ctx, c.ID) }); err != nil {
		return err
	}
	s.c.printf("deleted %s: the index keeps its entry, marked deleted by you\n", c.ID)
	return nil
}

func (s *session) listRecordings(q index.Query, none string) error {
	var list []index.Call
	if err := s.rpc(func(ctx context.Context) (err error) { list, err = s.api.Recordings(ctx, q); return }); err != nil {
		return err
	}
	if len(list) == 0 {
		s.c.printf("%s\n", none)
		return nil
	}
	ptrs := make([]*index.Call, len(list))
	for i := range list {
		ptrs[i] = &list[i]
	}
	if err := index.WriteTable(s.c.w, ptrs); err != nil {
		return err
	}
	if len(list) == q.Limit {
		s.c.printf("(the newest %d; 'recordings list N' shows more)\n", q.Limit)
	}
	return nil
}

// findRecording returns the index entry of an ID, or of the only call
// whose ID contains what was typed.
func (s *session) findRecording(typed string) (index.Call, error) {
	var c index.Call
	err := s.rpc(func(ctx context.Context) (err error) { c, err = s.api.Recording(ctx, typed); return })
	if !errors.Is(err, index.ErrNotFound) {
		return c, err
	}
	var list []index.Call
	err = s.rpc(func(ctx context.Context) (err error) {
		list, err = s.api.Recordings(ctx, index.Query{Text: typed, All: true, Limit: 100})
		return
	})
	if err != nil {
		return c, err
	}
	var ids []string
	for _, l := range list {
		if strings.Contains(strings.ToLower(l.ID), strings.ToLower(typed)) {
			ids = append(ids, l.ID)
			c = l
		}
	}
	switch len(ids) {
	case 0:
		return c, fmt.Errorf("no recording '%s' (see 'recordings list' or 'recordings search')", control.Printable(typed))
	case 1:
		return c, nil
	}
	return c, fmt.Errorf("'%s' matches %d recordings: %s", control.Printable(typed), len(ids), strings.Join(ids, ", "))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func (s *session) showRecording(c index.Call) {
	tw := tabwriter.NewWriter(s.c.w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, control.Printable(dash(v))) }
	party := func(num, name string) string {
		if name != "" {
			return fmt.Sprintf("%s (%s)", num, name)
		}
		return num
	}
	row("id", c.ID)
	row("call-id", c.CallID)
	row("caller", party(c.Caller, c.CallerName))
	row("callee", party(c.Callee, c.CalleeName))
	row("dialed", c.Dialed)
	row("direction", c.Direction)
	row("start", fmtTime(c.Start))
	row("answer", fmtTime(c.Answer))
	row("end", fmtTime(c.End))
	if !c.Answer.IsZero() {
		row("duration", control.Clock(c.DurationS))
	}
	row("codec", c.Codec)
	switch {
	case c.Recorded && c.Raw():
		row("recorded", "raw, rule "+dash(c.Rule))
		row("raw", c.RawWarning())
		row("file", c.File)
		row("size", control.Bytes(uint64(max(c.Size, 0))))
		row("sha256", c.SHA256)
	case c.Recorded:
		row("recorded", "yes, rule "+dash(c.Rule))
		row("file", c.File)
		row("size", control.Bytes(uint64(max(c.Size, 0))))
		row("sha256", c.SHA256)
	default:
		row("recorded", "no: "+dash(c.Reason))
	}
	row("ended by", c.EndReason)
	if c.Incomplete {
		row("incomplete", "yes (part of the call is missing, e.g. after a power cut)")
	}
	if c.Part > 0 {
		row("part", strconv.Itoa(c.Part))
	}
	for i, p := range c.Pauses {
		end := fmtTime(p.End)
		if p.End.IsZero() {
			end = "still paused"
		}
		row(fmt.Sprintf("pause %d", i+1), fmt.Sprintf("%s to %s by %s", fmtTime(p.Start), end, dash(p.Source)))
	}
	if c.MOS > 0 {
		mos := fmt.Sprintf("%.2f (worse direction)", c.MOS)
		if slices.Contains(c.Flags, index.FlagPoorQuality) {
			mos += ", POOR QUALITY"
		}
		row("MOS", mos)
	}
	for _, st := range c.Streams {
		row("stream "+st.Side, fmt.Sprintf("%s: %d packets, %d lost, %d late", st.Source, st.Packets, st.Lost, st.Late))
		if q := st.Quality; q != nil {
			row("quality "+st.Side, qualityText(q))
		}
	}
	if c.RawRTP != "" {
		row("raw media", c.RawRTP+" ("+dash(c.RawID)+")")
	}
	if len(c.Flags) > 0 {
		row("flags", strings.Join(c.Flags, ", "))
	}
	tw.Flush()
}

// qualityText is one direction's quality for a technician.
func qualityText(q *index.Quality) string {
	return fmt.Sprintf("MOS %.2f (%s), loss %.2f%% (longest run %d, longest gap %.0f ms), jitter %.1f ms mean, %.1f ms max, %d out of order",
		q.MOS, q.Codec, q.LossPercent, q.MaxLostRun, q.MaxGapMS, q.JitterMeanMS, q.JitterMaxMS, q.OutOfOrder)
}

func (s *session) verify(typed string) error {
	id := typed
	if typed != control.AllCalls {
		c, err := s.findRecording(typed)
		if err != nil {
			return err
		}
		id = c.ID
	} else {
		s.c.printf("checking every recording (Ctrl-C stops)...\n")
	}
	var v control.Verification
	// verify all is bounded by Ctrl-C only.
	err := s.rpcTimeout(0, func(ctx context.Context) (err error) { v, err = s.api.Verify(ctx, id); return })
	if err != nil {
		return err
	}
	for _, p := range v.Problems {
		s.c.printf("INVALID: %s\n", control.Printable(p))
	}
	switch {
	case id == control.AllCalls && v.Valid:
		s.c.printf("valid: %d recordings, every signature valid, hash chain and audit log intact (key %s)\n", v.Checked, control.Printable(v.Key))
	case id == control.AllCalls:
		s.c.printf("%d problems in %d recordings\n", len(v.Problems), v.Checked)
	case v.Valid:
		s.c.printf("valid: %s: signature, file hash and chain entry (key %s)\n", control.Printable(id), control.Printable(v.Key))
	default:
		s.c.printf("%s is NOT valid\n", control.Printable(id))
	}
	return nil
}

func cmdConfig(s *session, a args) error {
	if len(a.f) == 0 {
		return errUsage
	}
	switch a.f[0] {
	case "show":
		if len(a.f) != 1 {
			return errUsage
		}
		var ci control.ConfigInfo
		if err := s.rpc(func(ctx context.Context) (err error) { ci, err = s.api.Config(ctx); return }); err != nil {
			return err
		}
		if ci.File != "" {
			s.c.printf("# file: %s\n", control.Printable(ci.File))
		} else {
			s.c.printf("# no configuration file: defaults and flags\n")
		}
		for _, l := range strings.Split(strings.TrimRight(ci.YAML, "\n"), "\n") {
			s.c.printf("%s\n", control.Printable(l))
		}
		return nil
	case "set":
		if len(a.f) < 3 {
			return errUsage
		}
		if err := s.needTo(users.Configure, "change the configuration"); err != nil {
			return err
		}
		key, value := a.f[1], a.rest(3)
		var ch control.ConfigChange
		if err := s.rpc(func(ctx context.Context) (err error) {
			ch, err = s.api.SetConfig(ctx, key, value)
			return
		}); err != nil {
			return err
		}
		s.c.printf("%s = %s saved to %s", control.Printable(ch.Key), control.Printable(ch.Value), control.Printable(ch.File))
		switch {
		case ch.Applied:
			s.c.printf("; applied\n")
		case ch.Restart:
			s.c.printf("; takes effect at the next start ('reboot')\n")
		default:
			s.c.printf("\n")
		}
		return nil
	}
	return errUsage
}

func cmdStorage(s *session, a args) error {
	if len(a.f) != 0 {
		return errUsage
	}
	var st control.StorageInfo
	if err := s.rpc(func(ctx context.Context) (err error) { st, err = s.api.Storage(ctx); return }); err != nil {
		return err
	}
	if st.TotalBytes > 0 {
		s.c.printf("data        %s: %s free of %s (%.0f%%)\n", control.Printable(st.Path), control.Bytes(st.FreeBytes), control.Bytes(st.TotalBytes),
			float64(st.FreeBytes)/float64(st.TotalBytes)*100)
	} else {
		s.c.printf("data        %s: size unknown\n", control.Printable(st.Path))
	}
	size := control.Bytes(uint64(max(st.RecordingBytes, 0)))
	if st.RawMedia == 0 {
		s.c.printf("recordings  %d (%s)\n", st.Recordings, size)
	} else {
		s.c.printf("recordings  %d with audio and %d raw media files (%d calls kept as raw media only: not decoded to audio) (%s)\n",
			st.Recordings, st.RawMedia, st.RawOnly, size)
	}
	s.c.printf("calls       %d in the index\n", st.Calls)
	return nil
}

func cmdOffload(s *session, a args) error {
	if len(a.f) != 1 {
		return errUsage
	}
	switch a.f[0] {
	case "now":
		if err := s.rpc(func(ctx context.Context) error { return s.api.OffloadNow(ctx) }); err != nil {
			return err
		}
		s.c.printf("offload started; 'offload status' shows how it goes\n")
		return nil
	case "status":
		var st control.OffloadStatus
		if err := s.rpc(func(ctx context.Context) (err error) { st, err = s.api.OffloadStatus(ctx); return }); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(s.c.w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "target\t%s\n", control.Printable(st.Target))
		state := "idle"
		if st.Running {
			state = fmt.Sprintf("running (%s/s)", control.Bytes(uint64(max(st.BytesPerSec, 0))))
		}
		fmt.Fprintf(tw, "state\t%s\n", state)
		fmt.Fprintf(tw, "pending\t%d recordings\n", st.Pending)
		fmt.Fprintf(tw, "last run\t%s (%d copied, %d failed)\n", fmtTime(st.LastRun), st.LastCopied, st.LastFailed)
		fmt.Fprintf(tw, "last success\t%s\n", fmtTime(st.LastSuccess))
		if st.LastError != "" {
			fmt.Fprintf(tw, "last error\t%s (%d failed runs in a row)\n", control.Printable(st.LastError), st.ConsecutiveFailures)
		}
		fmt.Fprintf(tw, "next run\t%s\n", fmtTime(st.NextRun))
		if st.ObjectLock != "" {
			fmt.Fprintf(tw, "retention\t%s\n", control.Printable(st.ObjectLock))
		}
		return tw.Flush()
	}
	return errUsage
}

func cmdUsers(s *session, a args) error {
	if len(a.f) == 0 {
		return errUsage
	}
	sub := a.f[0]
	want := map[string]int{"list": 1, "add": 3, "del": 2, "passwd": 2, "role": 3, "unlock": 2}
	n, ok := want[sub]
	if !ok || len(a.f) != n {
		return errUsage
	}
	action := map[string]string{"list": "list users", "add": "add users", "del": "delete users",
		"passwd": "set other users' passwords", "role": "change roles", "unlock": "unlock users"}[sub]
	if err := s.needTo(users.ManageUsers, action); err != nil {
		return err
	}
	c := s.api
	switch sub {
	case "list":
		var list []users.User
		if err := s.rpc(func(ctx context.Context) (err error) { list, err = c.Users(ctx); return }); err != nil {
			return err
		}
		if len(list) == 0 {
			s.c.printf("no accounts: the console asks for no login (add an admin: users add NAME admin)\n")
			return nil
		}
		tw := tabwriter.NewWriter(s.c.w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "NAME\tROLE\tCREATED\tCHANGED\tSTATE\n")
		for _, u := range list {
			state := "ok"
			if u.Failures > 0 {
				state = fmt.Sprintf("%d wrong passwords", u.Failures)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", control.Printable(u.Name), control.Printable(string(u.Role)), fmtTime(u.Created), fmtTime(u.Changed), state)
		}
		return tw.Flush()
	case "add":
		name, role := a.f[1], users.Role(strings.ToLower(a.f[2]))
		if _, err := users.ParseRole(string(role)); err != nil {
			return err
		}
		pw, err := s.newPassword("Password for " + control.Printable(name) + ": ")
		if err != nil {
			return err
		}
		if err := s.rpc(func(ctx context.Context) error { return c.AddUser(ctx, name, role, pw) }); err != nil {
			return err
		}
		s.c.printf("added %s (%s)\n", control.Printable(name), role)
	case "del":
		name := a.f[1]
		if !s.open && name == s.user.Name {
			return errors.New("you cannot delete yourself (log in as another admin)")
		}
		ok, err := s.confirm("delete user " + control.Printable(name) + "?")
		if err != nil || !ok {
			return err
		}
		if err := s.rpc(func(ctx context.Context) error { return c.RemoveUser(ctx, name) }); err != nil {
			return err
		}
		s.c.printf("deleted %s\n", control.Printable(name))
	case "passwd":
		name := a.f[1]
		pw, err := s.newPassword("New password for " + control.Printable(name) + ": ")
		if err != nil {
			return err
		}
		if err := s.rpc(func(ctx context.Context) error { return c.SetPassword(ctx, name, pw) }); err != nil {
			return err
		}
		s.c.printf("password of %s changed\n", control.Printable(name))
	case "role":
		name, role := a.f[1], users.Role(strings.ToLower(a.f[2]))
		if err := s.rpc(func(ctx context.Context) error { return c.SetRole(ctx, name, role) }); err != nil {
			return err
		}
		s.c.printf("%s is now %s\n", control.Printable(name), control.Printable(string(role)))
	case "unlock":
		name := a.f[1]
		if err := s.rpc(func(ctx context.Context) error { return c.Unlock(ctx, name) }); err != nil {
			return err
		}
		s.c.printf("unlocked %s\n", control.Printable(name))
	}
	return nil
}

func cmdPasswd(s *session, a args) error {
	if len(a.f) != 0 {
		return errUsage
	}
	if s.open {
		return errors.New("nobody is logged in (no accounts): nothing to change")
	}
	cur, err := s.c.ed.readLine(s.ctx, "Current password: ", lineMode{secret: true})
	if err != nil {
		return err
	}
	pw, err := s.newPassword("New password: ")
	if err != nil {
		return err
	}
	// The daemon checks the current password (and that it is this
	// session's own account).
	err = s.rpc(func(ctx context.Context) error { return s.api.ChangeOwnPassword(ctx, s.user.Name, cur, pw) })
	if errors.Is(err, control.ErrForbidden) {
		return errors.New("wrong password; nothing changed")
	}
	if err != nil {
		return err
	}
	s.c.printf("password changed\n")
	return nil
}

func cmdLog(s *session, a args) error {
	n := control.DefaultLogLines
	f := a.f
	if len(f) > 0 && f[0] == "tail" {
		f = f[1:]
	}
	if len(f) > 1 {
		return errUsage
	}
	if len(f) == 1 {
		v, err := strconv.Atoi(f[0])
		if err != nil || v < 1 || v > 10000 {
			return errUsage
		}
		n = v
	}
	var lines []string
	if err := s.rpc(func(ctx context.Context) (err error) { lines, err = s.api.LogTail(ctx, n); return }); err != nil {
		return err
	}
	if len(lines) == 0 {
		s.c.printf("the log is empty\n")
	}
	for _, l := range lines {
		s.c.printf("%s\n", control.Printable(l))
	}
	return nil
}

func cmdAudit(s *session, a args) error {
	n := control.DefaultAuditEntries
	if len(a.f) > 1 {
		return errUsage
	}
	if len(a.f) == 1 {
		v, err := strconv.Atoi(a.f[0])
		if err != nil || v < 1 || v > control.MaxRecordingsLimit {
			return errUsage
		}
		n = v
	}
	var es []index.AuditEntry
	if err := s.rpc(func(ctx context.Context) (err error) { es, err = s.api.Audit(ctx, n); return }); err != nil {
		return err
	}
	if len(es) == 0 {
		s.c.printf("the audit log is empty\n")
		return nil
	}
	tw := tabwriter.NewWriter(s.c.w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SEQ\tTIME\tUSER\tCOMMAND\tRESULT\n")
	for _, e := range es {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.Seq, fmtTime(e.Time), control.Printable(e.User), control.Printable(e.Command), control.Printable(e.Result))
	}
	return tw.Flush()
}

func cmdLED(s *session, a args) error {
	if len(a.f) != 1 || a.f[0] != "test" {
		return errUsage
	}
	s.c.printf("LED self-test: watch the front panel...\n")
	if err := s.rpc(func(ctx context.Context) error { return s.api.LEDTest(ctx) }); err != nil {
		return err
	}
	s.c.printf("LED self-test done\n")
	return nil
}

func cmdTime(s *session, a args) error {
	if len(a.f) != 0 {
		return errUsage
	}
	var ti control.TimeInfo
	if err := s.rpc(func(ctx context.Context) (err error) { ti, err = s.api.Time(ctx); return }); err != nil {
		return err
	}
	s.c.printf("%s\nlocal   %s %s\n", fmtTime(ti.Now), ti.Now.Format("2006-01-02 15:04:05"), control.Printable(ti.Zone))
	if !ti.Started.IsZero() {
		s.c.printf("daemon started %s (up %s)\n", fmtTime(ti.Started), control.Uptime(ti.Now.Sub(ti.Started).Seconds()))
	}
	if c := ti.Clock; c != nil {
		s.c.printf("%s\n", clockLine(c))
	}
	return nil
}

func cmdReboot(s *session, a args) error {
	if len(a.f) != 0 {
		return errUsage
	}
	ok, err := s.confirm("reboot the appliance: are you sure?")
	if err != nil {
		return err
	}
	if !ok {
		s.c.printf("not rebooting\n")
		return nil
	}
	if err := s.rpc(func(ctx context.Context) error { return s.api.Reboot(ctx) }); err != nil {
		return err
	}
	s.c.printf("rebooting: open recordings are finalised first\n")
	return nil
}

func cmdWhoami(s *session, a args) error {
	if len(a.f) != 0 {
		return errUsage
	}
	if s.open {
		s.c.printf("nobody: no accounts exist, so everything is allowed (add one: users add NAME admin)\n")
		return nil
	}
	s.c.printf("%s (%s)\n", control.Printable(s.user.Name), s.user.Role)
	return nil
}

// clockLine says whether the clock can be trusted, for `time`.
func clockLine(c *control.ClockState) string {
	switch {
	case c.Error != "":
		return "clock   state unknown: " + control.Printable(c.Error) + " (recordings are stamped clock_synced=false)"
	case c.BeforeBuild:
		return "clock   NOT SET: before the firmware's build (" + fmtTime(c.BuildTime) + "); recordings are flagged clock-before-build"
	case !c.Synced:
		return fmt.Sprintf("clock   NOT synchronised (estimated error %.1f ms, max %.1f ms): waiting for network time", c.EstErrorMS, c.MaxErrorMS)
	}
	return fmt.Sprintf("clock   synchronised (estimated error %.3f ms, max %.1f ms)", c.EstErrorMS, c.MaxErrorMS)
}
