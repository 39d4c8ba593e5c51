import { describeLibraryError } from "../protocol/safe-text.js";
import type { Secret } from "./secret.js";

/**
 * The one JWT decoder: codex-auth reads JWTs, it never verifies them (the backend does). Agent
 * Identity tokens (credentials.ts), ChatGPT id/access tokens (chatgpt/id-token.ts) and access
 * tokens from a parent app (the app-server's `chatgptAuthTokens`) all go through here.
 * Parts are strict base64url (Buffer's decoder silently skips bad characters); error texts never
 * quote the token.
 */
export type JwtPart = "header" | "payload";

export type JwtPartResult = { ok: true; value: Record<string, unknown> } | { ok: false; problem: "base64url" | "json"; detail: string };

/** A part decoded as a JSON object, or why it is not one. */
export function decodeJwtPart(part: string): JwtPartResult {
  const bytes = decodeBase64UrlStrict(part);
  if (typeof bytes === "string") return { ok: false, problem: "base64url", detail: bytes };
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    // Not V8's text: it would quote the decoded part of the token.
    return { ok: false, problem: "json", detail: describeLibraryError(error) };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, problem: "json", detail: "expected an object" };
  return { ok: true, value: value as Record<string, unknown> };
}

/** Returns the bytes, or the error text on failure. */
export function decodeBase64UrlStrict(text: string): Buffer | string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95;
    if (!ok) return `Invalid symbol ${c}, offset ${i}.`;
  }
  if (text.length % 4 === 1) return `Invalid input length: ${text.length}`;
  return Buffer.from(text, "base64url");
}

/** The claims of a JWT, or null when its payload is not a JSON object (ChatGPT tokens: we only read metadata). */
export function readJwtClaimsUnverified(jwt: string): Record<string, unknown> | null {
  const payload = jwt.split(".")[1];
  if (payload === undefined) return null;
  const decoded = decodeJwtPart(payload);
  return decoded.ok ? decoded.value : null;
}

/**
 * Why a ChatGPT access token (from a parent app, at login or in a refresh answer) is not a usable
 * JWT, as Codex words it; null when it is one. The token never appears in the message.
 */
export function describeUnusableAccessToken(token: Secret): string | null {
  const parts = token.reveal().split(".");
  if (parts.length !== 3) return "invalid ID token format";
  const decoded = decodeJwtPart(parts[1]!);
  if (!decoded.ok) return decoded.problem === "base64url" ? decoded.detail : "invalid ID token claims";
  return null;
}
