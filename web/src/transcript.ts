// The live transcript: one line per segment, however many updates a segment gets.
//
// livekit-client delivers transcription as `lk.transcription` text streams: the trainee's words as
// a new stream for every interim update of a segment (same `lk.segment_id`), the caller's as one
// stream written as it speaks; legacy TranscriptionReceived events may arrive too and are not used.
// useTranscriptions() already folds streams of one segment together, but forgets everything when
// the room disconnects; this keeps the segments after hang-up, so they are merged here by id.
import type { TextStreamData } from "@livekit/components-react";
import { Role } from "./contracts";

export const SEGMENT_ID_ATTRIBUTE = "lk.segment_id";
export const FINAL_ATTRIBUTE = "lk.transcription_final";

export interface Segment {
  id: string;
  role: Role;
  text: string;
  final: boolean;
  /** Distinct text streams seen for this segment (interim updates each open a new stream). */
  streams: string[];
  /** Which caller of the visit it was said with: 0, then one more after each dropped line. */
  call: number;
}

/** `previous` with `streams` folded in: new segments appended in arrival order as said with caller
 * `call`, known ones updated. Returns `previous` itself when nothing changed, so React skips the
 * render. */
export function mergeSegments(
  previous: readonly Segment[],
  streams: readonly TextStreamData[],
  localIdentity: string,
  call: number,
): readonly Segment[] {
  let next: Segment[] | undefined;
  for (const stream of streams) {
    const attributes = stream.streamInfo.attributes ?? {};
    const id = attributes[SEGMENT_ID_ATTRIBUTE] ?? stream.streamInfo.id;
    const final = attributes[FINAL_ATTRIBUTE] === "true";
    const list: readonly Segment[] = next ?? previous;
    const index = list.findIndex((segment) => segment.id === id);
    const known = index === -1 ? undefined : list[index];
    const streamIds =
      known === undefined
        ? [stream.streamInfo.id]
        : known.streams.includes(stream.streamInfo.id)
          ? known.streams
          : [...known.streams, stream.streamInfo.id];
    const segment: Segment = {
      id,
      role: stream.participantInfo.identity === localIdentity ? Role.USER : Role.ASSISTANT,
      text: stream.text,
      final: final || (known?.final ?? false),
      streams: streamIds,
      call: known?.call ?? call,
    };
    if (
      known !== undefined &&
      known.text === segment.text &&
      known.final === segment.final &&
      known.streams === segment.streams
    ) {
      continue;
    }
    next = next ?? [...previous];
    if (index === -1) next.push(segment);
    else next[index] = segment;
  }
  return next ?? previous;
}
