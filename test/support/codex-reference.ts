/**
 * The reference Codex binary for differential tests: the pinned `@openai/codex` from the cache
 * that `npm run upstream:install` fills (`.ci/run` runs it before the tests). Installed on first
 * use when missing, so a test never silently skips for want of it.
 */
import { ensureCodexBinary, pinnedCodexVersion } from "../../scripts/upstream/reference.js";

export const CODEX_VERSION = pinnedCodexVersion();

let binary: string | undefined;
export function referenceCodexBinary(version?: string): string {
  if (version && version !== CODEX_VERSION) return ensureCodexBinary(version);
  binary ??= process.env.CODEX_REFERENCE_BIN || ensureCodexBinary(CODEX_VERSION);
  return binary;
}
