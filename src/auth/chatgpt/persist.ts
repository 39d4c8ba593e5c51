import type { AuthDotJson, StoredChatgptTokens } from "../../../generated/storage/auth-json.js";
import { validateAuthDotJson } from "../../../generated/storage/auth-json.validators.js";
import { describeValidationError } from "../../protocol/validation-message.js";
import type { Secret } from "../secret.js";

/**
 * auth.json for a ChatGPT login, as Codex 0.169.0+ writes it: `auth_mode: "chatgpt"`,
 * `OPENAI_API_KEY` (the exchanged key, or null; device code always null), `tokens {id_token,
 * access_token, refresh_token, oauth_provenance, login_owner_id, account_id}` and `last_refresh` (RFC 3339 UTC with chrono's precision: all
 * non-zero sub-second digits in groups of 3, usually nanoseconds, e.g.
 * `2026-11-22T02:36:01.300005444Z`). Validated with the generated validator before anyone writes it.
 */
export interface ChatgptTokenSet {
  readonly idToken: Secret;
  readonly accessToken: Secret;
  readonly refreshToken: Secret;
}

/**
 * Which issuer and client minted the tokens. Codex refreshes and revokes against this issuer
 * (unless an env override says otherwise), so a login made against another issuer keeps working.
 */
export interface OAuthProvenance {
  readonly issuer: string;
  readonly clientId: string;
}

/** What `persist` receives: a complete, validated ChatGPT auth.json. */
export type ChatgptAuthDotJson = AuthDotJson & { auth_mode: "chatgpt"; tokens: NonNullable<AuthDotJson["tokens"]>; last_refresh: string };

/** Hands the new credential to the configured store (`store.save`); nothing else is written. */
export type PersistChatgptAuth = (auth: ChatgptAuthDotJson) => Promise<void>;

export function buildChatgptAuthDotJson(input: {
  tokens: ChatgptTokenSet;
  accountId: string | null;
  apiKey: Secret | null;
  provenance: OAuthProvenance;
  /** Tests pin it; a login gets a fresh one. */
  loginOwnerId?: string;
  lastRefresh?: string;
}): ChatgptAuthDotJson {
  const auth: ChatgptAuthDotJson = {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: input.apiKey === null ? null : input.apiKey.reveal(),
    tokens: {
      id_token: input.tokens.idToken.reveal(),
      access_token: input.tokens.accessToken.reveal(),
      refresh_token: input.tokens.refreshToken.reveal(),
      oauth_provenance: { issuer: input.provenance.issuer, client_id: input.provenance.clientId },
      login_owner_id: input.loginOwnerId ?? newLoginOwnerId(),
      account_id: input.accountId,
    },
    last_refresh: input.lastRefresh ?? formatLastRefresh(currentEpochNanos()),
  };
  assertValidAuthDotJson(auth);
  return auth;
}

/**
 * Codex marks each login with 32 random bytes (base64url, no padding), new for every login and
 * kept through refreshes: two logins of the same account are told apart by it.
 */
export function newLoginOwnerId(): string {
  const { randomBytes } = process.getBuiltinModule("node:crypto");
  return randomBytes(32).toString("base64url");
}

/** The generated validator, with a message that names the field but never echoes a value. */
export function assertValidAuthDotJson(auth: AuthDotJson): void {
  if (!validateAuthDotJson(auth)) {
    const first = validateAuthDotJson.errors?.[0];
    const where = first?.instancePath ? ` at ${first.instancePath}` : "";
    const reason = first?.keyword === "required" ? describeValidationError(validateAuthDotJson.errors, {}) : `invalid ${first?.keyword ?? "value"}${where}`;
    throw new Error(`refusing to write an invalid auth.json: ${reason}`);
  }
}

// Wall-clock nanoseconds: the millisecond clock anchored once, advanced by the monotonic clock.
const anchorNanos = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export function currentEpochNanos(): bigint {
  return anchorNanos + process.hrtime.bigint();
}

/**
 * chrono's `DateTime<Utc>` serialization (SecondsFormat::AutoSi, `Z`): seconds, then `.` and 3, 6
 * or 9 digits, the fewest that show every non-zero digit (none when the fraction is zero).
 */
export function formatLastRefresh(epochNanos: bigint | Date): string {
  const nanos = epochNanos instanceof Date ? BigInt(epochNanos.getTime()) * 1_000_000n : epochNanos;
  const seconds = nanos / 1_000_000_000n - (nanos % 1_000_000_000n < 0n ? 1n : 0n);
  const fraction = nanos - seconds * 1_000_000_000n;
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (fraction === 0n) return `${base}Z`;
  const digits = fraction.toString().padStart(9, "0");
  if (fraction % 1_000_000n === 0n) return `${base}.${digits.slice(0, 3)}Z`;
  if (fraction % 1_000n === 0n) return `${base}.${digits.slice(0, 6)}Z`;
  return `${base}.${digits}Z`;
}

/** `last_refresh` as a Date (any RFC 3339 precision); null when absent or unparseable. */
export function parseLastRefresh(value: string | null | undefined): Date | null {
  if (!value) return null;
  // Date.parse keeps milliseconds; trim longer fractions so every engine accepts the text.
  const normalized = value.replace(/(\.\d{3})\d+/, "$1");
  const ms = Date.parse(normalized);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/**
 * The issuer and client a ChatGPT login came from (`tokens.oauth_provenance`), for its refresh and
 * revoke: Codex refreshes against the login's issuer, not today's default, so a login made with
 * `--experimental_issuer` keeps working after the flag is gone. The URL overrides still win.
 */
export function provenanceOf(tokens: StoredChatgptTokens | undefined): { issuer: string | null; clientId: string | null } {
  const provenance = tokens?.oauth_provenance;
  return { issuer: provenance?.issuer ?? null, clientId: provenance?.client_id ?? null };
}
