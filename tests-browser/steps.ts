// What a trainee does on the page, one function per step, each waiting for what it should see.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import {
  Role,
  SESSION_PATH,
  USER_ID_HEADER,
  type SessionView,
} from "../contracts/export/training-contracts.js";
import type { Ready } from "./support.js";
import type {} from "../web/src/callLog.js"; // window.callLog

export const JOIN_MS = 30_000;
/** Join -> `session.id`: dispatch, a job process, session creation. */
export const CONVERSATION_MS = 45_000;
/** The first exchange: the trainee's line, the stub's reply delay, the caller's line. */
export const EVALUATION_MS = 60_000;

export async function openPage(browser: Browser, ready: Ready, query = ""): Promise<Page> {
  const context = await browser.newContext({ permissions: ["microphone"] });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${ready.webUrl}/${query ? `?${query}` : ""}`);
  await page.getByTestId("start").waitFor();
  return page;
}

export async function chooseUser(page: Page, userId: string): Promise<void> {
  await page.getByTestId("demo-user").selectOption(userId);
  await page.locator('[data-testid="choices"][data-loaded="true"]').waitFor();
}

export async function choose(page: Page, assignmentId?: string): Promise<void> {
  await page.getByTestId(assignmentId ? `choice-${assignmentId}` : "choice-free").check();
}

/** "N attempts so far" as the assignment list shows it. */
export async function listedAttempts(page: Page, assignmentId: string): Promise<number> {
  const text = await page.getByTestId(`attempts-${assignmentId}`).innerText();
  const match = /\((\d+) attempts? so far/.exec(text);
  assert.ok(match, `no attempt count in ${JSON.stringify(text)}`);
  return Number(match[1]);
}

export async function startCall(page: Page): Promise<void> {
  await page.getByTestId("start").click();
}

/** Waits for the connection and the agent's `session.id` (one other than `previous`: a new
 * caller's); returns it. */
export async function waitForSession(page: Page, previous?: string): Promise<string> {
  await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({ timeout: JOIN_MS });
  await page.waitForFunction(
    (previous) => {
      const shown = document.querySelector('[data-testid="session-id"]')?.textContent ?? "";
      return /^[0-9a-f-]{36}$/.test(shown) && shown !== previous;
    },
    previous,
    { timeout: JOIN_MS },
  );
  return page.getByTestId("session-id").innerText();
}

/** The call's room, from the page's call log. */
export async function roomName(page: Page): Promise<string> {
  const log = await page.evaluate(() => window.callLog ?? []);
  const token = log.find((entry) => entry.event === "token");
  assert.ok(token, "no token in the call log");
  return String(token.detail.roomName);
}

/** The room's metadata as the page received it, in order: what the token service told it. */
export async function roomNotices(page: Page): Promise<string[]> {
  const log = await page.evaluate(() => window.callLog ?? []);
  return log.filter((entry) => entry.event === "roomMetadata").map((entry) => String(entry.detail.metadata));
}

/** Waits until the token service has stored `count` turns of the session's current attempt (an
 * agent delivers turns as they settle): what a caller lost mid-call leaves behind. */
export async function waitForStoredTurns(
  ready: Ready,
  userId: string,
  sessionId: string,
  count: number,
): Promise<void> {
  const url = ready.tokenServiceUrl + SESSION_PATH.replace("{session_id}", sessionId);
  const deadline = Date.now() + CONVERSATION_MS;
  for (;;) {
    const response = await fetch(url, { headers: { [USER_ID_HEADER]: userId } });
    assert.equal(response.status, 200, `GET ${url}`);
    const session = (await response.json()) as SessionView;
    const stored = session.turns.filter((turn) => turn.attemptNumber === session.attempt).length;
    if (stored >= count) return;
    assert.ok(Date.now() < deadline, `${stored} of ${count} turns stored in time`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function attemptShown(page: Page): Promise<number> {
  const attempt = await page.getByTestId("attempt").getAttribute("data-attempt", { timeout: 10_000 });
  return Number(attempt);
}

export interface TranscriptLine {
  role: string;
  text: string;
  final: boolean;
}

/** The lines said with the visit's `call`-th caller (0, then one more after each dropped line). */
export async function transcript(page: Page, call = 0): Promise<TranscriptLine[]> {
  const lines = page.locator(`[data-testid="transcript"] li[data-role][data-call="${call}"]`);
  return lines.evaluateAll((items) =>
    items.map((li) => ({
      role: li.getAttribute("data-role") ?? "",
      text: li.querySelector(".text")?.textContent ?? "",
      final: li.getAttribute("data-final") === "true",
    })),
  );
}

/** The first exchange with the visit's `call`-th caller, both sides, in the live transcript: waits
 * for the trainee's first line and the caller's first reply, then checks each appears once and the
 * caller's audio had energy. */
export async function assertFirstExchange(page: Page, ready: Ready, call = 0): Promise<void> {
  const [said, reply] = [ready.traineeLines[0]!, ready.callerLines[0]!];
  const callerState = (state: string) => `[data-testid="caller-state"][data-state="${state}"]`;
  await page.locator(callerState("speaking")).waitFor({ timeout: CONVERSATION_MS });
  await page.waitForFunction(
    ([said, reply, call]) => {
      const texts = [
        ...document.querySelectorAll(`[data-testid="transcript"] li[data-call="${call}"] .text`),
      ].map((e) => e.textContent?.trim());
      return texts.includes(said) && texts.includes(reply);
    },
    [said, reply, String(call)] as const,
    { timeout: CONVERSATION_MS },
  );
  const lines = await transcript(page, call);
  const withText = (text: string) => lines.filter((l) => l.text.trim() === text);
  assert.deepEqual(
    withText(said).map((l) => l.role),
    [Role.USER],
    `the trainee's line once, as the user: ${JSON.stringify(lines)}`,
  );
  assert.deepEqual(
    withText(reply).map((l) => l.role),
    [Role.ASSISTANT],
    `the caller's line once, as the assistant: ${JSON.stringify(lines)}`,
  );
  const peak = Number(await page.getByTestId("caller-peak").getAttribute("data-peak"));
  assert.ok(peak > 0.02, `the caller's audio had no energy (peak volume ${peak})`);
  await page.locator(callerState("listening")).waitFor({ timeout: CONVERSATION_MS });
}

