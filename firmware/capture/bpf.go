package capture

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/net/bpf"
)

// CompileFilter compiles fc into a classic BPF program for SO_ATTACH_FILTER.
// The program expects Ethernet frames (with at most the kernel-stripped
// outer VLAN tag missing) and accepts a frame by returning MaxRecordLength,
// i.e. all of it; OpenLive compiles the same program with its SnapLen.
func CompileFilter(fc FilterConfig) ([]bpf.RawInstruction, error) {
	return compileFilter(fc, MaxRecordLength)
}

// Scratch memory slots of the program.
const (
	slotL3   = 0 // offset of the IP header
	slotNext = 1 // IPv6 next header while walking extension headers
	slotLen  = 2 // length of the extension header being skipped
	slotL4   = 3 // offset of the transport header; 0 for a non-first fragment
)

// Frame layout constants of the program.
const (
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86dd
	etherType8021Q  = 0x8100
	etherType8021AD = 0x88a8
	etherTypeQinQ   = 0x9100
	etherTypePPPoE  = 0x8864
	pppoeSession    = 0x1100 // version 1, type 1, code 0
	pppProtoIPv4    = 0x0021
	pppProtoIPv6    = 0x0057
	pppoeIPOffset   = 8 // PPPoE header and PPP protocol
	vxlanPort       = 4789
	maxVLANTags     = 3
	ipProtoHopOpts  = 0
	ipProtoRouting  = 43
	ipProtoFragment = 44
	ipProtoDstOpts  = 60
	ipProtoAH       = 51
	ipProtoIPIP     = 4
	ipProtoIPv6     = 41
	ipProtoGRE      = 47
	maxIPv6ExtHdrs  = 4
)

