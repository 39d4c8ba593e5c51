import { randomBytes } from "node:crypto";
import {
  validateDeviceTokenRequest,
  validateDeviceTokenResponse,
  validateDeviceUserCodeRequest,
  validateDeviceUserCodeResponse,
  validateOAuthError,
} from "../../generated/http/oauth.validators.js";
import { apiError, describeErrors, html, json, parseFormBody, parseJsonBody, type DevRequest, type Reply, type Route } from "./http.js";
import { devicePage, deviceResultPage, errorPage } from "./pages.js";
import type { DeviceCodeRecord, DevState } from "./state.js";
import { pkceChallengeS256, randomToken, randomUserCode } from "./tokens.js";

/**
 * Device-code login: `/api/accounts/deviceauth/usercode` and `/token` (polled), and the
 * `/codex/device` page where a person types the code. On approval the issuer hands out an
 * authorization code with a server-made PKCE pair, redeemed at `/oauth/token` with
 * `redirect_uri={issuer}/deviceauth/callback`.
 */

export function deviceCodeRoutes(state: DevState): Route[] {
  return [
    { method: "POST", path: "/api/accounts/deviceauth/usercode", api: "oauth", handle: (request) => userCode(state, request) },
    { method: "POST", path: "/api/accounts/deviceauth/token", api: "oauth", handle: (request) => poll(state, request) },
    { method: "GET", path: "/codex/device", handle: (request) => html(200, devicePage(request.query.get("user_code") ?? "")) },
    { method: "POST", path: "/codex/device", handle: (request) => devicePageDecision(state, request) },
  ];
}

function invalidRequest(reason: string): Reply {
  return json(400, { error: "invalid_request", error_description: reason }, validateOAuthError);
}

function userCode(state: DevState, request: DevRequest): Reply {
  if (!state.device.enabled) return apiError("oauth", 404, "not_found", "Device code login is not enabled.");
  const body = parseJsonBody(request);
  if (!body.ok) return invalidRequest(body.reason);
  if (!validateDeviceUserCodeRequest(body.value)) return invalidRequest(describeErrors(validateDeviceUserCodeRequest));
  const record: DeviceCodeRecord = {
    deviceAuthId: randomToken("deviceauth-dev-", 16),
    userCode: randomUserCode(),
    clientId: body.value.client_id,
    createdAtMs: Date.now(),
    polls: 0,
    status: "pending",
    grant: null,
  };
  state.deviceCodes.set(record.deviceAuthId, record);
  return json(
    200,
    { device_auth_id: record.deviceAuthId, user_code: record.userCode, interval: state.device.interval },
    validateDeviceUserCodeResponse,
  );
}

function poll(state: DevState, request: DevRequest): Reply {
  const body = parseJsonBody(request);
  if (!body.ok) return invalidRequest(body.reason);
  if (!validateDeviceTokenRequest(body.value)) return invalidRequest(describeErrors(validateDeviceTokenRequest));
  const record = state.deviceCodes.get(body.value.device_auth_id);
  if (!record || record.userCode !== body.value.user_code) {
    return apiError("oauth", 404, "deviceauth_unknown", "The device authorization is unknown.");
  }
  record.polls += 1;
  const { autoApproveAfterPolls } = state.device;
  if (isPending(state, record) && autoApproveAfterPolls !== null && record.polls > autoApproveAfterPolls) {
    approveDeviceRecord(state, record);
  }
  if (record.status === "approved" && record.grant) {
    const { authorizationCode, codeChallenge, codeVerifier } = record.grant;
    return json(
      200,
      { authorization_code: authorizationCode, code_challenge: codeChallenge, code_verifier: codeVerifier },
      validateDeviceTokenResponse,
    );
  }
  if (!isPending(state, record)) {
    return apiError("oauth", state.device.expiredStatus, "deviceauth_expired", "The device code has expired or was denied.");
  }
  return apiError("oauth", 403, "deviceauth_authorization_pending", "The device code has not been approved yet.");
}

/** Pending and not past its lifetime (a code that outlives it becomes expired). */
function isPending(state: DevState, record: DeviceCodeRecord): boolean {
  if (record.status === "pending" && Date.now() - record.createdAtMs > state.device.ttlSeconds * 1000) record.status = "expired";
  return record.status === "pending";
}

/** Approves a pending code: mints the authorization code and the server-side PKCE pair. */
export function approveDeviceRecord(state: DevState, record: DeviceCodeRecord): void {
  if (!isPending(state, record)) throw new Error(`device code ${record.userCode} is ${record.status}, not pending`);
  const codeVerifier = randomBytes(64).toString("base64url");
  const codeChallenge = pkceChallengeS256(codeVerifier);
  const authorizationCode = randomToken("code-dev-");
  state.authorizationCodes.set(authorizationCode, {
    account: state.nextAccount,
    clientId: record.clientId,
    redirectUri: `${state.url}/deviceauth/callback`,
    codeChallenge,
    used: false,
  });
  record.grant = { authorizationCode, codeChallenge, codeVerifier };
  record.status = "approved";
}

/** The code a person typed (any case, spaces ignored), or else the newest pending one. */
export function findDeviceRecord(state: DevState, userCode?: string): DeviceCodeRecord | undefined {
  const records = [...state.deviceCodes.values()];
  if (userCode === undefined) return records.reverse().find((record) => isPending(state, record));
  const wanted = userCode.replace(/\s+/g, "").toUpperCase();
  return records.find((record) => record.userCode === wanted);
}

function devicePageDecision(state: DevState, request: DevRequest): Reply {
  const form = parseFormBody(request);
  if (!form.ok) return html(400, errorPage("Invalid request", form.reason));
  const typed = String(form.value.user_code ?? "");
  const record = typed ? findDeviceRecord(state, typed) : undefined;
  if (!record || !isPending(state, record)) {
    return html(400, errorPage("Unknown code", "This code is unknown, expired or already used. Check the code in your terminal."));
  }
  if (form.value.decision === "approve") {
    approveDeviceRecord(state, record);
    return html(200, deviceResultPage(true, record.userCode));
  }
  record.status = "expired";
  return html(200, deviceResultPage(false, record.userCode));
}
