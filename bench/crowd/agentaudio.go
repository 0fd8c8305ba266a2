// What a trainee hears of the AI caller, without decoding it: the agent's audio track is read as
// raw RTP packets, counted with their payload bytes. Speech is told from silence by size and
// continuity. Measured from this agent (livekit-agents' Opus encoder, with DTX): speech comes as
// runs of 20 ms packets of 58 to 150 bytes, mostly over 100; silence as a 1-byte packet and, every
// 400 ms, a lone 55-byte comfort-noise refresh, its RTP timestamp 400 ms after the packet before;
// and when the track starts or speech stops, about ten consecutive 53-55-byte packets before DTX
// sets in. Hence a size threshold above 55 bytes, and only packets that continue the audio.
package main

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// defaultSpeechBytes is -speech-bytes' default: above this agent's silence packets (55 bytes),
// below most of its speech packets.
const defaultSpeechBytes = 64

type agentAudio struct {
	speechBytes int
	saidAt      atomic.Int64 // UnixNano of the clip's last packet; 0 until then
	packets     atomic.Int64
	bytes       atomic.Int64
	speech      atomic.Int64  // speech packets received after saidAt
	repliedAt   atomic.Int64  // UnixNano of the first of them; 0 until then
	replied     chan struct{} // closed at the first of them
}

func newAgentAudio(speechBytes int) *agentAudio {
	return &agentAudio{speechBytes: speechBytes, replied: make(chan struct{})}
}

// continuousTicks is the most an RTP timestamp may advance (48 kHz clock) for a packet to count
// as continuing the audio before it: 60 ms, so that a packet or two lost does not break a run,
// while a DTX gap (400 ms) does.
const continuousTicks = 3 * 960

// listen reads the track until it closes (at hang-up, or when the agent unpublishes it). Reading
// is what lets the SDK release the packets; the payload is only measured.
func (a *agentAudio) listen(track *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	var clock rtpClock
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		if size, timestamp, ok := parseRTP(buf[:n]); ok {
			a.count(size, clock.continues(timestamp))
		}
	}
}

// count adds a packet of size payload bytes; continuous says whether it follows the packet
// before without a gap.
func (a *agentAudio) count(size int, continuous bool) {
	a.packets.Add(1)
	a.bytes.Add(int64(size))
	if size > a.speechBytes && continuous {
		if said, now := a.saidAt.Load(), time.Now().UnixNano(); said != 0 && now > said {
			if a.speech.Add(1) == 1 {
				a.repliedAt.Store(now)
				close(a.replied)
			}
		}
	}
}

// rtpClock follows one track's RTP timestamps.
type rtpClock struct {
	previous uint32
	started  bool
}

// continues tells whether a packet stamped timestamp comes 1 to continuousTicks after the one
// before (in RTP's wrapping arithmetic).
func (c *rtpClock) continues(timestamp uint32) bool {
	continuous := c.started && timestamp-c.previous-1 < continuousTicks
	c.previous, c.started = timestamp, true
	return continuous
}

func (a *agentAudio) said(at time.Time) {
	a.saidAt.Store(at.UnixNano())
}

// replyDelay is the time from the end of the trainee's clip to the first speech packet of the
// caller after it, and false while there is none.
func (a *agentAudio) replyDelay() (time.Duration, bool) {
	said, replied := a.saidAt.Load(), a.repliedAt.Load()
	if said == 0 || replied == 0 {
		return 0, false
	}
	return time.Duration(replied - said), true
}

// parseRTP returns an RTP packet's payload length (what follows the fixed header, the CSRC list
// and the header extension, less any padding) and its timestamp (RFC 3550, 5.1 and 5.3.1).
func parseRTP(p []byte) (size int, timestamp uint32, ok bool) {
	if len(p) < 12 || p[0]>>6 != 2 {
		return 0, 0, false
	}
	header := 12 + 4*int(p[0]&0x0F)
	if p[0]&0x10 != 0 {
		if len(p) < header+4 {
			return 0, 0, false
		}
		header += 4 + 4*int(binary.BigEndian.Uint16(p[header+2:]))
	}
	size = len(p) - header
	if p[0]&0x20 != 0 && size > 0 {
		size -= int(p[len(p)-1])
	}
	if size < 0 {
		return 0, 0, false
	}
	return size, binary.BigEndian.Uint32(p[4:]), true
}
