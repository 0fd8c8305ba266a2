import { Role } from "./contracts";
import type { Segment } from "./transcript";

/** The lines of the visit, with a divider after each caller whose line dropped (`drops` of them:
 * one shows as soon as the line drops; a new caller's lines come after it). */
export function Transcript({ segments, drops }: { segments: readonly Segment[]; drops: number }) {
  const calls = Array.from({ length: drops + 1 }, (_, call) => call);
  return (
    <section aria-label="Transcript">
      <h2>Transcript</h2>
      {segments.length === 0 ? <p className="muted">Nothing said yet.</p> : null}
      <ol className="transcript" data-testid="transcript">
        {calls.map((call) => [
          call > 0 ? (
            <li key={`divider-${call}`} className="divider" data-testid="transcript-divider" data-call={call}>
              The caller's line dropped here
            </li>
          ) : null,
          ...segments
            .filter((segment) => segment.call === call)
            .map((segment) => (
              <li
                key={segment.id}
                data-role={segment.role}
                data-segment-id={segment.id}
                data-final={segment.final}
                data-streams={segment.streams.length}
                data-call={segment.call}
                className={segment.role === Role.USER ? "you" : "caller"}
              >
                <span className="speaker">{segment.role === Role.USER ? "You" : "Caller"}</span>{" "}
                <span className="text">{segment.text}</span>
              </li>
            )),
        ])}
      </ol>
    </section>
  );
}
