/**
 * `codex-auth`: the protocol (generated types, validators, method registry) and the typed
 * app-server client. The CLI is the `codex-auth` binary; the auth core is not a public API yet.
 */
export * from "./protocol/index.js";
export * from "./client/index.js";
