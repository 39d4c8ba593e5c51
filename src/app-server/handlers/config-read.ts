import { createHash } from "node:crypto";
import { authConfigFromTable, DEFAULT_CHATGPT_BASE_URL, isTable, readConfigLayers, type ConfigLayerTable, type TomlTable } from "../../auth/config.js";
import { isAuthError } from "../../auth/errors.js";
import type { Config, ConfigLayer, ConfigLayerMetadata, ConfigReadResponse } from "../../protocol/index.js";
import type { RequestHandler } from "../dispatcher.js";
import { internalError } from "../rpc.js";
import type { AccountDeps } from "./deps.js";

/**
 * `config/read`: the effective configuration in Codex's shape, read from disk on every call (as
 * Codex does, so an edited config.toml shows at once). `config` carries the keys codex-auth reads,
 * with Codex's defaults; `origins` names the layer of every leaf; `layers` (on request) the tables.
 * codex-auth reads no system or project layers, so `cwd` changes nothing.
 */
export function configRead(deps: Pick<AccountDeps, "session" | "configOverrides">): RequestHandler<"config/read"> {
  return async (params) => {
    let layers: readonly ConfigLayerTable[];
    let effective: TomlTable;
    let config: Config;
    try {
      ({ layers, effective } = await readConfigLayers(deps.session.codexHome, deps.configOverrides));
      config = effectiveConfig(effective);
    } catch (error) {
      if (!isAuthError(error)) throw error;
      throw internalError(`failed to read configuration layers: ${error.message}`);
    }
    const described = layers.map((layer) => ({ layer, metadata: layerMetadata(layer) }));
    const origins: Record<string, ConfigLayerMetadata> = {};
    for (const leaf of leafPaths(effective)) {
      // The highest-precedence layer that holds this leaf is where its value comes from.
      const from = described.find(({ layer }) => hasLeaf(layer.table, leaf));
      if (from) origins[leaf.join(".")] = from.metadata;
    }
    const response: ConfigReadResponse = { config, origins };
    if (params.includeLayers === true) {
      response.layers = described.map(({ layer, metadata }): ConfigLayer => ({ ...metadata, config: toJson(layer.table) as ConfigLayer["config"] }));
    }
    return response;
  };
}

/** The keys codex-auth interprets, validated as at start-up; raw values as written, as Codex reports them. */
function effectiveConfig(effective: TomlTable): Config {
  const auth = authConfigFromTable(effective);
  const raw = (key: string): unknown => (Object.hasOwn(effective, key) ? effective[key] : undefined);
  const modelProvider = raw("model_provider");
  const workspaces = raw("forced_chatgpt_workspace_id");
  return {
    model_provider: typeof modelProvider === "string" ? modelProvider : null,
    forced_login_method: auth.forcedLoginMethod,
    forced_chatgpt_workspace_id: typeof workspaces === "string" || Array.isArray(workspaces) ? (workspaces as string | string[]) : null,
    cli_auth_credentials_store: auth.credentialsStore,
    chatgpt_base_url: typeof raw("chatgpt_base_url") === "string" ? auth.chatgptBaseUrl : DEFAULT_CHATGPT_BASE_URL,
  };
}

function layerMetadata(layer: ConfigLayerTable): ConfigLayerMetadata {
  const name: ConfigLayerMetadata["name"] = layer.source.type === "user" ? { type: "user", file: layer.source.file, profile: null } : { type: "sessionFlags" };
  return { name, version: `sha256:${createHash("sha256").update(fingerprintJson(layer.table)).digest("hex")}` };
}

/** Dotted paths of every leaf: tables are walked by key, arrays by index, anything else is a leaf. */
function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (isTable(value)) return Object.keys(value).flatMap((key) => leafPaths(value[key], [...prefix, key]));
  if (Array.isArray(value)) return value.flatMap((item, index) => leafPaths(item, [...prefix, String(index)]));
  return prefix.length > 0 ? [prefix] : [];
}

function hasLeaf(table: TomlTable, leaf: readonly string[]): boolean {
  let node: unknown = table;
  for (const part of leaf) {
    if (isTable(node) && Object.hasOwn(node, part)) node = node[part];
    else if (Array.isArray(node) && /^\d+$/.test(part) && Number(part) < node.length) node = node[Number(part)];
    else return false;
  }
  return !isTable(node) && !Array.isArray(node);
}

/** A TOML value as JSON: integers as numbers, datetimes in the wrapper Codex's TOML library uses. */
function toJson(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date) return { $__toml_private_datetime: tomlDateText(value) };
  if (Array.isArray(value)) return value.map(toJson);
  if (isTable(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) Object.defineProperty(out, key, { value: toJson(value[key]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/**
 * Codex's layer fingerprint: the layer as compact JSON with keys sorted (serde_json over a
 * BTreeMap), where a TOML float always has a fraction or an exponent (`1.0`, `1e21`).
 */
function fingerprintJson(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "null";
    if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
    return String(value).replace("e+", "e");
  }
  if (value instanceof Date) return `{"$__toml_private_datetime":${JSON.stringify(tomlDateText(value))}}`;
  if (Array.isArray(value)) return `[${value.map(fingerprintJson).join(",")}]`;
  if (isTable(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${fingerprintJson(value[key])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** TOML's own text for a date or time (smol-toml adds a zero fraction the file did not have). */
function tomlDateText(date: Date): string {
  return date.toISOString().replace(/\.000(?=Z|[+-]\d\d:\d\d|$)/, "");
}
