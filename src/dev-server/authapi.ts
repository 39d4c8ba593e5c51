import type { WhoAmIResponse } from "../../generated/http/authapi.js";
import { validateWhoAmIResponse } from "../../generated/http/authapi.validators.js";
import { apiError, dropped, holdFor, json, nonConformingJson, type Reply, type Route } from "./http.js";
import type { DevState, PersonalAccessTokenRecord } from "./state.js";

/** AuthAPI: `GET /api/accounts/v1/user-auth-credential/whoami`, the PAT metadata lookup. */
export const WHOAMI_PATH = "/api/accounts/v1/user-auth-credential/whoami";

export function authApiRoutes(state: DevState): Route[] {
  return [
    {
      method: "GET",
      path: WHOAMI_PATH,
      api: "authapi",
      async handle(request): Promise<Reply> {
        if (request.bearer === null) return apiError("authapi", 401, "missing_authorization", "A bearer token is required.");
        const record = state.personalAccessTokens.get(request.bearer);
        if (!record) return apiError("authapi", 401, "invalid_token", "The access token is unknown.");
        if (record.delayMs > 0 && (await holdFor(record.delayMs, request.signal)) === "aborted") return dropped;
        return whoamiReply(record);
      },
    },
  ];
}

function whoamiReply(record: PersonalAccessTokenRecord): Reply {
  if (record.status === 401) return apiError("authapi", 401, "token_revoked", "The access token has been revoked.");
  if (record.status === 403) return apiError("authapi", 403, "forbidden", "The access token may not use this endpoint.");
  if (record.status !== 200) return apiError("authapi", record.status, "error", `whoami is switched to answer ${record.status}.`);
  const body: WhoAmIResponse = {
    email: record.account.email,
    chatgpt_user_id: record.account.userId,
    chatgpt_account_id: record.account.accountId,
    chatgpt_plan_type: record.account.planType,
    chatgpt_account_is_fedramp: record.account.isFedramp,
  };
  if (record.nullFields.length === 0) return json(200, body, validateWhoAmIResponse);
  // The one deliberate contract break: required fields sent as null, to prove clients fail closed.
  const broken: Record<string, unknown> = { ...body };
  for (const field of record.nullFields) broken[field] = null;
  return nonConformingJson(200, broken, `${record.nullFields.join(", ")} sent as null on purpose (fail-closed test token)`);
}