func compileFilter(fc FilterConfig, snap uint32) ([]bpf.RawInstruction, error) {
	v4, v6, err := fc.prefixes()
	if err != nil {
		return nil, err
	}

	var a asm
	// Link layer: skip up to three VLAN tags; X = offset of the IP header,
	// A = its EtherType.
	for tag := 0; tag <= maxVLANTags; tag++ {
		off := uint32(12 + 4*tag)
		a.label(fmt.Sprintf("tag%d", tag))
		a.op(bpf.LoadAbsolute{Off: off, Size: 2})
		if tag < maxVLANTags {
			next := fmt.Sprintf("tag%d", tag+1)
			a.jeq(etherType8021Q, next, "")
			a.jeq(etherType8021AD, next, "")
			a.jeq(etherTypeQinQ, next, "")
		}
		a.op(bpf.LoadConstant{Dst: bpf.RegX, Val: off + 2})
		if tag < maxVLANTags {
			a.jump("l3")
		}
	}
	a.label("l3")
	a.op(bpf.StoreScratch{Src: bpf.RegX, N: slotL3})
	a.jeq(etherTypeIPv4, "ipv4", "")
	a.jeq(etherTypeIPv6, "ipv6", "")
	a.jeq(etherTypePPPoE, "pppoe", "drop")

	// PPPoE session carrying IPv4 or IPv6: the IP header follows the
	// PPPoE header and the PPP protocol, and is filtered like any other.
	a.label("pppoe")
	a.op(bpf.LoadIndirect{Off: 0, Size: 2})
	a.jeq(pppoeSession, "", "drop")
	a.op(bpf.LoadIndirect{Off: 6, Size: 2})
	a.op(bpf.StoreScratch{Src: bpf.RegA, N: slotLen})
	a.op(bpf.TXA{})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: pppoeIPOffset})
	a.op(bpf.TAX{})
	a.op(bpf.StoreScratch{Src: bpf.RegX, N: slotL3})
	a.op(bpf.LoadScratch{Dst: bpf.RegA, N: slotLen})
	a.jeq(pppProtoIPv4, "ipv4", "")
	a.jeq(pppProtoIPv6, "ipv6", "drop")

	// IPv4: protocol UDP or TCP; a fragment with a non-zero offset has no
	// transport header. Tunnels, and UDP to the VXLAN port, pass whatever
	// the exclusions and ports.
	a.label("ipv4")
	a.op(bpf.LoadIndirect{Off: 0, Size: 1})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0})
	a.jeq(0x40, "", "drop")
	a.op(bpf.LoadIndirect{Off: 9, Size: 1})
	a.jeq(uint32(UDP), "v4proto", "")
	a.jeq(uint32(TCP), "v4proto", "")
	a.tunnels()
	a.jump("drop")
	a.label("v4proto")
	a.op(bpf.LoadIndirect{Off: 6, Size: 2})
	a.jset(0x1fff, "v4nonfirst", "")
	a.op(bpf.LoadIndirect{Off: 0, Size: 1})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x0f})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 2})
	a.op(bpf.ALUOpX{Op: bpf.ALUOpAdd})
	a.op(bpf.StoreScratch{Src: bpf.RegA, N: slotL4})
	a.op(bpf.LoadIndirect{Off: 9, Size: 1})
	a.jeq(uint32(UDP), "", "excl4")
	a.vxlan("excl4")
	a.label("v4nonfirst")
	a.op(bpf.LoadConstant{Dst: bpf.RegA, Val: 0})
	a.op(bpf.StoreScratch{Src: bpf.RegA, N: slotL4})
	a.label("excl4")
	if len(v4) > 0 {
		a.op(bpf.LoadScratch{Dst: bpf.RegX, N: slotL3})
		for _, p := range v4 {
			for _, off := range []uint32{12, 16} { // source, destination
				a.prefixWord(off, p.Addr().AsSlice(), p.Bits())
				a.op(bpf.RetConstant{Val: 0})
			}
		}
	}
	a.jump("ports")

	// IPv6: walk up to four hop-by-hop, routing, destination options and
	// authentication headers to UDP, TCP, a tunnel or a fragment header.
	// X = offset of the header being looked at, A = its type.
	a.label("ipv6")
	a.op(bpf.LoadIndirect{Off: 0, Size: 1})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0})
	a.jeq(0x60, "", "drop")
	a.op(bpf.LoadIndirect{Off: 6, Size: 1})
	a.op(bpf.StoreScratch{Src: bpf.RegA, N: slotNext})
	a.op(bpf.TXA{})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: 40})
	a.op(bpf.TAX{})
	a.op(bpf.LoadScratch{Dst: bpf.RegA, N: slotNext})
	for i := 0; i <= maxIPv6ExtHdrs; i++ {
		a.jeq(uint32(UDP), "v6l4", "")
		a.jeq(uint32(TCP), "v6l4", "")
		a.jeq(ipProtoFragment, "v6frag", "")
		a.tunnels()
		if i == maxIPv6ExtHdrs {
			a.jump("drop")
			break
		}
		ext, ah, skip := fmt.Sprintf("v6ext%d", i), fmt.Sprintf("v6ah%d", i), fmt.Sprintf("v6skip%d", i)
		a.jeq(ipProtoHopOpts, ext, "")
		a.jeq(ipProtoRouting, ext, "")
		a.jeq(ipProtoDstOpts, ext, "")
		a.jeq(ipProtoAH, ah, "drop")
		a.label(ext) // length (hdr[1]+1)*8
		a.op(bpf.LoadIndirect{Off: 1, Size: 1})
		a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: 1})
		a.op(bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 3})
		a.jump(skip)
		a.label(ah) // length (hdr[1]+2)*4
		a.op(bpf.LoadIndirect{Off: 1, Size: 1})
		a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: 2})
		a.op(bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 2})
		a.label(skip)
		a.op(bpf.StoreScratch{Src: bpf.RegA, N: slotLen})
		a.op(bpf.LoadIndirect{Off: 0, Size: 1})
		a.op(bpf.StoreScratch{Src: bpf.RegA, N: slotNext})
		a.op(bpf.LoadScratch{Dst: bpf.RegA, N: slotLen})
		a.op(bpf.ALUOpX{Op: bpf.ALUOpAdd})
		a.op(bpf.TAX{})
		a.op(bpf.LoadScratch{Dst: bpf.RegA, N: slotNext})
	}
	// Fragment header: the fragmentable part starts with UDP or TCP (the
	// transport header is there in the first fragment), a tunnel, or a
	// further extension header (ports unknown).
	a.label("v6frag")
	a.op(bpf.LoadIndirect{Off: 0, Size: 1})
	a.jeq(uint32(UDP), "v6fragl4", "")
	a.jeq(uint32(TCP), "v6fragl4", "")
	a.tunnels()
	a.jeq(ipProtoRouting, "v6noports", "")
	a.jeq(ipProtoDstOpts, "v6noports", "")
	a.jeq(ipProtoAH, "v6noports", "drop")
	a.label("v6fragl4")
	a.op(bpf.LoadIndirect{Off: 2, Size: 2})
	a.jset(0xfff8, "v6noports", "")
	a.op(bpf.TXA{})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: 8})
	a.op(bpf.StoreScratch{Src: bpf.RegA, N: slotL4})
	a.op(bpf.LoadIndirect{Off: 0, Size: 1})
	a.jeq(uint32(UDP), "", "excl6")
	a.vxlan("excl6")
	a.label("v6noports")
	a.op(bpf.LoadConstant{Dst: bpf.RegA, Val: 0})
	a.op(bpf.StoreScratch{Src: bpf.RegA, N: slotL4})
	a.jump("excl6")
	a.label("v6l4")
	a.op(bpf.StoreScratch{Src: bpf.RegX, N: slotL4})
	a.jeq(uint32(UDP), "", "excl6")
	a.vxlan("excl6")
	a.label("excl6")
	if len(v6) > 0 {
		a.op(bpf.LoadScratch{Dst: bpf.RegX, N: slotL3})
		for _, p := range v6 {
			for _, off := range []uint32{8, 24} { // source, destination
				a.prefixWord(off, p.Addr().AsSlice(), p.Bits())
				a.op(bpf.RetConstant{Val: 0})
			}
		}
	}

	// Ports: X = transport header; 0 (a fragment without it) passes.
	a.label("ports")
	if len(fc.Ports) > 0 {
		a.op(bpf.LoadScratch{Dst: bpf.RegA, N: slotL4})
		a.jeq(0, "accept", "")
		a.op(bpf.TAX{})
		for _, off := range []uint32{0, 2} { // source, destination port
			a.op(bpf.LoadIndirect{Off: off, Size: 2})
			for _, r := range fc.Ports {
				// A >= First && A <= Last: accept.
				a.op(bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: uint32(r.First), SkipFalse: 2})
				a.op(bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: uint32(r.Last), SkipFalse: 0, SkipTrue: 1})
				a.op(bpf.RetConstant{Val: snap})
			}
		}
		a.jump("drop")
	}
	a.label("accept")
	a.op(bpf.RetConstant{Val: snap})
	a.label("drop")
	a.op(bpf.RetConstant{Val: 0})

	prog, err := a.resolve()
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("%w: assemble: %w", ErrFilter, err)
	}
	return raw, nil
}

