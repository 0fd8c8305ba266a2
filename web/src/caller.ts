// The watch for the caller, as the contract's frontend guide says
// (contracts/src/training_contracts/rooms.py): the agent's `session.id` / `error` attributes, the
// token service's notice in the room's metadata, the caller's line dropping, and the page's own
// no-caller bound for a room nobody else watches.
import { useVoiceAssistant } from "@livekit/components-react";
import {
  ConnectionState,
  ParticipantKind,
  RoomEvent,
  type RemoteParticipant,
  type Room,
} from "livekit-client";
import { useCallback, useEffect, useState } from "react";
import { AGENT_ATTRS, CallerStatus, type RoomNotice } from "./contracts";

const CALLER_STATUSES: readonly string[] = Object.values(CallerStatus);

/** The room's metadata as the contract's RoomNotice; `null` when there is none (never set, or
 * cleared because the caller is back); `undefined`, with a warning, for metadata that is not a
 * notice this page understands (a status added after it was built, say): it changes nothing. */
export function decodeRoomNotice(metadata: string | undefined): RoomNotice | null | undefined {
  if (!metadata) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === "object" && parsed !== null && "caller" in parsed) {
    const caller = parsed.caller;
    if (typeof caller === "string" && CALLER_STATUSES.includes(caller)) {
      return { caller: caller as CallerStatus };
    }
  }
  console.warn(`room metadata is not a caller notice, ignored: ${metadata}`);
  return undefined;
}

interface NoticeState {
  notice: CallerStatus | undefined;
  /** A notice has come in this call: the token service follows the room, and the page follows
   * its notices instead of its own bound. */
  watched: boolean;
}

function useRoomNotice(room: Room): NoticeState {
  const [state, setState] = useState<NoticeState>({ notice: undefined, watched: false });
  useEffect(() => {
    const take = (metadata: string | undefined) => {
      const notice = decodeRoomNotice(metadata);
      if (notice === undefined) return;
      setState((previous) => ({
        notice: notice?.caller,
        watched: previous.watched || notice !== null,
      }));
    };
    const onConnected = () => take(room.metadata);
    take(room.metadata);
    room.on(RoomEvent.Connected, onConnected).on(RoomEvent.RoomMetadataChanged, take);
    return () => {
      room.off(RoomEvent.Connected, onConnected).off(RoomEvent.RoomMetadataChanged, take);
    };
  }, [room]);
  return state;
}

/** Calls `onDropped` with the identity of an agent participant that left while the trainee is
 * connected, unless it said why (`error`: it ended the call itself). livekit-client also reports
 * every participant gone when it restarts the connection, just before it says it is reconnecting:
 * the state is read once that has happened, so a reconnect is not taken for a dropped line. */
function useDroppedLine(room: Room, onDropped: (identity: string) => void): void {
  useEffect(() => {
    const left = (participant: RemoteParticipant) => {
      if (participant.kind !== ParticipantKind.AGENT) return;
      if (participant.attributes[AGENT_ATTRS.ERROR]) return;
      queueMicrotask(() => {
        if (room.state === ConnectionState.Connected) onDropped(participant.identity);
      });
    };
    room.on(RoomEvent.ParticipantDisconnected, left);
    return () => {
      room.off(RoomEvent.ParticipantDisconnected, left);
    };
  }, [room, onDropped]);
}

export type CallerLine =
  | "connecting" // no caller has said how the call goes yet
  | "dropped" // the caller's line dropped; a new one is on its way
  | "in-call";

export interface CallerWatch {
  line: CallerLine;
  notice: CallerStatus | undefined;
  sessionId: string | undefined;
}

export interface CallerEvents {
  /** A caller joined and published `session.id` (each caller once: a new caller after a dropped
   * line may carry the same session, the assignment's next attempt). */
  onCaller: (identity: string, sessionId: string) => void;
  onDropped: (identity: string) => void;
  onAgentError: (code: string) => void;
  /** The token service gave up: no caller is coming. */
  onUnavailable: () => void;
  /** The page's own bound ran out in a room no notice came for. */
  onNoCaller: () => void;
}

export function useCallerWatch(
  room: Room,
  noCallerTimeoutMs: number,
  events: CallerEvents,
): CallerWatch {
  const { onCaller, onDropped, onAgentError, onUnavailable, onNoCaller } = events;
  const { agent, agentAttributes } = useVoiceAssistant();
  const { notice, watched } = useRoomNotice(room);
  const [dropped, setDropped] = useState(false);

  const identity = agent?.identity;
  const sessionId = agentAttributes?.[AGENT_ATTRS.SESSION_ID];
  const agentError = agentAttributes?.[AGENT_ATTRS.ERROR];
  const waiting = !(sessionId || agentError);

  const lineDropped = useCallback(
    (gone: string) => {
      setDropped(true);
      onDropped(gone);
    },
    [onDropped],
  );
  useDroppedLine(room, lineDropped);

  useEffect(() => {
    if (identity && sessionId) {
      setDropped(false);
      onCaller(identity, sessionId);
    }
  }, [identity, sessionId, onCaller]);

  useEffect(() => {
    if (agentError) onAgentError(agentError);
  }, [agentError, onAgentError]);

  // A caller on the line contradicts the notice: its joining clears it.
  useEffect(() => {
    if (waiting && notice === CallerStatus.UNAVAILABLE) onUnavailable();
  }, [waiting, notice, onUnavailable]);

  // The bound runs from joining, and again from a dropped line, until a caller says how the call
  // goes ahead (`session.id`) or why it cannot (`error`). Once the token service has sent a
  // notice it re-dials and says when to give up, so the bound only ends a wait nobody watches.
  useEffect(() => {
    if (!waiting || watched) return;
    const timer = setTimeout(onNoCaller, noCallerTimeoutMs);
    return () => clearTimeout(timer);
  }, [waiting, watched, noCallerTimeoutMs, onNoCaller]);

  return {
    line: !waiting ? "in-call" : dropped ? "dropped" : "connecting",
    notice,
    sessionId,
  };
}
