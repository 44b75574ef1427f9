//go:build linux

package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TPACKET_V3 ring layout (linux/if_packet.h).
const (
	blockMinSize    = 128 << 10 // per block; holds a frame of 65535 bytes and more
	blockStatusOff  = 8         // tpacket_block_desc.hdr.bh1.block_status
	blockNumPktsOff = 12        // .num_pkts
	blockFirstOff   = 16        // .offset_to_first_pkt
	blockHdrLen     = 48        // tpacket_block_desc, aligned

	pktNextOff     = 0              // tpacket3_hdr.tp_next_offset
	pktSecOff      = 4              // .tp_sec
	pktNsecOff     = 8              // .tp_nsec
	pktSnapOff     = 12             // .tp_snaplen
	pktLenOff      = 16             // .tp_len
	pktStatusOff   = 20             // .tp_status
	pktMacOff      = 24             // .tp_mac
	pktVLANTCIOff  = 32             // .hv1.tp_vlan_tci
	pktVLANTPIDOff = 36             // .hv1.tp_vlan_tpid
	pktSLLOff      = 48             // sockaddr_ll after TPACKET_ALIGN(sizeof(tpacket3_hdr))
	pktTypeOff     = pktSLLOff + 10 // sockaddr_ll.sll_pkttype
	pktHdrEnd      = pktSLLOff + 20 // end of sockaddr_ll

	frameSize = 2048 // tp_frame_size: only checked by the kernel for V3
)

// LiveSource captures frames from network interfaces through AF_PACKET
// sockets with memory-mapped TPACKET_V3 rings, filtered in the kernel by
// the program CompileFilter builds. It implements Source; ReadFrame never
// returns io.EOF.
//
// With one interface ReadFrame hands out frames straight from the kernel
// ring (f.Data points into it). With several, one goroutine per interface
// copies its frames into a fixed buffer and ReadFrame takes them from a
// bounded queue; a full buffer drops frames (InterfaceStats.UserDrops)
// instead of stalling the rings.
//
// ReadFrame must be called from one goroutine at a time; Stats and Close
// may be called from any goroutine.
type LiveSource struct {
	cfg    LiveConfig
	ifs    []*liveIface
	single *liveIface // the only interface: ReadFrame reads its ring
	wake   int        // eventfd written by Close; wakes every poll

	closed atomic.Bool
	done   chan struct{} // closed by Close
	readMu sync.Mutex    // held by ReadFrame (one interface) and by Close's teardown
	once   sync.Once
	wg     sync.WaitGroup // the reader goroutines

	// Several interfaces.
	queue chan liveMsg
	errs  chan error
	timer *time.Timer
	held  liveMsg // frame ReadFrame handed out last; released by the next call
	hold  bool

	statsMu sync.Mutex
	// closedRing is the placeholder left where the single ring was mapped
	// (see Close); unmapped by the next ReadFrame or when the source is
	// collected.
	closedRing *ringPlaceholder
}

// liveMsg is one copied frame in the queue.
type liveMsg struct {
	ifc       *liveIface
	off, n    uint32 // position in ifc.arena
	end       uint64 // arena position after the frame: the release mark
	sec, nsec uint32
}

// liveIface is one interface's socket, ring and counters.
type liveIface struct {
	name     string
	index    int
	loopback bool
	fd       int // -1 once closed (under statsMu)
	ring     []byte
	blockSz  int
	nBlocks  int
	polls    [2]unix.PollFd

	// Reader state, owned by the goroutine reading the ring.
	blk     int    // current block
	inBlock bool   // blk is ours (TP_STATUS_USER) and being walked
	left    uint32 // packets left in the block
	pkt     int    // offset of the next packet in ring
	packets uint64 // counted by the reader, published at block ends
	bytes   uint64
	scratch []byte // VLAN tag re-insertion when the ring has no headroom

	fatal error // sticky: the socket failed (interface removed)

	pubPackets atomic.Uint64
	pubBytes   atomic.Uint64
	userDrops  atomic.Uint64
	// Kernel drop counter, accumulated under LiveSource.statsMu because
	// reading it resets it.
	kDrops uint64

	// Copy buffer (several interfaces): a byte FIFO written by the reader
	// goroutine (head) and released in order by ReadFrame (tail).
	arena []byte
	head  uint64
	tail  atomic.Uint64
}

