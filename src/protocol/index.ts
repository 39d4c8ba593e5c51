/**
 * `codex-auth/protocol`: the app-server protocol as data. Generated types, standalone validators
 * and the method registry, plus the NDJSON codec, the message classifier, the error codes and the
 * message formatting every peer needs.
 * Runtime-neutral: nothing here imports Node built-ins, the CLI or the auth core.
 */
export type * from "../../generated/protocol/common.js";
export type * from "../../generated/protocol/v1.js";
export type * from "../../generated/protocol/v2.js";
export type { Validator, ValidationError } from "../../generated/validator.js";
export * from "../../generated/protocol/validators.js";
export * from "../../generated/protocol/registry.js";
export * from "./jsonrpc.js";
export * from "./ndjson.js";
export * from "./messages.js";
export * from "./validation-message.js";
export * from "./auth-mode.js";
export * from "./plan-type.js";
