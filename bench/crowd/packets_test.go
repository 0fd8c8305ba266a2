package main

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"
)

func TestPacketFileRoundTrip(t *testing.T) {
	want := [][]byte{packet(40, 1), packet(1, 2), packet(300, 3)}
	path := filepath.Join(t.TempDir(), "x.packets")
	if err := writePacketFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := readPacketFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("packet %d differs", i)
		}
	}
}

func TestDecodePacketsRejectsTruncation(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":         nil,
		"half a prefix": {0},
		"short packet":  {0, 3, 0xF8, 1},
		"zero length":   {0, 0},
		"trailing byte": {0, 1, 0xF8, 7},
	} {
		if _, err := decodePackets(data); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestOpusPacketDuration(t *testing.T) {
	for _, tc := range []struct {
		packet []byte
		want   time.Duration
	}{
		{[]byte{31<<3 | 0}, 20 * time.Millisecond},    // CELT FB 20 ms, one frame
		{[]byte{15<<3 | 0}, 20 * time.Millisecond},    // Hybrid FB 20 ms
		{[]byte{13<<3 | 0}, 20 * time.Millisecond},    // Hybrid SWB 20 ms
		{[]byte{1<<3 | 0}, 20 * time.Millisecond},     // SILK NB 20 ms
		{[]byte{9<<3 | 0}, 20 * time.Millisecond},     // SILK WB 20 ms
		{[]byte{11<<3 | 0}, 60 * time.Millisecond},    // SILK WB 60 ms
		{[]byte{16<<3 | 0}, 2500 * time.Microsecond},  // CELT NB 2.5 ms
		{[]byte{30<<3 | 1}, 20 * time.Millisecond},    // CELT FB 10 ms, two frames
		{[]byte{31<<3 | 2}, 40 * time.Millisecond},    // two 20 ms frames
		{[]byte{18<<3 | 3, 3}, 30 * time.Millisecond}, // three 10 ms frames
	} {
		got, err := opusPacketDuration(tc.packet)
		if err != nil || got != tc.want {
			t.Errorf("opusPacketDuration(%08b) = %s, %v; want %s", tc.packet[0], got, err, tc.want)
		}
	}
	if err := checkFrames([][]byte{{31 << 3}, {30 << 3}}); err == nil {
		t.Error("checkFrames accepted a 10 ms packet")
	}
}

func TestParseRTP(t *testing.T) {
	header := []byte{0x80, 111, 0, 1, 0, 0, 0x03, 0xC0, 0, 0, 0, 2} // timestamp 960
	plain := append(append([]byte{}, header...), make([]byte, 50)...)
	// one-byte header extension (0xBEDE) of one word, as livekit-server sends for audio level
	ext := append(append([]byte{0x90}, header[1:]...), 0xBE, 0xDE, 0, 1, 0x10, 0x20, 0, 0)
	ext = append(ext, make([]byte, 3)...)
	// two CSRCs and 4 bytes of padding
	padded := append(append([]byte{0xA2}, header[1:]...), make([]byte, 8)...)
	padded = append(padded, make([]byte, 10)...)
	padded = append(padded, 0, 0, 0, 4)
	for name, tc := range map[string]struct {
		packet []byte
		want   int
		ok     bool
	}{
		"plain":     {plain, 50, true},
		"extension": {ext, 3, true},
		"padded":    {padded, 10, true},
		"short":     {header[:8], 0, false},
		"version 1": {append([]byte{0x40}, header[1:]...), 0, false},
	} {
		got, timestamp, ok := parseRTP(tc.packet)
		if got != tc.want || ok != tc.ok || (ok && timestamp != 960) {
			t.Errorf("%s: parseRTP = %d, %d, %v; want %d, 960, %v", name, got, timestamp, ok, tc.want, tc.ok)
		}
	}
}
