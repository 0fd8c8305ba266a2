// The trainee's page in Chromium against the real stack: a call from the page to the agent and
// back, each way a call fails, and feedback. One stack and one browser for the file; tests run in
// order, each on a fresh browser context.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { AgentErrorCode, ApiErrorCode } from "../contracts/export/training-contracts.js";
import {
  assertAgentError,
  assertFirstExchange,
  attemptShown,
  choose,
  chooseUser,
  deliveryFacts,
  getFeedback,
  hangUp,
  listedAttempts,
  muteAndUnmute,
  openPage,
  outcome,
  startCall,
  waitForSession,
} from "./steps.js";
import { launchChromium, screenshot, startHarness, substituteToken, type Harness } from "./support.js";

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

  test("no caller within the bound: the trainee is told, and a retry reaches the caller", async () => {
    const { ready } = harness;
    const boundMs = 5000;
    const p = await page(`noCallerTimeoutMs=${boundMs}`);
    await chooseUser(p, ready.demoUserIds[0]!);
    await substituteToken(p, ready, ready.noCallerToken);
    const started = Date.now();
    await startCall(p);
    await outcome(p, "no-caller", boundMs + 15_000);
    const waited = Date.now() - started;
    assert.ok(waited >= boundMs, `timed out after ${waited} ms, before the ${boundMs} ms bound`);
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
    await harness.unreachableApiWorker;
    await substituteToken(p, ready, ready.sessionCreateFailsToken);
    await startCall(p);
    await assertAgentError(p, AgentErrorCode.SESSION_CREATE_FAILED);
    for (const fact of await deliveryFacts(p)) t.diagnostic(fact);
    await screenshot(p, ready, "agent-error-session-create-failed");
  });
});
