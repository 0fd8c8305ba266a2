// The callers of one visit to the page: normally one; after a dropped line, the caller that
// replaced it (contracts/src/training_contracts/rooms.py).

/** One caller of the visit: a new one comes after a dropped line. */
export interface Attempt {
  callerIdentity: string;
  sessionId: string;
  dropped: boolean;
}

/** `attempts` with caller `identity` on the line with `sessionId`: a caller not seen before starts
 * a new attempt, and the one before it counts as dropped even if the page missed its leaving
 * (it left while the connection was being restored). */
export function withCaller(
  attempts: readonly Attempt[],
  identity: string,
  sessionId: string,
): readonly Attempt[] {
  const last = attempts.at(-1);
  if (last?.callerIdentity === identity) return attempts;
  return [
    ...attempts.map((a) => (a === last ? { ...a, dropped: true } : a)),
    { callerIdentity: identity, sessionId, dropped: false },
  ];
}

/** How many later callers carried on with the same session (an assignment's next attempts): the
 * dropped attempt is that many attempts before the session's current one. */
export function laterAttempts(attempts: readonly Attempt[], attempt: Attempt): number {
  return attempts.slice(attempts.indexOf(attempt) + 1).filter((a) => a.sessionId === attempt.sessionId)
    .length;
}

export function withDropped(attempts: readonly Attempt[], identity: string): readonly Attempt[] {
  return attempts.map((a) => (a.callerIdentity === identity ? { ...a, dropped: true } : a));
}
