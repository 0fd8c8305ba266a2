// A timeline of one call's room events, shown under "Call log" and kept on `window.callLog` so a
// developer (or the browser suite) can see exactly what livekit-client delivered and when.
import { RoomEvent, type Participant, type Room, type TranscriptionSegment } from "livekit-client";

export interface LogEntry {
  /** Milliseconds since the call started. */
  atMs: number;
  event: string;
  detail: Record<string, unknown>;
}

declare global {
  interface Window {
    callLog?: LogEntry[];
  }
}

export class CallLog {
  readonly entries: LogEntry[] = [];
  private readonly started = performance.now();
  private readonly listeners = new Set<() => void>();

  add(event: string, detail: Record<string, unknown> = {}): void {
    this.entries.push({ atMs: Math.round(performance.now() - this.started), event, detail });
    for (const listener of this.listeners) listener();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records the events the frontend guide describes; attach before `connect`. */
  attach(room: Room): void {
    window.callLog = this.entries;
    const who = (p: Participant) => ({ identity: p.identity, kind: p.kind });
    room
      .on(RoomEvent.ConnectionStateChanged, (state) => this.add("connection", { state }))
      .on(RoomEvent.Connected, () =>
        this.add("connected", {
          metadata: room.metadata,
          remoteParticipants: [...room.remoteParticipants.values()].map((p) => ({
            ...who(p),
            attributes: { ...p.attributes },
          })),
        }),
      )
      .on(RoomEvent.ParticipantConnected, (p) =>
        this.add("participantConnected", { ...who(p), attributes: { ...p.attributes } }),
      )
      .on(RoomEvent.ParticipantAttributesChanged, (changed, p) =>
        this.add("attributesChanged", {
          ...who(p),
          changed: { ...changed },
          attributes: { ...p.attributes },
        }),
      )
      .on(RoomEvent.ParticipantDisconnected, (p, reason) =>
        this.add("participantDisconnected", { ...who(p), reason }),
      )
      .on(RoomEvent.RoomMetadataChanged, (metadata) => this.add("roomMetadata", { metadata }))
      .on(
        RoomEvent.TranscriptionReceived,
        (segments: TranscriptionSegment[], p?: Participant) =>
          this.add("legacyTranscription", {
            identity: p?.identity,
            segments: segments.map((s) => ({ id: s.id, final: s.final, text: s.text })),
          }),
      )
      .on(RoomEvent.Disconnected, (reason) => this.add("disconnected", { reason }));
  }
}
