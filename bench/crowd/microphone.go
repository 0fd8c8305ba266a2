// The trainee's microphone: one pre-encoded 20 ms Opus packet every 20 ms at real-time pace, from
// joining to hanging up, like a browser's. Silence packets (looped) by default; the clip's packets
// in order when the call says it. Nothing is encoded here: this is what makes a trainee cheap.
package main

import (
	"context"
	"fmt"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4/pkg/media"
)

// sampleWriter is what the microphone needs of *lksdk.LocalSampleTrack.
type sampleWriter interface {
	WriteSample(sample media.Sample, opts *lksdk.SampleWriteOptions) error
}

type microphone struct {
	track   sampleWriter
	silence [][]byte
	says    chan utterance
}

// utterance is a clip to say; done receives the time its last packet was written.
type utterance struct {
	packets [][]byte
	done    chan time.Time
}

func newMicrophone(track sampleWriter, silence [][]byte) *microphone {
	return &microphone{track: track, silence: silence, says: make(chan utterance, 1)}
}

// minGap is the least time between two packets: a slot closer than that to the packet just sent
// (the goroutine woke up late) is skipped rather than sent in a burst.
const minGap = frameDuration / 2

// run writes packets until ctx ends. The schedule is absolute (start + k x 20 ms), so it does not
// drift; after a stall it skips the slots it missed instead of bursting to catch up, and tells
// the track how many it skipped so that the RTP timestamps keep to the wall clock. A clip is
// never cut: a stall delays the rest of it.
func (m *microphone) run(ctx context.Context) {
	var (
		clip    [][]byte
		done    chan time.Time
		next    = time.Now()
		silent  int                            // index of the next silence packet
		skipped uint16                         // slots missed before this packet
		timer   = time.NewTimer(frameDuration) // reset before every wait
	)
	defer timer.Stop()
	for {
		if clip == nil {
			select {
			case u := <-m.says:
				clip, done = u.packets, u.done
			default:
			}
		}
		var packet []byte
		if clip != nil {
			packet, clip = clip[0], clip[1:]
		} else {
			packet = m.silence[silent]
			silent = (silent + 1) % len(m.silence)
		}
		// Before the track is bound WriteSample drops the packet; a write error (the transport
		// closing at hang-up, a renegotiation) loses one packet, as a network would.
		_ = m.track.WriteSample(media.Sample{
			Data:               packet,
			Duration:           frameDuration,
			PrevDroppedPackets: skipped,
		}, nil)
		if done != nil && len(clip) == 0 {
			done <- time.Now()
			clip, done = nil, nil
		}

		next = next.Add(frameDuration)
		skipped = 0
		if ahead := time.Until(next); ahead < minGap {
			missed := (minGap-ahead)/frameDuration + 1
			next = next.Add(missed * frameDuration)
			skipped = uint16(min(missed, 1<<15))
		}
		timer.Reset(time.Until(next))
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
	}
}

// say plays packets once, after the packet being sent now, and returns when the last one was
// written. It fails if the microphone does not get through them within timeout past their length.
func (m *microphone) say(ctx context.Context, packets [][]byte, timeout time.Duration) (time.Time, error) {
	u := utterance{packets: packets, done: make(chan time.Time, 1)}
	limit := time.Duration(len(packets))*frameDuration + timeout
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case m.says <- u:
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("interrupted before saying the clip: %w", ctx.Err())
	}
	select {
	case at := <-u.done:
		return at, nil
	case <-timer.C:
		return time.Time{}, fmt.Errorf("the microphone did not get through the clip within %s", limit)
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("interrupted while saying the clip: %w", ctx.Err())
	}
}
