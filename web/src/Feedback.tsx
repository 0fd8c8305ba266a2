// After hang-up: Get Feedback asks for the evaluation (retrying while the transcript is being
// stored) and ties every strength and improvement to the turns of the stored transcript. One per
// session: the call's, and that of a call whose caller's line dropped.
import { useState } from "react";
import { ApiError, EVALUATION_ATTEMPTS, type TokenServiceClient } from "./api";
import { Role, type Evaluation, type Observation, type TurnView } from "./contracts";
import { apiErrorMessage, CALLER_MESSAGES } from "./messages";

type State =
  | { kind: "idle" }
  | { kind: "pending"; attempt: number }
  | { kind: "done"; evaluation: Evaluation; turns: TurnView[] }
  | { kind: "failed"; message: string };

function Moments({ observation, turns }: { observation: Observation; turns: TurnView[] }) {
  const quoted = turns.filter((turn) => observation.turnOrders.includes(turn.turnOrder));
  return (
    <li>
      {observation.point}
      {quoted.length > 0 ? (
        <ul className="moments">
          {quoted.map((turn) => (
            <li key={turn.turnOrder} data-turn-order={turn.turnOrder}>
              <span className="muted">
                turn {turn.turnOrder}, {turn.role === Role.USER ? "you" : "caller"}:
              </span>{" "}
              “{turn.content}”
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

export interface FeedbackProps {
  client: TokenServiceClient;
  sessionId: string;
  /** Which attempt: `laterAttempts` before the session's current one (an assignment's dropped
   * call that a new caller carried on). Default 0: the current attempt. */
  laterAttempts?: number;
  title?: string;
  testId?: string;
}

export function Feedback({
  client,
  sessionId,
  laterAttempts = 0,
  title = "Feedback",
  testId = "feedback",
}: FeedbackProps) {
  const [state, setState] = useState<State>({ kind: "idle" });

  const getFeedback = async () => {
    setState({ kind: "pending", attempt: 1 });
    try {
      // Each caller after a dropped line began one attempt of the same session.
      const number =
        laterAttempts > 0 ? (await client.session(sessionId)).attempt - laterAttempts : undefined;
      const evaluation = await client.evaluation(
        sessionId,
        (attempt) => setState({ kind: "pending", attempt: attempt + 1 }),
        number,
      );
      const session = await client.session(sessionId);
      const turns = session.turns.filter((turn) => turn.attemptNumber === evaluation.attempt);
      setState({ kind: "done", evaluation, turns });
    } catch (error) {
      const message =
        error instanceof ApiError ? apiErrorMessage(error.code, error.message) : String(error);
      setState({ kind: "failed", message });
    }
  };

  return (
    <section aria-label={title} data-testid={testId} data-session-id={sessionId} data-state={state.kind}>
      <h2>{title}</h2>
      <button
        type="button"
        data-testid="get-feedback"
        disabled={state.kind === "pending"}
        onClick={() => void getFeedback()}
      >
        Get Feedback
      </button>
      {state.kind === "pending" ? (
        <p data-testid="feedback-pending">
          Saving the conversation and preparing feedback… (try {state.attempt} of {EVALUATION_ATTEMPTS})
        </p>
      ) : null}
      {state.kind === "failed" ? (
        <p className="error" role="alert" data-testid="feedback-error">
          {state.message}
        </p>
      ) : null}
      {state.kind === "done" ? (
        <div
          data-testid="evaluation"
          data-attempt={state.evaluation.attempt}
          data-cut-short={state.evaluation.cutShort === true}
        >
          {state.evaluation.cutShort ? (
            <p className="note" data-testid="cut-short">
              {CALLER_MESSAGES.cutShort}
            </p>
          ) : null}
          <p>
            Score <strong data-testid="score">{state.evaluation.overallScore}</strong> / 100 (attempt{" "}
            {state.evaluation.attempt})
          </p>
          <p>{state.evaluation.summary}</p>
          <h3>Strengths</h3>
          <ul data-testid="strengths">
            {state.evaluation.strengths.map((o, i) => (
              <Moments key={i} observation={o} turns={state.turns} />
            ))}
          </ul>
          <h3>To improve</h3>
          <ul data-testid="improvements">
            {state.evaluation.improvements.map((o, i) => (
              <Moments key={i} observation={o} turns={state.turns} />
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
