import { terminalSafeInline } from "../protocol/safe-text.js";

/**
 * Diagnostics for the server operator, on stderr. Callers pass messages that hold no secret: the
 * transport never quotes an input line, auth errors carry only the contract's texts, and library
 * errors go through describeLibraryError. Each line is stripped of control and escape sequences
 * (stderr is often a terminal).
 *
 * Diagnostics may fail; serving must not: when the parent closes its end of stderr, the write
 * fails with EPIPE (asynchronously, as an 'error' event, or synchronously on some streams). The
 * logger then goes quiet for good; requests keep being answered on stdout.
 */
export interface Logger {
  warn(message: string): void;
  error(message: string): void;
}

export function createStreamLogger(stream: NodeJS.WritableStream, prefix = "codex-auth app-server"): Logger {
  guardStream(stream);
  const write = (level: string, message: string) => {
    if (broken.has(stream) || !stream.writable) return;
    try {
      stream.write(`${prefix}: ${level}: ${terminalSafeInline(message)}\n`, (error) => {
        if (error) broken.add(stream);
      });
    } catch {
      broken.add(stream);
    }
  };
  return {
    warn: (message) => write("warning", message),
    error: (message) => write("error", message),
  };
}

const guarded = new WeakSet<object>();
const broken = new WeakSet<object>();

/**
 * Makes a write failure on a diagnostics stream (EPIPE, EBADF, ...) harmless: without an 'error'
 * listener, Node turns it into an uncaught exception and the process dies. One listener per
 * stream; it also covers anything else writing there (Node's own warnings).
 */
export function guardStream(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on("error", () => broken.add(stream));
}

export const silentLogger: Logger = { warn: () => {}, error: () => {} };
