// One trainee's call, as the browser makes it: ask the token service for a token, join the room,
// publish the microphone, wait for the agent's `session.id` and for it to listen, wait for every
// other call of the run, say the clip, stay for the reply, hang up. Every wait has a deadline and
// a failure says what never came.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

const (
	userIDHeader = "x-user-id"
	tokenPath    = "/api/livekit/token"
)

// opusCapability is Opus as WebRTC negotiates it: 48 kHz, two channels in the SDP even for mono.
var opusCapability = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}

// callResult is a call's JSON line. Times are from the trainee's click (the token request) and
// from joining (ConnectToRoomWithToken returned); a failed call carries what it got so far.
type callResult struct {
	I                           int     `json:"i"`
	OK                          bool    `json:"ok"`
	Error                       string  `json:"error"`
	RoomName                    string  `json:"roomName"`
	SessionID                   string  `json:"sessionId"`
	ClickToJoinMs               float64 `json:"clickToJoinMs"`
	JoinToSessionIDMs           float64 `json:"joinToSessionIdMs"`
	ClickToSessionIDMs          float64 `json:"clickToSessionIdMs"`
	JoinToListeningMs           float64 `json:"joinToListeningMs"`
	LiveS                       float64 `json:"liveS"`
	AgentPackets                int64   `json:"agentPackets"`
	AgentBytes                  int64   `json:"agentBytes"`
	AgentSpeechPacketsAfterSaid int64   `json:"agentSpeechPacketsAfterSaid"`
	SaidToReplyMs               float64 `json:"saidToReplyMs"` // 0: no reply heard
}

// tokenResponse is training_contracts.TokenResponse.
type tokenResponse struct {
	Token     string `json:"token"`
	ServerURL string `json:"serverUrl"`
	RoomName  string `json:"roomName"`
}

// runCall makes call i after its arrival delay and reports it.
func runCall(ctx context.Context, i int, cfg *config, client *http.Client, all *barrier) callResult {
	c := &call{
		i:      i,
		cfg:    cfg,
		client: client,
		all:    all,
		agent:  newAgentWatch(),
		heard:  newAgentAudio(cfg.speechBytes),
		result: callResult{I: i},
	}
	arrival := time.NewTimer(seconds(float64(i) / cfg.arrivalsPerS))
	defer arrival.Stop()
	select {
	case <-arrival.C:
		if err := c.run(ctx); err != nil {
			c.result.Error = err.Error()
		} else {
			c.result.OK = true
		}
	case <-ctx.Done():
		c.result.Error = "interrupted before the call started"
	}
	c.result.AgentPackets = c.heard.packets.Load()
	c.result.AgentBytes = c.heard.bytes.Load()
	c.result.AgentSpeechPacketsAfterSaid = c.heard.speech.Load()
	if delay, ok := c.heard.replyDelay(); ok {
		c.result.SaidToReplyMs = ms(delay)
	}
	return c.result
}

type call struct {
	i      int
	cfg    *config
	client *http.Client
	all    *barrier
	agent  *agentWatch
	heard  *agentAudio
	result callResult
}

