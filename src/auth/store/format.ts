import type { AuthDotJson, StoredAuthMode } from "../../../generated/storage/auth-json.js";
import { validateAuthDotJson } from "../../../generated/storage/auth-json.validators.js";
import { describeLibraryError, isHeaderSafeCredential, unsafeCredentialMessage } from "../../protocol/safe-text.js";
import { describeValidationError } from "../../protocol/validation-message.js";
import { AuthError } from "../errors.js";

/** Member order of Codex's `AuthDotJson` struct; serde writes fields in declaration order. */
const TOP_LEVEL_ORDER = ["auth_mode", "OPENAI_API_KEY", "tokens", "last_refresh", "agent_identity", "personal_access_token"] as const;
const TOKEN_ORDER = ["id_token", "access_token", "refresh_token", "oauth_provenance", "login_owner_id", "account_id"] as const;

/**
 * auth.json exactly as Codex 0.169.0 writes it: serde_json pretty printing (2-space indent, no
 * trailing newline), struct member order, `OPENAI_API_KEY` always present (null when unused),
 * absent optional members skipped, `tokens.account_id` written as null when unknown. JSON.stringify's
 * escaping matches serde_json's for every string (checked byte-for-byte against the reference).
 * Members Codex's newer builds add are kept, after the known ones.
 */
export function serializeAuthDotJson(auth: AuthDotJson, style: "pretty" | "compact" = "pretty"): string {
  const source = auth as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const key of TOP_LEVEL_ORDER) {
    const value = key === "OPENAI_API_KEY" ? (source[key] ?? null) : source[key];
    if (value === undefined) continue;
    ordered[key] = key === "tokens" ? orderTokens(value as Record<string, unknown>) : value;
  }
  for (const [key, value] of Object.entries(source)) {
    if (!(TOP_LEVEL_ORDER as readonly string[]).includes(key) && value !== undefined) ordered[key] = value;
  }
  return style === "pretty" ? JSON.stringify(ordered, null, 2) : JSON.stringify(ordered);
}

function orderTokens(tokens: Record<string, unknown>): Record<string, unknown> {
  const ordered: Record<string, unknown> = {};
  // Members other than account_id are written only when present (JSON.stringify drops undefined).
  for (const key of TOKEN_ORDER) ordered[key] = key === "account_id" ? (tokens[key] ?? null) : tokens[key];
  for (const [key, value] of Object.entries(tokens)) if (!(key in ordered) && value !== undefined) ordered[key] = value;
  return ordered;
}

/** Parses and validates stored auth with the generated validator; `where` names the source in errors. */
export function parseAuthDotJson(text: string, where: string, hint = ""): AuthDotJson {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    // Never V8's text: it quotes the file (whole when short), and the file holds secrets.
    throw new AuthError("STORE_MALFORMED", `failed to deserialize CLI auth from ${where}: ${describeLibraryError(error)}${hint}`);
  }
  if (!validateAuthDotJson(data)) {
    const reason = describeValidationError(validateAuthDotJson.errors, data);
    throw new AuthError("STORE_MALFORMED", `failed to deserialize CLI auth from ${where}: ${reason}${hint}`);
  }
  const unsafe = findUnsafeCredential(data);
  if (unsafe !== null) throw new AuthError("STORE_MALFORMED", `failed to deserialize CLI auth from ${where}: ${unsafeCredentialMessage(unsafe)}${hint}`);
  return data;
}

/**
 * Stored credentials are admitted like any other (src/auth/secret.ts admitCredential): each must be
 * sendable in an HTTP header. Returns the field's name when one is not, so a tampered file (or
 * keyring entry) is refused where it is read, before its value reaches a request or a message.
 */
function findUnsafeCredential(auth: AuthDotJson): string | null {
  const fields: Array<[string, unknown]> = [
    ["OPENAI_API_KEY", auth.OPENAI_API_KEY],
    ["personal_access_token", auth.personal_access_token],
    ["agent_identity", typeof auth.agent_identity === "string" ? auth.agent_identity : undefined],
    ["tokens.id_token", auth.tokens?.id_token],
    ["tokens.access_token", auth.tokens?.access_token],
    ["tokens.refresh_token", auth.tokens?.refresh_token],
    ["tokens.account_id", auth.tokens?.account_id],
  ];
  for (const [name, value] of fields) {
    if (typeof value === "string" && value.length > 0 && !isHeaderSafeCredential(value)) return name;
  }
  return null;
}

/** Codex's `resolved_mode`: an explicit `auth_mode` wins, else `personal_access_token` > `OPENAI_API_KEY` > chatgpt. */
export function resolveStoredMode(auth: AuthDotJson): StoredAuthMode {
  if (auth.auth_mode !== undefined) return auth.auth_mode;
  if (auth.personal_access_token !== undefined) return "personalAccessToken";
  if (typeof auth.OPENAI_API_KEY === "string") return "apikey";
  return "chatgpt";
}
