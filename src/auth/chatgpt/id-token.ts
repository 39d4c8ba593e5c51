import type { PlanType } from "../../../generated/protocol/common.js";
import { readJwtClaimsUnverified } from "../jwt.js";
import { toPlanType } from "../../protocol/plan-type.js";

/**
 * What codex-auth reads from ChatGPT tokens, without verifying them (the backend does): the
 * account metadata of the id_token and the access token's `exp`. Claims: `email` (fallback
 * `https://api.openai.com/profile`.email) and `https://api.openai.com/auth` with
 * `chatgpt_plan_type`, `chatgpt_user_id` (or `user_id`), `chatgpt_account_id`,
 * `chatgpt_account_is_fedramp`.
 */
export interface ChatgptTokenClaims {
  readonly email: string | null;
  readonly rawPlanType: string | null;
  /** `rawPlanType` mapped to the contract's PlanType (unknown plans → `unknown`); null when absent. */
  readonly planType: PlanType | null;
  readonly userId: string | null;
  readonly accountId: string | null;
  readonly isFedramp: boolean;
}

export const AUTH_CLAIM = "https://api.openai.com/auth";
export const PROFILE_CLAIM = "https://api.openai.com/profile";

/** The claims of a ChatGPT id_token, or null when it is not a decodable JWT. */
export function parseChatgptIdToken(jwt: string): ChatgptTokenClaims | null {
  const claims = readJwtClaimsUnverified(jwt);
  return claims === null ? null : chatgptClaims(claims);
}

export function chatgptClaims(claims: Record<string, unknown>): ChatgptTokenClaims {
  const auth = record(claims[AUTH_CLAIM]);
  const profile = record(claims[PROFILE_CLAIM]);
  const rawPlanType = text(auth["chatgpt_plan_type"]);
  return Object.freeze({
    email: text(claims["email"]) ?? text(profile["email"]),
    rawPlanType,
    planType: rawPlanType === null ? null : toPlanType(rawPlanType),
    userId: text(auth["chatgpt_user_id"]) ?? text(auth["user_id"]),
    accountId: text(auth["chatgpt_account_id"]),
    isFedramp: auth["chatgpt_account_is_fedramp"] === true,
  });
}

/** The access token's `exp` (seconds since the epoch) as a Date, or null when it has none or is not a JWT. */
export function accessTokenExpiresAt(accessToken: string): Date | null {
  const exp = readJwtClaimsUnverified(accessToken)?.["exp"];
  return typeof exp === "number" && Number.isFinite(exp) ? new Date(exp * 1000) : null;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}
