/**
 * How transports hand server texts to the relay (main/engine/upstream/messages.ts `deliverText`):
 * a large single-line object comes with its UTF-8 bytes and is read lazily; whatever else (invalid
 * JSON deep inside, raw newlines, a batch) takes the path it took before.
 */
import { describe, expect, it } from 'vitest';
import { deliverText } from '../../main/engine/upstream/messages.js';
import type { UpstreamHandlers } from '../../main/engine/upstream/types.js';

function capture() {
  const messages: { text: string; parsed: unknown; raw: Buffer | undefined }[] = [];
  const events: string[] = [];
  const handlers: UpstreamHandlers = {
    message: (text, parsed, raw) => messages.push({ text, parsed, raw }),
    closed: () => undefined,
    event: (type) => events.push(type),
  };
  return { handlers, messages, events };
}

const PAD = 'é😀"\\'.repeat(30_000);
const answer = (id: number) => ({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: PAD }] } });

describe('deliverText', () => {
  it('hands a large message on with its bytes, read as JSON.parse reads it', () => {
    const c = capture();
    const text = JSON.stringify(answer(1));
    const got = deliverText(c.handlers, text, 'a test');
    expect(c.messages).toHaveLength(1);
    expect(c.messages[0]!.raw!.equals(Buffer.from(text))).toBe(true);
    expect(c.messages[0]!.text).toBe(text);
    expect(c.messages[0]!.parsed).toEqual(JSON.parse(text));
    expect(got).toEqual([JSON.parse(text)]);
  });

  it('drops a large text that is not JSON deep inside, with a protocol-error event, as before', () => {
    const c = capture();
    const text = JSON.stringify(answer(2)).replace('"type":"text"', '"type":tru');
    expect(deliverText(c.handlers, text, 'a test')).toEqual([]);
    expect(c.messages).toEqual([]);
    expect(c.events).toEqual(['protocol-error']);
  });

  it('makes a large pretty-printed message single-line, without bytes', () => {
    const c = capture();
    const text = JSON.stringify(answer(3), null, 2);
    deliverText(c.handlers, text, 'a test');
    expect(c.messages[0]!.raw).toBeUndefined();
    expect(c.messages[0]!.text).not.toMatch(/[\r\n]/);
    expect(JSON.parse(c.messages[0]!.text)).toEqual(answer(3));
  });

  it('cuts a large batch into its messages, each as the server wrote it', () => {
    const c = capture();
    const items = [JSON.stringify(answer(4)), JSON.stringify(answer(5))];
    deliverText(c.handlers, `[${items.join(' , ')}]`, 'a test');
    expect(c.messages.map((m) => m.text)).toEqual(items);
    expect(c.messages.map((m) => m.raw)).toEqual([undefined, undefined]);
  });
});
