import type { MethodEntry } from "./bundle.js";
import { validatorName } from "./validator-names.js";

/**
 * The typed method registry: for every method of the table, its direction, kind, version,
 * experimental gating and validators at run time, and its params/result types at compile time.
 */
const OPTIONAL_PARAMS = `
/** Params that may be absent or null; when present they must match the type. */
function optionalParams<T>(validate: Validator<T>): Validator<T | undefined> {
  const check: Validator<T | undefined> = (data: unknown): data is T | undefined => {
    if (data === undefined || data === null) {
      check.errors = null;
      return true;
    }
    const ok = validate(data);
    check.errors = validate.errors ?? null;
    return ok;
  };
  return check;
}
`;

export function generateRegistry(methods: MethodEntry[], typeModuleOf: (typeName: string) => string): string {
  const typeImports = new Map<string, Set<string>>();
  const validators = new Set<string>();
  const useType = (name: string | null): string => {
    if (name === null) return "undefined";
    const module = typeModuleOf(name);
    let names = typeImports.get(module);
    if (!names) typeImports.set(module, (names = new Set()));
    names.add(name);
    return name;
  };
  useType("RequestId");

  let usesOptional = false;
  const entries = methods.map((m) => {
    const validateParams = !m.params ? "acceptsNoParams" : m.optionalParams ? `optionalParams(${validatorName(m.params)})` : validatorName(m.params);
    if (m.optionalParams) usesOptional = true;
    const validateResult = m.result ? validatorName(m.result) : null;
    if (m.params) validators.add(validatorName(m.params));
    if (validateResult) validators.add(validateResult);
    return [
      `  ${JSON.stringify(m.method)}: {`,
      `    method: ${JSON.stringify(m.method)},`,
      `    direction: ${JSON.stringify(m.direction)},`,
      `    kind: ${JSON.stringify(m.kind)},`,
      `    version: ${JSON.stringify(m.version)},`,
      `    experimental: ${m.experimental},`,
      `    experimentalVariants: ${JSON.stringify(m.experimentalVariants ?? [])},`,
      `    paramsType: ${JSON.stringify(m.params)},`,
      `    optionalParams: ${Boolean(m.optionalParams)},`,
      `    resultType: ${JSON.stringify(m.result)},`,
      `    validateParams: ${validateParams},`,
      `    validateResult: ${validateResult ?? "null"},`,
      `  },`,
    ].join("\n");
  });

  const paramsType = (m: MethodEntry): string => (m.optionalParams ? `${useType(m.params)} | undefined` : useType(m.params));
  const mapInterface = (name: string, doc: string, direction: MethodEntry["direction"], kind: MethodEntry["kind"]): string => {
    const rows = methods
      .filter((m) => m.direction === direction && m.kind === kind)
      .map((m) =>
        kind === "request"
          ? `  ${JSON.stringify(m.method)}: { params: ${paramsType(m)}; result: ${useType(m.result)} };`
          : `  ${JSON.stringify(m.method)}: { params: ${paramsType(m)} };`,
      );
    return `/** ${doc} */\nexport interface ${name} {\n${rows.join("\n")}\n}`;
  };
  const maps = [
    mapInterface("ClientRequests", "Requests a client sends: method → params and result.", "clientToServer", "request"),
    mapInterface("ClientNotifications", "Notifications a client sends.", "clientToServer", "notification"),
    mapInterface("ServerRequests", "Requests the server sends to the client: method → params and the result the client answers with.", "serverToClient", "request"),
    mapInterface("ServerNotifications", "Notifications the server sends.", "serverToClient", "notification"),
  ];

  const imports = [...typeImports.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([module, names]) => `import type { ${[...names].sort().join(", ")} } from "${module}";`);

  return `${imports.join("\n")}
import type { Validator } from "../validator.js";
import { ${[...validators].sort().join(", ")} } from "./validators.js";

/** Params of a method that takes none: absent, \`null\` or \`{}\`. */
const acceptsNoParams: Validator<undefined> = Object.assign(
  (data: unknown): data is undefined =>
    data === undefined || data === null || (typeof data === "object" && !Array.isArray(data) && Object.keys(data).length === 0),
  { errors: null },
);
${usesOptional ? OPTIONAL_PARAMS : ""}
export type MethodDirection = "clientToServer" | "serverToClient";
export type MethodKind = "request" | "notification";

export interface MethodDescriptor {
  readonly method: string;
  readonly direction: MethodDirection;
  readonly kind: MethodKind;
  readonly version: "v1" | "v2";
  /** The whole method needs \`capabilities.experimentalApi\`. */
  readonly experimental: boolean;
  /** Values of \`params.type\` that need \`capabilities.experimentalApi\` (descriptor \`<method>.<variant>\`). */
  readonly experimentalVariants: readonly string[];
  readonly paramsType: string | null;
  /** The params object may be absent or null. */
  readonly optionalParams: boolean;
  readonly resultType: string | null;
  readonly validateParams: Validator<unknown>;
  readonly validateResult: Validator<unknown> | null;
}

export const methods = {
${entries.join("\n")}
} as const satisfies Record<string, MethodDescriptor>;

export type MethodName = keyof typeof methods;

export function isKnownMethod(method: string): method is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, method);
}

${maps.join("\n\n")}

export type ClientRequestMethod = keyof ClientRequests;
export type ClientNotificationMethod = keyof ClientNotifications;
export type ServerRequestMethod = keyof ServerRequests;
export type ServerNotificationMethod = keyof ServerNotifications;

/**
 * The arguments after the method name in a typed call: none for a method without params, an
 * optional one for optional params, a required one otherwise.
 */
export type ParamsArgs<P> = [P] extends [undefined] ? [] : undefined extends P ? [params?: Exclude<P, undefined> | null] : [params: P];

/** The \`params\` member of a message carrying params of type P. */
type ParamsMember<P> = [P] extends [undefined]
  ? { params?: null | Record<string, never> }
  : undefined extends P
    ? { params?: Exclude<P, undefined> | null }
    : { params: P };

/** A client request message of the given method (no \`jsonrpc\` member). */
export type ClientRequestMessage<M extends ClientRequestMethod = ClientRequestMethod> = {
  [K in M]: { id: RequestId; method: K } & ParamsMember<ClientRequests[K]["params"]>;
}[M];

export type ServerRequestMessage<M extends ServerRequestMethod = ServerRequestMethod> = {
  [K in M]: { id: RequestId; method: K } & ParamsMember<ServerRequests[K]["params"]>;
}[M];

export type ServerNotificationMessage<M extends ServerNotificationMethod = ServerNotificationMethod> = {
  [K in M]: { method: K } & ParamsMember<ServerNotifications[K]["params"]>;
}[M];

export type ClientNotificationMessage<M extends ClientNotificationMethod = ClientNotificationMethod> = {
  [K in M]: { method: K } & ParamsMember<ClientNotifications[K]["params"]>;
}[M];

/** The four message unions of the bundle (validated by \`validateClientRequest\` and friends). */
export type ClientRequest = ClientRequestMessage;
export type ClientNotification = ClientNotificationMessage;
export type ServerRequest = ServerRequestMessage;
export type ServerNotification = ServerNotificationMessage;
`;
}
