// Who practises and on what: a demo user (or a pasted user id), then free practice or one of the
// user's assignments, listed by GET ASSIGNMENTS_PATH.
import { useEffect, useState } from "react";
import { ApiError, TokenServiceClient } from "./api";
import type { AssignmentView } from "./contracts";
import { apiErrorMessage } from "./messages";

export type Choice = { kind: "free" } | { kind: "assignment"; assignmentId: string };

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUserId(value: string): boolean {
  return UUID_PATTERN.test(value.trim());
}

export interface PickerProps {
  tokenServiceUrl: string;
  demoUserIds: string[];
  userId: string;
  onUserId: (userId: string) => void;
  choice: Choice;
  onChoice: (choice: Choice) => void;
  /** An assignment named by the page's link; offered even when the list does not hold it. */
  linkedAssignmentId?: string;
  busy: boolean;
  onStart: () => void;
}

export function Picker(props: PickerProps) {
  const { tokenServiceUrl, demoUserIds, userId, onUserId, choice, onChoice, linkedAssignmentId } =
    props;
  const [assignments, setAssignments] = useState<AssignmentView[] | undefined>();
  const [listError, setListError] = useState<string | undefined>();
  const validUser = isUserId(userId);

  useEffect(() => {
    setAssignments(undefined);
    setListError(undefined);
    if (!validUser) return;
    let current = true;
    new TokenServiceClient(tokenServiceUrl, userId.trim())
      .assignments()
      .then((list) => current && setAssignments(list))
      .catch((error: unknown) => {
        if (!current) return;
        setListError(
          error instanceof ApiError ? apiErrorMessage(error.code, error.message) : String(error),
        );
      });
    return () => {
      current = false;
    };
  }, [tokenServiceUrl, userId, validUser]);

  const listed = assignments ?? [];
  const showLinked =
    linkedAssignmentId !== undefined && !listed.some((a) => a.id === linkedAssignmentId);
  const selected = (id: string) => choice.kind === "assignment" && choice.assignmentId === id;

  return (
    <section aria-label="Choose a training">
      <h2>1. Who is practising?</h2>
      <label>
        Demo trainee{" "}
        <select
          data-testid="demo-user"
          value={demoUserIds.includes(userId) ? userId : ""}
          onChange={(e) => onUserId(e.target.value)}
        >
          <option value="">(pasted id)</option>
          {demoUserIds.map((id, i) => (
            <option key={id} value={id}>
              Demo trainee {i + 1} ({id.slice(0, 8)})
            </option>
          ))}
        </select>
      </label>{" "}
      <label>
        or user id{" "}
        <input
          data-testid="user-id"
          size={38}
          value={userId}
          placeholder="00000000-0000-0000-0000-000000000000"
          onChange={(e) => onUserId(e.target.value)}
        />
      </label>
      {userId && !validUser ? <p className="error">A user id is a UUID.</p> : null}
      <h2>2. What?</h2>
      {listError ? (
        <p className="error" data-testid="assignments-error">
          {listError}
        </p>
      ) : null}
      <fieldset data-testid="choices" data-loaded={assignments !== undefined}>
        <label>
          <input
            type="radio"
            name="choice"
            data-testid="choice-free"
            checked={choice.kind === "free"}
            onChange={() => onChoice({ kind: "free" })}
          />{" "}
          Free practice (the default crisis caller)
        </label>
        {listed.map((a) => (
          <label key={a.id}>
            <input
              type="radio"
              name="choice"
              data-testid={`choice-${a.id}`}
              checked={selected(a.id)}
              onChange={() => onChoice({ kind: "assignment", assignmentId: a.id })}
            />{" "}
            {a.scenarioTitle}{" "}
            <span className="muted" data-testid={`attempts-${a.id}`}>
              ({a.attempts} {a.attempts === 1 ? "attempt" : "attempts"} so far, {a.status})
            </span>
          </label>
        ))}
        {showLinked ? (
          <label>
            <input
              type="radio"
              name="choice"
              data-testid={`choice-${linkedAssignmentId}`}
              checked={selected(linkedAssignmentId)}
              onChange={() => onChoice({ kind: "assignment", assignmentId: linkedAssignmentId })}
            />{" "}
            Assignment {linkedAssignmentId} (from the link)
          </label>
        ) : null}
      </fieldset>
      <button type="button" data-testid="start" disabled={!validUser || props.busy} onClick={props.onStart}>
        Start call
      </button>
    </section>
  );
}
