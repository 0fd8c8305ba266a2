// Inside <LiveKitRoom>: the caller's state, the live transcript, mute and hang-up, and the watch
// for the agent's `session.id` / `error` attributes and for a caller who never arrives.
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
import { AGENT_ATTRS } from "./contracts";
import { mergeSegments, type Segment } from "./transcript";

export interface CallPanelProps {
  noCallerTimeoutMs: number;
  onSessionId: (sessionId: string) => void;
  onAgentError: (code: string) => void;
  onNoCaller: () => void;
  onTranscript: (update: (previous: readonly Segment[]) => readonly Segment[]) => void;
  onCallerPeak: (peak: number) => void;
}

export function CallPanel(props: CallPanelProps) {
  const { noCallerTimeoutMs, onSessionId, onAgentError, onNoCaller, onTranscript, onCallerPeak } =
    props;
  const room = useRoomContext();
  const connection = useConnectionState();
  const { state: callerState, audioTrack, agentAttributes } = useVoiceAssistant();
  const { localParticipant, isMicrophoneEnabled } = useLocalParticipant();
  const transcriptions = useTranscriptions();
  const volume = useTrackVolume(audioTrack);
  const peak = useRef(0);
  const [muteBusy, setMuteBusy] = useState(false);

  const sessionId = agentAttributes?.[AGENT_ATTRS.SESSION_ID];
  const agentError = agentAttributes?.[AGENT_ATTRS.ERROR];

  useEffect(() => {
    if (sessionId) onSessionId(sessionId);
  }, [sessionId, onSessionId]);

  useEffect(() => {
    if (agentError) onAgentError(agentError);
  }, [agentError, onAgentError]);

  // The bound runs from joining; the caller has arrived once it says either how the call goes
  // ahead (`session.id`) or why it cannot (`error`).
  useEffect(() => {
    if (sessionId || agentError) return;
    const timer = setTimeout(onNoCaller, noCallerTimeoutMs);
    return () => clearTimeout(timer);
  }, [sessionId, agentError, noCallerTimeoutMs, onNoCaller]);

  useEffect(() => {
    onTranscript((previous) => mergeSegments(previous, transcriptions, localParticipant.identity));
  }, [transcriptions, localParticipant.identity, onTranscript]);

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
