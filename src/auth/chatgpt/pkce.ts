import { createHash, randomBytes } from "node:crypto";
import { Secret } from "../secret.js";

/**
 * PKCE (RFC 7636, S256) and the OAuth `state`, as Codex makes them: the verifier is base64url
 * (no padding) of 64 random bytes, the challenge base64url(SHA-256(verifier)), the state
 * base64url of 32 random bytes. The verifier is a Secret: only its challenge leaves the process
 * before the code exchange.
 */
export interface PkceCodes {
  readonly codeVerifier: Secret;
  readonly codeChallenge: string;
}

export function generatePkce(): PkceCodes {
  const codeVerifier = new Secret(randomBytes(64).toString("base64url"));
  return Object.freeze({ codeVerifier, codeChallenge: pkceChallenge(codeVerifier) });
}

export function pkceChallenge(verifier: Secret): string {
  return createHash("sha256").update(verifier.reveal()).digest("base64url");
}

export function generateState(): string {
  return randomBytes(32).toString("base64url");
}
