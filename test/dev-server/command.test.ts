import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PassThrough } from "node:stream";
import { describe, expect, it, onTestFinished } from "vitest";
import { runDevServerCommand } from "../../src/cli/commands/dev-server.js";

const WHOAMI = "/v1/user-auth-credential/whoami";
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function collect(stream: NodeJS.ReadableStream): { text: () => string; waitFor: (pattern: RegExp) => Promise<RegExpExecArray> } {
  let buffer = "";
  const waiters: Array<() => void> = [];
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffer += chunk;
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    text: () => buffer,
    async waitFor(pattern) {
      for (;;) {
        const match = pattern.exec(buffer);
        if (match) return match;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

/** `export NAME=value` lines as a map. */
function exportsOf(stdout: string): Record<string, string> {
  return Object.fromEntries([...stdout.matchAll(/^export ([A-Z_]+)=(\S+)$/gm)].map((match) => [match[1]!, match[2]!]));
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

describe("codex-auth dev-server command", () => {
  it("prints the URL and exports, logs redacted requests to stderr, and stops on its signal", async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out = collect(stdout);
    const err = collect(stderr);
    const stop = new AbortController();
    const finished = runDevServerCommand(["--port", "0"], { stdout, stderr, signal: stop.signal });

    await out.waitFor(/^# Press Ctrl-C to stop\.$/m);
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out.text())?.[1];
    expect(url).toBeDefined();
    expect(exportsOf(out.text())).toEqual({
      CODEX_AUTHAPI_BASE_URL: `${url}/api/accounts`,
      CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${url}/oauth/token`,
      CODEX_REVOKE_TOKEN_URL_OVERRIDE: `${url}/oauth/revoke`,
      CODEX_AUTH_ISSUER: url,
    });
    expect(out.text()).toContain(`-c chatgpt_base_url=${url}/backend-api/`);
    expect(out.text()).toContain("at-demo-valid");
    // Every stdout line is an export or a shell comment, so it can be pasted into a shell.
    expect(out.text().trimEnd().split("\n").every((line) => line.startsWith("export ") || line.startsWith("#"))).toBe(true);

    const whoami = await fetch(`${exportsOf(out.text()).CODEX_AUTHAPI_BASE_URL}${WHOAMI}`, { headers: { authorization: "Bearer at-demo-valid" } });
    expect(whoami.status).toBe(200);
    await err.waitFor(/bearer=at-demo\*\*\*/);
    expect(err.text()).not.toContain("at-demo-valid");

    stop.abort();
    expect(await finished).toBe(0);
    expect(err.text()).toContain("dev-server: stopped");
  });

  it("rejects unknown arguments with usage on stderr", async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const err = collect(stderr);
    expect(await runDevServerCommand(["--bogus"], { stdout, stderr })).toBe(2);
    expect(err.text()).toContain("unexpected argument --bogus");
    expect(err.text()).toContain("Usage: codex-auth dev-server");
    expect(await runDevServerCommand(["--port", "http"], { stdout, stderr })).toBe(2);
  });

  it("runs as a process until SIGTERM, then exits 0", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture("run-dev-server-command.ts"), "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = exitOf(child);
    onTestFinished(() => void child.kill("SIGKILL"));
    const out = collect(child.stdout!);
    const err = collect(child.stderr!);
    await out.waitFor(/^# Press Ctrl-C to stop\.$/m);
    const base = exportsOf(out.text()).CODEX_AUTHAPI_BASE_URL!;
    expect((await fetch(`${base}${WHOAMI}`, { headers: { authorization: "Bearer at-demo-revoked" } })).status).toBe(401);
    await err.waitFor(/ 401 bearer=at-demo\*\*\*/);
    child.kill("SIGTERM");
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(err.text()).not.toContain("at-demo-revoked");
  });

  it("does not keep the process alive after close(), even with a slow request held", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture("slow-request-then-close.ts")], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = exitOf(child);
    onTestFinished(() => void child.kill("SIGKILL"));
    const out = collect(child.stdout!);
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(out.text()).toBe("closed\n");
  });
});
