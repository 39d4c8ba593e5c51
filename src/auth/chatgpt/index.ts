/** ChatGPT login (browser PKCE and device code), managed refresh, revoke and 401 recovery. */
export * from "./errors.js";
export * from "./pkce.js";
export * from "./id-token.js";
export * from "./authorize-url.js";
export * from "./persist.js";
export * from "./complete-login.js";
export * from "./login-server.js";
export * from "./device-code.js";
export * from "./refresh.js";
export * from "./recovery-steps.js";
export * from "./revoke.js";
