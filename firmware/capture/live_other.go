//go:build !linux

package capture

// LiveSource captures frames from network interfaces. Live capture needs
// Linux (AF_PACKET); elsewhere OpenLive returns ErrLiveUnsupported.
type LiveSource struct{}

// OpenLive returns ErrLiveUnsupported: live capture needs Linux.
func OpenLive(cfg LiveConfig) (*LiveSource, error) { return nil, ErrLiveUnsupported }

// ReadFrame returns ErrLiveUnsupported.
func (s *LiveSource) ReadFrame(f *Frame) error { return ErrLiveUnsupported }

// Stats returns nothing.
func (s *LiveSource) Stats() []InterfaceStats { return nil }

// Close does nothing.
func (s *LiveSource) Close() error { return nil }

// LiveSupported reports ErrLiveUnsupported: only Linux captures live.
func LiveSupported() error { return ErrLiveUnsupported }
