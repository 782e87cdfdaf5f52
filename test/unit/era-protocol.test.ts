/**
 * The era rules of main/engine/protocol/ (MCP 2026-07-28 basic/versioning "Backward
 * Compatibility"): how a probe answer or a client message shows its era, what the bridge changes in
 * results for a legacy client, and the persisted era cache.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EndpointConfigSchema } from '../../main/common/schemas.js';
import { bridgeVersion, toLegacyResult } from '../../main/engine/protocol/bridge-convert.js';
import { EraStore } from '../../main/engine/protocol/era-store.js';
import { withModernMeta } from '../../main/engine/protocol/handshake.js';
import { classifyProbeAnswer, messageEra, META, servesLegacy } from '../../main/engine/protocol/versions.js';

describe('classifyProbeAnswer', () => {
  it('a DiscoverResult is modern, with its versions, capabilities, serverInfo and instructions', () => {
    const v = classifyProbeAnswer({
      jsonrpc: '2.0',
      id: 1,
      result: {
        resultType: 'complete',
        supportedVersions: ['2026-07-28'],
        capabilities: { tools: { listChanged: true } },
        _meta: { [META.serverInfo]: { name: 's', version: '2' } },
        instructions: 'use it',
      },
    });
    expect(v).toEqual({
      era: 'modern',
      versions: ['2026-07-28'],
      discover: {
        supportedVersions: ['2026-07-28'],
        capabilities: { tools: { listChanged: true } },
        serverInfo: { name: 's', version: '2' },
        instructions: 'use it',
      },
    });
  });

  it.each([-32020, -32021, -32022])('the modern error %i is modern', (code) => {
    const v = classifyProbeAnswer({
      jsonrpc: '2.0',
      id: 1,
      error: { code, message: 'x', data: { supported: ['2026-09-01'] } },
    });
    expect(v).toEqual({ era: 'modern', versions: ['2026-09-01'] });
  });

  it.each([-32601, -32602, -32000])(
    'any other error (%i) is legacy: the fallback is not keyed to one code',
    (code) => {
      expect(classifyProbeAnswer({ jsonrpc: '2.0', id: 1, error: { code, message: 'nope' } })).toMatchObject({
        era: 'legacy',
      });
    },
  );

  it('a result without supportedVersions is legacy', () => {
    expect(classifyProbeAnswer({ jsonrpc: '2.0', id: 1, result: {} })).toMatchObject({ era: 'legacy' });
  });
});

describe('messageEra and servesLegacy', () => {
  it('initialize is legacy, a request with a modern _meta version or server/discover is modern', () => {
    expect(messageEra({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} })).toBe('legacy');
    expect(messageEra({ jsonrpc: '2.0', id: 1, method: 'server/discover' })).toBe('modern');
    const modern = withModernMeta({}, { clientInfo: { name: 'c', version: '1' }, capabilities: {} });
    expect(messageEra({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: modern })).toBe('modern');
    expect(messageEra({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })).toBeUndefined();
  });

  it('a server that lists a legacy version serves legacy clients itself', () => {
    expect(servesLegacy(['2026-07-28', '2025-11-25'])).toBe(true);
    expect(servesLegacy(['2026-07-28'])).toBe(false);
  });
});

describe('the bridge toward a legacy client', () => {
  it('drops the members legacy results do not have, and the modern _meta tags', () => {
    expect(
      toLegacyResult({
        resultType: 'complete',
        ttlMs: 5,
        cacheScope: 'public',
        tools: [],
        _meta: { [META.serverInfo]: { name: 's' }, other: 1 },
      }),
    ).toEqual({ tools: [], _meta: { other: 1 } });
    expect(toLegacyResult({ resultType: 'complete', _meta: { [META.serverInfo]: {} } })).toEqual({});
  });

  it('answers initialize with the client version when it speaks it, else the newest legacy one', () => {
    expect(bridgeVersion('2025-03-26')).toBe('2025-03-26');
    expect(bridgeVersion('2099-01-01')).toBe('2025-11-25');
    expect(bridgeVersion(undefined)).toBe('2025-11-25');
  });
});

describe('EraStore', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));
  const config = EndpointConfigSchema.parse({ url: 'http://127.0.0.1:1/mcp' });

  it('persists the era of an endpoint for its server config, and forgets it when that changes', () => {
    dir = mkdtempSync(join(tmpdir(), 'era-'));
    const file = join(dir, 'eras.json');
    new EraStore(file).set('a', config, 'modern', ['2026-07-28']);
    const again = new EraStore(file);
    expect(again.get('a', config)).toMatchObject({ era: 'modern', versions: ['2026-07-28'] });
    expect(again.get('a', { ...config, url: 'http://127.0.0.1:2/mcp' })).toBeUndefined();
    again.forget('a');
    expect(new EraStore(file).get('a', config)).toBeUndefined();
  });

  it('moves a file it cannot parse aside instead of overwriting it', () => {
    dir = mkdtempSync(join(tmpdir(), 'era-'));
    const file = join(dir, 'eras.json');
    writeFileSync(file, '{ not json');
    const store = new EraStore(file);
    expect(readFileSync(`${file}.broken`, 'utf8')).toBe('{ not json');
    store.set('a', config, 'legacy', []);
    expect(existsSync(file)).toBe(true);
  });
});