// asm is a tiny assembler for classic BPF with symbolic forward jumps.
type asm struct {
	ins    []asmIns
	labels map[string]int
}

type asmIns struct {
	op          bpf.Instruction
	jt, jf, jmp string // symbolic targets of a JumpIf (true, false) or Jump
}

func (a *asm) op(ins bpf.Instruction) { a.ins = append(a.ins, asmIns{op: ins}) }

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = make(map[string]int)
	}
	a.labels[name] = len(a.ins)
}

// jeq jumps to jt when A == v, else to jf; an empty label falls through.
func (a *asm) jeq(v uint32, jt, jf string) {
	a.ins = append(a.ins, asmIns{op: bpf.JumpIf{Cond: bpf.JumpEqual, Val: v}, jt: jt, jf: jf})
}

// jset jumps to jt when A & v != 0, else to jf.
func (a *asm) jset(v uint32, jt, jf string) {
	a.ins = append(a.ins, asmIns{op: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: v}, jt: jt, jf: jf})
}

func (a *asm) jump(to string) { a.ins = append(a.ins, asmIns{op: bpf.Jump{}, jmp: to}) }

// tunnels accepts the frame when A, an IP protocol or IPv6 next header, is
// a tunnel the Decoder opens (GRE, IPv4 or IPv6 in IP), whatever the
// exclusions and port ranges; otherwise it falls through.
func (a *asm) tunnels() {
	a.jeq(ipProtoGRE, "accept", "")
	a.jeq(ipProtoIPIP, "accept", "")
	a.jeq(ipProtoIPv6, "accept", "")
}

// vxlan accepts a UDP datagram whose header offset is in slotL4 when its
// destination port is VXLAN's, whatever the exclusions and port ranges;
// otherwise it jumps to next. It clobbers X.
func (a *asm) vxlan(next string) {
	a.op(bpf.LoadScratch{Dst: bpf.RegX, N: slotL4})
	a.op(bpf.LoadIndirect{Off: 2, Size: 2})
	a.jeq(vxlanPort, "accept", next)
}

