/**
 * The minimal JSON text edits behind client setup (main/engine/clients/json-edit.ts): inserting,
 * replacing and removing one member leaves every other byte as it was — neighbours written on one
 * line stay on one line, comments stay, the document's indentation and line ends are followed.
 */
import { describe, expect, it } from 'vitest';
import { layoutOf, removeMember, setMember } from '../../main/engine/clients/json-edit.js';

const v = { command: '/n', args: ['s'] };

describe('setMember', () => {
  it('appends after the last member, on its own lines, without touching the neighbour', () => {
    const text = '{\n  "mcpServers": {\n    "fs": {"command": "npx"}\n  }\n}\n';
    expect(setMember(text, ['mcpServers', 'gh'], v)).toBe(
      '{\n  "mcpServers": {\n    "fs": {"command": "npx"},\n    "gh": {\n      "command": "/n",\n      "args": [\n        "s"\n      ]\n    }\n  }\n}\n',
    );
  });

  it('creates the missing parent object at the end of the document', () => {
    expect(setMember('{\n\t"a": 1\n}', ['servers', 'gh'], 1)).toBe(
      '{\n\t"a": 1,\n\t"servers": {\n\t\t"gh": 1\n\t}\n}',
    );
  });

  it('fills an empty object', () => {
    expect(setMember('{\n  "mcpServers": {}\n}', ['mcpServers', 'gh'], 1)).toBe(
      '{\n  "mcpServers": {\n    "gh": 1\n  }\n}',
    );
    expect(setMember('{}', ['mcpServers', 'gh'], 1)).toBe('{\n  "mcpServers": {\n    "gh": 1\n  }\n}');
  });

  it('replaces an existing value in place', () => {
    const text = '{\n  "mcpServers": {\n    "gh": {"command": "old"},\n    "z": 2\n  }\n}';
    expect(setMember(text, ['mcpServers', 'gh'], 1)).toBe(
      '{\n  "mcpServers": {\n    "gh": 1,\n    "z": 2\n  }\n}',
    );
  });

  it('keeps a trailing line comment on its member and a trailing comma (JSONC)', () => {
    expect(setMember('{\n  "s": {\n    "x": 1 // note\n  }\n}', ['s', 'gh'], 2)).toBe(
      '{\n  "s": {\n    "x": 1, // note\n    "gh": 2\n  }\n}',
    );
    expect(setMember('{\n  "s": {\n    "x": 1,\n  },\n}', ['s', 'gh'], 2)).toBe(
      '{\n  "s": {\n    "x": 1,\n    "gh": 2\n  },\n}',
    );
  });

  it('works in a one-line document', () => {
    const out = setMember('{"a": 1}', ['mcpServers', 'gh'], 1);
    expect(out.startsWith('{"a": 1, "mcpServers": {')).toBe(true);
    expect(JSON.parse(out)).toEqual({ a: 1, mcpServers: { gh: 1 } });
  });

  it('refuses a non-object on the way', () => {
    expect(() => setMember('{"mcpServers": 3}', ['mcpServers', 'gh'], 1)).toThrow(/not an object/);
  });
});

describe('removeMember', () => {
  it('removes the first member with its line, keeping the next one’s indentation', () => {
    expect(
      removeMember('{\n  "s": {\n    "gh": {\n      "a": 1\n    },\n    "fs": 2\n  }\n}', ['s', 'gh']),
    ).toBe('{\n  "s": {\n    "fs": 2\n  }\n}');
  });

  it('removes the last member and the comma before it', () => {
    expect(removeMember('{\n  "s": {\n    "fs": 2,\n    "gh": 1\n  }\n}', ['s', 'gh'])).toBe(
      '{\n  "s": {\n    "fs": 2\n  }\n}',
    );
  });

  it('collapses an emptied object to {} unless comments are inside', () => {
    expect(removeMember('{\n  "s": {\n    "gh": 1\n  },\n  "t": 0\n}', ['s', 'gh'])).toBe(
      '{\n  "s": {},\n  "t": 0\n}',
    );
    expect(removeMember('{\n  "s": {\n    // keep\n    "gh": 1\n  }\n}', ['s', 'gh'])).toBe(
      '{\n  "s": {\n    // keep\n  }\n}',
    );
  });

  it('handles one-line documents and missing members', () => {
    expect(removeMember('{"s": {"fs": 2, "gh": 1}}', ['s', 'gh'])).toBe('{"s": {"fs": 2}}');
    expect(removeMember('{"s": {"gh": 1, "fs": 2}}', ['s', 'gh'])).toBe('{"s": {"fs": 2}}');
    expect(removeMember('{"s": {}}', ['s', 'gh'])).toBe('{"s": {}}');
  });
});

describe('layoutOf', () => {
  it('follows the document', () => {
    expect(layoutOf('{\n    "a": 1\n}')).toEqual({ unit: '    ', eol: '\n' });
    expect(layoutOf('{\r\n\t"a": 1\r\n}')).toEqual({ unit: '\t', eol: '\r\n' });
    expect(layoutOf('{}')).toEqual({ unit: '  ', eol: '\n' });
  });
});
