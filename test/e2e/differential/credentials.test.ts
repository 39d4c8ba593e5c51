import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODEX_VERSION } from "../../support/codex-reference.js";
import { runCell, runNoSecretServiceKeyringCell } from "./cells.js";
import { Bench, CELL_MS, describeEachStore, other, TOOLS, type Credential, useBench } from "./support.js";

/**
 * codex-auth beside the real Codex (the pinned binary), one CODEX_HOME and one keyring:
 * writer × reader × credential × store. In every cell one tool logs in, the other reads the
 * credential (`login status`, the same line both tools print) and logs out, and the writer then
 * sees nobody logged in. Where there is no Secret Service, `keyring` fails in both tools with the
 * same message and `auto` falls back to auth.json in both. The browser login has its own file
 * (Codex's browser login listens on a fixed port, so its logins take turns there).
 */
const CREDENTIALS: readonly Credential[] = ["apiKey", "personalAccessToken", "deviceCode"];

describe(`beside Codex ${CODEX_VERSION}: API key, PAT and device-code logins in every store`, { timeout: CELL_MS }, () => {
  let bench: Bench;
  useBench({ secretService: true, checks: "offline" }, (started) => (bench = started));

  describeEachStore((store) => {
    for (const credential of CREDENTIALS) {
      if (store.config === "keyring" && !store.secretService) {
        it(`${credential}: both tools refuse the login with the same message, and fail status alike`, () => runNoSecretServiceKeyringCell(bench, credential, store), CELL_MS);
        continue;
      }
      for (const writer of TOOLS) {
        it(`${credential}: written by ${writer}, read and logged out by ${other(writer)}`, () => runCell(bench, writer, credential, store), CELL_MS);
      }
    }
  });
});
