/**
 * The endpoint editor's model (renderer/src/views/draft.ts): a stored endpoint round-trips through
 * the form, the remote command splits as a shell would, and the engine's validation errors land on
 * the fields they name.
 */
import { describe, expect, it } from 'vitest';
import { EndpointConfigSchema } from '../../main/common/schemas.js';
import { configOf, draftOf, fieldErrors, joinWords, splitWords } from '../../renderer/src/views/draft.js';
import { ErrorCode, TetherError } from '../../main/common/errors.js';

describe('editor draft', () => {
  it('round-trips every field of a stored endpoint', () => {
    const http = EndpointConfigSchema.parse({
      url: 'https://h.example/mcp',
      transport: 'streamable-http',
      headers: { 'X-Api-Version': 'v1' },
      auth: { type: 'oauth', clientId: 'c1', scopes: ['read', 'write'] },
      connectTimeoutMs: 5000,
      requestTimeoutMs: 60_000,
      pingIntervalMs: 0,
      ssh: { destination: 'me@bastion:2222', jump: ['j1', 'j2'], identityFile: '/k', configFile: '/c' },
    });
    expect(EndpointConfigSchema.parse(configOf(draftOf('x', http)))).toEqual(http);
    const stdio = EndpointConfigSchema.parse({
      transport: 'stdio',
      ssh: { destination: 'host' },
      command: ['npx', '-y', 'server', "it's a dir/with space"],
      loginShell: true,
    });
    expect(EndpointConfigSchema.parse(configOf(draftOf('y', stdio)))).toEqual(stdio);
    const commands = EndpointConfigSchema.parse({
      transport: 'commands',
      ssh: { destination: 'admin@box' },
      commandsFile: '/home/me/ops.yaml',
      loginShell: true,
    });
    expect(EndpointConfigSchema.parse(configOf(draftOf('c', commands)))).toEqual(commands);
    const header = EndpointConfigSchema.parse({ url: 'http://h/', auth: { type: 'header', name: 'X-Key' } });
    expect(EndpointConfigSchema.parse(configOf(draftOf('z', header)))).toEqual(header);
    // Network settings the form does not show are kept as stored.
    const corp = EndpointConfigSchema.parse({
      url: 'https://h.corp/mcp',
      ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      proxy: 'http://proxy.corp:3128',
      proxyAuth: true,
    });
    expect(EndpointConfigSchema.parse(configOf(draftOf('c', corp)))).toEqual(corp);
  });

  it('leaves empty timeouts to the defaults and sends anything else for the engine to judge', () => {
    const d = { ...draftOf('a'), url: 'http://h/', connectTimeoutMs: '', pingIntervalMs: 'abc' };
    const c = configOf(d);
    expect(c.connectTimeoutMs).toBeUndefined();
    expect(c.pingIntervalMs).toBeNaN();
    expect(EndpointConfigSchema.safeParse(c).success).toBe(false);
  });

  it('splits a command line as a shell would', () => {
    expect(splitWords(`npx -y 'a b' "c \\"d\\"" e\\ f  g''`)).toEqual([
      'npx',
      '-y',
      'a b',
      'c "d"',
      'e f',
      'g',
    ]);
    expect(splitWords("  ''  ")).toEqual(['']);
    for (const words of [
      ['a b', "it's"],
      ['plain', '--flag=x/y'],
      ['$HOME', 'a"b'],
    ])
      expect(splitWords(joinWords(words))).toEqual(words);
  });

  it('places the engine’s issues on their fields', () => {
    const err = new TetherError(ErrorCode.INVALID_ARGUMENT, 'endpoint.url: bad', {
      issues: [
        { path: ['endpoint', 'url'], message: 'bad url' },
        { path: ['endpoint', 'headers', 'Authorization'], message: 'a credential' },
        { path: ['endpoint', 'ssh', 'destination'], message: 'bad destination' },
        { path: ['endpoint', 'ssh', 'jump', 1], message: 'bad jump' },
        { path: ['endpoint', 'command', 0], message: 'bad word' },
        { path: ['name'], message: 'bad name' },
      ],
    });
    const { fields, other } = fieldErrors(err);
    expect(fields).toMatchObject({
      url: 'bad url',
      'headers.Authorization': 'a credential',
      'ssh.destination': 'bad destination',
      'ssh.jump': 'bad jump',
      command: 'bad word',
      name: 'bad name',
    });
    expect(other).toBeUndefined();
    // Without structured issues, the message's path prefix; without a path, the form's own note.
    expect(
      fieldErrors(new TetherError(ErrorCode.INVALID_ARGUMENT, 'endpoint.pingIntervalMs: too big')).fields,
    ).toEqual({
      pingIntervalMs: 'too big',
    });
    expect(
      fieldErrors(new TetherError(ErrorCode.ENDPOINT_EXISTS, 'an endpoint named "a" exists already')).fields,
    ).toEqual({
      name: 'an endpoint named "a" exists already',
    });
    const general = new TetherError(ErrorCode.CONFIG_IO, 'disk full');
    expect(fieldErrors(general).other).toBe(general);
  });
});
