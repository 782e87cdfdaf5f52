/**
 * Backpressure from a client to its server: while the relay cannot hand messages to a client fast
 * enough (its shim's socket has too much queued), the transport stops reading the server's
 * streams; TCP (or the SSH channel window) then pushes back on the server. A {@link ReadGate} is
 * the pause/resume switch of one upstream session's readable streams.
 */

/** A stream that can stop and restart emitting data (node:stream Readable, an ssh2 channel). */
export interface PausableStream {
  pause(): unknown;
  resume(): unknown;
  once(event: 'close', cb: () => void): unknown;
}

/** See the module comment. */
export class ReadGate {
  private paused = false;
  private readonly streams = new Set<PausableStream>();

  /**
   * Puts a stream the transport reads from under the gate until it closes. Call it before the
   * first `data` listener is attached: a stream paused then stays paused (node:stream semantics).
   * @returns the stream
   */
  track<S extends PausableStream>(stream: S): S {
    this.streams.add(stream);
    stream.once('close', () => this.streams.delete(stream));
    if (this.paused) stream.pause();
    return stream;
  }

  /** Stops reading every tracked stream (and any tracked later) until {@link resume}. */
  pause(): void {
    this.paused = true;
    for (const s of this.streams) s.pause();
  }

  /** Reads again. */
  resume(): void {
    this.paused = false;
    for (const s of this.streams) s.resume();
  }
}