// OpenLive starts capturing on cfg.Interfaces. Every error names the
// interface ("capture on span0: ...").
func OpenLive(cfg LiveConfig) (*LiveSource, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	raw, err := compileFilter(cfg.Filter, uint32(cfg.SnapLen))
	if err != nil {
		return nil, err
	}
	prog := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		prog[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	s := &LiveSource{cfg: cfg, wake: -1, done: make(chan struct{})}
	s.wake, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("capture: eventfd: %w", err)
	}
	for _, name := range cfg.Interfaces {
		ifc, err := openIface(name, cfg, prog)
		if err != nil {
			s.teardown()
			return nil, err
		}
		ifc.polls = [2]unix.PollFd{
			{Fd: int32(ifc.fd), Events: unix.POLLIN},
			{Fd: int32(s.wake), Events: unix.POLLIN},
		}
		s.ifs = append(s.ifs, ifc)
	}
	if len(s.ifs) == 1 {
		s.single = s.ifs[0]
		return s, nil
	}
	slots := 0
	for _, ifc := range s.ifs {
		ifc.arena = make([]byte, cfg.QueueBytes)
		slots += max(cfg.QueueBytes/128, 64)
	}
	s.queue = make(chan liveMsg, slots)
	s.errs = make(chan error, len(s.ifs))
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	for _, ifc := range s.ifs {
		s.wg.Add(1)
		go s.pump(ifc)
	}
	return s, nil
}

