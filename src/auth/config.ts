import { readFileSync } from "node:fs";
import path from "node:path";
import { AuthError, describeSystemError } from "./errors.js";

export type ForcedLoginMethod = "chatgpt" | "api";
export type AuthCredentialsStoreMode = "file" | "keyring" | "auto" | "ephemeral";

export const DEFAULT_CHATGPT_BASE_URL = "https://chatgpt.com/backend-api/";
const STORE_MODES: readonly AuthCredentialsStoreMode[] = ["file", "keyring", "auto", "ephemeral"];

/** The auth-relevant part of `$CODEX_HOME/config.toml` after `-c` overrides; other keys are ignored. */
export interface AuthConfig {
  readonly forcedLoginMethod: ForcedLoginMethod | null;
  /** Allowed workspace (ChatGPT account) ids; null when unrestricted. */
  readonly forcedChatgptWorkspaceIds: readonly string[] | null;
  readonly credentialsStore: AuthCredentialsStoreMode;
  readonly chatgptBaseUrl: string;
}

export const DEFAULT_AUTH_CONFIG: AuthConfig = Object.freeze({
  forcedLoginMethod: null,
  forcedChatgptWorkspaceIds: null,
  credentialsStore: "file",
  chatgptBaseUrl: DEFAULT_CHATGPT_BASE_URL,
});

type TomlTable = Record<string, unknown>;

/**
 * Reads `<codexHome>/config.toml` (absent is fine) and applies `-c key=value` overrides in order.
 * smol-toml is imported only when there is TOML to parse, to keep `login status` start-up lean.
 */
export async function loadAuthConfig(codexHome: string, overrides: readonly string[] = []): Promise<AuthConfig> {
  const parsedOverrides = parseOverrides(overrides);
  const configPath = path.join(codexHome, "config.toml");
  let table: TomlTable = {};
  let text: string | null = null;
  try {
    // Synchronous: one small file, read once at start-up.
    text = readFileSync(configPath, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") {
      throw new AuthError("CONFIG_INVALID", `failed to read ${configPath}: ${describeSystemError(error)}`);
    }
  }
  if (text !== null || parsedOverrides.length > 0) {
    const toml = await import("smol-toml");
    if (text !== null) {
      try {
        table = toml.parse(text) as TomlTable;
      } catch (error) {
        throw new AuthError("CONFIG_INVALID", describeTomlError(configPath, error));
      }
    }
    for (const { key, raw } of parsedOverrides) {
      setDotted(table, key, parseOverrideValue(toml.parse, raw));
    }
  }
  return authConfigFromTable(table);
}

/** Validates the keys we use with serde-like messages (`unknown variant ...\nin \`key\``). */
export function authConfigFromTable(table: TomlTable): AuthConfig {
  return Object.freeze({
    forcedLoginMethod: readEnum(table, "forced_login_method", ["chatgpt", "api"] as const, null),
    forcedChatgptWorkspaceIds: readWorkspaceIds(table),
    credentialsStore: readEnum(table, "cli_auth_credentials_store", STORE_MODES, "file") ?? "file",
    chatgptBaseUrl: readString(table, "chatgpt_base_url") ?? DEFAULT_CHATGPT_BASE_URL,
  });
}

interface Override {
  key: string;
  raw: string;
}

function parseOverrides(overrides: readonly string[]): Override[] {
  return overrides.map((override) => {
    const at = override.indexOf("=");
    if (at < 0) throw new AuthError("CONFIG_OVERRIDE_INVALID", `Invalid override (missing '='): ${override}`);
    const key = override.slice(0, at).trim();
    if (!key) throw new AuthError("CONFIG_OVERRIDE_INVALID", `Empty key in override: ${override}`);
    return { key, raw: override.slice(at + 1).trim() };
  });
}

/** Like Codex: the value is parsed as TOML; if that fails, the raw string is used literally. */
function parseOverrideValue(parse: (text: string) => unknown, raw: string): unknown {
  try {
    return (parse(`_ = ${raw}`) as TomlTable)["_"];
  } catch {
    return raw;
  }
}

function setDotted(table: TomlTable, dottedKey: string, value: unknown): void {
  const parts = dottedKey.split(".").map((part) => part.trim());
  let node = table;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as TomlTable;
  }
  node[parts[parts.length - 1] ?? dottedKey] = value;
}

function readEnum<T extends string, D extends T | null>(table: TomlTable, key: string, allowed: readonly T[], fallback: D): T | D {
  const value = table[key];
  if (value === undefined) return fallback;
  if (typeof value !== "string") throw invalidType(key, value, "a string");
  if (!(allowed as readonly string[]).includes(value)) {
    const expected = allowed.length === 2 ? `\`${allowed[0]}\` or \`${allowed[1]}\`` : `one of ${allowed.map((a) => `\`${a}\``).join(", ")}`;
    throw new AuthError("CONFIG_INVALID", `unknown variant \`${value}\`, expected ${expected}\nin \`${key}\``);
  }
  return value as T;
}

function readString(table: TomlTable, key: string): string | null {
  const value = table[key];
  if (value === undefined) return null;
  if (typeof value !== "string") throw invalidType(key, value, "a string");
  return value;
}

/** One id or a list; blank ids are dropped and an empty result means "unrestricted", as in Codex. */
function readWorkspaceIds(table: TomlTable): readonly string[] | null {
  const key = "forced_chatgpt_workspace_id";
  const value = table[key];
  if (value === undefined) return null;
  const list = typeof value === "string" ? [value] : Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : null;
  if (list === null) throw new AuthError("CONFIG_INVALID", `data did not match any variant of untagged enum Repr\nin \`${key}\``);
  const ids = list.map((id) => id.trim()).filter((id) => id.length > 0);
  return ids.length > 0 ? Object.freeze(ids) : null;
}

function invalidType(key: string, value: unknown, expected: string): AuthError {
  return new AuthError("CONFIG_INVALID", `invalid type: ${describeTomlValue(value)}, expected ${expected}\nin \`${key}\``);
}

function describeTomlValue(value: unknown): string {
  if (typeof value === "boolean") return `boolean \`${value}\``;
  if (typeof value === "number") return Number.isInteger(value) ? `integer \`${value}\`` : `floating point \`${value}\``;
  if (typeof value === "bigint") return `integer \`${value}\``;
  if (Array.isArray(value)) return "sequence";
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  return "map";
}

function describeTomlError(file: string, error: unknown): string {
  const e = error as { line?: number; column?: number; message?: string };
  const first = (e.message ?? String(error)).split("\n")[0]?.replace(/^Invalid TOML document: /, "") ?? "invalid TOML";
  return e.line !== undefined && e.column !== undefined ? `${file}:${e.line}:${e.column}: ${first}` : `${file}: ${first}`;
}
