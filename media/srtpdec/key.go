package srtpdec

import (
	"fmt"
	"io"
)

// Key is one SDES master key: one "inline:" of an a=crypto attribute.
type Key struct {
	// Material is the master key followed by the master salt, KeyLen(suite)
	// bytes: the base64 of the inline value, decoded.
	Material Secret
	// MKI is the master key identifier as it appears in the packets: the
	// attribute's MKI value as a big-endian number of MKI-length bytes
	// ("|1:4" is []byte{0, 0, 0, 1}). Nil when the packets carry no MKI.
	MKI []byte
}

// Secret is key material. However it is printed or encoded (fmt, with any
// verb; encoding/json, yaml and log/slog through MarshalText) it shows as
// REDACTED, so a key never reaches a log, a listing or an error message.
type Secret []byte

const redacted = "REDACTED"

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb prints REDACTED.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalText implements encoding.TextMarshaler.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
