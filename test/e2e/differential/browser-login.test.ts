import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODEX_VERSION } from "../../support/codex-reference.js";
import { runCell, runNoSecretServiceKeyringCell } from "./cells.js";
import { Bench, CELL_MS, describeEachStore, other, TOOLS, useBench } from "./support.js";

/**
 * The ChatGPT browser login in the same matrix as credentials.test.ts: codex-auth's CLI and Codex's
 * app-server (its CLI's browser login only knows auth.openai.com) follow the authorize URL with a
 * stand-in browser (fetch) through the dev issuer, which approves at once. Codex's login server
 * always listens on 127.0.0.1:1455, so its logins take turns (support.ts); the cells run at once.
 */
describe(`beside Codex ${CODEX_VERSION}: ChatGPT browser login in every store`, { timeout: CELL_MS }, () => {
  let bench: Bench;
  useBench({ secretService: true, checks: "offline" }, (started) => (bench = started));

  describeEachStore((store) => {
    if (store.config === "keyring" && !store.secretService) {
      it("both tools refuse the login with the same message, and fail status alike", () => runNoSecretServiceKeyringCell(bench, "browser", store), CELL_MS);
      return;
    }
    for (const writer of TOOLS) {
      it(`written by ${writer}, read and logged out by ${other(writer)}`, () => runCell(bench, writer, "browser", store), CELL_MS);
    }
  });
});
