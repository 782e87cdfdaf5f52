/**
 * SSH destinations and hop chains (main/engine/ssh/destination.ts): `[user@]host[:port]` with IPv6
 * in brackets, and resolution through an ssh config (HostName, User, Port, IdentityFile, ProxyJump),
 * with --jump overriding ProxyJump and `Match exec` never run.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TetherError } from '../../main/common/errors.js';
import { parseDestination, resolveChain, type SshSettings } from '../../main/engine/ssh/destination.js';

let dir: string;
const realHome = process.env['HOME'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssh-dest-'));
});

afterEach(() => {
  process.env['HOME'] = realHome;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes an ssh config and returns its path. */
function config(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TetherError);
    return (err as TetherError).code;
  }
  throw new Error('expected a TetherError');
}

describe('parseDestination', () => {
  it('splits [user@]host[:port]', () => {
    expect(parseDestination('example.org')).toEqual({ host: 'example.org' });
    expect(parseDestination('alice@example.org')).toEqual({ user: 'alice', host: 'example.org' });
    expect(parseDestination('example.org:2222')).toEqual({ host: 'example.org', port: 2222 });
    expect(parseDestination('alice@10.0.0.1:22')).toEqual({ user: 'alice', host: '10.0.0.1', port: 22 });
    expect(parseDestination('box')).toEqual({ host: 'box' });
    expect(parseDestination('deploy.bot@h:65535')).toEqual({ user: 'deploy.bot', host: 'h', port: 65535 });
  });

  it('takes IPv6 literals in brackets, with or without a port', () => {
    expect(parseDestination('[::1]:2222')).toEqual({ host: '::1', port: 2222 });
    expect(parseDestination('root@[fe80::1%eth0]')).toEqual({ user: 'root', host: 'fe80::1%eth0' });
    expect(parseDestination('[2001:db8::5]')).toEqual({ host: '2001:db8::5' });
  });

  it('rejects what is not a destination with INVALID_ARGUMENT', () => {
    for (const bad of [
      '',
      ' ',
      'a b',
      'user@',
      '@host',
      'a@b@c',
      'host:',
      'host:x',
      '[::1',
      '::1',
      'h:1:2',
    ]) {
      expect(
        codeOf(() => parseDestination(bad)),
        bad,
      ).toBe('INVALID_ARGUMENT');
    }
  });

  it('rejects ports out of range, naming the port', () => {
    for (const bad of ['h:0', 'h:65536', 'h:99999']) {
      expect(
        codeOf(() => parseDestination(bad)),
        bad,
      ).toBe('INVALID_ARGUMENT');
    }
    expect(() => parseDestination('h:70000')).toThrow(/port 70000 is out of range/);
  });
});

