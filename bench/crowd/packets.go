// The packet file: the Opus packets a trainee sends, encoded once ahead of the run so that the
// load generator never encodes audio. Each packet is prefixed by its length as 2 bytes big-endian;
// every packet is 20 ms of mono 48 kHz audio (checked from its TOC byte when read).
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// frameDuration is what each packet of a packet file holds, and the microphone's pace.
const frameDuration = 20 * time.Millisecond

// readPacketFile reads a whole packet file; every packet must be one 20 ms Opus packet.
func readPacketFile(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	packets, err := decodePackets(data)
	if err == nil {
		err = checkFrames(packets)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return packets, nil
}

// decodePackets splits a packet file's bytes into packets.
func decodePackets(data []byte) ([][]byte, error) {
	var packets [][]byte
	for off := 0; off < len(data); {
		if len(data)-off < 2 {
			return nil, fmt.Errorf("truncated length prefix at byte %d", off)
		}
		n := int(binary.BigEndian.Uint16(data[off:]))
		off += 2
		if n == 0 {
			return nil, fmt.Errorf("empty packet %d", len(packets))
		}
		if len(data)-off < n {
			return nil, fmt.Errorf("packet %d is cut off: %d of %d bytes", len(packets), len(data)-off, n)
		}
		packets = append(packets, data[off:off+n:off+n])
		off += n
	}
	if len(packets) == 0 {
		return nil, errors.New("no packets")
	}
	return packets, nil
}

// writePacketFile writes packets as a packet file.
func writePacketFile(path string, packets [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = encodePackets(w, packets)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func encodePackets(w io.Writer, packets [][]byte) error {
	var prefix [2]byte
	for i, p := range packets {
		if len(p) == 0 || len(p) > 0xFFFF {
			return fmt.Errorf("packet %d has %d bytes: a packet file holds 1 to 65535", i, len(p))
		}
		binary.BigEndian.PutUint16(prefix[:], uint16(len(p)))
		if _, err := w.Write(prefix[:]); err != nil {
			return err
		}
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// checkFrames fails unless every packet lasts frameDuration: the microphone sends one packet per
// 20 ms and stamps it so.
func checkFrames(packets [][]byte) error {
	if len(packets) == 0 {
		return errors.New("no audio packets")
	}
	for i, p := range packets {
		d, err := opusPacketDuration(p)
		if err != nil {
			return fmt.Errorf("packet %d: %w", i, err)
		}
		if d != frameDuration {
			return fmt.Errorf("packet %d lasts %s, not %s (encode with opusenc --framesize 20)",
				i, d, frameDuration)
		}
	}
	return nil
}

// opusFrameSizes are the frame durations of the 32 Opus configurations (RFC 6716, 3.1), in
// units of 2.5 ms: SILK 10/20/40/60 ms (configs 0-11), Hybrid 10/20 ms (12-15),
// CELT 2.5/5/10/20 ms (16-31).
var opusFrameSizes = [32]int{
	4, 8, 16, 24, 4, 8, 16, 24, 4, 8, 16, 24,
	4, 8, 4, 8,
	1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8,
}

// opusPacketDuration reads an Opus packet's duration from its TOC byte (and frame count byte).
func opusPacketDuration(p []byte) (time.Duration, error) {
	if len(p) == 0 {
		return 0, errors.New("empty Opus packet")
	}
	frames := 1
	switch p[0] & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0, errors.New("Opus packet with code 3 lacks its frame count")
		}
		frames = int(p[1] & 0x3F)
	}
	return time.Duration(frames*opusFrameSizes[p[0]>>3]) * 2500 * time.Microsecond, nil
}
