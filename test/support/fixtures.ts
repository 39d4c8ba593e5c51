import path from "node:path";

/**
 * Data recorded from the reference Codex (bundles, transcripts and auth.json files, each named by
 * the version that produced it), so a clean clone tests without anything beside it. See
 * test/fixtures/codex/README.md.
 */
export const CODEX_FIXTURES = path.resolve("test/fixtures/codex");

export function codexFixture(...segments: string[]): string {
  return path.join(CODEX_FIXTURES, ...segments);
}
