package main

import (
	"testing"
	"time"
)

// feed counts packets of the given sizes, stamped at the given milliseconds of a 48 kHz clock
// that starts near the wrap-around.
func feed(a *agentAudio, clock *rtpClock, packets [][2]int) {
	const start = 1<<32 - 48*300 // wraps 300 ms in
	for _, p := range packets {
		a.count(p[0], clock.continues(uint32(start+48*p[1])))
	}
}

// dtx is silence as this agent's encoder sends it: a comfort-noise refresh and a 1-byte packet
// every 400 ms.
func dtx(fromMs, n int) (packets [][2]int) {
	for k := range n {
		at := fromMs + 400*k
		packets = append(packets, [2]int{55, at}, [2]int{1, at + 20})
	}
	return packets
}

func TestAgentAudioCountsSpeechNotDTX(t *testing.T) {
	a := newAgentAudio(20)
	var clock rtpClock
	feed(a, &clock, dtx(0, 5)) // before the trainee spoke: not counted, whatever it is
	a.said(time.Now().Add(-time.Millisecond))
	feed(a, &clock, dtx(2000, 10))
	if got := a.speech.Load(); got != 0 {
		t.Fatalf("DTX silence counted as %d speech packets", got)
	}
	var speech [][2]int
	for k := range 60 { // 1.2 s of speech, one packet lost
		if k != 30 {
			speech = append(speech, [2]int{120, 6000 + 20*k})
		}
	}
	feed(a, &clock, speech)
	feed(a, &clock, dtx(7400, 3))
	// the first packet of the run follows a DTX gap; the lost one is not there
	if got := a.speech.Load(); got != 58 {
		t.Fatalf("counted %d speech packets, want 58", got)
	}
	if got, want := a.packets.Load(), int64(10+20+59+6); got != want {
		t.Fatalf("counted %d packets, want %d", got, want)
	}
	if delay, ok := a.replyDelay(); !ok || delay <= 0 || delay > time.Second {
		t.Fatalf("reply delay %v (%v), want the moment the first speech packet came", delay, ok)
	}
	select {
	case <-a.replied:
	default:
		t.Fatal("the reply was heard but not signalled")
	}
}

func TestAgentAudioIgnoresSilenceRuns(t *testing.T) {
	// the track starting (or speech ending): ten 20 ms packets of silence before DTX sets in
	a := newAgentAudio(defaultSpeechBytes)
	a.said(time.Now().Add(-time.Millisecond))
	var clock rtpClock
	var run [][2]int
	for k := range 10 {
		run = append(run, [2]int{53 + min(k, 2), 20 * k})
	}
	feed(a, &clock, append(run, dtx(400, 5)...))
	if got := a.speech.Load(); got != 0 {
		t.Fatalf("silence counted as %d speech packets", got)
	}
	if delay, ok := a.replyDelay(); ok {
		t.Fatalf("a reply heard %v after the clip in silence", delay)
	}
	select {
	case <-a.replied:
		t.Fatal("silence signalled as a reply")
	default:
	}
}
