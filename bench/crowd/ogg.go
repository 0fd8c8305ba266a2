// The Ogg Opus reader behind `crowd ogg2packets`: opusenc writes Ogg pages, the microphone wants
// bare Opus packets. An Ogg page's segment (lacing) table cuts its body into packets: a lacing
// value of 255 means the packet goes on in the next segment, anything less ends it, and a packet
// whose last segment is 255 goes on in the next page (flagged "continued"). RFC 3533 (Ogg),
// RFC 7845 (Opus in Ogg).
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	oggHeaderLen    = 27
	oggContinued    = 0x01
	oggBeginOfStrm  = 0x02
	oggEndOfStrm    = 0x04
	oggCRCOffset    = 22
	opusHeadMagic   = "OpusHead"
	opusTagsMagic   = "OpusTags"
	opusHeadMinSize = 19
)

// oggPage is one page, its body not yet cut into packets.
type oggPage struct {
	flags  byte
	serial uint32
	seq    uint32
	lacing []byte
	body   []byte
}

// oggOpusPackets returns the audio packets of an Ogg Opus file in order, without the OpusHead and
// OpusTags header packets. It follows the first logical stream, and the streams chained after it
// (each with its own headers); pages of other, multiplexed streams are skipped.
func oggOpusPackets(data []byte) ([][]byte, error) {
	var (
		audio    [][]byte
		serial   uint32
		nextSeq  uint32 // the page sequence number the stream's next page must have
		started  bool   // a stream is being read
		ended    bool   // ... and its end-of-stream page was seen
		inStream int    // packets completed in the current stream (0, 1 are headers)
		partial  []byte
		open     bool // partial holds the start of a packet continued on the next page
	)
	emit := func(p []byte) error {
		switch inStream++; inStream {
		case 1:
			if len(p) < opusHeadMinSize || !bytes.HasPrefix(p, []byte(opusHeadMagic)) {
				return errors.New("the stream's first packet is not an OpusHead: not Ogg Opus")
			}
			if channels := p[9]; channels != 1 {
				return fmt.Errorf("the stream has %d channels, not 1 (mono)", channels)
			}
		case 2:
			if !bytes.HasPrefix(p, []byte(opusTagsMagic)) {
				return errors.New("the stream's second packet is not an OpusTags")
			}
		default:
			if len(p) == 0 {
				return fmt.Errorf("audio packet %d is empty", len(audio))
			}
			audio = append(audio, p)
		}
		return nil
	}

	for off, n := 0, 0; off < len(data); n++ {
		page, size, err := parseOggPage(data[off:])
		if err != nil {
			return nil, fmt.Errorf("page %d at byte %d: %w", n, off, err)
		}
		off += size
		bos := page.flags&oggBeginOfStrm != 0
		switch {
		case !started:
			if !bos {
				return nil, fmt.Errorf("page %d: the first page does not begin a stream", n)
			}
			serial, started = page.serial, true
		case page.serial != serial:
			if !(bos && ended) {
				continue // another stream multiplexed with this one
			}
			serial, ended, inStream = page.serial, false, 0 // a chained stream
		case ended:
			return nil, fmt.Errorf("page %d: data after the end of the stream", n)
		case page.seq != nextSeq:
			return nil, fmt.Errorf("page %d: sequence number %d, expected %d (a page is missing)",
				n, page.seq, nextSeq)
		}
		nextSeq = page.seq + 1
		if continued := page.flags&oggContinued != 0; continued != open {
			if open {
				return nil, fmt.Errorf("page %d: a packet continued from the page before is missing", n)
			}
			return nil, fmt.Errorf("page %d: continues a packet that did not start", n)
		}
		body := page.body
		for _, lace := range page.lacing {
			partial = append(partial, body[:lace]...)
			body = body[lace:]
			open = lace == 255
			if !open {
				if err := emit(partial); err != nil {
					return nil, fmt.Errorf("page %d: %w", n, err)
				}
				partial = nil
			}
		}
		if page.flags&oggEndOfStrm != 0 {
			if open {
				return nil, fmt.Errorf("page %d: the stream ends inside a packet", n)
			}
			ended = true
		}
	}
	switch {
	case !started:
		return nil, errors.New("no Ogg pages")
	case open:
		return nil, errors.New("the file ends inside a packet (truncated)")
	case inStream < 2:
		return nil, errors.New("the file ends before the Opus headers")
	}
	return audio, nil
}

// parseOggPage reads the page at the start of data and returns it with its size in bytes.
func parseOggPage(data []byte) (oggPage, int, error) {
	if len(data) < oggHeaderLen {
		return oggPage{}, 0, errors.New("truncated page header")
	}
	if string(data[:4]) != "OggS" {
		return oggPage{}, 0, errors.New("no OggS capture pattern")
	}
	if data[4] != 0 {
		return oggPage{}, 0, fmt.Errorf("unknown Ogg version %d", data[4])
	}
	segments := int(data[26])
	headerLen := oggHeaderLen + segments
	if len(data) < headerLen {
		return oggPage{}, 0, errors.New("truncated segment table")
	}
	lacing := data[oggHeaderLen:headerLen]
	bodyLen := 0
	for _, l := range lacing {
		bodyLen += int(l)
	}
	size := headerLen + bodyLen
	if len(data) < size {
		return oggPage{}, 0, fmt.Errorf("truncated body: %d of %d bytes", len(data)-headerLen, bodyLen)
	}
	if want, got := binary.LittleEndian.Uint32(data[oggCRCOffset:]), oggPageCRC(data[:size]); want != got {
		return oggPage{}, 0, fmt.Errorf("bad checksum %08x, the page says %08x", got, want)
	}
	return oggPage{
		flags:  data[5],
		serial: binary.LittleEndian.Uint32(data[14:]),
		seq:    binary.LittleEndian.Uint32(data[18:]),
		lacing: lacing,
		body:   data[headerLen:size],
	}, size, nil
}

// oggCRCTable is for Ogg's CRC-32: polynomial 0x04C11DB7, most significant bit first, initial
// value 0, no final XOR.
var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04C11DB7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

func oggCRC(crc uint32, data []byte) uint32 {
	for _, b := range data {
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^b]
	}
	return crc
}

// oggPageCRC is the checksum of a whole page, computed with its checksum field as zeros.
func oggPageCRC(page []byte) uint32 {
	crc := oggCRC(0, page[:oggCRCOffset])
	crc = oggCRC(crc, []byte{0, 0, 0, 0})
	return oggCRC(crc, page[oggCRCOffset+4:])
}
