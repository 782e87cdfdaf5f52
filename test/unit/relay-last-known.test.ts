/**
 * The pure parts of issue 9's relay rules: what is safe to send again (relay/retry-policy.ts), and
 * the last known state's file (relay/last-known.ts): mode, masking, binding to the server, a
 * damaged file moved aside, the tools' annotations read back.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, TetherError } from '../../main/common/errors.js';
import { idKey } from '../../main/common/jsonrpc.js';
import { EndpointConfigSchema } from '../../main/common/schemas.js';
import { LastKnown, lastKnownFile } from '../../main/engine/relay/last-known.js';
import {
  isTransportFailure,
  neverReached,
  retryDelayMs,
  safeToRepeat,
  type ToolHints,
} from '../../main/engine/relay/retry-policy.js';

const tools: ToolHints = {
  annotations: (name) =>
    ({
      lookup: { readOnlyHint: true },
      upsert: { idempotentHint: true, readOnlyHint: false },
      drop: { destructiveHint: true } as { readOnlyHint?: unknown },
      vague: { readOnlyHint: 'yes' },
    })[name],
};

describe('safe retry rule', () => {
  it('repeats reads and tools annotated read-only or idempotent, nothing else', () => {
    for (const m of ['ping', 'tools/list', 'resources/templates/list', 'resources/read', 'prompts/get'])
      expect(safeToRepeat(m, {}, tools)).toBeDefined();
    expect(safeToRepeat('tools/call', { name: 'lookup' }, tools)).toMatch(/readOnlyHint/);
    expect(safeToRepeat('tools/call', { name: 'upsert' }, tools)).toMatch(/idempotentHint/);
    for (const name of ['drop', 'vague', 'unknown'])
      expect(safeToRepeat('tools/call', { name }, tools)).toBeUndefined();
    expect(safeToRepeat('tools/call', {}, tools)).toBeUndefined();
    for (const m of [
      'initialize',
      'resources/subscribe',
      'logging/setLevel',
      'completion/complete',
      'sampling/x',
    ])
      expect(safeToRepeat(m, {}, tools)).toBeUndefined();
  });

  it('knows transport failures and sends that never reached the server', () => {
    expect(isTransportFailure(new TetherError(ErrorCode.UPSTREAM_UNREACHABLE, 'x'))).toBe(true);
    expect(isTransportFailure(new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'x'))).toBe(true);
    expect(isTransportFailure(new TetherError(ErrorCode.UPSTREAM_TIMEOUT, 'x'))).toBe(false);
    expect(isTransportFailure(new TetherError(ErrorCode.AUTH_REQUIRED, 'x'))).toBe(false);
    const refusedConn = new TetherError(ErrorCode.UPSTREAM_UNREACHABLE, 'x', { errno: 'ECONNREFUSED' });
    const reset = new TetherError(ErrorCode.UPSTREAM_UNREACHABLE, 'x', { errno: 'ECONNRESET' });
    const unknownSession = new TetherError(ErrorCode.UPSTREAM_SESSION_LOST, 'x', { refusedId: 7 });
    expect(neverReached(refusedConn, idKey(1), idKey)).toBe(true);
    expect(neverReached(reset, idKey(1), idKey)).toBe(false);
    expect(neverReached(unknownSession, idKey(7), idKey)).toBe(true);
    expect(neverReached(unknownSession, idKey(8), idKey)).toBe(false);
    expect([0, 1, 2, 3, 9].map(retryDelayMs)).toEqual([250, 500, 1000, 2000, 2000]);
  });
});

describe('last known state', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const config = (url: string) => EndpointConfigSchema.parse({ url });
  const make = (url = 'https://a.example/mcp', problems: string[] = []) =>
    new LastKnown(config(url), {
      file: lastKnownFile(dir, 'ep'),
      mask: (t) => t.replaceAll('s3cr3t-token', '[REDACTED]'),
      problem: (d) => problems.push(d),
    });

  it('keeps the cached methods masked in a 0600 file, by cursor, and reads the annotations back', () => {
    dir = mkdtempSync(join(tmpdir(), 'lk-'));
    const lk = make();
    lk.note(
      'tools/list',
      {},
      { tools: [{ name: 'lookup', description: 's3cr3t-token', annotations: { readOnlyHint: true } }] },
    );
    lk.note(
      'tools/list',
      { cursor: 'p2' },
      { tools: [{ name: 'upsert', annotations: { idempotentHint: true } }] },
    );
    lk.note('tools/call', {}, { content: [] });
    lk.note(
      'initialize',
      { protocolVersion: '2025-11-25' },
      { protocolVersion: '2025-11-25', capabilities: {} },
    );
    const file = lastKnownFile(dir, 'ep');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('s3cr3t-token');
    expect(text).not.toContain('tools/call');

    const again = make();
    expect(again.reachedBefore).toBe(true);
    expect(JSON.parse(again.get('tools/list', {})!.result).tools[0].description).toBe('[REDACTED]');
    expect(again.get('tools/list', { cursor: 'p2' })).toBeDefined();
    expect(again.get('tools/list', { cursor: 'p3' })).toBeUndefined();
    expect(again.annotations('lookup')).toEqual({ readOnlyHint: true });
    expect(again.annotations('upsert')).toEqual({ idempotentHint: true });
  });

  it('writes the file only when a result changed, and keeps no result too deep to serialize', () => {
    dir = mkdtempSync(join(tmpdir(), 'lk-'));
    const lk = make();
    const file = lastKnownFile(dir, 'ep');
    lk.note('tools/list', {}, { tools: [{ name: 'a' }] });
    writeFileSync(file, 'left alone'); // a write would replace this
    lk.note('tools/list', {}, { tools: [{ name: 'a' }] });
    expect(readFileSync(file, 'utf8')).toBe('left alone');
    lk.note('tools/list', {}, { tools: [{ name: 'b' }] });
    expect(JSON.parse(readFileSync(file, 'utf8')).entries['tools/list'].result).toContain('"b"');

    let deep: unknown[] = [];
    for (let i = 0; i < 20_000; i++) deep = [deep];
    expect(() => lk.note('prompts/list', {}, { prompts: deep })).not.toThrow();
    expect(lk.get('prompts/list', {})).toBeUndefined();
  });

  it('ignores the state of another server, and moves a damaged file aside', () => {
    dir = mkdtempSync(join(tmpdir(), 'lk-'));
    make().note('prompts/list', {}, { prompts: [] });
    expect(make('https://b.example/mcp').get('prompts/list', {})).toBeUndefined();
    const file = lastKnownFile(dir, 'ep');
    writeFileSync(file, '{ not json');
    const problems: string[] = [];
    expect(make(undefined, problems).reachedBefore).toBe(false);
    expect(problems).toHaveLength(1);
    expect(existsSync(`${file}.broken`)).toBe(true);
    expect(existsSync(file)).toBe(false);
  });
});
