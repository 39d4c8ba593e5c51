/**
 * `codex-auth/client`: a typed client for the app-server protocol on Node. `AppServerClient`
 * spawns a server (this package's own by default); everything else is the runtime-neutral
 * connection, also published alone as `codex-auth/connection` for browsers and workers.
 */
export { AppServerClient, type SpawnAppServerOptions } from "./app-server-client.js";
export type { ExitStatus, SpawnServerOptions } from "./spawn.js";
export * from "./connection-entry.js";
