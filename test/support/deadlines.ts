/**
 * The deadlines every process under test gets (CLI runs through `cleanEnv`, app-servers through
 * `launchEnv`): far longer than anything takes on a loaded machine, so no test depends on a quiet
 * one. A test about a deadline sets its own, short value (see test/faults/network-cli.test.ts).
 * The knobs are read in src/protocol/deadlines.ts (and src/cli/commands/app-server.ts).
 */
export const PATIENT_DEADLINES: Readonly<Record<string, string>> = {
  CODEX_AUTH_HTTP_TIMEOUT_MS: "60000",
  CODEX_AUTH_LOCK_TIMEOUT_MS: "60000",
  CODEX_AUTH_APP_SERVER_REQUEST_TIMEOUT_MS: "60000",
};
