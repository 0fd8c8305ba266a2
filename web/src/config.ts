import { PAGE_CONFIG_PATH, type PageConfig } from "./contracts";

/** What the page runs with: the server's PageConfig, with the deep-link parameters of the URL. */
export interface RunConfig extends PageConfig {
  /** `?userId=` preselects a user (a pasted id works too). */
  userId?: string;
  /** `?assignmentId=` preselects an assignment, listed or not (the token service decides). */
  assignmentId?: string;
}

/** `?noCallerTimeoutMs=` shortens the wait for the caller (tests, slow demos lengthen it). */
function timeoutOverride(params: URLSearchParams): number | undefined {
  const raw = params.get("noCallerTimeoutMs");
  if (raw === null) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`noCallerTimeoutMs must be a positive integer of milliseconds, not ${raw}`);
  }
  return value;
}

export async function loadConfig(location: Location): Promise<RunConfig> {
  const response = await fetch(PAGE_CONFIG_PATH, { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`${PAGE_CONFIG_PATH} answered ${response.status}: the page's server is misconfigured`);
  }
  const config = (await response.json()) as PageConfig;
  const params = new URLSearchParams(location.search);
  return {
    ...config,
    noCallerTimeoutMs: timeoutOverride(params) ?? config.noCallerTimeoutMs,
    userId: params.get("userId") ?? undefined,
    assignmentId: params.get("assignmentId") ?? undefined,
  };
}
