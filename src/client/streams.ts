/**
 * Byte-stream adapters for the client, without Node imports: a Node stream (anything with
 * `on("data")` / `write()`), a WHATWG stream (`getReader()` / `getWriter()`), or a message port.
 */

import { encodeMessage } from "../protocol/ndjson.js";

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

const encoder = new TextEncoder();

/** Feeds byte chunks to `onBytes` until the input ends (`onEnd` once, with the error if it failed). */
export function subscribeInput(input: AppServerInput, onBytes: (bytes: Uint8Array) => void, onEnd: (error?: unknown) => void): InputSubscription {
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    onEnd(error);
  };
  const feed = (chunk: unknown) => {
    if (ended) return;
    if (typeof chunk === "string") onBytes(encoder.encode(chunk));
    else if (chunk instanceof Uint8Array) onBytes(chunk);
  };

  if ("getReader" in input && typeof input.getReader === "function") {
    const reader = input.getReader();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          feed(value);
        }
        end();
      } catch (error) {
        end(error);
      }
    })();
    return { cancel: () => void reader.cancel().catch(() => {}) };
  }

  const node = input as NodeReadableLike;
  node.on("data", feed);
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

/** A `MessagePort`, a `Worker`, a `BroadcastChannel`-like peer: one JSON-RPC message per posted message. */
export interface MessagePortLike {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  /** MessagePorts queue messages until started. */
  start?(): void;
  close?(): void;
}

/**
 * The connection's input and output over a message port. Each message carries one JSON-RPC
 * message: a string (one line's text) or a structured-cloned object. We post strings.
 */
export function messagePortStreams(port: MessagePortLike): { input: NodeReadableLike; output: NodeWritableLike } {
  const { input, emit } = emittingInput();
  port.addEventListener("message", (event) => {
    const data = event.data;
    if (typeof data === "string") emit("data", `${data}\n`);
    else if (typeof data === "object" && data !== null) emit("data", encodeMessage(data));
  });
  port.start?.();
  const output: NodeWritableLike = {
    write(chunk, callback) {
      try {
        for (const line of chunk.split("\n")) if (line !== "") port.postMessage(line);
        callback?.();
      } catch (error) {
        callback?.(error as Error);
      }
      return true;
    },
    end(callback) {
      port.close?.();
      callback?.();
      emit("end");
    },
  };
  return { input, output };
}

/** A readable the client can subscribe to (`on("data" | "error" | ...)`), fed by `emit`. */
export function emittingInput(): { input: NodeReadableLike; emit: (event: string, ...args: unknown[]) => void } {
  const listeners = new Map<string, Array<(...args: any[]) => void>>();
  const input: NodeReadableLike = {
    on(event, listener) {
      const list = listeners.get(event) ?? [];
      list.push(listener);
      listeners.set(event, list);
      return input;
    },
  };
  const emit = (event: string, ...args: unknown[]) => {
    for (const listener of listeners.get(event) ?? []) listener(...args);
  };
  return { input, emit };
}
