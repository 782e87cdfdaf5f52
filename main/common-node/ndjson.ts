/**
 * Newline-delimited framing for stdio (MCP 2025-11-25 §Transports/stdio) and the control socket.
 *
 * Messages are UTF-8 JSON separated by `\n` and must not contain raw newlines. The splitter works on
 * Buffers, so a multi-byte character split across chunks is never corrupted, and it enforces a line
 * limit in bytes so a client cannot make a process buffer without bound.
 */

/** Default maximum line length: 16 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/** What the splitter hands out: lines as text (`line`) or, to skip decoding, as bytes (`bytes`). */
export interface LineSink {
  /** A complete non-blank line, without its `\n` (a trailing `\r` is removed too). */
  line?(text: string): void;
  /** The same as `line`, as the raw bytes; when given, `line` is not called. */
  bytes?(line: Buffer): void;
  /**
   * A line exceeded `maxLineBytes`; its bytes up to the next `\n` are dropped.
   * @param bytes how many bytes were seen when the limit tripped
   * @param head the first bytes (at most 64 KiB) as text, to recover an id for the error response
   */
  oversized(bytes: number, head: string): void;
}

const HEAD_BYTES = 64 * 1024;

/**
 * Splits a byte stream into lines. Feed it chunks with {@link LineSplitter.push}.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;

  /**
   * @param sink receives lines and oversize reports
   * @param maxLineBytes limit of one line in bytes (default {@link DEFAULT_MAX_LINE_BYTES})
   */
  constructor(
    private readonly sink: LineSink,
    private readonly maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
  ) {}

  /** Consumes one chunk. */
  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        this.append(chunk.subarray(start));
        return;
      }
      this.append(chunk.subarray(start, nl));
      this.finishLine();
      start = nl + 1;
    }
  }

  /** Hands out a last line that had no terminating newline (at end of stream). */
  end(): void {
    if (this.size > 0 && !this.discarding) this.finishLine();
    this.reset();
  }

  private append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.discarding) {
      this.size += piece.length;
      return;
    }
    if (this.size + piece.length > this.maxLineBytes) {
      const head = Buffer.concat([...this.parts, piece])
        .subarray(0, HEAD_BYTES)
        .toString('utf8');
      this.size += piece.length;
      this.parts = [];
      this.discarding = true;
      this.sink.oversized(this.size, head);
      return;
    }
    this.parts.push(piece);
    this.size += piece.length;
  }

  private finishLine(): void {
    if (this.discarding) {
      this.reset();
      return;
    }
    let buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.reset();
    if (buf[buf.length - 1] === 13) buf = buf.subarray(0, buf.length - 1);
    if (isBlank(buf)) return;
    if (this.sink.bytes) this.sink.bytes(buf);
    else this.sink.line?.(buf.toString('utf8'));
  }

  private reset(): void {
    this.parts = [];
    this.size = 0;
    this.discarding = false;
  }
}

/** True for a line of only spaces and tabs (or nothing). */
function isBlank(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

const NEWLINE = Buffer.from('\n');

/** Below this size (bytes or characters) a line and its newline are joined into one write. */
const JOIN_BELOW = 64 * 1024;

/**
 * Writes lines (each followed by `\n`) in one system call: small ones joined into one chunk, large
 * ones corked and handed over as they are, so a big line is neither copied nor re-encoded.
 */
export function writeLine(
  stream: NodeJS.WritableStream & { cork(): void; uncork(): void },
  ...lines: (Buffer | string)[]
): void {
  if (lines.every((l) => l.length < JOIN_BELOW)) {
    stream.write(
      lines.every((l) => typeof l === 'string')
        ? lines.join('\n') + '\n'
        : Buffer.concat(lines.flatMap((l) => [typeof l === 'string' ? Buffer.from(l) : l, NEWLINE])),
    );
    return;
  }
  stream.cork();
  for (const l of lines) {
    stream.write(l);
    stream.write(NEWLINE);
  }
  stream.uncork();
}

/**
 * Makes a JSON text safe for newline framing by removing its raw CR and LF characters. JSON allows
 * them only as whitespace between tokens (RFC 8259 §2, §7: inside strings they must be escaped), and
 * no two tokens of a valid text need whitespace to stay apart, so removing them changes no value and
 * every other byte stays as sent: `12345678901234567890`, `1E400` and `1.0` are not re-serialized.
 * @param text a text that parsed as JSON
 */
export function toSingleLine(text: string): string {
  return text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, '') : text;
}

/**
 * The texts of the elements of a JSON array text, each exactly as it appears in `text` (a JSON-RPC
 * batch: JSON-RPC 2.0 §6). A small scanner: it tracks strings (with their escapes) and nesting depth
 * and cuts at the commas of the top level, trimming whitespace around each element.
 * @param text a text that parsed as a JSON array
 */
export function splitJsonArray(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth === 1) {
        start = i + 1;
        continue;
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
      if (depth === 0) {
        const el = text.slice(start, i).trim();
        if (el.length > 0) out.push(el);
        break;
      }
    } else if (c === 0x2c && depth === 1) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  return out;
}

/**
 * Best-effort id recovery from the start of a line that could not be parsed as a whole (for an
 * oversized line). Looks for an `"id":` member of the top-level object only: an `"id"` nested in
 * `params` (which may come first) belongs to something else. Returns undefined when none is found.
 */
export function sniffId(head: string): string | number | undefined {
  const token = /"(?:[^"\\]|\\.)*"|[{}[\]]/g;
  let depth = 0;
  for (let t = token.exec(head); t; t = token.exec(head)) {
    const s = t[0];
    if (s === '{' || s === '[') depth++;
    else if (s === '}' || s === ']') depth--;
    else if (depth === 1 && s === '"id"') {
      const m = /^\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?)/.exec(head.slice(token.lastIndex));
      if (!m) continue;
      try {
        return JSON.parse(m[1]!) as string | number;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