func (c *call) run(ctx context.Context) error {
	cfg, res := c.cfg, &c.result
	clickAt := time.Now()
	token, err := c.fetchToken(ctx, cfg.users[c.i%len(cfg.users)])
	if err != nil {
		return err
	}
	res.RoomName = token.RoomName

	room, err := lksdk.ConnectToRoomWithToken(token.ServerURL, token.Token, c.callbacks(),
		lksdk.WithConnectTimeout(cfg.timeout))
	if err != nil {
		return fmt.Errorf("cannot join room %s: %w", token.RoomName, err)
	}
	joinedAt := time.Now()
	res.ClickToJoinMs = ms(joinedAt.Sub(clickAt))
	micCtx, stopMic := context.WithCancel(ctx)
	defer func() {
		// Hang up, whatever happened.
		hungUpAt := time.Now()
		stopMic()
		room.Disconnect()
		res.LiveS = math.Round(hungUpAt.Sub(joinedAt).Seconds()*1000) / 1000
	}()
	for _, p := range room.GetRemoteParticipants() {
		c.agent.observe(p) // an agent already in the room, its attributes already set
	}

	track, err := lksdk.NewLocalSampleTrack(opusCapability)
	if err != nil {
		return fmt.Errorf("cannot create the microphone track: %w", err)
	}
	if _, err := room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{
		Name:   "microphone",
		Source: livekit.TrackSource_MICROPHONE,
	}); err != nil {
		return fmt.Errorf("cannot publish the microphone: %w", err)
	}
	mic := newMicrophone(track, cfg.silence)
	go mic.run(micCtx)

	sessionID, sessionAt, err := c.agent.waitSessionID(ctx, cfg.timeout)
	if err != nil {
		return err
	}
	res.SessionID = sessionID
	res.JoinToSessionIDMs = ms(max(0, sessionAt.Sub(joinedAt)))
	res.ClickToSessionIDMs = ms(sessionAt.Sub(clickAt))

	listeningAt, err := c.agent.waitListening(ctx, cfg.timeout)
	if err != nil {
		return err
	}
	res.JoinToListeningMs = ms(max(0, listeningAt.Sub(joinedAt)))

	// The calls after this one may still be arriving: the wait allows for their arrival too.
	later := seconds(float64(cfg.calls-1-c.i) / cfg.arrivalsPerS)
	if err := c.all.wait(ctx, cfg.timeout+later); err != nil {
		return err
	}
	saidAt, err := mic.say(ctx, cfg.clip, cfg.timeout)
	if err != nil {
		return err
	}
	c.heard.said(saidAt)
	if err := c.waitForReply(ctx); err != nil {
		return err
	}
	// Hear the reply out, so that it is whole in the transcript when the call ends.
	stay := time.NewTimer(cfg.replyStay)
	defer stay.Stop()
	select {
	case <-stay.C:
	case <-ctx.Done():
		return fmt.Errorf("interrupted while hearing the reply: %w", ctx.Err())
	}
	return nil
}

// waitForReply waits for the caller's first speech packet after the clip; the agent leaving or
// the room closing first fails the call at once.
func (c *call) waitForReply(ctx context.Context) error {
	timer := time.NewTimer(c.cfg.timeout)
	defer timer.Stop()
	for {
		if gone := c.agent.goneReason(); gone != "" {
			return fmt.Errorf("%s before the caller replied", gone)
		}
		select {
		case <-c.heard.replied:
			return nil
		case <-c.agent.changed:
		case <-timer.C:
			return fmt.Errorf("no reply from the caller within %s of the end of the clip", c.cfg.timeout)
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for the reply: %w", ctx.Err())
		}
	}
}

// callbacks wires the SDK's room events to the call: the agent's attributes and departure, the
// room's disconnection, and the agent's audio track.
func (c *call) callbacks() *lksdk.RoomCallback {
	cb := lksdk.NewRoomCallback()
	cb.OnParticipantConnected = c.agent.observe
	cb.OnParticipantDisconnected = c.agent.left
	cb.OnDisconnectedWithReason = c.agent.disconnected
	cb.OnAttributesChanged = func(_ map[string]string, p lksdk.Participant) {
		if rp, ok := p.(*lksdk.RemoteParticipant); ok {
			c.agent.observe(rp)
		}
	}
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		if track.Kind() == webrtc.RTPCodecTypeAudio && rp.Kind() == lksdk.ParticipantAgent {
			go c.heard.listen(track)
		}
	}
	return cb
}

// fetchToken is `POST /api/livekit/token` as the frontend sends it for free practice.
func (c *call) fetchToken(ctx context.Context, userID string) (*tokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.tokenService+tokenPath,
		strings.NewReader("{}"))
	if err != nil {
		return nil, err
	}
	req.Header.Set(userIDHeader, userID)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token request failed: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("token request: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("token request answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var token tokenResponse
	if err := json.Unmarshal(body, &token); err != nil {
		return nil, fmt.Errorf("token request: undecodable answer: %w", err)
	}
	if token.Token == "" || token.ServerURL == "" {
		return nil, fmt.Errorf("token request: the answer lacks token or serverUrl (%d bytes)", len(body))
	}
	return &token, nil
}

// ms is a duration in milliseconds, to 0.1 ms.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/1e5) / 10
}
