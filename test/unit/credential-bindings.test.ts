import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialOrigin } from '../../main/common/origin.js';
import { CredentialBindings, resourceCovers } from '../../main/engine/auth/bindings.js';

const dir = mkdtempSync(join(tmpdir(), 'bindings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('credentialOrigin', () => {
  it('is scheme, host and port, plus the SSH destination', () => {
    expect(credentialOrigin({ url: 'https://Mcp.Example.com:443/a/mcp?x=1' })).toBe(
      'https://mcp.example.com',
    );
    expect(credentialOrigin({ url: 'http://127.0.0.1:8080/mcp' })).toBe('http://127.0.0.1:8080');
    expect(
      credentialOrigin({ url: 'http://127.0.0.1:8080/mcp', ssh: { destination: 'me@box', jump: [] } }),
    ).toBe('http://127.0.0.1:8080 via ssh me@box');
  });
});

describe('resourceCovers', () => {
  it('takes the same origin and a path under the resource, at a segment boundary', () => {
    expect(resourceCovers('https://h/mcp', 'https://h/mcp')).toBe(true);
    expect(resourceCovers('https://h/mcp', 'https://h/mcp/sub')).toBe(true);
    expect(resourceCovers('https://h/', 'https://h/anything')).toBe(true);
    expect(resourceCovers('https://h/mcp', 'wss://h/mcp')).toBe(true);
    expect(resourceCovers('https://h/mcp', 'https://h/mcp2')).toBe(false);
    expect(resourceCovers('https://h/mcp', 'https://h/other')).toBe(false);
    expect(resourceCovers('https://h/mcp', 'https://evil/mcp')).toBe(false);
    expect(resourceCovers('https://h/mcp', 'http://h/mcp')).toBe(false);
  });
});

describe('CredentialBindings', () => {
  it('binds, replaces and forgets, in a file without secrets', () => {
    const file = join(dir, 'b.json');
    const b = new CredentialBindings(file);
    expect(b.get('gh')).toBeUndefined();
    expect(b.bind('gh', { origin: 'https://a' })).toBeUndefined();
    expect(b.bind('gh', { origin: 'https://b', resource: 'https://b/mcp' })?.origin).toBe('https://a');
    expect(new CredentialBindings(file).get('gh')).toMatchObject({
      origin: 'https://b',
      resource: 'https://b/mcp',
    });
    b.forget('gh');
    expect(new CredentialBindings(file).get('gh')).toBeUndefined();
  });

  it('refuses to read or overwrite a file that does not parse', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ not json');
    const b = new CredentialBindings(file);
    expect(() => b.get('gh')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => b.bind('gh', { origin: 'https://a' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(readFileSync(file, 'utf8')).toBe('{ not json');
  });
});
