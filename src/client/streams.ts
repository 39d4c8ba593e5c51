/**
 * Byte-stream adapters for the client, without Node imports: a Node stream (anything with
 * `on("data")` / `write()`) or a WHATWG stream (`getReader()` / `getWriter()`) both work.
 */

export interface NodeReadableLike {
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export interface NodeWritableLike {
  write(chunk: string, callback?: (error?: Error | null) => void): boolean;
  end(callback?: () => void): unknown;
}

export interface WebReadableLike {
  getReader(): { read(): Promise<{ done: boolean; value?: unknown }>; cancel(reason?: unknown): Promise<void> };
}

export interface WebWritableLike {
  getWriter(): { write(chunk: Uint8Array): Promise<void>; close(): Promise<void> };
}

/** What the client reads the server's messages from (the server's stdout). */
export type AppServerInput = NodeReadableLike | WebReadableLike;
/** What the client writes its messages to (the server's stdin). */
export type AppServerOutput = NodeWritableLike | WebWritableLike;

export interface InputSubscription {
  cancel(): void;
}

/** Feeds text chunks to `onText` until the input ends (`onEnd` once, with the error if it failed). */
export function subscribeInput(input: AppServerInput, onText: (text: string) => void, onEnd: (error?: unknown) => void): InputSubscription {
  const decoder = new TextDecoder();
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    const tail = decoder.decode();
    if (tail) onText(tail);
    onEnd(error);
  };
  const decode = (chunk: unknown) => {
    if (typeof chunk === "string") onText(chunk);
    else if (chunk instanceof Uint8Array) onText(decoder.decode(chunk, { stream: true }));
  };

  if ("getReader" in input && typeof input.getReader === "function") {
    const reader = input.getReader();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          decode(value);
        }
        end();
      } catch (error) {
        end(error);
      }
    })();
    return { cancel: () => void reader.cancel().catch(() => {}) };
  }

  const node = input as NodeReadableLike;
  node.on("data", decode);
  node.on("end", () => end());
  node.on("close", () => end());
  node.on("error", (error: unknown) => end(error));
  return { cancel: () => end() };
}

export interface LineOutput {
  write(line: string): void;
  end(): Promise<void>;
}

export function createLineOutput(output: AppServerOutput, onError: (error: unknown) => void): LineOutput {
  if ("getWriter" in output && typeof output.getWriter === "function") {
    const writer = output.getWriter();
    const encoder = new TextEncoder();
    let chain = Promise.resolve();
    return {
      write(line) {
        chain = chain.then(() => writer.write(encoder.encode(line))).catch(onError);
      },
      end() {
        chain = chain.then(() => writer.close()).catch(() => {});
        return chain;
      },
    };
  }
  const node = output as NodeWritableLike;
  let closed = false;
  return {
    write(line) {
      if (closed) return;
      node.write(line, (error) => {
        if (error) onError(error);
      });
    },
    end() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => {
        node.end(() => resolve());
      });
    },
  };
}
