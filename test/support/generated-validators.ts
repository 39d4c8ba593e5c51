import * as authApi from "../../generated/http/authapi.validators.js";
import * as backend from "../../generated/http/backend.validators.js";
import * as oauth from "../../generated/http/oauth.validators.js";
import * as protocol from "../../generated/protocol/validators.js";
import * as storage from "../../generated/storage/auth-json.validators.js";
import type { Validator } from "../../generated/validator.js";

const modules: Array<Record<string, unknown>> = [protocol, storage, authApi, oauth, backend];

/** The generated validator for a type name, from whichever generated module declares it. */
export function validatorFor(typeName: string): Validator<unknown> {
  for (const module of modules) {
    const candidate = module[`validate${typeName}`];
    if (typeof candidate === "function") return candidate as Validator<unknown>;
  }
  throw new Error(`no generated validator for type ${typeName}`);
}
