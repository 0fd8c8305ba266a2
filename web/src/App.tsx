// The trainee's page, shaped as the Next.js application's VoiceTrainingView: choose, fetch a
// token, join the room with <LiveKitRoom>, follow the caller (its attributes, the token service's
// notices, a new caller after a dropped line), and after hang-up ask for feedback.
import { LiveKitRoom, RoomAudioRenderer, StartAudio } from "@livekit/components-react";
import { DisconnectReason, Room, type RoomConnectOptions } from "livekit-client";
import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError, TokenServiceClient } from "./api";
import { laterAttempts, withCaller, withDropped, type Attempt } from "./attempts";
import { CallLog, type LogEntry } from "./callLog";
import type { CallerEvents } from "./caller";
import { CallPanel } from "./CallPanel";
import type { RunConfig } from "./config";
import type { SessionView, TokenRequest, TokenResponse } from "./contracts";
import { Feedback } from "./Feedback";
import { agentErrorMessage, apiErrorMessage, CALLER_MESSAGES } from "./messages";
import { isUserId, Picker, type Choice } from "./Picker";
import { Transcript } from "./Transcript";
import type { Segment } from "./transcript";

type Outcome =
  | { kind: "hung-up" }
  | { kind: "disconnected"; reason: string }
  | { kind: "agent-error"; code: string }
  | { kind: "no-caller" }
  | { kind: "unavailable" }
  | { kind: "connect-failed"; message: string };

type Phase =
  | { kind: "setup" }
  | { kind: "starting" }
  | { kind: "call"; token: TokenResponse; room: Room }
  | { kind: "ended"; outcome: Outcome };

function outcomeMessage(outcome: Outcome, timeoutMs: number): string {
  switch (outcome.kind) {
    case "hung-up":
      return "You hung up.";
    case "disconnected":
      return `The call ended (${outcome.reason}).`;
    case "agent-error":
      return agentErrorMessage(outcome.code);
    case "no-caller":
      return `No caller joined within ${Math.round(timeoutMs / 1000)} seconds. The caller service may be busy or down.`;
    case "unavailable":
      return CALLER_MESSAGES.unavailable;
    case "connect-failed":
      return `Could not connect to the call: ${outcome.message}`;
  }
}

const RETRYABLE = new Set<Outcome["kind"]>(["agent-error", "no-caller", "unavailable", "connect-failed"]);

