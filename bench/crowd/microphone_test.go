package main

import (
	"context"
	"sync"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4/pkg/media"
)

type recordingTrack struct {
	mu      sync.Mutex
	samples []media.Sample
	at      []time.Time
}

func (r *recordingTrack) WriteSample(s media.Sample, _ *lksdk.SampleWriteOptions) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, s)
	r.at = append(r.at, time.Now())
	return nil
}

func TestMicrophoneSaysTheClipBetweenSilence(t *testing.T) {
	track := &recordingTrack{}
	silence := [][]byte{{0xF8, 's'}}
	clip := [][]byte{{0xF8, 1}, {0xF8, 2}, {0xF8, 3}}
	mic := newMicrophone(track, silence)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := time.Now()
	go mic.run(ctx)

	time.Sleep(100 * time.Millisecond)
	saidAt, err := mic.say(ctx, clip, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()

	track.mu.Lock()
	defer track.mu.Unlock()
	var kinds []byte
	for _, s := range track.samples {
		kinds = append(kinds, s.Data[1])
		if s.Duration != frameDuration {
			t.Fatalf("sample lasts %s", s.Duration)
		}
	}
	// silence, the clip once and in order, silence again
	i := 0
	for i < len(kinds) && kinds[i] == 's' {
		i++
	}
	if i == 0 || i+3 >= len(kinds) || string(kinds[i:i+3]) != "\x01\x02\x03" || kinds[i+3] != 's' {
		t.Fatalf("packets sent: %q", kinds)
	}
	if last := track.at[i+2]; saidAt.Before(last) {
		t.Errorf("say returned %s, before the clip's last packet at %s", saidAt, last)
	}
	// real-time pace: one packet per 20 ms slot since the start (fewer only if this machine
	// stalled the goroutine), never faster, never two packets closer than minGap
	elapsed := track.at[len(track.at)-1].Sub(started)
	slots := int(elapsed/frameDuration) + 1
	if n := len(track.samples); n > slots || n < slots/2 {
		t.Errorf("%d packets in %s (%d slots)", n, elapsed, slots)
	}
	sent := 0
	for k, s := range track.samples {
		sent += 1 + int(s.PrevDroppedPackets)
		if k > 0 && track.at[k].Sub(track.at[k-1]) < minGap-time.Millisecond {
			t.Errorf("packets %d and %d only %s apart", k-1, k, track.at[k].Sub(track.at[k-1]))
		}
	}
	if sent < slots-1 || sent > slots {
		t.Errorf("packets and skipped slots add up to %d, want the %d slots", sent, slots)
	}
}
