// The trainee's page in Chromium against the real stack: a call from the page to the agent and
// back, each way a call fails, a caller lost mid-call, and feedback. One stack and one browser for
// the file; tests run in order, each on a fresh browser context. The last three take the callers
// away: each dropped line loses its worker for good, and the last test needs none left.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { AgentErrorCode, ApiErrorCode } from "../contracts/export/training-contracts.js";
import {
  assertAgentError,
  assertFirstExchange,
  attemptShown,
  callerLine,
  choose,
  chooseUser,
  deliveryFacts,
  getFeedback,
  hangUp,
  JOIN_MS,
  listedAttempts,
  muteAndUnmute,
  openPage,
  outcome,
  roomName,
  roomNotices,
  startCall,
  waitForSession,
  waitForStoredTurns,
} from "./steps.js";
import { launchChromium, screenshot, startHarness, substituteToken, type Harness } from "./support.js";
import type {} from "../web/src/callLog.js"; // window.callLog

/** The contract's frontend guide's words (contracts/src/training_contracts/rooms.py). */
const CONNECTING = "Connecting you to a caller…";
const DROPPED = "The caller's line dropped. Connecting you to a new caller…";
const UNAVAILABLE = "No caller is available right now. Please try again in a few minutes.";
const CUT_SHORT = "This call was cut short when the caller's line dropped; the feedback covers what was said.";

let harness: Harness;
let browser: Browser;
const pages: Page[] = [];

async function page(query = ""): Promise<Page> {
  const opened = await openPage(browser, harness.ready, query);
  pages.push(opened);
  return opened;
}

