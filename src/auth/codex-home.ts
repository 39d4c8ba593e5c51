import { realpathSync, statSync } from "node:fs";
import path from "node:path";
import { AuthError } from "./errors.js";

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * `$CODEX_HOME`, or `~/.codex` when unset. As in Codex, an explicitly set CODEX_HOME must already
 * exist (a typo must not silently create a second credential home); the default may not exist yet.
 */
export function resolveCodexHome(env: Env = process.env): string {
  const configured = env.CODEX_HOME?.trim();
  // node:os on demand: most runs (tests, CI, the app-server) set CODEX_HOME.
  if (!configured) return path.join(process.getBuiltinModule("node:os").homedir(), ".codex");
  try {
    statSync(configured);
  } catch {
    throw new AuthError("CODEX_HOME_MISSING", `CODEX_HOME points to "${configured}", but that path does not exist`);
  }
  try {
    return realpathSync(configured);
  } catch {
    return path.resolve(configured);
  }
}

export function authFilePath(codexHome: string): string {
  return path.join(codexHome, "auth.json");
}

/** A trimmed env value; empty counts as unset (Codex reads its env credentials this way). */
export function readEnvValue(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}
