import { writeSync } from "node:fs";

/**
 * `process.stdout` / `process.stderr` without building the stream until something needs it.
 * Touching either builds a `net.Socket` or `SyncWriteStream` and loads Node's whole stream stack,
 * a fifth of what `login status` costs beyond Node's own start. Until then, `write()` is a
 * synchronous `writeSync` on the descriptor, which is what Node's stdio does on Linux for files,
 * pipes and terminals; any other use (`on`, `once`, `isTTY`, `end`...) builds the real stream,
 * and from then on everything goes through it, so order is kept.
 */
export function lazyStdio(fd: 1 | 2, real: () => NodeJS.WriteStream): NodeJS.WriteStream {
  let stream: NodeJS.WriteStream | undefined;
  const materialize = () => (stream ??= real());

  function write(chunk: string | Uint8Array, encodingOrCallback?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void): boolean {
    if (stream) return stream.write(chunk, encodingOrCallback as BufferEncoding, callback);
    const done = typeof encodingOrCallback === "function" ? encodingOrCallback : callback;
    let bytes = typeof chunk === "string" ? Buffer.from(chunk, typeof encodingOrCallback === "string" ? encodingOrCallback : "utf8") : chunk;
    try {
      while (bytes.length > 0) {
        const written = writeSync(fd, bytes);
        if (written === 0) return materialize().write(bytes, done);
        bytes = bytes.subarray(written);
      }
    } catch {
      // EAGAIN on an inherited non-blocking descriptor, EPIPE, ...: let the real stream handle the
      // rest exactly as it always has (buffering, 'error' events).
      return materialize().write(bytes, done);
    }
    if (done) process.nextTick(done);
    return true;
  }

  return new Proxy({} as NodeJS.WriteStream, {
    get(_target, property) {
      if (property === "write") return write;
      const target = materialize();
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
    set(_target, property, value) {
      return Reflect.set(materialize(), property, value);
    },
    has(_target, property) {
      return Reflect.has(materialize(), property);
    },
  });
}
