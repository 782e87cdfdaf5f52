/**
 * The wait between Streamable HTTP stream attempts (main/engine/upstream/streamable-get.ts): it
 * ends early when its signal aborts, so a closed connection never waits out a server's `retry:`.
 */
import { describe, expect, it } from 'vitest';
import { pause } from '../../main/engine/upstream/streamable-get.js';

describe('pause', () => {
  it('resolves at once for an aborted signal, however long the wait', async () => {
    await expect(pause(3_600_000, AbortSignal.abort())).resolves.toBeUndefined();
  });

  it('resolves when its signal aborts during the wait', async () => {
    const abort = new AbortController();
    const waiting = pause(3_600_000, abort.signal);
    abort.abort();
    await expect(waiting).resolves.toBeUndefined();
  });

  it('resolves after the wait without a signal that aborts', async () => {
    await expect(pause(-5, new AbortController().signal)).resolves.toBeUndefined();
  });
});
