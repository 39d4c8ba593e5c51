import path from "node:path";

/**
 * Data recorded from Codex 0.169.0 (copied from the team's shared fixtures into the repository,
 * so a clean clone tests without anything beside it). See test/fixtures/codex/README.md.
 */
export const CODEX_FIXTURES = path.resolve("test/fixtures/codex");

export function codexFixture(...segments: string[]): string {
  return path.join(CODEX_FIXTURES, ...segments);
}