/** Mute and unmute: the button follows the microphone track's real state. */
export async function muteAndUnmute(page: Page): Promise<void> {
  const mute = page.getByTestId("mute");
  await mute.click();
  await page.locator('[data-testid="mute"][data-muted="true"]').waitFor();
  assert.equal(await mute.innerText(), "Unmute");
  await mute.click();
  await page.locator('[data-testid="mute"][data-muted="false"]').waitFor();
  assert.equal(await mute.innerText(), "Mute");
}

export async function hangUp(page: Page): Promise<void> {
  await page.getByTestId("hang-up").click();
  await page.locator('[data-testid="ended"][data-outcome="hung-up"]').waitFor();
}

export interface FeedbackShown {
  sessionId: string;
  attempt: number;
  score: number;
  strengths: number;
  improvements: number;
  quotedTurns: number;
  /** The note that the call was cut short when the caller's line dropped. */
  cutShortNote: string | undefined;
}

/** Get Feedback in the feedback section `section` ("feedback", or "feedback-dropped": the dropped
 * call's). */
export async function getFeedback(page: Page, section = "feedback"): Promise<FeedbackShown> {
  const feedback = page.getByTestId(section);
  await feedback.getByTestId("get-feedback").click();
  await page
    .locator(`[data-testid="${section}"][data-state="done"], [data-testid="${section}"][data-state="failed"]`)
    .waitFor({ timeout: EVALUATION_MS });
  const failed = await feedback.getByTestId("feedback-error").count();
  assert.equal(failed, 0, `feedback failed: ${failed ? await feedback.getByTestId("feedback-error").innerText() : ""}`);
  const note = feedback.getByTestId("cut-short");
  return {
    sessionId: (await feedback.getAttribute("data-session-id")) ?? "",
    attempt: Number(await feedback.getByTestId("evaluation").getAttribute("data-attempt")),
    score: Number(await feedback.getByTestId("score").innerText()),
    strengths: await feedback.locator('[data-testid="strengths"] > li').count(),
    improvements: await feedback.locator('[data-testid="improvements"] > li').count(),
    quotedTurns: await feedback.locator("[data-turn-order]").count(),
    cutShortNote: (await note.count()) ? (await note.innerText()).trim() : undefined,
  };
}

