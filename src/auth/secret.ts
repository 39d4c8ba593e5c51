/**
 * A credential string that refuses to print itself. Every way a value usually leaks (string
 * coercion, template literals, `JSON.stringify`, `util.inspect`, `console.log`) yields
 * "[REDACTED]"; the raw value is only reachable through `reveal()`, called at the point of use
 * (an Authorization header, the auth.json write).
 */
import { isHeaderSafeCredential, maskCredential, unsafeCredentialMessage } from "../protocol/safe-text.js";
import { AuthError } from "./errors.js";

export { maskCredential };

export const REDACTED = "[REDACTED]";

// Node's util.inspect looks this symbol up globally; using Symbol.for avoids importing node:util.
const inspectCustom = Symbol.for("nodejs.util.inspect.custom");

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  /** The raw value. Call only where the secret is actually sent or stored. */
  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  isEmpty(): boolean {
    return this.#value.length === 0;
  }

  startsWith(prefix: string): boolean {
    return this.#value.startsWith(prefix);
  }

  equals(other: Secret): boolean {
    return this.#value === other.#value;
  }

  /** Codex's display masking: 13 characters or fewer show `***`, longer show first 8 + `***` + last 5. */
  mask(): string {
    return maskCredential(this.#value);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspectCustom](): string {
    return REDACTED;
  }
}

/**
 * The one admission check for a credential entering from outside (stdin, env, auth.json, the
 * keyring, an app-server request, a refresh answer): it must be sendable in an HTTP header. A
 * refused value is named by its `source` only, never quoted.
 */
export function admitCredential(value: string, source: string): Secret {
  if (value.length === 0) throw new AuthError("CREDENTIAL_REFUSED", `${source} is empty`);
  if (!isHeaderSafeCredential(value)) throw new AuthError("CREDENTIAL_REFUSED", unsafeCredentialMessage(source));
  return new Secret(value);
}
