import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  AgentIdentityCredential,
  ApiKeyCredential,
  classifyAccessToken,
  decodeAgentIdentityJwt,
  PersonalAccessTokenCredential,
} from "../../src/auth/credentials.js";
import { AuthError } from "../../src/auth/errors.js";
import { decodeBase64UrlStrict } from "../../src/auth/jwt.js";
import { Secret } from "../../src/auth/secret.js";
import { assertNoSecrets } from "../support/secrets.js";
import { agentIdentityJwt, b64url } from "./jwt.js";

function decodeError(token: string): string {
  try {
    decodeAgentIdentityJwt(new Secret(token));
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe("AGENT_IDENTITY_DECODE");
    return (error as Error).message;
  }
  throw new Error("expected a decode failure");
}

describe("classifyAccessToken", () => {
  it("treats the at- prefix as a personal access token, without decoding anything", () => {
    expect(classifyAccessToken(new Secret("at-example"))).toEqual({ kind: "personalAccessToken" });
    expect(classifyAccessToken(new Secret("at-"))).toEqual({ kind: "personalAccessToken" });
  });

  it("treats anything else as an Agent Identity JWT that must decode", () => {
    const jwt = agentIdentityJwt({ account_id: "acct-1", chatgpt_user_id: "user-1", email: "a@example.com", plan_type: "plus" });
    expect(classifyAccessToken(new Secret(jwt))).toEqual({
      kind: "agentIdentity",
      claims: { accountId: "acct-1", userId: "user-1", email: "a@example.com", rawPlanType: "plus", isFedramp: false },
    });
    expect(() => classifyAccessToken(new Secret("AT-upper-case-is-not-a-pat"))).toThrow(/^failed to decode agent identity JWT: /);
  });
});

describe("decodeAgentIdentityJwt", () => {
  const header = b64url(JSON.stringify({ alg: "RS256", kid: "k1" }));
  const claims = b64url(JSON.stringify({ account_id: "acct-1" }));

  it("uses Codex 0.169.0's wording for each way a token is not a JWT", () => {
    expect(decodeError("not-a-jwt")).toBe("failed to decode agent identity JWT: invalid agent identity JWT format");
    expect(decodeError("a.b")).toBe("failed to decode agent identity JWT: invalid agent identity JWT format");
    expect(decodeError(`${header}..sig`)).toBe("failed to decode agent identity JWT: invalid agent identity JWT format");
    expect(decodeError("a.b.c")).toBe("failed to decode agent identity JWT: agent identity JWT payload is not valid base64url: Invalid input length: 1");
    expect(decodeError(`${header}.@@@.sig`)).toBe(
      "failed to decode agent identity JWT: agent identity JWT payload is not valid base64url: Invalid symbol 64, offset 0.",
    );
    expect(decodeError(`${header}.${b64url("notjson")}.sig`)).toMatch(/^failed to decode agent identity JWT: agent identity JWT payload is not valid JSON: /);
    expect(decodeError(`${header}.${b64url("[1]")}.sig`)).toMatch(/payload is not valid JSON: expected an object$/);
    expect(decodeError(`${b64url("nope")}.${claims}.sig`)).toMatch(/agent identity JWT header is not valid JSON/);
  });

  it("rejects unsigned tokens and headers without an alg", () => {
    expect(decodeError(`${b64url(JSON.stringify({ alg: "none" }))}.${claims}.sig`)).toBe(
      'failed to decode agent identity JWT: agent identity JWT is unsigned (alg "none" is not accepted)',
    );
    expect(decodeError(`${b64url(JSON.stringify({ alg: "NONE" }))}.${claims}.sig`)).toMatch(/unsigned/);
    expect(decodeError(`${b64url(JSON.stringify({ typ: "JWT" }))}.${claims}.sig`)).toMatch(/does not include an alg/);
  });

  it("keeps only non-secret claims (never the private key a token may carry)", () => {
    const jwt = agentIdentityJwt({ account_id: "acct-1", agent_private_key: "PRIVATE-KEY-MATERIAL-123456", chatgpt_account_is_fedramp: true });
    const decoded = decodeAgentIdentityJwt(new Secret(jwt));
    expect(decoded).toEqual({ accountId: "acct-1", userId: null, email: null, rawPlanType: null, isFedramp: true });
    assertNoSecrets([JSON.stringify(decoded), inspect(decoded)], ["PRIVATE-KEY-MATERIAL-123456"]);
  });

  it("is strict about base64url where Buffer is lenient", () => {
    expect(decodeBase64UrlStrict("ab+c")).toBe("Invalid symbol 43, offset 2.");
    expect(decodeBase64UrlStrict("abc=")).toBe("Invalid symbol 61, offset 3.");
    expect(decodeBase64UrlStrict("abcde")).toBe("Invalid input length: 5");
    expect((decodeBase64UrlStrict(b64url("hi")) as Buffer).toString()).toBe("hi");
  });
});

describe("credential classes", () => {
  it("redact their secret in inspect and JSON", () => {
    const jwt = agentIdentityJwt({ account_id: "acct-1" });
    const credentials = [
      new ApiKeyCredential(new Secret("sk-proj-secret-api-key-000001")),
      new PersonalAccessTokenCredential(new Secret("at-secret-personal-token-0001")),
      AgentIdentityCredential.decode(new Secret(jwt)),
    ];
    const shown = credentials.flatMap((credential) => [inspect(credential, { depth: 5 }), JSON.stringify(credential), String(credential)]);
    assertNoSecrets(shown, ["sk-proj-secret-api-key-000001", "at-secret-personal-token-0001", jwt]);
    expect(JSON.parse(JSON.stringify(credentials[0]))).toEqual({ kind: "apiKey", key: "[REDACTED]" });
  });
});