/** What the page says about its caller while there is no caller on the line ("connecting" or
 * "dropped"), with the token service's notice, once it shows `line` (and `notice`, if given). */
export async function callerLine(
  page: Page,
  line: "connecting" | "dropped",
  notice?: string,
  timeout = JOIN_MS,
): Promise<string> {
  const selector =
    `[data-testid="caller-line"][data-line="${line}"]` + (notice ? `[data-notice="${notice}"]` : "");
  // Read where it matched: the notice may change a moment later.
  const shown = await page.waitForFunction(
    (selector) => document.querySelector(selector)?.textContent,
    selector,
    { timeout },
  );
  return String(await shown.jsonValue()).trim();
}

export async function outcome(page: Page, kind: string, timeout = JOIN_MS): Promise<string> {
  await page.locator(`[data-testid="ended"][data-outcome="${kind}"]`).waitFor({ timeout });
  return (await page.getByTestId("outcome").innerText()).trim();
}

/** The call ended with the agent's `error` = `code`, told in words (not the unknown-code fallback
 * that quotes the code), with no feedback offered for a call that never started. */
export async function assertAgentError(page: Page, code: string): Promise<void> {
  const message = await outcome(page, "agent-error");
  assert.equal(await page.getByTestId("outcome").getAttribute("data-code"), code);
  assert.ok(message.length > 20 && !message.includes(code), `not a trainee's message: ${message}`);
  assert.equal(await page.getByTestId("feedback").count(), 0);
  assert.equal(await page.getByTestId("retry").count(), 1, "a retry is offered");
}

/** What livekit-client delivered in this call, from the page's call log, for the frontend guide:
 * the agent's attributes when it joined and each later change, the legacy transcription events,
 * and the text streams per transcript segment. Printed by the tests, not asserted: it is the
 * SDK's behaviour, and the page is written to work either way. */
export async function deliveryFacts(page: Page): Promise<string[]> {
  const log = await page.evaluate(() => window.callLog ?? []);
  const facts: string[] = [];
  const legacy = new Map<string, { events: number; finals: number }>();
  for (const { atMs, event, detail } of log) {
    if (event === "participantConnected" || event === "attributesChanged") {
      const attrs = event === "participantConnected" ? detail.attributes : detail.changed;
      facts.push(`${atMs} ms ${event}: ${JSON.stringify(attrs)}`);
    } else if (event === "legacyTranscription") {
      for (const segment of detail.segments as { id: string; final: boolean }[]) {
        const seen = legacy.get(segment.id) ?? { events: 0, finals: 0 };
        seen.events += 1;
        seen.finals += segment.final ? 1 : 0;
        legacy.set(segment.id, seen);
      }
    } else if (event !== "connection") {
      facts.push(`${atMs} ms ${event}: ${JSON.stringify(detail)}`);
    }
  }
  for (const [id, seen] of legacy) {
    facts.push(`legacy TranscriptionReceived ${id}: ${seen.events} events, ${seen.finals} final`);
  }
  const segments = await page.locator('[data-testid="transcript"] li[data-role]').evaluateAll((items) =>
    items.map(
      (li) =>
        `lk.transcription ${li.getAttribute("data-segment-id")} (${li.getAttribute("data-role")}): ` +
        `${li.getAttribute("data-streams")} streams, final=${li.getAttribute("data-final")}`,
    ),
  );
  return [...facts, ...segments];
}
