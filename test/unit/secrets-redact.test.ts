/**
 * Redaction of known secret values: what the recorder keeps is masked, stays valid JSON, and costs
 * nothing when there is no secret.
 */
import { describe, expect, it } from 'vitest';
import {
  KnownSecrets,
  MIN_REDACTED_LENGTH,
  NO_SECRETS,
  REDACTED,
  redactJson,
  redactText,
} from '../../main/engine/secrets/redact.js';
import { TrafficRecorder } from '../../main/engine/traffic/recorder.js';

/** The compiled patterns of these values. */
function known(...values: string[]): KnownSecrets {
  const k = new KnownSecrets();
  for (const v of values) k.add(v);
  return k;
}

describe('redactJson', () => {
  it('masks a secret inside strings and keys, and the result is still the same JSON shape', () => {
    const text = JSON.stringify({
      a: 'Bearer s3cr3t-token',
      s3cr3t_token: 1,
      's3cr3t-token': [1, 's3cr3t-token'],
    });
    const out = redactJson(text, known('s3cr3t-token').patterns);
    expect(out).not.toContain('s3cr3t-token');
    expect(JSON.parse(out)).toEqual({ a: `Bearer ${REDACTED}`, s3cr3t_token: 1, [REDACTED]: [1, REDACTED] });
  });

  it('finds a secret in any JSON spelling: \\", \\\\, \\/ and \\u00xx (either case)', () => {
    const secret = 'pa"ss\\wo/rd-42';
    const p = known(secret).patterns;
    const unicode = [...secret].map(
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`,
    );
    for (const text of [
      JSON.stringify({ text: `x ${secret} y` }),
      JSON.stringify({ text: `x ${secret} y` }).replace(/\//g, '\\/'),
      `{"text":"x ${unicode.join('')} y"}`,
    ]) {
      const out = redactJson(text, p);
      expect(JSON.parse(out)).toEqual({ text: `x ${REDACTED} y` });
    }
  });

  it('masks a secret that sits in a number', () => {
    const out = redactJson('{"id":99123456789}', known('123456').patterns);
    expect(out).not.toContain('123456');
    expect(JSON.parse(out)).toEqual({ id: REDACTED });
  });

  it('returns the very same string when nothing matches', () => {
    const text = '{"jsonrpc":"2.0","id":1,"result":{"t":"a\\nb"}}';
    expect(redactJson(text, known('abcdefgh').patterns)).toBe(text);
    expect(redactJson(text, NO_SECRETS)).toBe(text);
  });

  it('masks a short secret as a whole value or in a credential-named member, not inside text', () => {
    const p = known('k9z').patterns;
    const out = JSON.parse(
      redactJson(
        JSON.stringify({ whole: 'k9z', password: 'is k9z', headers: { 'X-Auth': 'k9z!' }, text: 'ak9zb' }),
        p,
      ),
    );
    expect(out).toEqual({
      whole: REDACTED,
      password: REDACTED,
      headers: { 'X-Auth': REDACTED },
      text: 'ak9zb',
    });
    expect(MIN_REDACTED_LENGTH).toBe(6);
  });

  it('masks the longest secret first', () => {
    const k = known('abc', 'token-1', 'token-1-extended');
    expect(k.patterns.long.map((s) => s.value)).toEqual(['token-1-extended', 'token-1']);
    expect(k.patterns.short).toEqual(['abc']);
    expect(k.redact('token-1-extended and token-1 and abc')).toBe(`${REDACTED} and ${REDACTED} and abc`);
  });
});

describe('redactText', () => {
  it('masks raw and JSON-escaped spellings in plain text (an HTTP error body)', () => {
    const p = known('tok/abc-123').patterns;
    expect(redactText('upstream rejected tok/abc-123', p)).toBe(`upstream rejected ${REDACTED}`);
    expect(redactText('{"error":"bad token tok\\/abc-123"}', p)).toBe(`{"error":"bad token ${REDACTED}"}`);
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
