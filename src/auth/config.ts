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

/** A TOML table. Tables we build have no prototype, so a key such as `__proto__` is only a key. */
export type TomlTable = Record<string, unknown>;

/** Where a layer comes from, in Codex's words (`config/read`). */
export type ConfigLayerSource = { type: "sessionFlags" } | { type: "user"; file: string };

export interface ConfigLayerTable {
  source: ConfigLayerSource;
  /** The layer's table as parsed: integers as bigint, floats as number, datetimes as smol-toml's TomlDate. */
  table: TomlTable;
}

/**
 * The configuration layers codex-auth reads, highest precedence first: the `-c` overrides (only
 * when there are some) over `$CODEX_HOME/config.toml` (always listed, `{}` when the file is absent).
 */
export interface ConfigLayers {
  layers: readonly ConfigLayerTable[];
  /** The layers merged (higher precedence wins; tables merge key by key). */
  effective: TomlTable;
}

/**
 * Reads `<codexHome>/config.toml` (absent is fine) and applies `-c key=value` overrides in order.
 * smol-toml is imported only when there is TOML to parse, to keep `login status` start-up lean.
 */
export async function loadAuthConfig(codexHome: string, overrides: readonly string[] = []): Promise<AuthConfig> {
  return authConfigFromTable((await readConfigLayers(codexHome, overrides)).effective);
}

/** The layers behind the effective config; read again on every call (`config/read` reflects edits). */
export async function readConfigLayers(codexHome: string, overrides: readonly string[] = []): Promise<ConfigLayers> {
  const parsedOverrides = parseOverrides(overrides);
  const configPath = path.join(codexHome, "config.toml");
  let user: TomlTable = emptyTable();
  let text: string | null = null;
  try {
    // Synchronous: one small file, read once per use.
    text = readFileSync(configPath, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") {
      throw new AuthError("CONFIG_INVALID", `failed to read ${configPath}: ${describeSystemError(error)}`);
    }
  }
  let sessionFlags: TomlTable | null = null;
  if (text !== null || parsedOverrides.length > 0) {
    const toml = await import("smol-toml");
    // Integers as bigint keep `1` and `1.0` apart, as Codex's TOML values do.
    const parse = (source: string) => toml.parse(source, { integersAsBigInt: true }) as TomlTable;
    if (text !== null) {
      try {
        user = parse(text);
      } catch (error) {
        throw new AuthError("CONFIG_INVALID", describeTomlError(configPath, error));
      }
    }
    if (parsedOverrides.length > 0) {
      sessionFlags = emptyTable();
      for (const { key, raw } of parsedOverrides) setDotted(sessionFlags, key, parseOverrideValue(parse, raw));
    }
  }
  const layers: ConfigLayerTable[] = [];
  if (sessionFlags) layers.push({ source: { type: "sessionFlags" }, table: sessionFlags });
  layers.push({ source: { type: "user", file: configPath }, table: user });
  const effective = emptyTable();
  for (const layer of [...layers].reverse()) mergeInto(effective, layer.table);
  return { layers, effective };
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
function parseOverrideValue(parse: (text: string) => TomlTable, raw: string): unknown {
  try {
    return parse(`_ = ${raw}`)["_"];
  } catch {
    return raw;
  }
}

function emptyTable(): TomlTable {
  return Object.create(null) as TomlTable;
}

export function isTable(value: unknown): value is TomlTable {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

const own = (table: TomlTable, key: string): unknown => (Object.hasOwn(table, key) ? table[key] : undefined);

/**
 * Sets `a.b.c` in a table. Only own keys are followed and every table made here has no prototype,
 * so `__proto__`, `constructor` and the like are ordinary keys (Codex ignores them as unknown).
 */
function setDotted(table: TomlTable, dottedKey: string, value: unknown): void {
  const parts = dottedKey.split(".").map((part) => part.trim());
  let node = table;
  for (const part of parts.slice(0, -1)) {
    const next = own(node, part);
    if (!isTable(next)) defineKey(node, part, emptyTable());
    node = node[part] as TomlTable;
  }
  defineKey(node, parts[parts.length - 1] ?? dottedKey, value);
}

/** An own, enumerable data property, whatever the key (plain assignment of `__proto__` would not be). */
function defineKey(table: TomlTable, key: string, value: unknown): void {
  Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Merges `upper` over `target`: tables key by key, anything else replaced. */
function mergeInto(target: TomlTable, upper: TomlTable): void {
  for (const key of Object.keys(upper)) {
    const value = upper[key];
    const existing = own(target, key);
    if (isTable(value)) {
      const merged = isTable(existing) ? existing : emptyTable();
      if (merged !== existing) defineKey(target, key, merged);
      mergeInto(merged, value);
    } else {
      defineKey(target, key, value);
    }
  }
}

function readEnum<T extends string, D extends T | null>(table: TomlTable, key: string, allowed: readonly T[], fallback: D): T | D {
  const value = own(table, key);
  if (value === undefined) return fallback;
  if (typeof value !== "string") throw invalidType(key, value, "a string");
  if (!(allowed as readonly string[]).includes(value)) {
    const expected = allowed.length === 2 ? `\`${allowed[0]}\` or \`${allowed[1]}\`` : `one of ${allowed.map((a) => `\`${a}\``).join(", ")}`;
    throw new AuthError("CONFIG_INVALID", `unknown variant \`${value}\`, expected ${expected}\nin \`${key}\``);
  }
  return value as T;
}

function readString(table: TomlTable, key: string): string | null {
  const value = own(table, key);
  if (value === undefined) return null;
  if (typeof value !== "string") throw invalidType(key, value, "a string");
  return value;
}

/** One id or a list; blank ids are dropped and an empty result means "unrestricted", as in Codex. */
function readWorkspaceIds(table: TomlTable): readonly string[] | null {
  const key = "forced_chatgpt_workspace_id";
  const value = own(table, key);
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
