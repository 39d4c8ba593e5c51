import { inspect, format } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { maskCredential, REDACTED, Secret } from "../../src/auth/secret.js";
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