// prefixWord emits the comparison of the address at X+off with prefix
// addr/bits, 32 bits at a time: on a match it falls through to the next
// instruction (which the caller emits), otherwise it skips it.
func (a *asm) prefixWord(off uint32, addr []byte, bits int) {
	words := (bits + 31) / 32
	if words == 0 {
		// A /0 prefix matches every address of its family.
		return
	}
	// Each word takes 3 instructions (load, and, compare); a mismatch
	// skips the rest of the words and the caller's instruction.
	for w := range words {
		mask := ^uint32(0)
		if rest := bits - 32*w; rest < 32 {
			mask = ^uint32(0) << (32 - rest)
		}
		want := binary.BigEndian.Uint32(addr[4*w:]) & mask
		a.op(bpf.LoadIndirect{Off: off + uint32(4*w), Size: 4})
		a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
		remaining := 3 * (words - w - 1) // instructions after this compare
		a.op(bpf.JumpIf{Cond: bpf.JumpEqual, Val: want, SkipFalse: uint8(remaining + 1)})
	}
}

// resolve turns the symbolic jumps into relative skips. A conditional jump
// reaches at most 255 instructions ahead; a longer one goes through a
// trampoline ("ja") inserted right after it.
func (a *asm) resolve() ([]bpf.Instruction, error) {
	for _, in := range a.ins {
		for _, l := range []string{in.jt, in.jf, in.jmp} {
			if _, ok := a.labels[l]; l != "" && !ok {
				return nil, fmt.Errorf("%w: jump to undefined %q", ErrFilter, l)
			}
		}
	}
	for i := 0; i < len(a.ins); i++ {
		in := a.ins[i]
		if _, ok := in.op.(bpf.JumpIf); !ok || (in.jt == "" && in.jf == "") {
			continue
		}
		far := func(l string) bool { return l != "" && a.labels[l]-i-1 > 255 }
		if !far(in.jt) && !far(in.jf) {
			continue
		}
		// Name the fall-through, then insert a trampoline per far target.
		fall := fmt.Sprintf(".%d", len(a.labels))
		a.labels[fall] = i + 1
		if in.jt == "" {
			in.jt = fall
		}
		if in.jf == "" {
			in.jf = fall
		}
		var far2 []*string
		for _, l := range []*string{&in.jt, &in.jf} {
			if far(*l) {
				far2 = append(far2, l)
			}
		}
		for name, pos := range a.labels {
			if pos > i {
				a.labels[name] = pos + len(far2)
			}
		}
		tramp := make([]asmIns, len(far2))
		for n, l := range far2 {
			tramp[n] = asmIns{op: bpf.Jump{}, jmp: *l}
			*l = fmt.Sprintf(".%d", len(a.labels))
			a.labels[*l] = i + 1 + n
		}
		a.ins[i] = in
		a.ins = append(a.ins[:i+1], append(tramp, a.ins[i+1:]...)...)
	}
	out := make([]bpf.Instruction, len(a.ins))
	target := func(i int, name string) (int, error) {
		if name == "" {
			return 0, nil
		}
		pos := a.labels[name]
		if pos <= i {
			return 0, fmt.Errorf("%w: backward jump to %q", ErrFilter, name)
		}
		return pos - i - 1, nil
	}
	for i, in := range a.ins {
		switch op := in.op.(type) {
		case bpf.JumpIf:
			if in.jt == "" && in.jf == "" {
				out[i] = op
				continue
			}
			jt, err := target(i, in.jt)
			if err != nil {
				return nil, err
			}
			jf, err := target(i, in.jf)
			if err != nil {
				return nil, err
			}
			if jt > 255 || jf > 255 {
				return nil, fmt.Errorf("%w: conditional jump too long", ErrFilter)
			}
			op.SkipTrue, op.SkipFalse = uint8(jt), uint8(jf)
			out[i] = op
		case bpf.Jump:
			skip, err := target(i, in.jmp)
			if err != nil {
				return nil, err
			}
			out[i] = bpf.Jump{Skip: uint32(skip)}
		default:
			out[i] = op
		}
	}
	return out, nil
}
