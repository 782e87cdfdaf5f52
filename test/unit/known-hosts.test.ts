/**
 * Host-key verification against known_hosts files (main/engine/ssh/known-hosts.ts), checked
 * against what real OpenSSH tools produce and accept: keys and fingerprints from ssh-keygen, hashed
 * entries from `ssh-keygen -H`, and the app's own entries found by `ssh-keygen -F`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addKnownHost,
  checkHostKey,
  entryMatches,
  fingerprintOf,
  hostKeyName,
  keyTypeOf,
  loadKnownHosts,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  replaceKnownHost,
  type KnownHostEntry,
} from '../../main/engine/ssh/known-hosts.js';

let dir: string;

/** A key made by ssh-keygen: its public blob, type, and fingerprint as `ssh-keygen -l` prints it. */
interface Key {
  type: string;
  base64: string;
  blob: Buffer;
  fingerprint: string;
}

function keygen(name: string, type: 'ed25519' | 'ecdsa' | 'rsa'): Key {
  const file = join(dir, name);
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '2048'] : []),
    '-N',
    '',
    '-f',
    file,
  ]);
  const [keyType, base64] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`])
    .toString()
    .split(' ')[1]!;
  return { type: keyType!, base64: base64!, blob: Buffer.from(base64!, 'base64'), fingerprint };
}

let ed: Key;
let ed2: Key;
let ecdsa: Key;
let rsa: Key;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'known-hosts-'));
  ed = keygen('ed', 'ed25519');
  ed2 = keygen('ed2', 'ed25519');
  ecdsa = keygen('ecdsa', 'ecdsa');
  rsa = keygen('rsa', 'rsa');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const line = (hosts: string, k: Key) => `${hosts} ${k.type} ${k.base64}`;
const entry = (hosts: string, k: Key = ed): KnownHostEntry => parseKnownHosts(line(hosts, k), 'f')[0]!;

describe('fingerprints and key types', () => {
  it('fingerprintOf is what ssh-keygen -l prints, for every key type', () => {
    for (const k of [ed, ecdsa, rsa]) expect(fingerprintOf(k.blob)).toBe(k.fingerprint);
    expect(ed.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('keyTypeOf reads the type inside the blob', () => {
    expect(keyTypeOf(ed.blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(ecdsa.blob)).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOf(rsa.blob)).toBe('ssh-rsa');
  });
});

describe('parseKnownHosts', () => {
  it('reads entries with line numbers, skipping comments, blanks, bad lines and @cert-authority', () => {
    const text = [
      '# a comment',
      '',
      line('host.example,10.0.0.1', ed),
      '   ',
      `@cert-authority *.example ${ed.type} ${ed.base64}`,
      'only-a-host',
      'host ssh-ed25519',
      `@revoked bad.example ${ed2.type} ${ed2.base64}`,
      `@unknown-marker x ${ed.type} ${ed.base64}`,
      `${line('[h]:2222', rsa)} a comment with spaces`,
    ].join('\n');
    expect(parseKnownHosts(text, '/kh')).toEqual([
      {
        file: '/kh',
        line: 3,
        revoked: false,
        patterns: ['host.example', '10.0.0.1'],
        keyType: 'ssh-ed25519',
        keyBase64: ed.base64,
      },
      {
        file: '/kh',
        line: 8,
        revoked: true,
        patterns: ['bad.example'],
        keyType: 'ssh-ed25519',
        keyBase64: ed2.base64,
      },
      {
        file: '/kh',
        line: 10,
        revoked: false,
        patterns: ['[h]:2222'],
        keyType: 'ssh-rsa',
        keyBase64: rsa.base64,
      },
    ]);
  });

  it('loadKnownHosts treats a missing file as empty and concatenates the rest in order', () => {
    const a = join(dir, 'a_known_hosts');
    writeFileSync(a, line('a', ed) + '\n');
    const b = join(dir, 'b_known_hosts');
    writeFileSync(b, line('b', ecdsa) + '\n');
    const all = loadKnownHosts([join(dir, 'missing'), a, b]);
    expect(all.map((e) => [e.file, e.patterns[0]])).toEqual([
      [a, 'a'],
      [b, 'b'],
    ]);
  });
});

describe('host patterns', () => {
  it('port 22 is the bare host name; any other port is [host]:port', () => {
    expect(hostKeyName('example.org', 22)).toBe('example.org');
    expect(hostKeyName('example.org', 2222)).toBe('[example.org]:2222');
    expect(entryMatches(entry('example.org'), 'example.org', 22)).toBe(true);
    expect(entryMatches(entry('example.org'), 'example.org', 2222)).toBe(false);
    expect(entryMatches(entry('[example.org]:2222'), 'example.org', 2222)).toBe(true);
    expect(entryMatches(entry('[example.org]:2222'), 'example.org', 22)).toBe(false);
    expect(entryMatches(entry('[example.org]:2222'), 'example.org', 2223)).toBe(false);
    expect(entryMatches(entry('[127.0.0.1]:2222'), '127.0.0.1', 2222)).toBe(true);
    expect(entryMatches(entry('other.org,[example.org]:2222'), 'example.org', 2222)).toBe(true);
  });

  it('* and ? are wildcards; dots and brackets are literal; names are case-insensitive', () => {
    expect(entryMatches(entry('*.example.org'), 'a.example.org', 22)).toBe(true);
    expect(entryMatches(entry('*.example.org'), 'example.org', 22)).toBe(false);
    expect(entryMatches(entry('*.example.org'), 'aXexample.org', 22)).toBe(false);
    expect(entryMatches(entry('host?.lan'), 'host1.lan', 22)).toBe(true);
    expect(entryMatches(entry('host?.lan'), 'host12.lan', 22)).toBe(false);
    expect(entryMatches(entry('[*.lan]:2222'), 'box.lan', 2222)).toBe(true);
    expect(entryMatches(entry('10.0.0.*'), '10.0.0.7', 22)).toBe(true);
    expect(entryMatches(entry('Example.ORG'), 'example.org', 22)).toBe(true);
  });

  it('a negated pattern that matches wins over every other pattern of the line', () => {
    const e = entry('*.example.org,!bad.example.org');
    expect(entryMatches(e, 'good.example.org', 22)).toBe(true);
    expect(entryMatches(e, 'bad.example.org', 22)).toBe(false);
    // A negation alone matches nothing.
    expect(entryMatches(entry('!bad.example.org'), 'good.example.org', 22)).toBe(false);
  });

  it('hashed entries made by ssh-keygen -H match their host and port only', () => {
    const file = join(dir, 'hashed_known_hosts');
    writeFileSync(file, [line('hashed.example', ed), line('[127.0.0.1]:2200', ecdsa)].join('\n') + '\n');
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const entries = loadKnownHosts([file]);
    expect(entries).toHaveLength(2);
    for (const e of entries) expect(e.patterns[0]).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+$/);
    const [name, addr] = entries as [KnownHostEntry, KnownHostEntry];
    expect(entryMatches(name, 'hashed.example', 22)).toBe(true);
    expect(entryMatches(name, 'other.example', 22)).toBe(false);
    expect(entryMatches(name, 'hashed.example', 2200)).toBe(false);
    expect(entryMatches(addr, '127.0.0.1', 2200)).toBe(true);
    expect(entryMatches(addr, '127.0.0.1', 22)).toBe(false);
    expect(checkHostKey(entries, '127.0.0.1', 2200, ecdsa.blob).status).toBe('trusted');
    expect(checkHostKey(entries, 'hashed.example', 22, ed2.blob).status).toBe('mismatch');
  });

  it('malformed hashed patterns match nothing', () => {
    expect(entryMatches(entry('|1|onlysalt'), 'x', 22)).toBe(false);
    expect(entryMatches(entry('|2|c2FsdA==|aGFzaA=='), 'x', 22)).toBe(false);
  });
});

describe('checkHostKey', () => {
  const at = (hosts: string, k: Key) => parseKnownHosts(line(hosts, k), 'f');

  it('trusts the recorded key and reports nothing recorded as unknown', () => {
    const entries = at('[h]:2222', ed);
    const trusted = checkHostKey(entries, 'h', 2222, ed.blob);
    expect(trusted.status).toBe('trusted');
    expect(trusted.status === 'trusted' && trusted.entry.line).toBe(1);
    expect(checkHostKey(entries, 'other', 2222, ed.blob).status).toBe('unknown');
    expect(checkHostKey([], 'h', 2222, ed.blob).status).toBe('unknown');
  });

  it('any other recorded key is a mismatch, whatever its type', () => {
    const entries = at('[h]:2222', ed);
    const changed = checkHostKey(entries, 'h', 2222, ed2.blob);
    expect(changed.status).toBe('mismatch');
    expect(changed.status === 'mismatch' && changed.entries.map((e) => e.keyBase64)).toEqual([ed.base64]);
    // Only an ed25519 key is recorded: a server now showing only ECDSA has CHANGED, not a new host.
    const otherType = checkHostKey(entries, 'h', 2222, ecdsa.blob);
    expect(otherType.status).toBe('mismatch');
    expect(otherType.status === 'mismatch' && otherType.entries.map((e) => e.keyType)).toEqual([ed.type]);
    // With both types recorded, the presented one decides.
    const both = [...entries, ...at('[h]:2222', ecdsa)];
    expect(checkHostKey(both, 'h', 2222, ecdsa.blob).status).toBe('trusted');
    expect(checkHostKey(both, 'h', 2222, ed2.blob).status).toBe('mismatch');
  });

  it('any of several keys recorded for a host is trusted (the user file, then the app file)', () => {
    const entries = [...at('h', ed), ...at('h', ed2)];
    expect(checkHostKey(entries, 'h', 22, ed.blob).status).toBe('trusted');
    expect(checkHostKey(entries, 'h', 22, ed2.blob).status).toBe('trusted');
  });

  it('@revoked refuses the key even where another line trusts it', () => {
    const entries = parseKnownHosts(
      [`@revoked [h]:2222 ${ed.type} ${ed.base64}`, line('[h]:2222', ed), line('[h]:2222', ed2)].join('\n'),
      'f',
    );
    const r = checkHostKey(entries, 'h', 2222, ed.blob);
    expect(r.status).toBe('revoked');
    expect(r.status === 'revoked' && r.entry.line).toBe(1);
    // The other, unrevoked key of the host is still fine.
    expect(checkHostKey(entries, 'h', 2222, ed2.blob).status).toBe('trusted');
    // A revoked key alone does not make other keys a mismatch.
    expect(checkHostKey(entries.slice(0, 1), 'h', 2222, ecdsa.blob).status).toBe('unknown');
  });
});

describe('addKnownHost', () => {
  it('appends an entry ssh-keygen -F finds, creating the file with mode 0600', () => {
    const file = join(dir, 'app_known_hosts');
    addKnownHost(file, '127.0.0.1', 2222, ed.blob);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${ed.base64}\n`);
    writeFileSync(file, readFileSync(file, 'utf8').trimEnd()); // no final newline: still one line each
    addKnownHost(file, 'box.example', 22, ecdsa.blob);
    expect(readFileSync(file, 'utf8').split('\n')).toEqual([
      `[127.0.0.1]:2222 ssh-ed25519 ${ed.base64}`,
      `box.example ecdsa-sha2-nistp256 ${ecdsa.base64}`,
      '',
    ]);
    const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', file]).toString();
    expect(found).toContain(ed.base64);
    const entries = loadKnownHosts([file]);
    expect(checkHostKey(entries, '127.0.0.1', 2222, ed.blob).status).toBe('trusted');
    expect(checkHostKey(entries, 'box.example', 22, ecdsa.blob).status).toBe('trusted');
  });
});

