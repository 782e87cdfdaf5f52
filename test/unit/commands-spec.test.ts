/**
 * The commands file of a command endpoint (main/engine/commands/spec.ts): errors name the line and
 * column, and arguments are checked before an argv is built from whole-argument placeholders.
 */
import { describe, expect, it } from 'vitest';
import { bindArguments, inputJsonSchema, parseCommandsFile } from '../../main/engine/commands/spec.js';

/** The message of the CONFIG_INVALID error `text` gets. */
function errorOf(text: string): string {
  try {
    parseCommandsFile(text, 'ops.yaml');
  } catch (err) {
    expect((err as { code: string }).code).toBe('CONFIG_INVALID');
    return (err as Error).message;
  }
  throw new Error('the file was accepted');
}

const one = (command: string, params = '') =>
  `commands:\n  c:\n    description: d\n${params}    command: ${command}\n`;

describe('commands file', () => {
  it('reports syntax and schema errors at their line and column', () => {
    expect(errorOf('commands:\n  a: 1\n  a: 2\n')).toMatch(/^ops\.yaml:3:3: Map keys must be unique/);
    expect(errorOf(one('[ls, "{p}"]'))).toBe(
      'ops.yaml:4:19: commands.c.command.1: "{p}" names no parameter; declare it under "parameters"',
    );
    expect(errorOf(one('["{p}"]', '    parameters:\n      p: { type: string, enum: [ls] }\n'))).toContain(
      'commands.c.command.0: the program (first element) must be fixed',
    );
    expect(errorOf(one('[ls]', '    parameters:\n      p: { type: string, pattern: "[a-z]+" }\n'))).toContain(
      'ops.yaml:5:10: commands.c.parameters.p: parameter "p" is not used in "command"',
    );
    expect(
      errorOf(
        one(
          '[seq, "{n}"]',
          '    parameters:\n      n: { type: integer, minimum: 1, maximum: 5, default: 9 }\n',
        ),
      ),
    ).toContain('commands.c.parameters.n.default: the default must be between 1 and 5');
    expect(
      errorOf(one('[ls, "{p}"]', '    parameters:\n      p: { type: path, prefixes: [var/log] }\n')),
    ).toContain('prefix must be an absolute path');
    expect(errorOf('commands:\n  list_commands:\n    description: d\n    command: [ls]\n')).toContain(
      'is the built-in tool',
    );
  });

  it('reads JSON too, with defaults applied', () => {
    const f = parseCommandsFile(
      '{"commands": {"up": {"description": "uptime", "command": ["uptime"]}}}',
      'ops.json',
    );
    expect(f.defaults).toEqual({ timeoutSeconds: 30, maxOutputBytes: 65536 });
    expect(f.commands['up']!.parameters).toEqual({});
  });

  it('binds checked arguments as whole argv elements, and refuses the rest', () => {
    const f = parseCommandsFile(
      'commands:\n  c:\n    description: d\n    parameters:\n' +
        '      w: { type: string, pattern: ".+" }\n' +
        '      f: { type: path, prefixes: [/var/log/] }\n' +
        '      n: { type: integer, minimum: -2, maximum: 2, default: 0 }\n' +
        '    command: [tool, --word, "{w}", "{f}", "{n}", "{{literal}}"]\n',
      'ops.yaml',
    );
    const c = f.commands['c']!;
    expect(bindArguments(c, { w: 'a b; $(x)', f: '/var/log/syslog' })).toEqual({
      argv: ['tool', '--word', 'a b; $(x)', '/var/log/syslog', '0', '{{literal}}'],
    });
    expect(bindArguments(c, { w: 'x', f: '/var/log' })).toHaveProperty('argv');
    const refusal = (args: Record<string, unknown>) =>
      (bindArguments(c, args) as { refused?: string }).refused;
    expect(refusal({ w: 'a\u0000b', f: '/var/log/x' })).toBe('w: must not contain control characters');
    expect(refusal({ w: '-rf', f: '/var/log/x' })).toContain('w: must not start with "-"');
    expect(refusal({ w: 'x', f: '/var/logs/x' })).toBe('f: must be under /var/log/');
    expect(refusal({ w: 'x', f: '/var/log//x' })).toContain('empty segments');
    expect(refusal({ w: 'x', f: '/var/log/./x' })).toContain('"." or ".." segments');
    expect(refusal({ w: 'x', f: '/var/log/x', n: -3 })).toBe('n: must be between -2 and 2');
    expect(refusal({ f: '/var/log/x', extra: 1 })).toBe(
      '"extra" is not a parameter of this command; w: required',
    );
    expect(inputJsonSchema(c)).toMatchObject({ required: ['w', 'f'], additionalProperties: false });
  });
});
