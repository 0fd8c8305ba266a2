// What the trainee reads when something goes wrong: every code the backend may send, in words.
import { AgentErrorCode, ApiErrorCode } from "./contracts";

const AGENT_MESSAGES: Record<AgentErrorCode, string> = {
  [AgentErrorCode.INVALID_METADATA]:
    "The call could not start: the training request was not understood. Please start the call again from this page.",
  [AgentErrorCode.UNSUPPORTED_VERSION]:
    "The call could not start: this page is newer or older than the caller service. Reload the page and try again.",
  [AgentErrorCode.SCENARIO_NOT_FOUND]:
    "The call could not start: this training scenario no longer exists. Ask your supervisor to check the assignment.",
  [AgentErrorCode.SCENARIO_UNAVAILABLE]:
    "The call could not start: the scenario could not be loaded right now. Please try again in a minute.",
  [AgentErrorCode.SESSION_CREATE_FAILED]:
    "The call could not start: your training session could not be created, so nothing would be saved. Please try again in a minute.",
  [AgentErrorCode.AGENT_FAILED]:
    "The caller ran into a problem and had to end the call. Please try again.",
  [AgentErrorCode.USER_OR_ASSIGNMENT_NOT_FOUND]:
    "The call could not start: your account or this assignment is not known to the training service. Sign in again, or ask your supervisor to check the assignment.",
};

function isAgentErrorCode(code: string): code is AgentErrorCode {
  return Object.values<string>(AgentErrorCode).includes(code);
}

/** A code this page does not know yet still gets a readable message (the contract allows new ones). */
export function agentErrorMessage(code: string): string {
  return isAgentErrorCode(code)
    ? AGENT_MESSAGES[code]
    : `The call could not start (the caller service said "${code}"). Please try again.`;
}

const API_MESSAGES: Partial<Record<ApiErrorCode, string>> = {
  [ApiErrorCode.FORBIDDEN]: "This assignment belongs to another trainee.",
  [ApiErrorCode.NOT_FOUND]: "This assignment or scenario does not exist.",
  [ApiErrorCode.UNAUTHORIZED]: "Choose a trainee (a user id) first.",
  [ApiErrorCode.BAD_REQUEST]: "The request was not valid.",
  [ApiErrorCode.TRANSCRIPT_PENDING]: "The conversation is still being saved; feedback is not ready yet.",
  [ApiErrorCode.TRANSCRIPT_EMPTY]: "Nothing was said in this call, so there is nothing to give feedback on.",
  [ApiErrorCode.EVALUATION_UNAVAILABLE]: "Feedback could not be generated right now. Please try again.",
  [ApiErrorCode.NOT_READY]: "The service is starting up. Please try again in a moment.",
};

/** The trainee's message for an API error, with the server's own words after it. */
export function apiErrorMessage(code: string, serverMessage: string): string {
  const known = API_MESSAGES[code as ApiErrorCode];
  return known ? `${known} (${serverMessage})` : serverMessage;
}

/** What the page says about its caller (the contract's frontend guide: training_contracts.rooms). */
export const CALLER_MESSAGES = {
  connecting: "Connecting you to a caller…",
  dropped: "The caller's line dropped. Connecting you to a new caller…",
  unavailable: "No caller is available right now. Please try again in a few minutes.",
  cutShort: "This call was cut short when the caller's line dropped; the feedback covers what was said.",
} as const;
