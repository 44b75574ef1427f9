package serial

import (
	"testing"

	bugst "go.bug.st/serial"
)

func TestMode(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want bugst.Mode
	}{
		{Config{}, bugst.Mode{BaudRate: 115200, DataBits: 8, Parity: bugst.NoParity, StopBits: bugst.OneStopBit}},
		{Config{Baud: 9600, DataBits: 7, Parity: ParityEven, StopBits: 2}, bugst.Mode{BaudRate: 9600, DataBits: 7, Parity: bugst.EvenParity, StopBits: bugst.TwoStopBits}},
		{Config{Baud: 57600, Parity: ParityOdd, StopBits: 1}, bugst.Mode{BaudRate: 57600, DataBits: 8, Parity: bugst.OddParity, StopBits: bugst.OneStopBit}},
	} {
		m, err := tc.cfg.mode()
		if err != nil || *m != tc.want {
			t.Errorf("%+v.mode() = %+v, %v; want %+v", tc.cfg, m, err, tc.want)
		}
	}
}
