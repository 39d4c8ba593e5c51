/**
 * Diagnostics for the server operator, on stderr. Callers pass messages that hold no secret: the
 * transport never quotes an input line, and auth errors carry only the contract's texts.
 */
export interface Logger {
  warn(message: string): void;
  error(message: string): void;
}

export function createStreamLogger(stream: NodeJS.WritableStream, prefix = "codex-auth app-server"): Logger {
  const write = (level: string, message: string) => {
    if (stream.writable) stream.write(`${prefix}: ${level}: ${message}\n`);
  };
  return {
    warn: (message) => write("warning", message),
    error: (message) => write("error", message),
  };
}

export const silentLogger: Logger = { warn: () => {}, error: () => {} };