export function App({ config }: { config: RunConfig }) {
  const [userId, setUserId] = useState(config.userId ?? config.demoUserIds[0] ?? "");
  const [choice, setChoice] = useState<Choice>(
    config.assignmentId ? { kind: "assignment", assignmentId: config.assignmentId } : { kind: "free" },
  );
  const [phase, setPhase] = useState<Phase>({ kind: "setup" });
  const [startError, setStartError] = useState<
    { status: number; code: string; message: string } | undefined
  >();
  const [attempts, setAttempts] = useState<readonly Attempt[]>([]);
  const [session, setSession] = useState<SessionView | undefined>();
  const [segments, setSegments] = useState<readonly Segment[]>([]);
  const [callerPeak, setCallerPeak] = useState(0);
  const [log, setLog] = useState<CallLog | undefined>();
  const [logEntries, setLogEntries] = useState<LogEntry[]>([]);

  const client = useMemo(
    () => new TokenServiceClient(config.tokenServiceUrl, userId.trim()),
    [config.tokenServiceUrl, userId],
  );
  const connectOptions = useMemo<RoomConnectOptions>(
    () => (config.iceServers ? { rtcConfig: { iceServers: config.iceServers } } : {}),
    [config.iceServers],
  );

  useEffect(() => log?.subscribe(() => setLogEntries([...log.entries])), [log]);

  const start = async () => {
    const request: TokenRequest =
      choice.kind === "assignment" ? { assignmentId: choice.assignmentId } : {};
    setStartError(undefined);
    setAttempts([]);
    setSession(undefined);
    setSegments([]);
    setCallerPeak(0);
    setPhase({ kind: "starting" });
    try {
      const token = await client.token(request);
      const room = new Room();
      const callLog = new CallLog();
      callLog.attach(room);
      callLog.add("token", { roomName: token.roomName });
      setLog(callLog);
      setPhase({ kind: "call", token, room });
    } catch (error) {
      setStartError(
        error instanceof ApiError
          ? { status: error.status, code: error.code, message: apiErrorMessage(error.code, error.message) }
          : { status: 0, code: "", message: String(error) },
      );
      setPhase({ kind: "setup" });
    }
  };

  const end = useCallback((outcome: Outcome) => {
    setPhase((current) => (current.kind === "call" ? { kind: "ended", outcome } : current));
  }, []);

  const onCaller = useCallback(
    (identity: string, sessionId: string) => {
      setAttempts((previous) => withCaller(previous, identity, sessionId));
      client.session(sessionId).then(setSession, () => undefined);
    },
    [client],
  );
  const onDropped = useCallback(
    (identity: string) => setAttempts((previous) => withDropped(previous, identity)),
    [],
  );
  const onAgentError = useCallback((code: string) => end({ kind: "agent-error", code }), [end]);
  const onNoCaller = useCallback(() => end({ kind: "no-caller" }), [end]);
  const onUnavailable = useCallback(() => end({ kind: "unavailable" }), [end]);
  const caller = useMemo<CallerEvents>(
    () => ({ onCaller, onDropped, onAgentError, onUnavailable, onNoCaller }),
    [onCaller, onDropped, onAgentError, onUnavailable, onNoCaller],
  );
  const onDisconnected = useCallback(
    (reason?: DisconnectReason) =>
      end(
        reason === DisconnectReason.CLIENT_INITIATED
          ? { kind: "hung-up" }
          : { kind: "disconnected", reason: reason === undefined ? "unknown" : DisconnectReason[reason] },
      ),
    [end],
  );
  const onRoomError = useCallback(
    (error: Error) => end({ kind: "connect-failed", message: error.message }),
    [end],
  );
  const onCallerPeak = useCallback((peak: number) => setCallerPeak(peak), []);

  const current = attempts.at(-1);
  const droppedAttempts = attempts.filter((a) => a.dropped);
  const drops = droppedAttempts.length;

  const reset = () => {
    setPhase({ kind: "setup" });
    setLog(undefined);
    setLogEntries([]);
  };

  return (
    <main data-phase={phase.kind}>
      <h1>Practise a crisis call</h1>
      {phase.kind === "setup" || phase.kind === "starting" ? (
        <Picker
          tokenServiceUrl={config.tokenServiceUrl}
          demoUserIds={config.demoUserIds}
          userId={userId}
          onUserId={(id) => {
            setUserId(id);
            setChoice({ kind: "free" });
          }}
          choice={choice}
          onChoice={setChoice}
          linkedAssignmentId={config.assignmentId}
          busy={phase.kind === "starting" || !isUserId(userId)}
          onStart={() => void start()}
        />
      ) : null}
      {startError ? (
        <p className="error" role="alert" data-testid="start-error" data-status={startError.status} data-code={startError.code}>
          The call could not start: {startError.message}
        </p>
      ) : null}
      {phase.kind === "call" ? (
        <LiveKitRoom
          room={phase.room}
          token={phase.token.token}
          serverUrl={phase.token.serverUrl}
          connect
          audio
          video={false}
          connectOptions={connectOptions}
          onDisconnected={onDisconnected}
          onError={onRoomError}
        >
          <RoomAudioRenderer />
          <StartAudio label="Allow the caller's audio" />
          <CallPanel
            noCallerTimeoutMs={config.noCallerTimeoutMs}
            caller={caller}
            drops={drops}
            onTranscript={setSegments}
            onCallerPeak={onCallerPeak}
          />
        </LiveKitRoom>
      ) : null}
      {session ? (
        <p data-testid="attempt" data-attempt={session.attempt}>
          {session.type === "assignment" ? `Assignment, attempt ${session.attempt}` : "Free practice"}
        </p>
      ) : null}
      {phase.kind === "ended" ? (
        <section aria-label="Call ended" data-testid="ended" data-outcome={phase.outcome.kind}>
          <p
            className={phase.outcome.kind === "hung-up" ? "" : "error"}
            data-testid="outcome"
            data-code={phase.outcome.kind === "agent-error" ? phase.outcome.code : undefined}
            role="status"
          >
            {outcomeMessage(phase.outcome, config.noCallerTimeoutMs)}
          </p>
          {RETRYABLE.has(phase.outcome.kind) ? (
            <button type="button" data-testid="retry" onClick={() => void start()}>
              Try again
            </button>
          ) : null}{" "}
          <button type="button" data-testid="new-call" onClick={reset}>
            New call
          </button>
        </section>
      ) : null}
      {phase.kind !== "setup" || segments.length > 0 ? (
        <Transcript segments={segments} drops={drops} />
      ) : null}
      {phase.kind === "ended" && current && !current.dropped && !RETRYABLE.has(phase.outcome.kind) ? (
        <Feedback key={current.sessionId} client={client} sessionId={current.sessionId} />
      ) : null}
      {phase.kind === "ended"
        ? droppedAttempts.map((attempt) => (
            <Feedback
              key={attempt.callerIdentity}
              client={client}
              sessionId={attempt.sessionId}
              laterAttempts={laterAttempts(attempts, attempt)}
              title="Feedback on the dropped call"
              testId="feedback-dropped"
            />
          ))
        : null}
      <p className="muted" data-testid="caller-peak" data-peak={callerPeak.toFixed(3)}>
        Loudest caller audio so far: {(callerPeak * 100).toFixed(0)}%
      </p>
      {logEntries.length > 0 ? (
        <details>
          <summary>Call log</summary>
          <pre data-testid="call-log">{logEntries.map((e) => `${e.atMs} ms ${e.event} ${JSON.stringify(e.detail)}`).join("\n")}</pre>
        </details>
      ) : null}
    </main>
  );
}
