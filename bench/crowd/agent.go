// What a trainee sees of the AI caller: the agent participant's attributes (`session.id`, `error`,
// `lk.agent.state`), when each first appeared, and whether the agent or the room went away. The
// SDK reports them from its own goroutines; the call's goroutine waits on them with a deadline.
package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
)

// The agent's participant attributes this program reads (training_contracts and livekit-agents).
const (
	attrSessionID  = "session.id"
	attrError      = "error"
	attrAgentState = "lk.agent.state"
	stateListening = "listening"
	errAttrPrefix  = "the agent published error="
)

type agentWatch struct {
	mu          sync.Mutex
	identity    string
	attributes  map[string]string
	sessionAt   time.Time // session.id first seen non-empty
	errorAt     time.Time // error first seen non-empty
	listeningAt time.Time // lk.agent.state last became listening; zero while it is not
	gone        bool      // the agent left the room
	closed      string    // why the room disconnected, if it did
	changed     chan struct{}
}

func newAgentWatch() *agentWatch {
	return &agentWatch{changed: make(chan struct{}, 1)}
}

func (w *agentWatch) notify() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// observe records a remote participant's attributes if it is the agent (the first participant
// of kind AGENT in the room).
func (w *agentWatch) observe(p *lksdk.RemoteParticipant) {
	if p.Kind() != lksdk.ParticipantAgent {
		return
	}
	attributes := p.Attributes()
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.identity == "" {
		w.identity = p.Identity()
	} else if w.identity != p.Identity() {
		return
	}
	w.attributes = attributes
	if attributes[attrSessionID] != "" && w.sessionAt.IsZero() {
		w.sessionAt = now
	}
	if attributes[attrError] != "" && w.errorAt.IsZero() {
		w.errorAt = now
	}
	switch {
	case attributes[attrAgentState] != stateListening:
		w.listeningAt = time.Time{}
	case w.listeningAt.IsZero():
		w.listeningAt = now
	}
	w.notify()
}

func (w *agentWatch) left(p *lksdk.RemoteParticipant) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.identity != "" && p.Identity() == w.identity {
		w.gone = true
		w.notify()
	}
}

func (w *agentWatch) disconnected(reason lksdk.DisconnectionReason) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = string(reason)
	w.notify()
}

// waitSessionID waits for `session.id`; the agent publishing `error` first fails the call.
func (w *agentWatch) waitSessionID(ctx context.Context, timeout time.Duration) (string, time.Time, error) {
	var id string
	var at time.Time
	err := w.wait(ctx, timeout, "session.id", func() (bool, error) {
		if !w.errorAt.IsZero() && (w.sessionAt.IsZero() || w.errorAt.Before(w.sessionAt)) {
			return false, fmt.Errorf("%s%q", errAttrPrefix, w.attributes[attrError])
		}
		id, at = w.attributes[attrSessionID], w.sessionAt
		return !at.IsZero(), nil
	})
	return id, at, err
}

// waitListening waits until the agent's state is `listening` and returns since when it has been.
func (w *agentWatch) waitListening(ctx context.Context, timeout time.Duration) (time.Time, error) {
	var at time.Time
	err := w.wait(ctx, timeout, "listening agent", func() (bool, error) {
		if v := w.attributes[attrError]; v != "" {
			return false, fmt.Errorf("%s%q", errAttrPrefix, v)
		}
		at = w.listeningAt
		return !at.IsZero(), nil
	})
	return at, err
}

// wait calls ready (with w.mu held) at once and after every change until it is done or fails.
func (w *agentWatch) wait(ctx context.Context, timeout time.Duration, what string,
	ready func() (bool, error)) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		w.mu.Lock()
		done, err := ready()
		if err == nil && !done {
			if gone := w.goneReasonLocked(); gone != "" {
				err = fmt.Errorf("%s before the %s", gone, what)
			}
		}
		w.mu.Unlock()
		if err != nil || done {
			return err
		}
		select {
		case <-w.changed:
		case <-timer.C:
			return fmt.Errorf("no %s within %s (%s)", what, timeout, w.describe())
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for the %s: %w", what, ctx.Err())
		}
	}
}

// goneReason says why the call cannot go on (the agent left, the room disconnected), or "".
func (w *agentWatch) goneReason() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.goneReasonLocked()
}

func (w *agentWatch) goneReasonLocked() string {
	switch {
	case w.gone:
		return fmt.Sprintf("the agent %s left", w.identity)
	case w.closed != "":
		return fmt.Sprintf("the room disconnected (%s)", w.closed)
	}
	return ""
}

func (w *agentWatch) describe() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.identity == "" {
		return "no agent in the room"
	}
	return fmt.Sprintf("agent %s, attributes %v", w.identity, w.attributes)
}
