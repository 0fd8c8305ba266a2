// The token service's public API as the trainee's page calls it (x-user-id authenticates).
import {
  ApiErrorCode,
  ASSIGNMENTS_PATH,
  ATTEMPT_QUERY,
  EVALUATION_PATH,
  SESSION_PATH,
  TOKEN_PATH,
  USER_ID_HEADER,
  type AssignmentList,
  type AssignmentView,
  type ErrorBody,
  type Evaluation,
  type SessionView,
  type TokenRequest,
  type TokenResponse,
} from "./contracts";

/** A non-2xx answer: the HTTP status and the contract's `error.code`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Evaluation waits for the agent to store the transcript: 409 transcript_pending, retried. */
export const EVALUATION_ATTEMPTS = 8;
export const EVALUATION_RETRY_MS = 2000;

/** `{name}` path parameters filled in, as the contract's `fill` does in Python. */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${path}`);
    return encodeURIComponent(value);
  });
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const detail = (body as { error: unknown }).error;
  return typeof detail === "object" && detail !== null && "code" in detail && "message" in detail;
}

export class TokenServiceClient {
  constructor(
    private readonly baseUrl: string,
    private readonly userId: string,
  ) {}

  private async request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { [USER_ID_HEADER]: this.userId };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, "unreachable", `the token service at ${this.baseUrl} cannot be reached`);
    }
    const parsed: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      if (isErrorBody(parsed)) {
        throw new ApiError(response.status, parsed.error.code, parsed.error.message);
      }
      throw new ApiError(response.status, "unexpected", `${method} ${path} answered ${response.status}`);
    }
    return parsed as T;
  }

  async assignments(): Promise<AssignmentView[]> {
    const list = await this.request<AssignmentList>("GET", ASSIGNMENTS_PATH);
    return list.assignments;
  }

  token(request: TokenRequest): Promise<TokenResponse> {
    return this.request<TokenResponse>("POST", TOKEN_PATH, request);
  }

  session(sessionId: string): Promise<SessionView> {
    return this.request<SessionView>("GET", fillPath(SESSION_PATH, { session_id: sessionId }));
  }

  /** POST the evaluation of `attemptNumber` (default: the session's current attempt); while the
   * transcript is pending (409), wait and ask again, bounded. */
  async evaluation(
    sessionId: string,
    onPending: (attempt: number) => void,
    attemptNumber?: number,
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ): Promise<Evaluation> {
    const query = attemptNumber === undefined ? "" : `?${ATTEMPT_QUERY}=${attemptNumber}`;
    const path = fillPath(EVALUATION_PATH, { session_id: sessionId }) + query;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.request<Evaluation>("POST", path);
      } catch (error) {
        const pending =
          error instanceof ApiError &&
          error.status === 409 &&
          error.code === ApiErrorCode.TRANSCRIPT_PENDING;
        if (!pending || attempt >= EVALUATION_ATTEMPTS) throw error;
        onPending(attempt);
        await sleep(EVALUATION_RETRY_MS);
      }
    }
  }
}
