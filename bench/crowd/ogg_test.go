package main

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// page builds one Ogg page around segments already laced: lacing values and the body they cut.
func page(flags byte, serial, seq uint32, lacing []byte, body []byte) []byte {
	p := make([]byte, oggHeaderLen, oggHeaderLen+len(lacing)+len(body))
	copy(p, "OggS")
	p[5] = flags
	binary.LittleEndian.PutUint32(p[14:], serial)
	binary.LittleEndian.PutUint32(p[18:], seq)
	p[26] = byte(len(lacing))
	p = append(append(p, lacing...), body...)
	binary.LittleEndian.PutUint32(p[oggCRCOffset:], oggPageCRC(p))
	return p
}

// lace is the segment table of whole packets.
func lace(packets ...[]byte) []byte {
	var l []byte
	for _, p := range packets {
		for n := len(p); ; n -= 255 {
			if n < 255 {
				l = append(l, byte(n))
				break
			}
			l = append(l, 255)
		}
	}
	return l
}

// opusHead is a mono OpusHead: version 1, 1 channel, pre-skip 312, 48 kHz, no gain, mapping 0.
func opusHead() []byte {
	return []byte("OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
}

// packet is n bytes of a 20 ms CELT packet (TOC 0xF8) numbered by its second byte.
func packet(n int, id byte) []byte {
	p := bytes.Repeat([]byte{id}, n)
	p[0] = 0xF8
	return p
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestOggCRCCheckValue(t *testing.T) {
	// Ogg's CRC is CRC-32/POSIX without its final inversion: check value 0x765E7680 ^ 0xFFFFFFFF.
	if got := oggCRC(0, []byte("123456789")); got != 0x89A1897F {
		t.Fatalf("oggCRC(123456789) = %08x, want 89a1897f", got)
	}
}

func TestOggOpusPacketsSplitsByLacing(t *testing.T) {
	tags := cat([]byte("OpusTags"), bytes.Repeat([]byte{'t'}, 292)) // 300 bytes, across two pages
	a := packet(3, 1)
	b := packet(255, 2) // exactly one full segment: laced 255, 0
	c := packet(600, 3) // starts on page 3, ends on page 4
	d := packet(510, 4) // two full segments: 255, 255, 0
	e := packet(1, 5)
	f := packet(40, 6)

	cFirst, cRest := c[:255], c[255:] // a page can only end a continued packet on a 255 segment
	file := cat(
		page(oggBeginOfStrm, 7, 0, lace(opusHead()), opusHead()),
		page(0, 7, 1, []byte{255}, tags[:255]),
		page(oggContinued, 7, 2, []byte{45}, tags[255:]),
		page(0, 7, 3, append(lace(a, b), 255), cat(a, b, cFirst)),
		page(oggContinued, 7, 4, append(lace(cRest), lace(d, e)...), cat(cRest, d, e)),
		page(oggEndOfStrm, 7, 5, lace(f), f),
	)
	got, err := oggOpusPackets(file)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{a, b, c, d, e, f}
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("packet %d: got %d bytes starting %x, want %d starting %x",
				i, len(got[i]), got[i][:2], len(want[i]), want[i][:2])
		}
	}
}

func TestOggOpusPacketsSkipsOtherStreamsAndFollowsChains(t *testing.T) {
	tags := []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00")
	a, b, x := packet(10, 1), packet(20, 2), packet(30, 9)
	file := cat(
		page(oggBeginOfStrm, 1, 0, lace(opusHead()), opusHead()),
		page(oggBeginOfStrm, 2, 0, lace(x), x), // multiplexed: not ours
		page(0, 1, 1, lace(tags), tags),
		page(0, 2, 1, lace(x), x),
		page(oggEndOfStrm, 1, 2, lace(a), a),
		// a chained stream: its own headers, then audio
		page(oggBeginOfStrm, 3, 0, lace(opusHead(), tags), cat(opusHead(), tags)),
		page(oggEndOfStrm, 3, 1, lace(b), b),
	)
	got, err := oggOpusPackets(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !bytes.Equal(got[0], a) || !bytes.Equal(got[1], b) {
		t.Fatalf("got %d packets %q, want the two audio packets of streams 1 and 3", len(got), got)
	}
}

func TestOggOpusPacketsRejectsBrokenFiles(t *testing.T) {
	tags := []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00")
	head := page(oggBeginOfStrm, 1, 0, lace(opusHead()), opusHead())
	tagsPage := page(0, 1, 1, lace(tags), tags)
	a := packet(300, 1)
	corrupt := cat(head, tagsPage, page(0, 1, 2, lace(a), a))
	corrupt[len(corrupt)-1] ^= 0xFF

	cases := map[string]struct {
		file []byte
		want string
	}{
		"empty":            {nil, "no Ogg pages"},
		"not ogg":          {[]byte("RIFF....WAVEfmt hello, this is not an Ogg file"), "capture pattern"},
		"bad checksum":     {corrupt, "checksum"},
		"truncated page":   {cat(head, tagsPage)[:len(head)+10], "truncated"},
		"not opus":         {page(oggBeginOfStrm, 1, 0, lace(a), a), "OpusHead"},
		"no tags":          {cat(head, page(0, 1, 1, lace(a), a)), "OpusTags"},
		"headers only cut": {head, "before the Opus headers"},
		"no begin":         {page(0, 1, 0, lace(opusHead()), opusHead()), "does not begin"},
		"orphan continuation": {cat(head, tagsPage, page(oggContinued, 1, 2, lace(a), a)),
			"did not start"},
		"missing continuation": {cat(head, tagsPage, page(0, 1, 2, []byte{255}, a[:255]),
			page(0, 1, 3, lace(a), a)), "is missing"},
		"ends inside a packet": {cat(head, tagsPage, page(0, 1, 2, []byte{255}, a[:255])),
			"ends inside"},
		"lost page": {cat(head, tagsPage, page(0, 1, 3, lace(a), a)), "sequence number"},
		"stereo": {page(oggBeginOfStrm, 1, 0, lace(opusHead()),
			cat(opusHead()[:9], []byte{2}, opusHead()[10:])), "channels"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := oggOpusPackets(tc.file)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
