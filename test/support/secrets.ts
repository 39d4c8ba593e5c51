import { expect } from "vitest";

/**
 * Asserts that no captured stream (stdout, stderr, log, error message...) contains any of the
 * secrets, whole or in part. Partial leaks: the secret minus its first or last few characters, and
 * the middle that Codex's masking hides (everything but the first 8 and last 5 characters), which a
 * masked `sk-proj-***ABCDE` never shows but a truncated or sliced leak would.
 */
export function assertNoSecrets(streams: Readonly<Record<string, string>> | readonly string[], secrets: readonly string[]): void {
  const named = Array.isArray(streams)
    ? Object.fromEntries((streams as readonly string[]).map((text, index) => [`stream ${index}`, text]))
    : (streams as Readonly<Record<string, string>>);
  for (const secret of secrets) {
    for (const fragment of leakFragments(secret)) {
      for (const [name, text] of Object.entries(named)) {
        if (text.includes(fragment)) {
          expect.fail(`${name} leaks ${fragment === secret ? "a secret" : "part of a secret"} (${describe(secret)}): …${excerpt(text, fragment)}…`);
        }
      }
    }
  }
}

/** The substrings of a secret that must never appear anywhere. */
export function leakFragments(secret: string): string[] {
  const fragments = new Set<string>([secret]);
  const cut = 4;
  if (secret.length >= 12 + cut) {
    fragments.add(secret.slice(cut));
    fragments.add(secret.slice(0, -cut));
  }
  const middle = secret.slice(8, -5);
  if (middle.length >= 6) fragments.add(middle);
  return [...fragments];
}

/** Collects every stream a test captures, for one scan over all of them at the end. */
export class CapturedStreams {
  private readonly streams: Record<string, string> = {};
  private counter = 0;

  add(label: string, text: string): void {
    this.streams[`${++this.counter}:${label}`] = text;
  }

  all(): Readonly<Record<string, string>> {
    return this.streams;
  }

  assertNoSecrets(secrets: readonly string[]): void {
    assertNoSecrets(this.streams, secrets);
  }
}

// Messages about a leak must not repeat the secret either.
function describe(secret: string): string {
  return `${secret.length} chars starting ${JSON.stringify(secret.slice(0, 3))}`;
}

function excerpt(text: string, fragment: string): string {
  const at = text.indexOf(fragment);
  return JSON.stringify(text.slice(Math.max(0, at - 30), at)) + " [leak]";
}
