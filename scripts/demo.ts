/**
 * `npm run demo`: the login system end to end, on this machine, in a few seconds. Starts the local
 * dev server (AuthAPI and friends), then runs the compiled `codex-auth` CLI as child processes
 * against a throwaway CODEX_HOME: PAT login, `login status` (and `--json`), a revoked PAT, API-key
 * login, status, logout, status; then an app-server session in which a parent app owns the tokens
 * (external auth, a 401, a refresh answered by the parent app). Secrets are never printed: the demo PATs are the dev server's public
 * documentation values (shown by name), the API key is shown masked the way the CLI masks keys, and a
 * final scan checks every captured output of the CLI.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { maskCredential } from "../src/auth/secret.js";
import { startDevServer } from "../src/dev-server/index.js";
import { runAppServerDemo } from "./demo/app-server-session.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist/src/cli/main.js");
const PAT = "at-demo-valid";
const REVOKED_PAT = "at-demo-revoked";
const API_KEY = "sk-demo-0123456789abcdefghijklmnopqrstuvwxyz-ABCDE";
const WHOAMI = "/api/accounts/v1/user-auth-credential/whoami";

const outputs: string[] = [];
const dev = await startDevServer({ port: 0 });
const home = mkdtempSync(path.join(tmpdir(), "codex-auth-demo-"));
const env: NodeJS.ProcessEnv = { ...process.env, ...dev.env(), CODEX_HOME: home };
for (const name of ["CODEX_API_KEY", "CODEX_ACCESS_TOKEN", "OPENAI_API_KEY"]) delete env[name];

function say(text = ""): void {
  process.stdout.write(`${text}\n`);
}

function step(title: string): void {
  say();
  say(`── ${title} ${"─".repeat(Math.max(0, 66 - title.length))}`);
}

/** Runs `codex-auth <args>`, shows the command (stdin masked), its stderr/stdout and exit code. */
async function run(args: string[], stdin?: string): Promise<number> {
  const shown = stdin === undefined ? "" : stdin.startsWith("at-demo-") ? stdin : maskCredential(stdin);
  const shownStdin = stdin === undefined ? "" : `printf '${shown}' | `;
  say(`$ ${shownStdin}codex-auth ${args.join(" ")}`);
  const child = spawn(process.execPath, [cli, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.end(stdin ?? "");
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  outputs.push(stdout, stderr);
  for (const line of stderr.trimEnd().split("\n").filter(Boolean)) say(`  ${line}`);
  for (const line of stdout.trimEnd().split("\n").filter(Boolean)) say(`  stdout: ${line}`);
  say(`  (exit ${code})`);
  return code;
}

function showAuthJson(): void {
  const file = path.join(home, "auth.json");
  try {
    const stored = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    const masked = Object.fromEntries(Object.entries(stored).map(([key, value]) => [key, typeof value === "string" && key !== "auth_mode" ? maskCredential(value) : value]));
    say(`  auth.json (mode ${(statSync(file).mode & 0o777).toString(8)}): ${JSON.stringify(masked)}`);
  } catch {
    say("  auth.json: (none)");
  }
}

const whoamiCount = () => dev.count("GET", WHOAMI);

try {
  say("codex-auth demo");
  say(`dev server (local AuthAPI) at ${dev.url}; CODEX_HOME=${home}`);

  step("1. Log in with a personal access token (checked live with AuthAPI whoami)");
  await run(["login", "--with-access-token"], PAT);
  showAuthJson();
  say(`  whoami calls so far: ${whoamiCount()}   (no auth_mode key: older Codex builds can still read the file)`);

  step("2. login status: a fresh whoami on every check (a revoked token is never trusted from a cache)");
  await run(["login", "status"]);
  await run(["login", "status", "--json"]);
  say(`  whoami calls so far: ${whoamiCount()}`);

  step("3. A revoked token fails closed and leaves the stored login untouched");
  await run(["login", "--with-access-token"], REVOKED_PAT);
  showAuthJson();

  step("4. Log in with an API key (read from stdin, stored as Codex stores it)");
  await run(["login", "--with-api-key"], API_KEY);
  showAuthJson();
  await run(["login", "status"]);

  step("5. Log out");
  await run(["logout"]);
  await run(["login", "status"]);

  step("6. App-server: a parent app owns the ChatGPT tokens; a 401 asks it for new ones");
  await runAppServerDemo({ log: (line) => say(`  ${line}`), devServer: dev });

  step("Check");
  const leaked = [PAT, API_KEY, API_KEY.slice(8, -5)].filter((secret) => outputs.some((text) => text.includes(secret)));
  say(leaked.length === 0 ? "  no secret appeared in any output of the CLI" : `  LEAK: ${leaked.length} secret(s) appeared in the CLI's output`);
  if (leaked.length > 0) process.exitCode = 1;
  if (dev.contractViolations.length > 0) {
    say(`  dev server contract violations: ${dev.contractViolations.length}`);
    process.exitCode = 1;
  }
} finally {
  await dev.close();
  rmSync(home, { recursive: true, force: true });
}