// openIface sets up one interface: socket, filter, ring, promiscuous mode,
// and only then the bind that starts the traffic, so no unfiltered frame
// reaches the ring.
func openIface(name string, cfg LiveConfig, prog []unix.SockFilter) (ifc *liveIface, err error) {
	ifc = &liveIface{name: name, fd: -1}
	fail := func(what string, err error) (*liveIface, error) {
		ifc.close()
		return nil, fmt.Errorf("capture on %s: %s: %w", name, what, err)
	}
	// Protocol 0: the socket receives nothing until bound below.
	ifc.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		ifc.fd = -1
		return fail("AF_PACKET socket (needs CAP_NET_RAW)", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fail("interface name", err)
	}
	if err := unix.IoctlIfreq(ifc.fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return fail("interface", err)
	}
	ifc.index = int(ifr.Uint32())
	if err := unix.IoctlIfreq(ifc.fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return fail("hardware type", err)
	}
	switch hw := ifr.Uint16(); hw {
	case unix.ARPHRD_ETHER:
	case unix.ARPHRD_LOOPBACK:
		ifc.loopback = true
	default:
		return fail("link", fmt.Errorf("%w: ARPHRD type %d", ErrLinkType, hw))
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.SetsockoptSockFprog(ifc.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return fail("attach filter", err)
	}
	if err := unix.SetsockoptInt(ifc.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fail("TPACKET_V3", err)
	}
	ifc.blockSz = blockMinSize
	for ifc.blockSz < cfg.SnapLen+vlanTagLen+blockHdrLen+pktHdrEnd+64 {
		ifc.blockSz *= 2
	}
	ifc.nBlocks = max(cfg.RingBytes/ifc.blockSz, 2)
	// Frames become visible when their block is full or retired: often
	// enough that ReadFrame sees a lone frame well within PollTimeout.
	tov := min(max(cfg.PollTimeout/4, time.Millisecond), 50*time.Millisecond)
	req := unix.TpacketReq3{
		Block_size:     uint32(ifc.blockSz),
		Block_nr:       uint32(ifc.nBlocks),
		Frame_size:     frameSize,
		Frame_nr:       uint32(ifc.blockSz / frameSize * ifc.nBlocks),
		Retire_blk_tov: uint32(tov / time.Millisecond),
	}
	if err := unix.SetsockoptTpacketReq3(ifc.fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fail(fmt.Sprintf("ring of %d×%d bytes", ifc.nBlocks, ifc.blockSz), err)
	}
	size := uintptr(ifc.blockSz * ifc.nBlocks)
	p, err := unix.MmapPtr(ifc.fd, 0, nil, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail("mmap ring", err)
	}
	ifc.ring = unsafe.Slice((*byte)(p), size)
	if !cfg.NoPromisc {
		mreq := unix.PacketMreq{Ifindex: int32(ifc.index), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(ifc.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fail("promiscuous mode", err)
		}
	}
	sll := unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.index}
	if err := unix.Bind(ifc.fd, &sll); err != nil {
		return fail("bind", err)
	}
	ifc.scratch = make([]byte, cfg.SnapLen+vlanTagLen)
	return ifc, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// close releases the socket and the ring. The caller makes sure nobody
// reads the ring any more.
func (ifc *liveIface) close() {
	if ifc.ring != nil {
		_ = unix.MunmapPtr(unsafe.Pointer(&ifc.ring[0]), uintptr(len(ifc.ring)))
		ifc.ring = nil
	}
	if ifc.fd >= 0 {
		_ = unix.Close(ifc.fd)
		ifc.fd = -1
	}
}

// errSkip makes next go on to the following packet.
var errSkip = errors.New("skip")

// next returns the next frame of the ring, waiting up to timeout. The data
// stays valid until the next call. It returns ErrTimeout, ErrClosed (the
// wake eventfd fired) or a fatal socket error naming the interface.
func (ifc *liveIface) next(timeout time.Duration) (data []byte, sec, nsec uint32, err error) {
	if ifc.fatal != nil {
		return nil, 0, 0, ifc.fatal
	}
	var deadline time.Time
	for {
		if ifc.inBlock {
			if ifc.left > 0 {
				data, sec, nsec, err = ifc.packet()
				if err == nil {
					return data, sec, nsec, nil
				}
				continue // skipped (looped-back duplicate)
			}
			ifc.release()
		}
		st := ifc.blockStatus()
		if atomic.LoadUint32(st)&unix.TP_STATUS_USER != 0 {
			b := ifc.blk * ifc.blockSz
			ifc.inBlock = true
			ifc.left = binary.NativeEndian.Uint32(ifc.ring[b+blockNumPktsOff:])
			ifc.pkt = b + int(binary.NativeEndian.Uint32(ifc.ring[b+blockFirstOff:]))
			continue
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(timeout)
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, 0, 0, ErrTimeout
		}
		ms := int((wait + time.Millisecond - 1) / time.Millisecond)
		ifc.polls[0].Revents, ifc.polls[1].Revents = 0, 0
		_, err := unix.Poll(ifc.polls[:], ms)
		if err != nil && err != unix.EINTR {
			ifc.fatal = fmt.Errorf("capture on %s: poll: %w", ifc.name, err)
			return nil, 0, 0, ifc.fatal
		}
		if ifc.polls[1].Revents != 0 {
			return nil, 0, 0, ErrClosed
		}
		if ifc.polls[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
			if ifc.fatal = ifc.sockError(); ifc.fatal != nil {
				return nil, 0, 0, ifc.fatal
			}
		}
	}
}

// sockError reads (and so clears) the socket's pending error. A link going
// down (ENETDOWN) is not fatal: the kernel resumes delivery when it comes
// back up. A removed interface, or any other error, is.
func (ifc *liveIface) sockError() error {
	e, err := unix.GetsockoptInt(ifc.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return fmt.Errorf("capture on %s: socket error: %w", ifc.name, err)
	}
	switch errno := unix.Errno(e); errno {
	case 0:
		return nil
	case unix.ENETDOWN:
		// Down, or unregistered: the kernel reports both alike, but a
		// removed interface never comes back to this socket.
		ifr, err := unix.NewIfreq(ifc.name)
		if err == nil {
			err = unix.IoctlIfreq(ifc.fd, unix.SIOCGIFINDEX, ifr)
		}
		if err == nil && int(ifr.Uint32()) != ifc.index {
			err = unix.ENODEV
		}
		if err != nil {
			return fmt.Errorf("capture on %s: interface removed: %w", ifc.name, err)
		}
		return nil
	default:
		return fmt.Errorf("capture on %s: %w", ifc.name, errno)
	}
}

func (ifc *liveIface) blockStatus() *uint32 {
	return (*uint32)(unsafe.Pointer(&ifc.ring[ifc.blk*ifc.blockSz+blockStatusOff]))
}

// release hands the current block back to the kernel.
func (ifc *liveIface) release() {
	atomic.StoreUint32(ifc.blockStatus(), unix.TP_STATUS_KERNEL)
	ifc.inBlock = false
	ifc.blk++
	if ifc.blk == ifc.nBlocks {
		ifc.blk = 0
	}
}

// publish makes the reader's counters visible to Stats.
func (ifc *liveIface) publish() {
	ifc.pubPackets.Store(ifc.packets)
	ifc.pubBytes.Store(ifc.bytes)
}

// packet returns the packet at ifc.pkt and moves on to the next one. It
// puts back the outer VLAN tag the kernel stripped. A packet that does not
// lie inside its block (a kernel bug) ends the block.
func (ifc *liveIface) packet() (data []byte, sec, nsec uint32, err error) {
	r := ifc.ring
	p := ifc.pkt
	end := (ifc.blk + 1) * ifc.blockSz
	ifc.left--
	if p+pktHdrEnd > end {
		ifc.left = 0
		return nil, 0, 0, errSkip
	}
	next := binary.NativeEndian.Uint32(r[p+pktNextOff:])
	snap := int(binary.NativeEndian.Uint32(r[p+pktSnapOff:]))
	mac := p + int(binary.NativeEndian.Uint16(r[p+pktMacOff:]))
	if mac < p+pktHdrEnd || mac+snap > end {
		ifc.left = 0
		return nil, 0, 0, errSkip
	}
	ifc.pkt = p + int(next)
	if ifc.loopback && r[p+pktTypeOff] == unix.PACKET_OUTGOING {
		// Loopback shows every frame twice: leaving and arriving.
		return nil, 0, 0, errSkip
	}
	sec = binary.NativeEndian.Uint32(r[p+pktSecOff:])
	nsec = binary.NativeEndian.Uint32(r[p+pktNsecOff:])
	ifc.packets++
	ifc.bytes += uint64(binary.NativeEndian.Uint32(r[p+pktLenOff:]))
	if status := binary.NativeEndian.Uint32(r[p+pktStatusOff:]); status&unix.TP_STATUS_VLAN_VALID != 0 {
		ifc.bytes += vlanTagLen
	}
	ifc.publish()
	data = r[mac : mac+snap : mac+snap]
	status := binary.NativeEndian.Uint32(r[p+pktStatusOff:])
	if status&unix.TP_STATUS_VLAN_VALID != 0 && snap >= 12 {
		tci := uint16(binary.NativeEndian.Uint32(r[p+pktVLANTCIOff:]))
		tpid := uint16(etherType8021Q)
		if status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
			tpid = binary.NativeEndian.Uint16(r[p+pktVLANTPIDOff:])
		}
		if mac-vlanTagLen >= p+pktHdrEnd {
			// Room in front of the frame: move the MAC addresses back.
			data = r[mac-vlanTagLen : mac+snap : mac+snap]
			copy(data[:12], r[mac:mac+12])
		} else {
			data = ifc.scratch[:snap+vlanTagLen]
			copy(data[:12], r[mac:mac+12])
			copy(data[16:], r[mac+12:mac+snap])
		}
		binary.BigEndian.PutUint16(data[12:], tpid)
		binary.BigEndian.PutUint16(data[14:], tci)
	}
	return data, sec, nsec, nil
}

// ReadFrame waits up to PollTimeout for the next frame and fills f. f.Data
// is valid until the next ReadFrame or Close. It returns ErrTimeout when no
// frame came, ErrClosed after Close (a ReadFrame blocked in another
// goroutine returns at once), and an error naming the interface when one
// fails (e.g. it was removed): with one interface that error is sticky,
// with several it is returned once and the other interfaces go on.
func (s *LiveSource) ReadFrame(f *Frame) error {
	if s.single == nil {
		return s.readQueue(f)
	}
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.closed.Load() {
		s.unmapPlaceholder()
		return ErrClosed
	}
	data, sec, nsec, err := s.single.next(s.cfg.PollTimeout)
	if err != nil {
		return err
	}
	f.Time = time.Unix(int64(sec), int64(nsec))
	f.Link = LinkEthernet
	f.Data = data
	return nil
}

// readQueue is ReadFrame with several interfaces.
func (s *LiveSource) readQueue(f *Frame) error {
	if s.hold {
		s.held.ifc.tail.Store(s.held.end)
		s.hold = false
	}
	if s.closed.Load() {
		return ErrClosed
	}
	var m liveMsg
	select {
	case err := <-s.errs:
		return err
	case m = <-s.queue:
	default:
		s.timer.Reset(s.cfg.PollTimeout)
		select {
		case m = <-s.queue:
			s.timer.Stop()
		case err := <-s.errs:
			s.timer.Stop()
			return err
		case <-s.timer.C:
			return ErrTimeout
		case <-s.done:
			s.timer.Stop()
			return ErrClosed
		}
	}
	s.held, s.hold = m, true
	f.Time = time.Unix(int64(m.sec), int64(m.nsec))
	f.Link = LinkEthernet
	f.Data = m.ifc.arena[m.off : m.off+m.n : m.off+m.n]
	return nil
}

// pump copies one interface's frames into its arena and queues them.
func (s *LiveSource) pump(ifc *liveIface) {
	defer s.wg.Done()
	size := uint64(len(ifc.arena))
	for {
		data, sec, nsec, err := ifc.next(s.cfg.PollTimeout)
		switch {
		case err == nil:
		case errors.Is(err, ErrTimeout):
			if s.closed.Load() {
				return
			}
			continue
		case errors.Is(err, ErrClosed):
			return
		default:
			s.errs <- err // buffered: one per interface
			return
		}
		n := uint64(len(data))
		start := ifc.head
		if pos := start % size; pos+n > size {
			start += size - pos // no room before the end: wrap
		}
		if start+n-ifc.tail.Load() > size {
			ifc.userDrops.Add(1)
			continue
		}
		off := start % size
		copy(ifc.arena[off:off+n], data)
		select {
		case s.queue <- liveMsg{ifc: ifc, off: uint32(off), n: uint32(n), end: start + n, sec: sec, nsec: nsec}:
			ifc.head = start + n
		default:
			ifc.userDrops.Add(1)
		}
	}
}

// Stats returns each interface's counters, in the order of
// LiveConfig.Interfaces. It may be called from any goroutine, also after
// Close (the kernel counters then stay as Close last read them).
func (s *LiveSource) Stats() []InterfaceStats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	out := make([]InterfaceStats, len(s.ifs))
	for i, ifc := range s.ifs {
		up := false
		if ifc.fd >= 0 {
			ifc.readKernelStats()
			up = ifc.linkUp()
		}
		out[i] = InterfaceStats{
			Name:        ifc.name,
			Packets:     ifc.pubPackets.Load(),
			Bytes:       ifc.pubBytes.Load(),
			KernelDrops: ifc.kDrops,
			UserDrops:   ifc.userDrops.Load(),
			LinkUp:      up,
		}
	}
	return out
}

