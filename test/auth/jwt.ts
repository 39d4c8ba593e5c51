/** Test helpers: unsigned-looking JWT strings (the signature part is opaque to the decoder). */
export function b64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

export function agentIdentityJwt(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: "RS256", kid: "test-key" }): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.c2lnbmF0dXJl`;
}
