import { inspect, format } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isAuthError } from "../../src/auth/errors.js";
import { admitCredential, maskCredential, REDACTED, Secret } from "../../src/auth/secret.js";
import { assertNoSecrets } from "../support/secrets.js";

const KEY = "sk-proj-1234567890ABCDE";

describe("Secret", () => {
  it("never shows its value through the usual ways of printing", () => {
    const secret = new Secret(KEY);
    const shown = [
      String(secret),
      `${secret}`,
      "" + secret,
      secret.toString(),
      JSON.stringify(secret),
      JSON.stringify({ nested: { secret } }),
      inspect(secret),
      inspect({ secret }, { depth: 10, showHidden: true }),
      format("%s %o %O %j", secret, secret, { secret }, { secret }),
      Object.keys(secret).join(","),
    ];
    assertNoSecrets(shown, [KEY]);
    expect(String(secret)).toBe(REDACTED);
    expect(JSON.stringify({ secret })).toBe(`{"secret":"${REDACTED}"}`);
  });

  it("gives the value up only through reveal()", () => {
    const secret = new Secret(KEY);
    expect(secret.reveal()).toBe(KEY);
    expect(secret.length).toBe(KEY.length);
    expect(secret.startsWith("sk-")).toBe(true);
    expect(secret.equals(new Secret(KEY))).toBe(true);
    expect(secret.equals(new Secret("other"))).toBe(false);
    expect(Object.isFrozen(secret)).toBe(true);
  });

  it("masks like Codex's safe_format_key", () => {
    expect(new Secret(KEY).mask()).toBe("sk-proj-***ABCDE");
    expect(maskCredential("sk-short")).toBe("***");
    expect(maskCredential("a".repeat(13))).toBe("***");
    expect(maskCredential("abcdefgh" + "X" + "12345")).toBe("abcdefgh***12345");
    expect(maskCredential("")).toBe("***");
  });

  it("redacts any value, and masking never shows the hidden middle (property)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 80 }), (value) => {
        const secret = new Secret(value);
        for (const shown of [String(secret), JSON.stringify(secret), inspect(secret), `${secret}`]) {
          // Only a value that is itself part of the placeholder can "appear".
          if (!`"${REDACTED}"`.includes(value)) expect(shown.includes(value)).toBe(false);
        }
        const chars = Array.from(value);
        const masked = secret.mask();
        if (chars.length <= 13) expect(masked).toBe("***");
        else expect(masked).toBe(`${chars.slice(0, 8).join("")}***${chars.slice(-5).join("")}`);
      }),
    );
  });
});

describe("admitCredential: the one admission check for credentials from outside", () => {
  it("admits visible ASCII and refuses anything an HTTP header cannot carry, naming the source only", () => {
    expect(admitCredential("sk-proj-abc_DEF.123~+/=", "CODEX_API_KEY").reveal()).toBe("sk-proj-abc_DEF.123~+/=");
    for (const value of ["sk-a\rb", "sk-a\nb", "sk-a\0b", "sk-\u001b[2Jx", "sk-a b", "sk-a\tb", "sk-é", "sk-€", "sk-😀", "sk-\ud800", "sk-\u007f"]) {
      let message = "";
      try {
        admitCredential(value, "CODEX_API_KEY");
      } catch (error) {
        expect(isAuthError(error, "CREDENTIAL_REFUSED")).toBe(true);
        message = (error as Error).message;
      }
      expect(message).toBe("CODEX_API_KEY contains characters that cannot be sent in an HTTP header (only visible ASCII characters are allowed)");
    }
    expect(() => admitCredential("", "apiKey")).toThrow(/^apiKey is empty$/);
  });
});