// readKernelStats adds the kernel's counters since the last read (reading
// resets them). Called under statsMu.
func (ifc *liveIface) readKernelStats() {
	st, err := unix.GetsockoptTpacketStatsV3(ifc.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return
	}
	ifc.kDrops += uint64(st.Drops)
}

// linkUp reports IFF_UP and IFF_RUNNING of the interface, asked on the
// capture socket (so in the socket's network namespace).
func (ifc *liveIface) linkUp() bool {
	ifr, err := unix.NewIfreq(ifc.name)
	if err != nil {
		return false
	}
	if unix.IoctlIfreq(ifc.fd, unix.SIOCGIFFLAGS, ifr) != nil {
		return false
	}
	fl := ifr.Uint16()
	return fl&unix.IFF_UP != 0 && fl&unix.IFF_RUNNING != 0
}

// Close stops the capture and releases the sockets (which leaves
// promiscuous mode) and rings. A ReadFrame blocked in another goroutine
// returns ErrClosed; later calls too. Close is idempotent.
//
// With one interface, frame data handed out by the last ReadFrame lives in
// the kernel ring. Close waits for a ReadFrame in progress, then replaces
// the ring mapping with zero-filled memory rather than unmapping it, so a
// reader still looking at that frame in another goroutine reads zeros
// instead of faulting; the placeholder is unmapped by the next ReadFrame
// or once the LiveSource is garbage.
func (s *LiveSource) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.done)
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		_, _ = unix.Write(s.wake, one[:])
		s.wg.Wait()     // reader goroutines
		s.readMu.Lock() // a ReadFrame in progress (one interface)
		defer s.readMu.Unlock()
		s.teardown()
	})
	return nil
}

