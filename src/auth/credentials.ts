import { AuthError } from "./errors.js";
import { decodeJwtPart } from "./jwt.js";
import { Secret } from "./secret.js";

/**
 * Credential classification and decoding. Classification is Codex's one prefix check: `at-` is a
 * personal access token, anything else must be a legacy Agent Identity JWT.
 */
export const PERSONAL_ACCESS_TOKEN_PREFIX = "at-";

/** The non-secret claims of an Agent Identity JWT (the private key it may carry is never kept). */
export interface AgentIdentityClaims {
  readonly accountId: string | null;
  readonly userId: string | null;
  readonly email: string | null;
  readonly rawPlanType: string | null;
  readonly isFedramp: boolean;
}

export type AccessTokenClass = { kind: "personalAccessToken" } | { kind: "agentIdentity"; claims: AgentIdentityClaims };

export function classifyAccessToken(token: Secret): AccessTokenClass {
  if (token.startsWith(PERSONAL_ACCESS_TOKEN_PREFIX)) return { kind: "personalAccessToken" };
  return { kind: "agentIdentity", claims: decodeAgentIdentityJwt(token) };
}

/**
 * Decodes (does not verify) an Agent Identity JWT: three base64url parts, a JSON header whose `alg`
 * is not `none`, and a JSON object of claims. Sub-messages follow Codex 0.169.0's wording.
 */
export function decodeAgentIdentityJwt(token: Secret): AgentIdentityClaims {
  const fail = (detail: string) => new AuthError("AGENT_IDENTITY_DECODE", `failed to decode agent identity JWT: ${detail}`);
  const parts = token.reveal().split(".");
  if (parts.length !== 3 || parts.some((part) => part.length === 0)) throw fail("invalid agent identity JWT format");
  const [headerPart, payloadPart] = parts as [string, string, string];

  const claims = decodeJsonPart(payloadPart, "payload", fail);
  const header = decodeJsonPart(headerPart, "header", fail);
  const alg = header["alg"];
  if (typeof alg !== "string" || alg.length === 0) throw fail("agent identity JWT header does not include an alg");
  if (alg.toLowerCase() === "none") throw fail('agent identity JWT is unsigned (alg "none" is not accepted)');

  return Object.freeze({
    accountId: optionalString(claims["account_id"]) ?? optionalString(claims["chatgpt_account_id"]),
    userId: optionalString(claims["chatgpt_user_id"]) ?? optionalString(claims["user_id"]),
    email: optionalString(claims["email"]),
    rawPlanType: optionalString(claims["plan_type"]) ?? optionalString(claims["chatgpt_plan_type"]),
    isFedramp: claims["chatgpt_account_is_fedramp"] === true,
  });
}

function decodeJsonPart(part: string, name: "header" | "payload", fail: (detail: string) => AuthError): Record<string, unknown> {
  const decoded = decodeJwtPart(part);
  if (decoded.ok) return decoded.value;
  if (decoded.problem === "base64url") throw fail(`agent identity JWT ${name} is not valid base64url: ${decoded.detail}`);
  throw fail(`agent identity JWT ${name} is not valid JSON: ${decoded.detail}`);
}

function optionalString(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** An OpenAI API key (`login --with-api-key`, `CODEX_API_KEY`). */
export class ApiKeyCredential {
  readonly kind = "apiKey" as const;
  constructor(readonly key: Secret) {}
}

/** A personal access token (`at-...`); its metadata comes from a live whoami on every load. */
export class PersonalAccessTokenCredential {
  readonly kind = "personalAccessToken" as const;
  constructor(readonly token: Secret) {}
}

/** A legacy Agent Identity JWT with its decoded, non-secret claims. */
export class AgentIdentityCredential {
  readonly kind = "agentIdentity" as const;
  constructor(
    readonly jwt: Secret,
    readonly claims: AgentIdentityClaims,
  ) {}

  static decode(jwt: Secret): AgentIdentityCredential {
    return new AgentIdentityCredential(jwt, decodeAgentIdentityJwt(jwt));
  }
}

export type Credential = ApiKeyCredential | PersonalAccessTokenCredential | AgentIdentityCredential;
