import {
  methods,
  type ClientInfo,
  type InitializeParams,
  type InitializeResponse,
  type ServerNotificationMethod,
  type ServerNotifications,
} from "../protocol/index.js";
import type { HostInfo } from "./host.js";
import type { Logger } from "./log.js";
import { invalidRequest } from "./rpc.js";

export interface SessionOptions {
  /** Our version (package.json), carried in the user agent's version as build metadata. */
  version: string;
  /** The Codex protocol version served (package.json `config.codexVersion`), the user agent's version. */
  codexVersion: string;
  codexHome: string;
  host: HostInfo;
  log: Logger;
  /** Writes one outbound message. */
  send(message: object): void;
}

/**
 * One connection's handshake state: whether `initialize` happened, what the client declared, and
 * the notifications it opted out of.
 */
export class Session {
  #clientInfo: ClientInfo | null = null;
  #experimentalApi = false;
  #optedOut: ReadonlySet<string> = new Set();
  #userAgent = "";

  constructor(private readonly options: SessionOptions) {}

  get initialized(): boolean {
    return this.#clientInfo !== null;
  }

  get experimentalApi(): boolean {
    return this.#experimentalApi;
  }

  get clientInfo(): ClientInfo | null {
    return this.#clientInfo;
  }

  get userAgent(): string {
    return this.#userAgent;
  }

  /**
   * The user agent as an HTTP header value: its UTF-8 bytes, one byte per character (what fetch
   * sends as is). A client name in any script goes out as the same bytes Codex sends.
   */
  get userAgentHeader(): string {
    return Buffer.from(this.#userAgent, "utf8").toString("latin1");
  }

  get codexHome(): string {
    return this.options.codexHome;
  }

  initialize(params: InitializeParams): InitializeResponse {
    if (this.initialized) throw invalidRequest("Already initialized");
    const { clientInfo } = params;
    if (!isHeaderValue(clientInfo.name)) {
      throw invalidRequest(`Invalid clientInfo.name: '${clientInfo.name}'. Must be a valid HTTP header value.`);
    }
    this.#clientInfo = clientInfo;
    this.#experimentalApi = params.capabilities?.experimentalApi === true;
    this.#optedOut = new Set(params.capabilities?.optOutNotificationMethods ?? []);
    this.#userAgent = userAgent(clientInfo, this.options);
    return {
      userAgent: this.#userAgent,
      codexHome: this.options.codexHome,
      platformFamily: this.options.host.platformFamily,
      platformOs: this.options.host.platformOs,
    };
  }

  /** Sends a notification unless the client opted out of it; invalid payloads are a bug, logged and not sent. */
  notify<M extends ServerNotificationMethod>(method: M, params: ServerNotifications[M]["params"]): void {
    if (this.#optedOut.has(method)) return;
    const validate = methods[method].validateParams;
    if (!validate(params)) {
      this.options.log.error(`not sending an invalid ${method} notification`);
      return;
    }
    this.options.send({ method, params });
  }
}

/**
 * Codex's shape, `<client>/<version> (<os>; <arch>) <terminal> (<client>; <client version>)`,
 * which clients parse: the version is the Codex protocol version served, with ours as semver
 * build metadata (`0.169.0+codex-auth.0.1.0`), so a version comparison still sees 0.169.0.
 * Control characters become `_`; anything else (any script) is kept, as Codex keeps it.
 */
function userAgent(clientInfo: ClientInfo, options: Pick<SessionOptions, "host" | "version" | "codexVersion">): string {
  const { host } = options;
  const build = `codex-auth.${options.version}`.replace(/[^0-9A-Za-z.-]/g, "-");
  return toHeaderValue(
    `${clientInfo.name}/${options.codexVersion}+${build} (${host.osDescription}; ${host.arch}) ${host.terminal} (${clientInfo.name}; ${clientInfo.version})`,
  );
}

/** As Rust's `HeaderValue::from_str`: visible ASCII, space and tab, plus bytes >= 0x80. */
function isHeaderValue(value: string): boolean {
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code === 0x09) continue;
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

function toHeaderValue(value: string): string {
  return Array.from(value, (char) => (isHeaderValue(char) ? char : "_")).join("");
}
