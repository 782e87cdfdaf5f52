/**
 * Redaction of known secret values: what the recorder keeps is masked, stays valid JSON, and costs
 * nothing when there is no secret.
 */
import { describe, expect, it } from 'vitest';
import { KnownSecrets, REDACTED, redactJson } from '../../main/engine/secrets/redact.js';
import { TrafficRecorder } from '../../main/engine/traffic/recorder.js';

describe('redactJson', () => {
  it('masks a secret inside strings and keys, and the result is still the same JSON shape', () => {
    const s = ['s3cr3t-token'];
    const text = JSON.stringify({
      a: 'Bearer s3cr3t-token',
      s3cr3t_token: 1,
      's3cr3t-token': [1, 's3cr3t-token'],
    });
    const out = redactJson(text, s);
    expect(out).not.toContain('s3cr3t-token');
    expect(JSON.parse(out)).toEqual({ a: `Bearer ${REDACTED}`, s3cr3t_token: 1, [REDACTED]: [1, REDACTED] });
  });

  it('finds a secret in its JSON-escaped spelling', () => {
    const known = new KnownSecrets();
    known.add('pa"ss\\word-42');
    const text = JSON.stringify({ text: 'x pa"ss\\word-42 y' });
    expect(text).toContain('pa\\"ss\\\\word-42');
    const out = redactJson(text, known.all);
    expect(JSON.parse(out)).toEqual({ text: `x ${REDACTED} y` });
  });

  it('withholds a message whose secret sits in a number', () => {
    const out = redactJson('{"id":99123456789}', ['123456']);
    expect(out).not.toContain('123456');
    expect(JSON.parse(out)).toHaveProperty('redacted');
  });

  it('returns the very same string when nothing matches', () => {
    const text = '{"jsonrpc":"2.0","id":1,"result":{}}';
    expect(redactJson(text, ['abcdefgh'])).toBe(text);
    expect(redactJson(text, [])).toBe(text);
  });

  it('masks the longest secret first and ignores values too short to be credentials', () => {
    const known = new KnownSecrets();
    known.add('abc');
    known.add('token-1');
    known.add('token-1-extended');
    expect(known.all).toEqual(['token-1-extended', 'token-1']);
    expect(known.redact('token-1-extended and token-1 and abc')).toBe(`${REDACTED} and ${REDACTED} and abc`);
  });
});

describe('TrafficRecorder with secrets', () => {
  it('masks message texts and event details once told the values', () => {
    const rec = new TrafficRecorder({ maxRecords: 100, maxBytes: 1 << 20 });
    const known = new KnownSecrets();
    known.subscribe((v) => rec.setSecrets(v));
    rec.record({
      endpoint: 'e',
      session: 's',
      kind: 'request',
      method: 'm',
      id: 1,
      text: '{"p":"early-secret-1"}',
    });
    known.add('early-secret-1');
    const text =
      '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":{"t":"early-secret-1"}}}';
    rec.record({
      endpoint: 'e',
      session: 's',
      kind: 'request',
      method: 'tools/call',
      id: 2,
      text,
      raw: Buffer.from(text),
    });
    rec.record({
      endpoint: 'e',
      session: 's',
      kind: 'event',
      event: { type: 'x', detail: 'saw early-secret-1' },
    });
    const [first, second, third] = rec.query();
    // Recorded before the value was known: kept as it was (the engine learns values at start).
    expect(JSON.stringify(first!.message)).toContain('early-secret-1');
    expect(second!.message).toEqual({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { arguments: { t: REDACTED } },
    });
    expect(third!.event!.detail).toBe(`saw ${REDACTED}`);
    expect(rec.query({ text: 'early-secret-1' })).toHaveLength(1);
  });
});
