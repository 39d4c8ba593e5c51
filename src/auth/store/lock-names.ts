/**
 * The lock files Codex 0.169.0+ flocks next to auth.json, in the order it takes them (lock.ts).
 * Both stay in place, empty. Apart from lock.ts so that reading auth.json never loads the FFI.
 */
export const AUTH_LOCK_FILE = "auth.lock";
export const AUTH_JSON_LOCK_FILE = "auth.json.lock";
