import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A recording reverse proxy in front of the dev issuer, for secret scans of spawned processes:
 * the test cannot see the PKCE verifier or the authorization code a child process sends, so the
 * proxy keeps every value of the `/oauth/token` forms (code, code_verifier, subject_token) and every
 * token the issuer answers with, and the scans look for all of them. Form bodies that name the
 * proxy's own address (the device-code `redirect_uri`) are rewritten to the issuer's, as a reverse
 * proxy with a public address would be configured.
 */
export interface IssuerProxy {
  readonly url: string;
  /** Every secret seen passing through (request form values and response tokens). */
  secrets(): string[];
  /** The `code_verifier`s clients sent (a subset of `secrets()`). */
  verifiers(): string[];
  close(): Promise<void>;
}

const SECRET_FIELDS = ["code", "code_verifier", "subject_token", "refresh_token"];
const TOKEN_FIELDS = ["id_token", "access_token", "refresh_token", "authorization_code", "code_verifier"];

export async function startIssuerProxy(target: string): Promise<IssuerProxy> {
  const seen = new Set<string>();
  const verifiers = new Set<string>();
  let url = "";
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      let body = Buffer.concat(chunks);
      const contentType = request.headers["content-type"] ?? "";
      record(contentType, body.toString("utf8"), SECRET_FIELDS, seen);
      record(contentType, body.toString("utf8"), ["code_verifier"], verifiers);
      // The device-code exchange names `{issuer}/deviceauth/callback`: the issuer behind the proxy expects its own address.
      if (contentType.includes("application/x-www-form-urlencoded")) {
        body = Buffer.from(body.toString("utf8").split(encodeURIComponent(url)).join(encodeURIComponent(target.replace(/\/+$/, ""))));
      }
      try {
        const headers = new Headers();
        for (const [name, value] of Object.entries(request.headers)) {
          if (value === undefined || name === "host" || name === "connection" || name === "content-length") continue;
          headers.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
        const answer = await fetch(new URL(request.url ?? "/", target), {
          method: request.method ?? "GET",
          headers,
          redirect: "manual",
          ...(body.length > 0 ? { body } : {}),
        });
        const text = Buffer.from(await answer.arrayBuffer());
        record(answer.headers.get("content-type") ?? "", text.toString("utf8"), TOKEN_FIELDS, seen);
        const out: Record<string, string> = {};
        answer.headers.forEach((value, name) => {
          if (name !== "content-length" && name !== "transfer-encoding" && name !== "connection" && name !== "content-encoding") out[name] = value;
        });
        response.writeHead(answer.status, { ...out, "content-length": String(text.length) }).end(text);
      } catch (error) {
        response.writeHead(502).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    secrets: () => [...seen],
    verifiers: () => [...verifiers],
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function record(contentType: string, text: string, fields: readonly string[], seen: Set<string>): void {
  const add = (value: unknown) => {
    if (typeof value === "string" && value.length >= 8) seen.add(value);
  };
  if (contentType.includes("application/x-www-form-urlencoded")) {
    const form = new URLSearchParams(text);
    for (const field of fields) add(form.get(field));
  } else if (contentType.includes("json")) {
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      for (const field of fields) add(json[field]);
    } catch {
      // Not JSON after all.
    }
  }
}