// teardown releases everything; no goroutine reads the rings any more.
func (s *LiveSource) teardown() {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	for _, ifc := range s.ifs {
		if ifc.fd >= 0 {
			ifc.readKernelStats()
		}
		if ifc == s.single && ifc.ring != nil {
			s.closedRing = newRingPlaceholder(ifc.ring)
			if s.closedRing != nil {
				runtime.AddCleanup(s, (*ringPlaceholder).unmap, s.closedRing)
				ifc.ring = nil // the placeholder owns the address range
			}
		}
		ifc.close()
	}
	if s.wake >= 0 {
		_ = unix.Close(s.wake)
		s.wake = -1
	}
}

// unmapPlaceholder frees the placeholder of a closed single ring; the
// caller of ReadFrame holds no frame data any more.
func (s *LiveSource) unmapPlaceholder() {
	if s.closedRing != nil {
		s.closedRing.unmap()
	}
}

// ringPlaceholder is anonymous zero memory mapped over a closed ring.
type ringPlaceholder struct {
	mu   sync.Mutex
	addr unsafe.Pointer
	size uintptr
}

// newRingPlaceholder atomically replaces the ring mapping with anonymous
// read-only memory; nil if that fails (the caller then unmaps the ring).
func newRingPlaceholder(ring []byte) *ringPlaceholder {
	addr, size := unsafe.Pointer(&ring[0]), uintptr(len(ring))
	_, err := unix.MmapPtr(-1, 0, addr, size, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED)
	if err != nil {
		return nil
	}
	return &ringPlaceholder{addr: addr, size: size}
}

func (p *ringPlaceholder) unmap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.addr != nil {
		_ = unix.MunmapPtr(p.addr, p.size)
		p.addr = nil
	}
}

// LiveSupported reports whether this system can capture live: an
// AF_PACKET socket with a TPACKET_V3 ring (root, and a kernel — not an
// emulator such as qemu-user — that implements it).
func LiveSupported() error {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("capture: AF_PACKET socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fmt.Errorf("capture: TPACKET_V3: %w", err)
	}
	return nil
}
