// Compiled by `make lint` (tsc --strict) against the generated export: the frontend's view of the
// contract. Each @ts-expect-error line must fail to compile, or tsc fails: the types are narrow.
import {
  AGENT_ATTRS,
  ATTEMPT_QUERY,
  RECORDING_ON,
  RECORDING_PATH,
  type AgentErrorCode,
  type ErrorBody,
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
