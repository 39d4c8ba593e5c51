import { expect } from "vitest";
import { assertNoSecrets } from "../../support/secrets.js";
import {
  API_KEY,
  Bench,
  keyringFailure,
  login,
  logout,
  other,
  readAuthFile,
  status,
  STATUS_LINES,
  TOOLS,
  type Credential,
  type Result,
  type StoreCase,
  type Tool,
} from "./support.js";

/**
 * The cells of the differential matrix (credentials.test.ts, browser-login.test.ts): what happens
 * when one tool writes a credential and the other reads it and logs out, in one store.
 */
/** Where the credential should be after a successful login in `store`. */
export function expectedLocation(store: StoreCase): "file" | "keyring" {
  return store.config === "file" || (store.config === "auto" && !store.secretService) ? "file" : "keyring";
}

export const KEYRING_STATUS_FAILURE = "Error checking login status: failed to load CLI auth from keyring: Platform secure storage failure: no secret service provider or dbus session found";

/**
 * `keyring` without a Secret Service: both tools refuse the login with the same message (Codex
 * repeats its cause chain after it), store nothing, and fail `login status` alike.
 */
export async function runNoSecretServiceKeyringCell(bench: Bench, credential: Credential, store: StoreCase): Promise<void> {
  const cells = await Promise.all(
    TOOLS.map(async (tool) => {
      const home = bench.home();
      const written = await login(bench, tool, credential, store, home);
      // Status by the other tool, in the same home.
      const seen = await status(bench, other(tool), store, home);
      return { tool, home, written, seen };
    }),
  );
  const failure = keyringFailure(cells[0]!.written.stderr);
  expect(failure, cells[0]!.written.stderr).toContain("failed to write OAuth tokens to keyring: ");
  for (const { tool, home, written, seen } of cells) {
    if (tool === "codex" && credential === "browser") {
      // Codex's browser login runs in its app-server here, which words the failure for a UI.
      expect({ code: written.code, stderr: written.stderr }).toEqual({ code: 1, stderr: "Login server error: Sign-in completed but credentials could not be saved locally.\n" });
    } else {
      expect({ tool, code: written.code, failure: keyringFailure(written.stderr) }).toEqual({ tool, code: 1, failure });
    }
    expect(readAuthFile(home)).toBeNull();
    expect({ tool, code: seen.code, failure: keyringFailure(seen.stderr) }).toEqual({ tool, code: 1, failure: KEYRING_STATUS_FAILURE });
  }
  assertNoSecrets(cells.flatMap((cell) => [cell.written.stdout, cell.written.stderr, cell.seen.stderr]), [API_KEY]);
}

/** One cell: `writer` logs in, `reader` reads and logs out; every step asserted. */
export async function runCell(bench: Bench, writer: Tool, credential: Credential, store: StoreCase): Promise<void> {
  const reader = other(writer);
  const home = bench.home();
  const outputs: Result[] = [];
  const record = (result: Result) => (outputs.push(result), result);

  const written = record(await login(bench, writer, credential, store, home));

  expect(written.code, written.stderr).toBe(0);
  const file = readAuthFile(home);
  if (expectedLocation(store) === "keyring") expect(file).toBeNull();
  else expect(file).not.toBeNull();
  if (file !== null && (credential === "deviceCode" || credential === "browser")) {
    // What Codex 0.169.0+ writes for a ChatGPT login, and codex-auth too.
    expect(file.tokens).toMatchObject({ oauth_provenance: { issuer: bench.dev.issuerUrl, client_id: expect.any(String) }, account_id: "acct-demo" });
    expect(file.tokens!.login_owner_id).toMatch(/^[A-Za-z0-9_-]{43}$/);
  }

  // Status by the other tool: the line the writer itself prints (test/cli/login-status.test.ts).
  const seen = record(await status(bench, reader, store, home));
  expect({ code: seen.code, stderr: seen.stderr }).toEqual({ code: 0, stderr: STATUS_LINES[credential] });

  // Logout by the other tool.
  const out = record(await logout(bench, reader, store, home));
  if (reader === "codex" && store.config === "auto" && !store.secretService) {
    // Codex's auto store deletes from the keyring only, so its logout fails without one and the
    // file stays (codex-auth removes the file: a deliberate difference, README).
    expect(out.code).toBe(1);
    expect(keyringFailure(out.stderr)).toBe("Error logging out: failed to delete auth from keyring: Platform secure storage failure: no secret service provider or dbus session found");
    expect(readAuthFile(home)).not.toBeNull();
    const ours = record(await logout(bench, writer, store, home));
    expect({ code: ours.code, stderr: ours.stderr }).toEqual({ code: 0, stderr: "Successfully logged out\n" });
  } else {
    expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 0, stderr: "Successfully logged out\n" });
  }
  expect(readAuthFile(home)).toBeNull();
  const after = record(await status(bench, writer, store, home));
  expect({ code: after.code, stderr: after.stderr }).toEqual({ code: 1, stderr: "Not logged in\n" });
  assertNoSecrets(outputs.flatMap((r) => [r.stdout, r.stderr]), [API_KEY]);
}

