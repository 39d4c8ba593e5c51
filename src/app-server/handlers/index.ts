import type { RequestHandlers } from "../dispatcher.js";
import { accountLoginCancel, accountLoginStart } from "./account-login.js";
import { accountLogout } from "./account-logout.js";
import { accountRateLimitsRead } from "./account-rate-limits.js";
import { accountRead } from "./account-read.js";
import { configRead } from "./config-read.js";
import type { AccountDeps } from "./deps.js";
import { getAuthStatus } from "./get-auth-status.js";
import { initialize } from "./initialize.js";

export type { AccountDeps } from "./deps.js";

/** One handler per client request method; the type makes a missing method a compile error. */
export function createHandlers(deps: AccountDeps): RequestHandlers {
  return {
    initialize,
    getAuthStatus: getAuthStatus(deps),
    "account/read": accountRead(deps),
    "account/login/start": accountLoginStart(deps),
    "account/login/cancel": accountLoginCancel(deps),
    "account/logout": accountLogout(deps),
    "account/rateLimits/read": accountRateLimitsRead(deps),
    "config/read": configRead(deps),
  };
}
