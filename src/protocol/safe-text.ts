/**
 * Text that came from outside (a credential, a server's field, argv, a file, a library's error
 * about any of those) made safe for our messages. Runtime-neutral and dependency-free, so every
 * layer (http, auth, app-server, cli) uses the same rules. See docs/security.md.
 */

/**
 * What a credential may hold: visible ASCII only (0x21–0x7E). Every credential Codex issues (API
 * keys, PATs, JWTs, OAuth tokens, account ids) fits; anything else either cannot go in an HTTP
 * header (CR, LF, NUL, non-Latin-1), would be trimmed or altered by it (spaces, tabs), or would
 * drive a terminal when masked for display (ESC, BEL).
 */
export function isHeaderSafeCredential(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** The message for a refused credential: names where it came from, never what it was. */
export function unsafeCredentialMessage(source: string): string {
  return `${source} contains characters that cannot be sent in an HTTP header (only visible ASCII characters are allowed)`;
}

/** Masking as `codex login status` prints keys (`safe_format_key`), counted in characters: ≤ 13 show `***`. */
export function maskCredential(value: string): string {
  const chars = Array.from(value);
  if (chars.length <= 13) return "***";
  return `${terminalSafe(chars.slice(0, 8).join(""))}***${terminalSafe(chars.slice(-5).join(""))}`;
}

/**
 * The one argv masker: how any command-line argument appears in a usage error. A short word or
 * option name is echoed (`unexpected argument 'foo'`); anything else (a pasted key, `--listen=<key>`,
 * `-c <key>`) is masked like a credential, so a secret typed on the command line is never printed back.
 */
export function displayArgument(arg: string): string {
  if (arg.startsWith("-")) {
    const name = arg.split("=")[0] ?? arg;
    return /^(?:-[A-Za-z]|--[a-z][a-z_-]{0,30})$/.test(name) ? name : maskCredential(name);
  }
  return /^[a-z][a-z-]{0,20}$/.test(arg) ? arg : maskCredential(arg);
}

/**
 * Replaces, in a message we are about to print, every occurrence of a command-line argument (or of
 * the value after its `=`) that is not safe to echo with its masked form. For messages built by a
 * lower layer that quotes argv (config overrides).
 */
export function maskArgumentsIn(message: string, args: readonly string[]): string {
  let text = message;
  const parts = new Set<string>();
  for (const arg of args) {
    parts.add(arg);
    const at = arg.indexOf("=");
    if (at >= 0) {
      parts.add(arg.slice(at + 1));
      parts.add(arg.slice(at + 1).trim());
    }
  }
  // Longest first, so a whole argument is masked before its value part.
  for (const part of [...parts].sort((a, b) => b.length - a.length)) {
    if (part.length < 4 || displayArgument(part) === part) continue;
    text = text.split(part).join(displayArgument(part));
  }
  return text;
}

// CSI (ESC [ … final), OSC (ESC ] … BEL or ST), other two-byte ESC sequences, and the 8-bit CSI/OSC.
const ESCAPE_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]?|\u001b\][^\u0007\u001b\n]*(?:\u0007|\u001b\\)?|\u001b[ -~]?|\u009b[0-?]*[ -/]*[@-~]?|\u009d[^\u0007\u009c\u001b\n]*[\u0007\u009c]?/g;
// C0 controls except LF and TAB, DEL, C1 controls, bidi overrides/isolates (they reorder what the reader sees).
const UNSAFE_CHARACTER = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text made safe for a terminal: escape sequences removed whole, then every other control
 * character (C0 but LF and TAB, DEL, C1) and bidi override removed. Our own line breaks stay.
 */
export function terminalSafe(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, "").replace(UNSAFE_CHARACTER, "");
}

/** `terminalSafe`, and line breaks and tabs become spaces: for one field quoted inside a line. */
export function terminalSafeInline(text: string): string {
  return terminalSafe(text).replace(/[\n\t]+/g, " ");
}

const SYSTEM_ERROR_TEXTS: Readonly<Record<string, string>> = {
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  EISDIR: "Is a directory",
  ENOTDIR: "Not a directory",
  ENOENT: "No such file or directory",
  EEXIST: "File exists",
  ENOSPC: "No space left on device",
  EDQUOT: "Disk quota exceeded",
  EFBIG: "File too large",
  EROFS: "Read-only file system",
  EBUSY: "Resource busy",
  EMFILE: "Too many open files",
  ELOOP: "Too many levels of symbolic links",
  EPIPE: "Broken pipe",
  EIO: "Input/output error",
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  ETIMEDOUT: "Connection timed out",
  ENOTFOUND: "Name or service not known",
  EAI_AGAIN: "Temporary failure in name resolution",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
};

/**
 * The one translation of a library's error (JSON.parse, TOML, fetch/undici, keyring, fs) into our
 * wording. Library messages quote their input (V8's JSON.parse echoes the text, undici the header
 * value, fs the path), so none of their text is used: only an error code, a position, or a fixed
 * phrase per kind. The result never holds input text.
 */
export function describeLibraryError(error: unknown): string {
  const seen = new Set<unknown>();
  for (let current = error; current !== null && current !== undefined && !seen.has(current); current = (current as { cause?: unknown }).cause) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z0-9_]{1,30}$/.test(code)) {
      const known = SYSTEM_ERROR_TEXTS[code];
      return known ? `${known} (${code})` : code;
    }
    if (typeof code === "string" && /^UND_ERR_[A-Z_]{1,40}$/.test(code)) return describeUndiciCode(code);
  }
  if (!(error instanceof Error)) return "unexpected error";
  const message = error.message;
  if (error instanceof SyntaxError) return describeJsonError(message);
  if (/header/i.test(message) || /ByteString/.test(message)) return "a request header holds characters that cannot be sent in an HTTP header";
  if (/\bJSON\b/.test(message)) return describeJsonError(message);
  const toml = error as { line?: unknown; column?: unknown };
  if (error.name === "TomlError" || /TOML/.test(message)) {
    return typeof toml.line === "number" && typeof toml.column === "number" ? `invalid TOML at line ${toml.line} column ${toml.column}` : "invalid TOML";
  }
  if (error.name === "AbortError" || error.name === "TimeoutError") return "the operation was aborted";
  if (message === "fetch failed") return "connection failed";
  if (error.name === "TypeError" && /url/i.test(message)) return "invalid URL";
  return `unexpected ${/^[A-Za-z]{1,40}$/.test(error.name) ? error.name : "error"}`;
}

/** V8's wording without the quoted input: the kind and where (`invalid JSON at position 12`). */
function describeJsonError(message: string): string {
  if (/Unexpected end of JSON input|Unterminated/.test(message)) return "invalid JSON: unexpected end of input";
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lineColumn) return `invalid JSON at line ${lineColumn[1]} column ${lineColumn[2]}`;
  const position = /at position (\d+)/.exec(message);
  if (position) return `invalid JSON at position ${position[1]}`;
  return "invalid JSON";
}

function describeUndiciCode(code: string): string {
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connect timeout (UND_ERR_CONNECT_TIMEOUT)";
    case "UND_ERR_SOCKET":
      return "connection closed (UND_ERR_SOCKET)";
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return `timeout (${code})`;
    default:
      return code;
  }
}
