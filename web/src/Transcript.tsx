import { Role } from "./contracts";
import type { Segment } from "./transcript";

export function Transcript({ segments }: { segments: readonly Segment[] }) {
  return (
    <section aria-label="Transcript">
      <h2>Transcript</h2>
      {segments.length === 0 ? <p className="muted">Nothing said yet.</p> : null}
      <ol className="transcript" data-testid="transcript">
        {segments.map((segment) => (
          <li
            key={segment.id}
            data-role={segment.role}
            data-segment-id={segment.id}
            data-final={segment.final}
            data-streams={segment.streams.length}
            className={segment.role === Role.USER ? "you" : "caller"}
          >
            <span className="speaker">{segment.role === Role.USER ? "You" : "Caller"}</span>{" "}
            <span className="text">{segment.text}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
