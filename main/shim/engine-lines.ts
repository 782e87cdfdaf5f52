/**
 * The shim's reader of its engine connection (docs/architecture.md "The relay"): the first line
 * (the answer to `shim/attach`) is gathered whole; after it, the engine sends answer lines, each
 * answer to a client request preceded by a `#<id>` mark line (`#[<id>,…]` before a batch answer).
 * Mark lines are gathered; every other byte is handed on as it arrives, a run of lines at a time,
 * so a large answer is neither gathered nor copied in the shim, and the client starts reading it
 * while the engine is still writing it. A mark is handed over once the line it announces has been
 * handed on whole: until then its request is still in flight (an engine lost in the middle of the
 * answer leaves it unanswered, and the shim answers it).
 */

/** What an {@link EngineLineReader} hands out. */
export interface EngineLineSink {
  /** The first line, without its `\n`. */
  first(line: Buffer): void;
  /** The JSON text of a mark line (after its `#`), once the line after it has been passed whole. */
  mark(text: string): void;
  /** Bytes of answer lines, their `\n`s included; a piece may end inside a line. */
  pass(piece: Buffer): void;
}

const NL = 0x0a;
const HASH = 0x23;

/** See the module comment. Feed it the connection's chunks with {@link EngineLineReader.push}. */
export class EngineLineReader {
  /** Gathering the first line (until it ends) or a mark line: its pieces so far. */
  private gathering: Buffer[] | undefined = [];
  private gatheringFirst = true;
  /** The next byte starts a line. */
  private atLineStart = true;
  /** A mark whose answer line has not been passed whole yet. */
  private markText: string | undefined;

  /** @param sink receives the first line, marks and answer bytes */
  constructor(private readonly sink: EngineLineSink) {}

  /** Consumes one chunk. */
  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.gathering) {
        const nl = chunk.indexOf(NL, i);
        if (nl === -1) {
          this.gathering.push(chunk.subarray(i));
          return;
        }
        this.gathering.push(chunk.subarray(i, nl));
        const line = this.gathering.length === 1 ? this.gathering[0]! : Buffer.concat(this.gathering);
        this.gathering = undefined;
        this.atLineStart = true;
        i = nl + 1;
        if (this.gatheringFirst) {
          this.gatheringFirst = false;
          this.sink.first(line);
        } else {
          this.flushMark(); // a mark with no line after it (the engine does not send one)
          this.markText = line.toString('utf8');
        }
        continue;
      }
      if (this.atLineStart && chunk[i] === HASH) {
        this.gathering = [];
        i++;
        continue;
      }
      // A run of lines: up to the start of the next mark line, the end of the line a mark
      // announced, or the end of the chunk.
      let end = i;
      for (;;) {
        const nl = chunk.indexOf(NL, end);
        if (nl === -1) {
          end = chunk.length;
          this.atLineStart = false;
          break;
        }
        end = nl + 1;
        this.atLineStart = true;
        if (this.markText !== undefined || end === chunk.length || chunk[end] === HASH) break;
      }
      this.sink.pass(chunk.subarray(i, end));
      if (this.atLineStart) this.flushMark();
      i = end;
    }
  }

  /** True when the bytes handed on so far end inside a line (the rest of it has not come). */
  get midLine(): boolean {
    return !this.atLineStart && this.gathering === undefined;
  }

  private flushMark(): void {
    const m = this.markText;
    this.markText = undefined;
    if (m !== undefined) this.sink.mark(m);
  }
}
