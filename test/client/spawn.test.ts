import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AppServerClient, AppServerClosedError, AppServerSpawnError } from "../../src/client/index.js";
import { appServerArgv, tempCodexHome } from "../support/app-server-process.js";
import { example } from "./peer.js";

const scratch = mkdtempSync(path.join(tmpdir(), "codex-auth-spawn-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const initializeParams = () => example<{ clientInfo: { name: string; version: string } }>("InitializeParams", "valid-transcript-probe");

describe("AppServerClient.spawn", () => {
  it("with no arguments runs this package's own app-server through process.execPath, without PATH", async () => {
    appServerArgv(); // waits for dist/ (spawn() runs the package's bin from it)
    const home = tempCodexHome();
    const protocolErrors: unknown[] = [];
    const client = AppServerClient.spawn({
      env: { CODEX_HOME: home.dir, PATH: "" },
      args: ["-c", "cli_auth_credentials_store=ephemeral"],
      stderr: "ignore",
      onProtocolError: (error) => protocolErrors.push(error),
    });
    try {
      expect(client.child!.spawnfile).toBe(process.execPath);
      const init = await client.initialize(initializeParams());
      expect(init.codexHome).toBe(home.dir);
      await expect(client.request("account/read", {})).resolves.toMatchObject({ account: null });
    } finally {
      expect(await client.close()).toEqual({ code: 0, signal: null });
      home.remove();
    }
    expect(protocolErrors).toEqual([]);
  });

  for (const [label, make, code] of [
    ["a missing command", () => path.join(scratch, "no-such-codex"), "ENOENT"],
    [
      "a file that is not executable",
      () => {
        const file = path.join(scratch, "not-executable");
        writeFileSync(file, "#!/bin/sh\n");
        chmodSync(file, 0o644);
        return file;
      },
      "EACCES",
    ],
  ] as const) {
    it(`reports ${label} as AppServerSpawnError ${code} with its cause, not as a closed pipe`, async () => {
      const protocolErrors: unknown[] = [];
      const command = make();
      const client = AppServerClient.spawn(command, ["app-server"], { onProtocolError: (error) => protocolErrors.push(error) });
      const error = await client.initialize(initializeParams()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppServerSpawnError);
      expect(error).toMatchObject({ code, command, cause: expect.objectContaining({ code, syscall: `spawn ${command}` }) });
      const status = await client.exited;
      expect(status).toMatchObject({ code: null, signal: null, error: expect.any(AppServerSpawnError) });
      await expect(client.request("account/read", {})).rejects.toBeInstanceOf(AppServerSpawnError);
      expect(await client.close()).toEqual(status);
      expect(protocolErrors).toEqual([]);
    });
  }

  it("reports the exit code, or the signal, of a server that dies with requests in flight", async () => {
    const exits = AppServerClient.spawn(process.execPath, ["-e", "process.stdin.once('data', () => process.exit(3))"]);
    const error = await exits.request("account/read", {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppServerClosedError);
    expect(error).toMatchObject({ exitCode: 3, signal: null, message: "the app-server exited with code 3" });
    expect(await exits.exited).toEqual({ code: 3, signal: null });

    const killed = AppServerClient.spawn(process.execPath, ["-e", "process.stdin.once('data', () => process.kill(process.pid, 'SIGKILL'))"]);
    await expect(killed.request("account/read", {})).rejects.toMatchObject({ name: "AppServerClosedError", exitCode: null, signal: "SIGKILL", message: "the app-server was killed by SIGKILL" });
    expect(await killed.exited).toEqual({ code: null, signal: "SIGKILL" });
  });
});
