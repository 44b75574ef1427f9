// Package serial opens the technician's console UART.
//
// It owns the Port interface used by the console (a raw byte stream), Config
// (115200 baud, 8 data bits, no parity, 1 stop bit by default) and Open, the
// Linux implementation on go.bug.st/serial, which puts the tty in raw mode
// (no echo, no line discipline, no CR/LF translation, no flow control) so the
// console does its own line editing. A net.Pipe-based fake for tests lives in
// hal/serial/serialtest.
package serial
