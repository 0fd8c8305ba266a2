// The suite's machinery: the stack (harness.py, a child process), Debian's chromium driven by
// playwright-core, and the page's steps.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { TOKEN_PATH, type TokenResponse } from "../contracts/export/training-contracts.js";

// Compiled to tests-browser/.build/tests-browser/: the repository is three folders up.
const REPO_ROOT = resolve(import.meta.dirname, "../../..");
const PYTHON = join(REPO_ROOT, ".venv/bin/python");
const HARNESS = join(REPO_ROOT, "tests-browser/harness.py");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const HARNESS_READY_MS = 240_000;
const HARNESS_STOP_MS = 90_000;

/** What harness.py prints once the stack is up (its `Ready`). */
export interface Ready {
  webUrl: string;
  tokenServiceUrl: string;
  demoUserIds: string[];
  demoAssignmentIds: string[];
  traineeLines: string[];
  callerLines: string[];
  fakeMicWav: string;
  screenshotDir: string;
  logDir: string;
  /** The token service's room bounds: a trainee no caller comes to is told `redialing` this long
   * after joining (plus up to a second's sweep), */
  redialingAfterMs: number;
  /** ... and `unavailable` no sooner than this. */
  unavailableAfterMs: number;
  badMetadataToken: TokenResponse;
  sessionCreateFailsToken: TokenResponse;
  /** A room the token service does not follow, dispatching an agent no worker serves. */
  unwatchedRoomToken: TokenResponse;
}

/** The workers the harness starts after READY, one after the other. */
export type ExtraWorker = "agent-unreachable-api" | "standby" | "standby-2";

export interface Harness {
  ready: Ready;
  /** Settles once the worker has registered, or failed to. */
  worker(name: ExtraWorker): Promise<void>;
  /** The worker holding the call in `room` is lost and its caller leaves the room at once
   * (harness.py, DROP-CALLER); resolves with the identities of the callers removed. */
  dropCaller(room: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const child: ChildProcess = spawn(PYTHON, [HARNESS], {
    cwd: REPO_ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  const lines = createInterface({ input: child.stdout! });
  const workers = new Map<string, Promise<void>>();
  for (const name of ["agent-unreachable-api", "standby", "standby-2"] satisfies ExtraWorker[]) {
    const registered = new Promise<void>((resolveWorker, reject) => {
      lines.on("line", (line) => {
        if (line === `WORKER-READY ${name}`) resolveWorker();
        else if (line.startsWith(`WORKER-FAILED ${name} `)) reject(new Error(`harness: ${line}`));
      });
      void exited.then(() => reject(new Error("harness exited")));
    });
    registered.catch(() => undefined); // awaited by the test that needs it
    workers.set(name, registered);
  }
  const ready = await new Promise<Ready>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error("harness: no READY line in time")), HARNESS_READY_MS);
    lines.on("line", (line) => {
      if (!line.startsWith("READY ")) return;
      clearTimeout(timer);
      resolveReady(JSON.parse(line.slice("READY ".length)) as Ready);
    });
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`harness exited with ${String(code)} before it was ready`));
    });
  });
  return {
    ready,
    worker: (name) => workers.get(name)!,
    async dropCaller(room) {
      const answer = new Promise<string>((resolveAnswer, reject) => {
        const take = (line: string) => {
          if (!line.startsWith(`DROPPED ${room} `) && !line.startsWith(`FAILED ${room} `)) return;
          lines.off("line", take);
          if (line.startsWith("DROPPED ")) resolveAnswer(line.slice(`DROPPED ${room} `.length));
          else reject(new Error(`harness: ${line}`));
        };
        lines.on("line", take);
        void exited.then(() => reject(new Error("harness exited")));
      });
      child.stdin!.write(`DROP-CALLER ${room}\n`);
      const removed = await answer;
      return removed ? removed.split(",") : [];
    },
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGTERM"), HARNESS_STOP_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The flags Chromium needs here: no sandbox, GPU, QUIC or background traffic, and a fake
 * microphone playing `wav` without asking. playwright-core gives every launch a fresh profile
 * (its own --user-data-dir). */
export function launchChromium(wav: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${wav}`,
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}

/** Answers the page's token request with `token` instead of the token service's: how the suite
 * reaches the agent's failures (bad metadata, another agent name) through the real page. */
export async function substituteToken(page: Page, ready: Ready, token: TokenResponse): Promise<void> {
  await page.route(
    (url) => url.href === ready.tokenServiceUrl + TOKEN_PATH,
    async (route) => {
      if (route.request().method() === "OPTIONS") {
        await route.fallback();
        return;
      }
      await route.fulfill({
        status: 200,
        contentType: "application/json",
        headers: { "access-control-allow-origin": new URL(ready.webUrl).origin },
        body: JSON.stringify(token),
      });
    },
    { times: 1 },
  );
}

let shots = 0;
export async function screenshot(page: Page, ready: Ready, name: string): Promise<string> {
  shots += 1;
  const path = join(ready.screenshotDir, `${String(shots).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
