/**
 * The reference Codex measured beside us on every run: the pinned `@openai/codex` binary
 * (package.json `config.codexVersion`), installed into the cache on first use by the same helper
 * the tests use. CODEX_REFERENCE_BIN points at another binary (for instance another version).
 */
import { ensureCodexBinary, pinnedCodexVersion } from "../../scripts/upstream/reference.js";

export interface ReferenceCodex {
  binary: string;
  /** "Codex 0.169.0", or "Codex (CODEX_REFERENCE_BIN)" for an override. */
  label: string;
}

let reference: ReferenceCodex | undefined;

export function referenceCodex(): ReferenceCodex {
  if (reference) return reference;
  const override = process.env.CODEX_REFERENCE_BIN;
  reference = override ? { binary: override, label: "Codex (CODEX_REFERENCE_BIN)" } : { binary: ensureCodexBinary(), label: `Codex ${pinnedCodexVersion()}` };
  return reference;
}