describe("the trainee page", { timeout: 600_000 }, () => {
  before(async () => {
    harness = await startHarness();
    browser = await launchChromium(harness.ready.fakeMicWav);
  });

  after(async () => {
    for (const p of pages) await p.context().close().catch(() => undefined);
    await browser?.close();
    await harness?.stop();
  });

  test("assigned training: call, live transcript, hang up, feedback", async (t) => {
    const { ready } = harness;
    const [user, assignment] = [ready.demoUserIds[0]!, ready.demoAssignmentIds[0]!];
    const p = await page();
    await chooseUser(p, user);
    await choose(p, assignment);
    await screenshot(p, ready, "choose-assignment");
    await startCall(p);
    const sessionId = await waitForSession(p);
    assert.ok((await attemptShown(p)) >= 1);
    await screenshot(p, ready, "assigned-connected");
    await assertFirstExchange(p, ready);
    await screenshot(p, ready, "assigned-conversation");
    await hangUp(p);
    const feedback = await getFeedback(p);
    assert.ok(feedback.score >= 0 && feedback.score <= 100);
    assert.ok(feedback.strengths + feedback.improvements > 0, JSON.stringify(feedback));
    await screenshot(p, ready, "assigned-feedback");
    t.diagnostic(`session ${sessionId}, feedback ${JSON.stringify(feedback)}`);
  });

  test("free practice: call, live transcript, hang up, feedback", async (t) => {
    const { ready } = harness;
    const p = await page();
    await chooseUser(p, ready.demoUserIds[1]!);
    await choose(p);
    await startCall(p);
    await waitForSession(p);
    assert.equal(await p.getByTestId("attempt").innerText(), "Free practice");
    await assertFirstExchange(p, ready);
    await screenshot(p, ready, "free-practice-conversation");
    await muteAndUnmute(p);
    for (const fact of await deliveryFacts(p)) t.diagnostic(fact);
    await hangUp(p);
    const feedback = await getFeedback(p);
    assert.ok(feedback.strengths + feedback.improvements > 0, JSON.stringify(feedback));
    await screenshot(p, ready, "free-practice-feedback");
  });

  test("a second call on the same assignment counts the next attempt", async () => {
    const { ready } = harness;
    const [user, assignment] = [ready.demoUserIds[1]!, ready.demoAssignmentIds[1]!];
    const p = await page();
    await chooseUser(p, user);
    const before = await listedAttempts(p, assignment);
    for (const expected of [before + 1, before + 2]) {
      await choose(p, assignment);
      await startCall(p);
      await waitForSession(p);
      assert.equal(await attemptShown(p), expected);
      await hangUp(p);
      await p.getByTestId("new-call").click();
      await chooseUser(p, user);
      assert.equal(await listedAttempts(p, assignment), expected);
    }
    await screenshot(p, ready, "attempts-counted");
  });

  test("agent error: metadata the agent cannot read", async (t) => {
    const { ready } = harness;
    const p = await page();
    await chooseUser(p, ready.demoUserIds[0]!);
    await substituteToken(p, ready, ready.badMetadataToken);
    await startCall(p);
    await assertAgentError(p, AgentErrorCode.INVALID_METADATA);
    for (const fact of await deliveryFacts(p)) t.diagnostic(fact);
    await screenshot(p, ready, "agent-error-invalid-metadata");
  });

  test("token refused: another trainee's assignment (403), an unknown one (404)", async () => {
    const { ready } = harness;
    const refusals = [
      { assignmentId: ready.demoAssignmentIds[1]!, status: 403, code: ApiErrorCode.FORBIDDEN },
      { assignmentId: crypto.randomUUID(), status: 404, code: ApiErrorCode.NOT_FOUND },
    ];
    for (const { assignmentId, status, code } of refusals) {
      const p = await page(`userId=${ready.demoUserIds[0]!}&assignmentId=${assignmentId}`);
      await p.locator('[data-testid="choices"][data-loaded="true"]').waitFor();
      assert.ok(await p.getByTestId(`choice-${assignmentId}`).isChecked(), "the linked assignment is chosen");
      await startCall(p);
      const error = p.getByTestId("start-error");
      await error.waitFor();
      assert.equal(await error.getAttribute("data-status"), String(status));
      assert.equal(await error.getAttribute("data-code"), code);
      assert.equal(await p.getByTestId("connection-state").count(), 0, "no room joined");
      await screenshot(p, ready, `token-refused-${status}`);
    }
  });

  // The page's own bound is for a room the token service does not follow (webhooks not configured):
  // here a room outside the training rooms' prefix, whose webhooks the token service ignores, so
  // no notice ever comes and nothing re-dials.
  test("no caller in a room nobody watches: the page's own bound ends the wait, and a retry reaches the caller", async () => {
    const { ready } = harness;
    const boundMs = 5000;
    const p = await page(`noCallerTimeoutMs=${boundMs}`);
    await chooseUser(p, ready.demoUserIds[0]!);
    await substituteToken(p, ready, ready.unwatchedRoomToken);
    const started = Date.now();
    await startCall(p);
    assert.equal(await callerLine(p, "connecting"), CONNECTING);
    await outcome(p, "no-caller", boundMs + 15_000);
    const waited = Date.now() - started;
    assert.ok(waited >= boundMs, `timed out after ${waited} ms, before the ${boundMs} ms bound`);
    assert.deepEqual(await roomNotices(p), [], "no notice in a room the token service ignores");
    await screenshot(p, ready, "no-caller-timeout");
    await p.getByTestId("retry").click(); // the substitute was for one request: this is real
    const sessionId = await waitForSession(p);
    assert.match(sessionId, /^[0-9a-f-]{36}$/);
    await screenshot(p, ready, "no-caller-retry-connected");
    await hangUp(p);
  });

  test("agent error: the session cannot be created", async (t) => {
    const { ready } = harness;
    const p = await page();
    await chooseUser(p, ready.demoUserIds[0]!);
    await harness.worker("agent-unreachable-api");
    await substituteToken(p, ready, ready.sessionCreateFailsToken);
    await startCall(p);
    await assertAgentError(p, AgentErrorCode.SESSION_CREATE_FAILED);
    for (const fact of await deliveryFacts(p)) t.diagnostic(fact);
    await screenshot(p, ready, "agent-error-session-create-failed");
  });

  // A worker lost mid-call: harness.py's DROP-CALLER kills the worker holding the call and has
  // livekit-server let its caller go at once (it would on its own after its ICE timeouts). The
  // token service closes the attempt cut short and dispatches a new caller, which the standby
  // worker (or the stack's first, whichever did not hold the call) brings as a new free practice
  // session.
  test("the caller's line drops: a new caller carries on, and the dropped call still gets feedback", async (t) => {
    const { ready } = harness;
    const user = ready.demoUserIds[1]!;
    const p = await page();
    await chooseUser(p, user);
    await choose(p);
    await harness.worker("standby");
    await startCall(p);
    const first = await waitForSession(p);
    await assertFirstExchange(p, ready);
    await waitForStoredTurns(ready, user, first, 1);
    const removed = await harness.dropCaller(await roomName(p));
    assert.equal(removed.length, 1, `callers removed: ${removed.join(", ")}`);
    assert.equal(await callerLine(p, "dropped"), DROPPED);
    assert.equal(await p.getByTestId("connection-state").getAttribute("data-state"), "connected");
    await screenshot(p, ready, "caller-dropped");
    const second = await waitForSession(p, first);
    assert.equal(await p.getByTestId("attempt").innerText(), "Free practice");
    assert.equal(await p.getByTestId("transcript-divider").count(), 1);
    await screenshot(p, ready, "new-caller-connected");
    await assertFirstExchange(p, ready, 1);
    await screenshot(p, ready, "new-caller-conversation");
    for (const fact of await deliveryFacts(p)) t.diagnostic(fact);
    await hangUp(p);
    const current = await getFeedback(p);
    assert.equal(current.sessionId, second);
    assert.equal(current.cutShortNote, undefined, "the new caller's call was not cut short");
    const dropped = await getFeedback(p, "feedback-dropped");
    assert.equal(dropped.sessionId, first);
    assert.equal(dropped.cutShortNote, CUT_SHORT);
    assert.ok(dropped.strengths + dropped.improvements > 0, JSON.stringify(dropped));
    await screenshot(p, ready, "caller-dropped-feedback");
  });

  // An assignment's caller is lost: the new caller (the second standby worker) carries on with the
  // same session's next attempt, and each attempt gets feedback of its own (`?attempt=N`).
  test("an assignment's line drops: the next attempt carries on, and each attempt gets its feedback", async (t) => {
    const { ready } = harness;
    const [user, assignment] = [ready.demoUserIds[1]!, ready.demoAssignmentIds[1]!];
    const p = await page();
    await chooseUser(p, user);
    await choose(p, assignment);
    await harness.worker("standby-2");
    await startCall(p);
    const sessionId = await waitForSession(p);
    const first = Number(await p.getByTestId("attempt").getAttribute("data-attempt"));
    await assertFirstExchange(p, ready);
    await waitForStoredTurns(ready, user, sessionId, 1);
    await harness.dropCaller(await roomName(p));
    assert.equal(await callerLine(p, "dropped"), DROPPED);
    await p.locator(`[data-testid="attempt"][data-attempt="${first + 1}"]`).waitFor({ timeout: JOIN_MS });
    assert.equal(await p.getByTestId("session-id").innerText(), sessionId, "the same session goes on");
    assert.equal(await p.getByTestId("transcript-divider").count(), 1);
    await assertFirstExchange(p, ready, 1);
    for (const fact of await deliveryFacts(p)) t.diagnostic(fact);
    await hangUp(p);
    const current = await getFeedback(p);
    assert.deepEqual([current.sessionId, current.attempt, current.cutShortNote], [sessionId, first + 1, undefined]);
    const dropped = await getFeedback(p, "feedback-dropped");
    assert.deepEqual([dropped.sessionId, dropped.attempt, dropped.cutShortNote], [sessionId, first, CUT_SHORT]);
    assert.ok(dropped.quotedTurns + dropped.strengths > 0, JSON.stringify(dropped));
    await screenshot(p, ready, "assignment-dropped-feedback");
  });

  // The last caller worker is lost: the token service re-dials a bounded number of times, then
  // tells the page no caller is coming; the assignment's cut-short attempt keeps its feedback.
  test("the caller's line drops and no caller is left: no caller is available, feedback on the dropped call", async (t) => {
    const { ready } = harness;
    const [user, assignment] = [ready.demoUserIds[0]!, ready.demoAssignmentIds[0]!];
    const p = await page();
    await chooseUser(p, user);
    await choose(p, assignment);
    await startCall(p);
    const sessionId = await waitForSession(p);
    await assertFirstExchange(p, ready);
    await waitForStoredTurns(ready, user, sessionId, 1);
    await harness.dropCaller(await roomName(p));
    assert.equal(await callerLine(p, "dropped", "redialing"), DROPPED);
    assert.equal(await outcome(p, "unavailable", ready.unavailableAfterMs + JOIN_MS), UNAVAILABLE);
    assert.equal(await p.getByTestId("retry").count(), 1, "a retry is offered");
    assert.equal(await p.getByTestId("feedback").count(), 0, "no call of a caller still on the line");
    const dropped = await getFeedback(p, "feedback-dropped");
    assert.equal(dropped.sessionId, sessionId);
    assert.equal(dropped.cutShortNote, CUT_SHORT);
    for (const fact of await deliveryFacts(p)) t.diagnostic(fact);
    await screenshot(p, ready, "caller-dropped-unavailable");
  });

  // No caller worker is left: a real call from the page waits for a caller the token service
  // dispatches again and again. The page's own bound is set between the token service's first
  // notice and its last: a page that still ended the wait itself would say "no-caller" first.
  test("no caller comes: the token service re-dials, then no caller is available", async (t) => {
    const { ready } = harness;
    const boundMs = Math.round((ready.redialingAfterMs + ready.unavailableAfterMs) / 2);
    const p = await page(`noCallerTimeoutMs=${boundMs}`);
    await chooseUser(p, ready.demoUserIds[1]!);
    await choose(p);
    const started = Date.now();
    await startCall(p);
    assert.equal(await callerLine(p, "connecting", "redialing", ready.unavailableAfterMs), CONNECTING);
    await screenshot(p, ready, "no-caller-redialing");
    assert.equal(await outcome(p, "unavailable", ready.unavailableAfterMs + JOIN_MS), UNAVAILABLE);
    const waited = Date.now() - started;
    assert.ok(waited > boundMs, `ended after ${waited} ms, within the page's own ${boundMs} ms bound`);
    assert.deepEqual(await roomNotices(p), ['{"caller":"redialing"}', '{"caller":"unavailable"}']);
    const log = await p.evaluate(() => window.callLog ?? []);
    assert.ok(log.some((entry) => entry.event === "disconnected"), "the page left the room");
    assert.equal(await p.getByTestId("retry").count(), 1, "a retry is offered");
    assert.equal(await p.locator('[data-testid^="feedback"]').count(), 0, "no call to give feedback on");
    for (const fact of await deliveryFacts(p)) t.diagnostic(fact);
    await screenshot(p, ready, "no-caller-unavailable");
  });
});
