// Inside <LiveKitRoom>: the caller's state, the live transcript, mute and hang-up, and what the
// page says about its caller (caller.ts watches for it).
import {
  BarVisualizer,
  useConnectionState,
  useLocalParticipant,
  useRoomContext,
  useTrackVolume,
  useTranscriptions,
  useVoiceAssistant,
} from "@livekit/components-react";
import { useEffect, useRef, useState } from "react";
import { useCallerWatch, type CallerEvents } from "./caller";
import { CALLER_MESSAGES } from "./messages";
import { mergeSegments, type Segment } from "./transcript";

export interface CallPanelProps {
  noCallerTimeoutMs: number;
  caller: CallerEvents;
  /** Lines dropped so far in this visit: the transcript's new lines belong to caller `drops`. */
  drops: number;
  onTranscript: (update: (previous: readonly Segment[]) => readonly Segment[]) => void;
  onCallerPeak: (peak: number) => void;
}

export function CallPanel(props: CallPanelProps) {
  const { noCallerTimeoutMs, caller, drops, onTranscript, onCallerPeak } = props;
  const room = useRoomContext();
  const connection = useConnectionState();
  const { state: callerState, audioTrack } = useVoiceAssistant();
  const { line, notice, sessionId } = useCallerWatch(room, noCallerTimeoutMs, caller);
  const { localParticipant, isMicrophoneEnabled } = useLocalParticipant();
  const transcriptions = useTranscriptions();
  const volume = useTrackVolume(audioTrack);
  const peak = useRef(0);
  const [muteBusy, setMuteBusy] = useState(false);

  useEffect(() => {
    onTranscript((previous) =>
      mergeSegments(previous, transcriptions, localParticipant.identity, drops),
    );
  }, [transcriptions, localParticipant.identity, drops, onTranscript]);

  useEffect(() => {
    if (volume > peak.current) {
      peak.current = volume;
      onCallerPeak(volume);
    }
  }, [volume, onCallerPeak]);

  const toggleMute = async () => {
    setMuteBusy(true);
    try {
      await localParticipant.setMicrophoneEnabled(!isMicrophoneEnabled);
    } finally {
      setMuteBusy(false);
    }
  };

  return (
    <section className="call" aria-label="Call">
      {line === "in-call" ? null : (
        <p className="notice" role="status" data-testid="caller-line" data-line={line} data-notice={notice ?? ""}>
          {CALLER_MESSAGES[line]}
        </p>
      )}
      <dl className="status">
        <dt>Connection</dt>
        <dd data-testid="connection-state" data-state={connection}>
          {connection}
        </dd>
        <dt>Caller</dt>
        <dd data-testid="caller-state" data-state={callerState}>
          {callerState}
        </dd>
        <dt>Session</dt>
        <dd data-testid="session-id">{sessionId ?? "waiting for the caller…"}</dd>
      </dl>
      <div className="visualizer" data-testid="caller-level" data-level={volume.toFixed(3)}>
        <BarVisualizer state={callerState} track={audioTrack} barCount={7} />
      </div>
      <div className="controls">
        <button
          type="button"
          data-testid="mute"
          data-muted={!isMicrophoneEnabled}
          disabled={muteBusy}
          onClick={() => void toggleMute()}
        >
          {isMicrophoneEnabled ? "Mute" : "Unmute"}
        </button>
        <button type="button" data-testid="hang-up" onClick={() => void room.disconnect()}>
          Hang up
        </button>
      </div>
    </section>
  );
}
