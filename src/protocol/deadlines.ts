/**
 * The real deadlines, each overridable by one environment variable so that tests never depend on a
 * quiet machine (a loaded CI box can take longer than 10 s to answer a whoami). Defaults are the
 * contract's. Read once, when the module that owns the deadline loads; internal (not part of the
 * public `codex-auth/protocol` entry).
 *
 * - `CODEX_AUTH_HTTP_TIMEOUT_MS`: every HTTP call's deadline (AuthAPI, OAuth issuer, backend; 10 s).
 * - `CODEX_AUTH_LOCK_TIMEOUT_MS`: how long a writer waits for the auth.json locks (10 s; 30 s for
 *   a guarded refresh).
 *
 * (The app-server's wait for a client's answer, 10 s, is `CODEX_AUTH_APP_SERVER_REQUEST_TIMEOUT_MS`,
 * read by src/cli/commands/app-server.ts.)
 */
export type DeadlineKnob = "CODEX_AUTH_HTTP_TIMEOUT_MS" | "CODEX_AUTH_LOCK_TIMEOUT_MS";

export function deadlineMs(knob: DeadlineKnob, fallback: number): number {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[knob]?.trim();
  if (!raw) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${knob} must be a positive integer (milliseconds), got '${raw.length > 20 ? `${raw.slice(0, 20)}...` : raw}'`);
  }
  return value;
}
