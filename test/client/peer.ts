import { readFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { AppServerConnection, type AppServerConnectionOptions, type AppServerProtocolError } from "../../src/client/index.js";
import { LineSplitter, parseMessageLine, type InboundMessage } from "../../src/protocol/index.js";

/** A protocol value from `schemas/examples/<Type>/<name>.json`. */
export function example<T = Record<string, unknown>>(type: string, name: string): T {
  return JSON.parse(readFileSync(path.resolve("schemas/examples", type, `${name}.json`), "utf8")) as T;
}

/**
 * The client against a scripted peer on in-memory streams (the peer plays the server). The peer
 * reads with the protocol's own codec, so big ids come back as the client wrote them.
 */
export function peer(options: AppServerConnectionOptions = {}) {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const protocolErrors: AppServerProtocolError[] = [];
  const client = new AppServerConnection(toClient, toServer, { onProtocolError: (e) => protocolErrors.push(e), ...options });
  const received: InboundMessage[] = [];
  const raw: string[] = [];
  const waiters: Array<() => void> = [];
  const splitter = new LineSplitter(
    1 << 20,
    (line) => {
      raw.push(new TextDecoder().decode(line));
      const parsed = parseMessageLine(line);
      if (parsed && "message" in parsed) received.push(parsed.message);
      for (const waiter of waiters.splice(0)) waiter();
    },
    () => {},
  );
  toServer.on("data", (chunk: Buffer) => splitter.push(chunk));
  let read = 0;
  return {
    client,
    protocolErrors,
    /** Every line the client wrote, as text. */
    raw,
    send: (message: unknown) => toClient.write(`${typeof message === "string" ? message : JSON.stringify(message)}\n`),
    end: () => toClient.end(),
    async next(): Promise<InboundMessage> {
      while (read >= received.length) await new Promise<void>((resolve) => waiters.push(resolve));
      return received[read++]!;
    },
  };
}
