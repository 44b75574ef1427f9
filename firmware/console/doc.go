// Package console is the technician's serial console: a login prompt and a
// command line on a raw byte stream (the board's UART or USB gadget, or a
// terminal), talking to the daemon through its control socket.
//
// It owns Console (sessions: login when accounts exist, commands with
// role checks, idle logout), the line editor (echo, backspace, arrows with
// insertion, history, Ctrl-C/Ctrl-D, tab completion, password input
// without echo; CRLF output; escape sequences from the network are never
// passed through to the terminal) and the command table with `help` for
// every command. The log tail that `log tail` shows is the daemon's
// (daemon.LogRing).
package console