describe('resolveChain', () => {
  const chain = (ssh: SshSettings) =>
    resolveChain(ssh).map((h) => ({
      host: h.host,
      port: h.port,
      user: h.user,
      ids: h.identityFiles,
      label: h.label,
    }));

  it('without a config: port 22, the local user, no identity files', () => {
    const file = config('empty', ['# nothing here']);
    expect(chain({ destination: 'plain.example', configFile: file })).toEqual([
      { host: 'plain.example', port: 22, user: userInfo().username, ids: [], label: 'plain.example' },
    ]);
  });

  it('applies HostName, User, Port and IdentityFile of a Host alias (with ~ expanded)', () => {
    process.env['HOME'] = '/home/tester';
    const file = config('alias', [
      'Host box',
      '  HostName 127.0.0.1',
      '  Port 2200',
      '  User admin',
      '  IdentityFile ~/.ssh/box_key',
      '  IdentityFile /keys/second',
      'Host *.lan',
      '  HostName %h.example',
    ]);
    expect(chain({ destination: 'box', configFile: file })).toEqual([
      {
        host: '127.0.0.1',
        port: 2200,
        user: 'admin',
        ids: ['/home/tester/.ssh/box_key', '/keys/second'],
        label: 'box',
      },
    ]);
    // What the destination says wins over the config.
    expect(chain({ destination: 'root@box:2201', configFile: file })[0]).toMatchObject({
      host: '127.0.0.1',
      port: 2201,
      user: 'root',
    });
    // --identity replaces the config's IdentityFile.
    expect(chain({ destination: 'box', configFile: file, identityFile: '/keys/given' })[0]!.ids).toEqual([
      '/keys/given',
    ]);
    // %h is the name given.
    expect(chain({ destination: 'nas.lan', configFile: file })[0]!.host).toBe('nas.lan.example');
  });

  it('first match wins per option, as in ssh_config(5); Host * fills in the rest', () => {
    const file = config('order', ['Host box', '  User first', 'Host *', '  User fallback', '  Port 2022']);
    expect(chain({ destination: 'box', configFile: file })[0]).toMatchObject({ user: 'first', port: 2022 });
    expect(chain({ destination: 'other', configFile: file })[0]).toMatchObject({
      user: 'fallback',
      port: 2022,
    });
  });

  it('follows ProxyJump: jump hosts first (each resolved through the config), the target last', () => {
    const file = config('jump', [
      'Host inner',
      '  HostName 10.0.0.5',
      '  User app',
      '  ProxyJump bastion,ops@relay.example:2201',
      'Host bastion',
      '  HostName bastion.example',
      '  Port 2222',
      '  User jumper',
      '  IdentityFile /keys/bastion',
    ]);
    expect(chain({ destination: 'inner', configFile: file })).toEqual([
      { host: 'bastion.example', port: 2222, user: 'jumper', ids: ['/keys/bastion'], label: 'bastion' },
      { host: 'relay.example', port: 2201, user: 'ops', ids: [], label: 'ops@relay.example:2201' },
      { host: '10.0.0.5', port: 22, user: 'app', ids: [], label: 'inner' },
    ]);
  });

  it('--jump replaces the ProxyJump of the config; ProxyJump none means none', () => {
    const file = config('override', [
      'Host inner',
      '  HostName 10.0.0.5',
      '  ProxyJump bastion',
      'Host direct',
      '  ProxyJump none',
      'Host bastion',
      '  HostName bastion.example',
    ]);
    const hops = chain({ destination: 'inner', configFile: file, jump: ['me@gw.example:2022'] });
    expect(hops.map((h) => `${h.user}@${h.host}:${h.port}`)).toEqual([
      'me@gw.example:2022',
      `${userInfo().username}@10.0.0.5:22`,
    ]);
    // An empty --jump list leaves the config's ProxyJump in force.
    expect(chain({ destination: 'inner', configFile: file, jump: [] }).map((h) => h.host)).toEqual([
      'bastion.example',
      '10.0.0.5',
    ]);
    expect(chain({ destination: 'direct', configFile: file }).map((h) => h.host)).toEqual(['direct']);
  });

  it('--identity is for the target only (as ssh -i with -J)', () => {
    const file = config('idjump', ['Host gw', '  IdentityFile /keys/gw']);
    const hops = resolveChain({
      destination: 'target',
      configFile: file,
      jump: ['gw', 'other'],
      identityFile: '/keys/t',
    });
    expect(hops.map((h) => h.identityFiles)).toEqual([['/keys/gw'], [], ['/keys/t']]);
  });

  it('never runs `Match exec`', () => {
    const marker = join(dir, 'match-exec-ran');
    const file = config('match', [
      `Match exec "touch ${marker}"`,
      '  User evil',
      '  HostName evil.example',
      'Host box',
      '  HostName box.example',
    ]);
    expect(chain({ destination: 'box', configFile: file })[0]).toMatchObject({
      host: 'box.example',
      user: userInfo().username,
    });
    expect(existsSync(marker)).toBe(false);
  });

  it('reads ~/.ssh/config by default, and tolerates its absence', () => {
    const home = join(dir, 'home');
    process.env['HOME'] = home;
    expect(chain({ destination: 'box' })[0]).toMatchObject({ host: 'box', port: 22 });
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'config'), 'Host box\n  HostName 192.0.2.9\n  Port 2002\n');
    expect(chain({ destination: 'box' })[0]).toMatchObject({ host: '192.0.2.9', port: 2002 });
  });

  it('an unreadable --ssh-config is INVALID_ARGUMENT; an unparsable one CONFIG_INVALID', () => {
    expect(codeOf(() => resolveChain({ destination: 'x', configFile: join(dir, 'missing') }))).toBe(
      'INVALID_ARGUMENT',
    );
    const bad = config('bad', ['Host "unterminated', '  User x']);
    expect(codeOf(() => resolveChain({ destination: 'x', configFile: bad }))).toBe('CONFIG_INVALID');
    expect(codeOf(() => resolveChain({ destination: 'not a host', configFile: bad }))).toBe('CONFIG_INVALID');
    const ok = config('ok', ['Host *', '  User u']);
    expect(codeOf(() => resolveChain({ destination: 'a b', configFile: ok }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => resolveChain({ destination: 'h', configFile: ok, jump: ['bad jump'] }))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});
