// Compiled by `make lint` (tsc --strict) against the generated export: the frontend's view of the
// contract. Each @ts-expect-error line must fail to compile, or tsc fails: the types are narrow.
import {
  AGENT_ATTRS,
  ATTEMPT_QUERY,
  RECORDING_ON,
  RECORDING_PATH,
  type AgentErrorCode,
  type CreateSessionRequest,
  type ErrorBody,
  type HealthStatus,
  type RoomNotice,
  type SessionView,
  type TokenRequest,
  type TokenResponse,
  type TranscriptBatch,
} from "../export/training-contracts";

export function sessionIdOf(attributes: Record<string, string>): string | undefined {
  return attributes[AGENT_ATTRS.SESSION_ID];
}

export function isRecorded(attributes: Record<string, string>): boolean {
  return attributes[AGENT_ATTRS.RECORDING] === RECORDING_ON;
}

export function recordingUrl(sessionId: string, attempt: number): string {
  return `${RECORDING_PATH.replace("{session_id}", sessionId)}?${ATTEMPT_QUERY}=${attempt}`;
}

export function shouldRetryEvaluation(status: number, body: ErrorBody): boolean {
  return status === 409 && body.error.code === "transcript_pending";
}

export const freePractice: TokenRequest = {};
export const assigned: TokenRequest = { assignmentId: "9c0e7b21-0000-4000-8000-000000000002" };
// A page's "nothing chosen" may be null: the service reads it as the id left out.
export const nothingChosen: TokenRequest = { assignmentId: null, scenarioId: null };

// @ts-expect-error: an id is a string (or null), not a number
export const numericId: TokenRequest = { scenarioId: 42 };

export function roomOf(response: TokenResponse): string {
  return response.roomName;
}

export function lastTurn(session: SessionView): string | undefined {
  return session.turns.at(-1)?.content;
}

export const batch: TranscriptBatch = {
  turns: [{ role: "assistant", content: "Hello?", turnOrder: 1 }],
  final: true,
};

// @ts-expect-error: not one of the codes the agent may publish
export const unknownCode: AgentErrorCode = "something_else";

// @ts-expect-error: turnOrder is required
export const missingOrder: TranscriptBatch = { turns: [{ role: "user", content: "hi" }] };

// @ts-expect-error: roles are user | assistant
export const badRole: TranscriptBatch = { turns: [{ role: "system", content: "x", turnOrder: 1 }] };

export const assignmentSession: CreateSessionRequest = {
  type: "assignment",
  userId: "0d5f3c9e-1b2a-4c8d-9e7f-000000000001",
  assignmentId: "a55e4b1c-7d2e-4f3a-8b9c-000000000001",
};
export const freePracticeSession: CreateSessionRequest = {
  type: "free_practice",
  userId: "0d5f3c9e-1b2a-4c8d-9e7f-000000000001",
};

export function assignmentOf(request: CreateSessionRequest): string | undefined {
  // The tag narrows the union: only the assignment shape has an assignment id to read.
  return request.type === "assignment" ? request.assignmentId : undefined;
}

export const healthy: HealthStatus = { status: "ok" };

// @ts-expect-error: an assignment session needs assignmentId
export const assignmentWithoutId: CreateSessionRequest = { type: "assignment", userId: "u" };

// @ts-expect-error: free practice has no assignment
export const practiceWithAssignment: CreateSessionRequest = {
  type: "free_practice",
  userId: "u",
  assignmentId: "a55e4b1c-7d2e-4f3a-8b9c-000000000001",
};

export const identityUnknown: AgentErrorCode = "user_or_assignment_not_found";
/** What the page shows while the token service looks for a caller (training_contracts.rooms). */
export function callerMessage(roomMetadata: string): string | undefined {
  if (!roomMetadata) return undefined;
  const notice = JSON.parse(roomMetadata) as RoomNotice;
  return notice.caller === "unavailable"
    ? "No caller is available right now. Please try again in a few minutes."
    : "Connecting you to a caller…";
}

// @ts-expect-error: not a caller status
export const badNotice: RoomNotice = { caller: "gone" };
