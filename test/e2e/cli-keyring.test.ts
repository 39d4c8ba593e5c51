import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keyringAccount } from "../../src/auth/store/keyring-store.js";
import { CLI, cleanEnv, hasCommand, tempDir, type TempDir } from "../support/cli-process.js";
import { assertNoSecrets } from "../support/secrets.js";
import { describeIf } from "../support/requirements.js";

/**
 * The real OS keyring binding (@napi-rs/keyring), end to end: each scenario runs in a fresh kernel
 * session keyring (`keyctl session -`, Debian package `keyutils`), where the binding falls back from
 * Secret Service to the kernel keyring. Without keyctl the file is skipped (stated in the skip reason).
 */
const KEYCTL = hasCommand("keyctl");

let home: TempDir;
beforeEach(() => (home = tempDir("codex-auth-keyring-")));
afterEach(() => home.remove());

interface Step {
  args: string[];
  stdin?: string;
}

/** Runs the CLI steps one after another inside one new session keyring; returns each step's result. */
function inSessionKeyring(steps: Step[]): Promise<Array<{ code: number; stdout: string; stderr: string }>> {
  const driver = `
    const { spawnSync } = require("node:child_process");
    const steps = JSON.parse(process.argv[1]);
    const results = steps.map((step) => {
      const r = spawnSync(process.execPath, [${JSON.stringify(CLI)}, ...step.args], { input: step.stdin ?? "", encoding: "utf8" });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    });
    process.stdout.write(JSON.stringify(results));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn("keyctl", ["session", "-", process.execPath, "-e", driver, JSON.stringify(steps)], {
      env: cleanEnv({ CODEX_HOME: home.dir }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`keyctl session exited ${code}: ${err}`))));
  });
}

describeIf({ what: "keyctl (Debian keyutils)", available: KEYCTL, enable: "sudo apt-get install -y keyutils" }, "keyring store through the real binding (keyctl session)", () => {
  it("login, status and logout with cli_auth_credentials_store = keyring never create auth.json", async () => {
    const key = "sk-proj-keyring-secret-ABCDE";
    const store = ["-c", "cli_auth_credentials_store=keyring"];
    const [login, status, json, logout, after] = await inSessionKeyring([
      { args: [...store, "login", "--with-api-key"], stdin: key },
      { args: [...store, "login", "status"] },
      { args: [...store, "login", "status", "--json"] },
      { args: [...store, "logout"] },
      { args: [...store, "login", "status"] },
    ]);
    expect(login).toEqual({ code: 0, stdout: "", stderr: "Reading API key from stdin...\nAPI key saved. Authentication is checked when you send a request.\n" });
    expect(status).toEqual({ code: 0, stdout: "", stderr: "API key configured - sk-proj-***ABCDE\nAuthentication is checked when you send a request.\n" });
    expect(JSON.parse(json!.stdout)).toMatchObject({ authMode: "apikey", source: "store" });
    expect(logout).toEqual({ code: 0, stdout: "", stderr: "Successfully logged out\n" });
    expect(after).toEqual({ code: 1, stdout: "", stderr: "Not logged in\n" });
    expect(existsSync(path.join(home.dir, "auth.json"))).toBe(false);
    assertNoSecrets([login, status, json, logout, after].flatMap((r) => [r!.stdout, r!.stderr]), [key]);
  });

  it("auto mode uses the keyring when it is available, and a keyring save removes the auth.json fallback", async () => {
    const [fileLogin, autoLogin, autoStatus, fileStatus] = await inSessionKeyring([
      { args: ["login", "--with-api-key"], stdin: "sk-proj-file-first-000000" },
      { args: ["-c", "cli_auth_credentials_store=auto", "login", "--with-api-key"], stdin: "sk-proj-auto-keyring-00000" },
      { args: ["-c", "cli_auth_credentials_store=auto", "login", "status"] },
      { args: ["login", "status"] },
    ]);
    expect(fileLogin!.code).toBe(0);
    expect(autoLogin!.code).toBe(0);
    expect(autoStatus!.stderr).toBe("API key configured - sk-proj-***00000\nAuthentication is checked when you send a request.\n");
    expect(fileStatus).toEqual({ code: 1, stdout: "", stderr: "Not logged in\n" });
    expect(existsSync(path.join(home.dir, "auth.json"))).toBe(false);
  });

  it("keys entries by CODEX_HOME like Codex (`cli|` + 16 hex digits)", () => {
    expect(keyringAccount(home.dir)).toMatch(/^cli\|[0-9a-f]{16}$/);
  });
});
