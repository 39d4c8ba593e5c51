/**
 * Environment knobs of the ChatGPT logins, read by the CLI entry points (`login`, `app-server`)
 * and handed down as options. Defaults are Codex's; the knobs exist so tests never depend on port
 * 1455 being free or wait 15 minutes for a timeout.
 *
 * - `CODEX_AUTH_LOGIN_PORT`: the callback server's port (0: any free port). Set: no 1457 fallback
 *   unless it is 1455. Unset: 1455, then 1457.
 * - `CODEX_AUTH_DEVICE_CODE_TIMEOUT_MS`: how long a device-code login polls (default 15 minutes).
 * - `CODEX_AUTH_DEVICE_CODE_MIN_INTERVAL_MS`: the floor between two device-code polls (default
 *   1000, whatever the issuer's `interval`); read by src/auth/chatgpt/device-code.ts from the
 *   manager's environment, so it reaches the CLI and the app-server alike.
 * - `CODEX_APP_SERVER_LOGIN_ISSUER` (app-server only, as Codex): the issuer for its logins, over
 *   `CODEX_AUTH_ISSUER`.
 */
type Env = Readonly<Record<string, string | undefined>>;

export interface LoginKnobs {
  loginPort?: number;
  deviceCodeTimeoutMs?: number;
}

export function readLoginKnobs(env: Env): LoginKnobs {
  const port = readInteger(env, "CODEX_AUTH_LOGIN_PORT", 0, 65_535);
  const timeout = readInteger(env, "CODEX_AUTH_DEVICE_CODE_TIMEOUT_MS", 1, Number.MAX_SAFE_INTEGER);
  return { ...(port === undefined ? {} : { loginPort: port }), ...(timeout === undefined ? {} : { deviceCodeTimeoutMs: timeout }) };
}

function readInteger(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got '${raw.length > 20 ? `${raw.slice(0, 20)}...` : raw}'`);
  }
  return value;
}
