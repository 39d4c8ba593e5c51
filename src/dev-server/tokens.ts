import { createHash, createHmac, randomBytes } from "node:crypto";

/**
 * Token material for the dev server: JWT minting, opaque ids, PKCE and the two ways a secret may
 * be shown (a one-way fingerprint for assertions, a redacted prefix for log lines).
 */

/** A login identity, as the issuer, AuthAPI and backend all describe it. */
export interface DevAccount {
  email: string;
  userId: string;
  /** The workspace: `chatgpt_account_id`, sent by clients as `ChatGPT-Account-Id`. */
  accountId: string;
  planType: string;
  isFedramp: boolean;
}

export const DEV_CLIENT_AUDIENCE = "app_EMoamEEZ73f0CkXaXp7hrann";

export function randomToken(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString("base64url")}`;
}

/** `ABCD-2345`: letters and digits that cannot be misread, as a person types it. */
export function randomUserCode(): string {
  const letters = "BCDFGHJKLMNPQRSTVWXZ";
  const digits = "23456789";
  const pick = (alphabet: string, count: number): string =>
    Array.from(randomBytes(count), (byte) => alphabet[byte % alphabet.length]).join("");
  return `${pick(letters, 4)}-${pick(digits, 4)}`;
}

export function pkceChallengeS256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** A public, one-way name for a secret: enough to tell bearers apart in a request log. */
export function fingerprint(secret: string): string {
  return sha256Hex(secret).slice(0, 16);
}

/** What a log line may show of a secret: a short prefix (`at-demo***`), never the whole value. */
export function redact(secret: string): string {
  return secret.length < 12 ? "***" : `${secret.slice(0, 7)}***`;
}

/** The claims Codex reads from both the id_token and the access token. */
function authClaims(account: DevAccount): Record<string, unknown> {
  return {
    "https://api.openai.com/auth": {
      chatgpt_plan_type: account.planType,
      chatgpt_user_id: account.userId,
      user_id: account.userId,
      chatgpt_account_id: account.accountId,
      chatgpt_account_is_fedramp: account.isFedramp,
    },
    "https://api.openai.com/profile": { email: account.email },
  };
}

/**
 * Signs with HS256 under a per-server key. Clients never verify the signature (Codex does not);
 * the signature only makes the tokens well-formed JWTs.
 */
export class JwtMinter {
  readonly #key = randomBytes(32);

  constructor(private readonly issuer: () => string) {}

  idToken(account: DevAccount, issuedAtSeconds: number): string {
    return this.#sign({
      iss: this.issuer(),
      aud: DEV_CLIENT_AUDIENCE,
      sub: account.userId,
      email: account.email,
      email_verified: true,
      iat: issuedAtSeconds,
      // The id_token's own lifetime does not drive refresh (the access token's does).
      exp: issuedAtSeconds + 3600,
      ...authClaims(account),
    });
  }

  accessToken(account: DevAccount, issuedAtSeconds: number, expiresAtSeconds: number): string {
    return this.#sign({
      iss: this.issuer(),
      aud: ["https://api.openai.com/v1"],
      sub: account.userId,
      client_id: DEV_CLIENT_AUDIENCE,
      iat: issuedAtSeconds,
      nbf: issuedAtSeconds,
      exp: expiresAtSeconds,
      // Two tokens minted in the same second must still differ.
      jti: randomBytes(12).toString("base64url"),
      ...authClaims(account),
    });
  }

  #sign(claims: Record<string, unknown>): string {
    const header = { alg: "HS256", typ: "JWT", kid: "codex-auth-dev-server" };
    const encode = (part: unknown): string => Buffer.from(JSON.stringify(part)).toString("base64url");
    const signingInput = `${encode(header)}.${encode(claims)}`;
    const signature = createHmac("sha256", this.#key).update(signingInput).digest("base64url");
    return `${signingInput}.${signature}`;
  }
}
