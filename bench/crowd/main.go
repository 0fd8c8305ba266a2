// Command crowd plays N simultaneous trainees against the voice backend for the concurrency
// benchmark, as cheaply as a load generator can: each trainee sends pre-encoded Opus packets as
// its microphone and counts, without decoding, the RTP packets of the AI caller's audio. A real
// trainee is a browser on another computer, so the load generator must not starve the agent
// worker it measures (the LiveKit Python SDK costs about 9% of a core per trainee).
//
//	crowd -token-service URL -users ID,ID,... -calls N -clip CLIP.packets -silence SILENCE.packets
//	crowd ogg2packets IN.opus OUT.packets
//
// The first form prints one JSON line per call as it ends, then {"done":true,...}; it exits 0 even
// when calls fail (the caller judges them) and non-zero only for bad arguments or files. The
// second turns an Ogg Opus file (opusenc --framesize 20) into the packet file the first one plays.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// config is one run's command line, validated.
type config struct {
	tokenService string
	users        []string
	calls        int
	arrivalsPerS float64
	clip         [][]byte
	silence      [][]byte
	replyStay    time.Duration
	timeout      time.Duration
	speechBytes  int
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("crowd: ")
	if len(os.Args) > 1 && os.Args[1] == "ogg2packets" {
		os.Exit(ogg2packets(os.Args[2:]))
	}
	os.Exit(crowd(os.Args[1:]))
}

// crowd runs every call and returns the exit code.
func crowd(args []string) int {
	cfg, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		log.Print(err)
		return 2
	}
	quietSDK()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	client := &http.Client{
		Timeout: cfg.timeout,
		Transport: &http.Transport{
			Proxy:               nil, // the token service is local: never an environment's proxy
			MaxIdleConnsPerHost: cfg.calls,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	out := &reporter{w: os.Stdout}
	all := newBarrier(cfg.calls)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
	)
	for i := range cfg.calls {
		wg.Go(func() {
			result := runCall(ctx, i, cfg, client, all)
			if !result.OK {
				all.abort(fmt.Errorf("call %d failed: %s", i, result.Error))
				mu.Lock()
				failed++
				mu.Unlock()
			}
			out.line(result)
		})
	}
	wg.Wait()
	out.line(summary{Done: true, Calls: cfg.calls, Failed: failed})
	return 0
}

// ogg2packets converts an Ogg Opus file into a packet file and returns the exit code.
func ogg2packets(args []string) int {
	if len(args) != 2 {
		log.Print("usage: crowd ogg2packets IN.opus OUT.packets")
		return 2
	}
	in, out := args[0], args[1]
	data, err := os.ReadFile(in)
	if err != nil {
		log.Print(err)
		return 1
	}
	packets, err := oggOpusPackets(data)
	if err == nil {
		err = checkFrames(packets)
	}
	if err != nil {
		log.Printf("%s: %v", in, err)
		return 1
	}
	if err := writePacketFile(out, packets); err != nil {
		log.Print(err)
		return 1
	}
	log.Printf("%s: %d packets (%s of audio) -> %s", in, len(packets),
		time.Duration(len(packets))*frameDuration, out)
	return 0
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("crowd", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: crowd -token-service URL -users ID,... -clip FILE -silence FILE [flags]\n"+
			"       crowd ogg2packets IN.opus OUT.packets\n\n")
		fs.PrintDefaults()
	}
	tokenService := fs.String("token-service", "", "token service base URL, e.g. http://127.0.0.1:8000")
	users := fs.String("users", "", "comma-separated user ids; call i is users[i % len(users)]")
	calls := fs.Int("calls", 1, "number of simultaneous calls")
	arrivals := fs.Float64("arrivals-per-s", 4, "calls starting per second (call i starts at i/rate)")
	clipPath := fs.String("clip", "", "packet file every call says once all calls are listening")
	silencePath := fs.String("silence", "", "packet file looped as the microphone's silence")
	replyStay := fs.Float64("reply-stay", 1.5, "seconds to stay once the caller's reply is heard")
	timeout := fs.Float64("timeout", 30, "seconds any one wait may take before the call fails")
	speechBytes := fs.Int("speech-bytes", defaultSpeechBytes,
		"agent packets with a larger payload, continuing the audio before them (not DTX), count as speech")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg := &config{
		tokenService: strings.TrimRight(*tokenService, "/"),
		calls:        *calls,
		arrivalsPerS: *arrivals,
		replyStay:    seconds(*replyStay),
		timeout:      seconds(*timeout),
		speechBytes:  *speechBytes,
	}
	for _, u := range strings.Split(*users, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.users = append(cfg.users, u)
		}
	}
	switch {
	case cfg.tokenService == "":
		return nil, errors.New("-token-service is required")
	case len(cfg.users) == 0:
		return nil, errors.New("-users needs at least one user id")
	case cfg.calls < 1:
		return nil, errors.New("-calls must be at least 1")
	case !(cfg.arrivalsPerS > 0):
		return nil, errors.New("-arrivals-per-s must be positive")
	case *replyStay < 0:
		return nil, errors.New("-reply-stay must not be negative")
	case !(*timeout > 0):
		return nil, errors.New("-timeout must be positive")
	case cfg.speechBytes < 0:
		return nil, errors.New("-speech-bytes must not be negative")
	case *clipPath == "" || *silencePath == "":
		return nil, errors.New("-clip and -silence are required")
	}
	var err error
	if cfg.clip, err = readPacketFile(*clipPath); err != nil {
		return nil, fmt.Errorf("-clip: %w", err)
	}
	if cfg.silence, err = readPacketFile(*silencePath); err != nil {
		return nil, fmt.Errorf("-silence: %w", err)
	}
	return cfg, nil
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}

// quietSDK keeps the SDK (and pion below it) to warnings and errors: its info logs per call and
// per track would cost CPU the agent worker should have. pion's ICE agent warns "Failed to ping
// without candidate pairs" several times while every connection is set up; a real ICE failure
// fails the join, and the call's line says so.
func quietSDK() {
	l, err := protoLogger.NewZapLogger(&protoLogger.Config{
		Level:           "warn",
		ComponentLevels: map[string]string{"pion.ice": "error"},
	})
	if err != nil {
		log.Printf("cannot quieten the LiveKit SDK's logging: %v", err)
		return
	}
	lksdk.SetLogger(l)
	protoLogger.SetLogger(l, "crowd")
}

// summary is the last line of a run.
type summary struct {
	Done   bool `json:"done"`
	Calls  int  `json:"calls"`
	Failed int  `json:"failed"`
}

// reporter writes whole JSON lines, one call at a time.
type reporter struct {
	mu sync.Mutex
	w  io.Writer
}

func (r *reporter) line(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Printf("cannot encode %#v: %v", v, err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.w.Write(append(b, '\n')); err != nil {
		log.Printf("cannot write the result: %v", err)
	}
}
