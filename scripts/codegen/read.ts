import { readFile } from "node:fs/promises";
import path from "node:path";
import { CodegenError, joinPointer } from "./errors.js";

export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith("..") ? relative : file;
}

/** Reads a JSON or YAML document; parse errors name the file, line, column and JSON pointer. */
export async function readDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CodegenError("READ_FAILED", displayPath(file), "", `cannot read file: ${(error as Error).message}`);
  }
  // yaml is loaded only for YAML: a JSON bundle (Codex's) does not pay for importing it.
  return /\.ya?ml$/i.test(file) ? parseYaml(file, text, (await import("yaml")).parseDocument) : parseJson(file, text);
}

export function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = jsonErrorPosition(message, text);
    const { line, column } = lineAndColumn(text, position);
    throw new CodegenError(
      "INVALID_JSON",
      displayPath(file),
      pointerAtOffset(text, position),
      `invalid JSON at line ${line}, column ${column}: ${message}`,
    );
  }
}

function parseYaml(file: string, text: string, parseDocument: typeof import("yaml").parseDocument): unknown {
  const document = parseDocument(text, { prettyErrors: false });
  const first = document.errors[0];
  if (first) {
    const offset = first.pos[0];
    const { line, column } = lineAndColumn(text, offset);
    throw new CodegenError("INVALID_YAML", displayPath(file), "", `invalid YAML at line ${line}, column ${column}: ${first.message}`);
  }
  return document.toJS();
}

function jsonErrorPosition(message: string, text: string): number {
  const match = /position (\d+)/.exec(message);
  if (match) return Number(match[1]);
  // "Unexpected end of JSON input" has no position: the error is at the end.
  return text.length;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return { line, column };
}

/**
 * The JSON pointer of the value being parsed at `offset`, found by a tolerant scan of the text
 * before it. Good enough to point a schema author at the broken member.
 */
export function pointerAtOffset(text: string, offset: number): string {
  type Frame = { kind: "object"; key: string | null; expectKey: boolean } | { kind: "array"; index: number };
  const stack: Frame[] = [];
  let i = 0;
  const end = Math.min(offset, text.length);
  while (i < end) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.kind === "object" && top.expectKey) {
        try {
          top.key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          top.key = text.slice(i + 1, j);
        }
        top.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (ch === "{") stack.push({ kind: "object", key: null, expectKey: true });
    else if (ch === "[") stack.push({ kind: "array", index: 0 });
    else if (ch === "}" || ch === "]") stack.pop();
    else if (ch === ",") {
      const top = stack[stack.length - 1];
      if (top?.kind === "array") top.index++;
      else if (top?.kind === "object") {
        top.expectKey = true;
        top.key = null;
      }
    }
    i++;
  }
  let pointer = "";
  for (const frame of stack) {
    if (frame.kind === "array") pointer = joinPointer(pointer, frame.index);
    else if (frame.key !== null) pointer = joinPointer(pointer, frame.key);
  }
  return pointer;
}