describe('preferredHostKeyAlgorithms and replaceKnownHost', () => {
  it('offers the algorithms of the key types recorded for the host first', () => {
    const entries = parseKnownHosts(
      [line('[h]:2222', ecdsa), `@revoked [h]:2222 ${ed.type} ${ed.base64}`, line('other', ed2)].join('\n'),
      'f',
    );
    expect(preferredHostKeyAlgorithms(entries, 'h', 2222)).toEqual(['ecdsa-sha2-nistp256']);
    expect(preferredHostKeyAlgorithms(entries, 'nobody', 22)).toEqual([]);
  });

  it('drops the stale lines of the file, keeps every other byte and appends the new key', () => {
    const file = join(dir, 'replace_known_hosts');
    writeFileSync(
      file,
      ['# mine', line('[h]:2222', ed), line('box', ecdsa), line('[h]:2222', ed2), ''].join('\n'),
    );
    const stale = loadKnownHosts([file]).filter((e) => e.patterns.includes('[h]:2222'));
    replaceKnownHost(file, stale, 'h', 2222, ecdsa.blob);
    expect(readFileSync(file, 'utf8')).toBe(
      ['# mine', line('box', ecdsa), `[h]:2222 ${ecdsa.type} ${ecdsa.base64}`, ''].join('\n'),
    );
    expect(checkHostKey(loadKnownHosts([file]), 'h', 2222, ecdsa.blob).status).toBe('trusted');
  });
});
