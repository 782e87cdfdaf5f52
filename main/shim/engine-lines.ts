/**
 * The shim's reader of its engine connection (docs/architecture.md "The relay"): the first line
 * (the answer to `shim/attach`) is gathered whole; after it, the engine sends answer lines, each
 * answer to a client request preceded by a `#<id>` mark line (`#[<id>,…]` before a batch answer).
 * Mark lines are gathered and handed over as text; every other byte is handed on as it arrives, a
 * run of lines at a time, so a large answer is neither gathered nor copied in the shim, and the
 * client starts reading it while the engine is still writing it.
 */

/** What an {@link EngineLineReader} hands out. */
export interface EngineLineSink {
  /** The first line, without its `\n`. */
  first(line: Buffer): void;
  /** The JSON text of a mark line (after its `#`, without its `\n`). */
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
        } else this.sink.mark(line.toString('utf8'));
        continue;
      }
      if (this.atLineStart && chunk[i] === HASH) {
        this.gathering = [];
        i++;
        continue;
      }
      // A run of answer bytes: up to the start of the next mark line, or the end of the chunk.
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
        if (end === chunk.length || chunk[end] === HASH) break;
      }
      this.sink.pass(chunk.subarray(i, end));
      i = end;
    }
  }
}
