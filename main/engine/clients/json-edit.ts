/**
 * Minimal text edits of a JSON (or JSONC) document: set or remove one member of an object, without
 * touching a byte of anything else. jsonc-parser's own `modify` re-formats the lines around an edit
 * (a neighbour written on one line gets spread over several), so only its parser and scanner are
 * used here; the inserted text follows the document's indentation and line ends.
 */
import { createScanner, findNodeAtLocation, parseTree, type Node } from 'jsonc-parser';

/** How inserted text is laid out. */
export interface Layout {
  /** One level of indentation: spaces or a tab. */
  unit: string;
  eol: '\n' | '\r\n';
}

/** The indentation and line ends a document already uses (two spaces and `\n` by default). */
export function layoutOf(text: string): Layout {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /\n([ \t]+)\S/.exec(text)?.[1];
  if (indent?.startsWith('\t')) return { unit: '\t', eol };
  return { unit: indent ? ' '.repeat(indent.length) : '  ', eol };
}

// jsonc-parser's SyntaxKind is a `const enum`, which isolated modules cannot import.
const COMMA = 5;
const LINE_COMMENT = 12;
const BLOCK_COMMENT = 13;
const LINE_BREAK = 14;
const TRIVIA = 15;

/** The whitespace at the start of the line holding `offset`. */
function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))![0];
}

/** True when only spaces and tabs stand between the start of its line and `offset`. */
function startsLine(text: string, offset: number): boolean {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*$/.test(text.slice(start, offset));
}

/** The end of the line holding `offset` (before its line break). */
function lineEnd(text: string, offset: number): number {
  const i = text.indexOf('\n', offset);
  if (i < 0) return text.length;
  return text[i - 1] === '\r' ? i - 1 : i;
}

/** After `offset`, skipping whitespace and comments: the offset just past a comma, if one is next. */
function commaAfter(text: string, offset: number): number | undefined {
  const scanner = createScanner(text.slice(offset), false);
  for (;;) {
    const kind = scanner.scan() as number;
    if (kind === TRIVIA || kind === LINE_BREAK || kind === LINE_COMMENT || kind === BLOCK_COMMENT) continue;
    return kind === COMMA ? offset + scanner.getTokenOffset() + scanner.getTokenLength() : undefined;
  }
}

/** `value` as pretty JSON whose inner lines sit under `indent`. */
function pretty(value: unknown, indent: string, layout: Layout): string {
  return JSON.stringify(value, null, layout.unit)
    .split('\n')
    .join(layout.eol + indent);
}

type Edit = { offset: number; length: number; content: string };

/** Applies edits given in text order; of two at one offset, the first given ends up first. */
function apply(text: string, edits: Edit[]): string {
  let out = text;
  const ordered = edits.map((e, i) => ({ ...e, i })).sort((a, b) => b.offset - a.offset || b.i - a.i);
  for (const e of ordered) {
    out = out.slice(0, e.offset) + e.content + out.slice(e.offset + e.length);
  }
  return out;
}

/** Inserts `"key": value` as the last member of the object `obj`. */
function insertMember(text: string, obj: Node, key: string, value: unknown, layout: Layout): string {
  const objIndent = lineIndent(text, obj.offset);
  const members = obj.children ?? [];
  const last = members[members.length - 1];
  if (!last) {
    const childIndent = objIndent + layout.unit;
    const member = `${JSON.stringify(key)}: ${pretty(value, childIndent, layout)}`;
    const inner = text.slice(obj.offset + 1, obj.offset + obj.length - 1);
    if (/^\s*$/.test(inner)) {
      return apply(text, [
        {
          offset: obj.offset + 1,
          length: inner.length,
          content: `${layout.eol}${childIndent}${member}${layout.eol}${objIndent}`,
        },
      ]);
    }
    // Only comments inside: keep them, the member goes first.
    return apply(text, [
      { offset: obj.offset + 1, length: 0, content: `${layout.eol}${childIndent}${member}` },
    ]);
  }
  const ownLine = startsLine(text, last.offset);
  const indent = ownLine ? lineIndent(text, last.offset) : objIndent + layout.unit;
  const member = `${JSON.stringify(key)}: ${pretty(value, indent, layout)}`;
  const lastEnd = last.offset + last.length;
  const comma = commaAfter(text, lastEnd);
  const edits: Edit[] = [];
  if (comma === undefined) edits.push({ offset: lastEnd, length: 0, content: ',' });
  const after = comma ?? lastEnd;
  const end = lineEnd(text, after);
  const rest = text.slice(after, end).trim();
  if (ownLine && (rest === '' || rest.startsWith('//'))) {
    // After the last member's line (and its line comment): a line of its own.
    edits.push({ offset: end, length: 0, content: `${layout.eol}${indent}${member}` });
  } else {
    edits.push({ offset: after, length: 0, content: ` ${member}` });
  }
  return apply(text, edits);
}

/**
 * Sets `path` (object keys) to `value`: replaces the value of an existing member, or inserts the
 * member (with the missing objects on the way) at the end of the deepest object that exists.
 * @throws Error when the text does not parse, or a member on the way is not an object
 */
export function setMember(text: string, path: string[], value: unknown): string {
  const layout = layoutOf(text);
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!root || root.type !== 'object') throw new Error('the document is not a JSON object');
  const existing = findNodeAtLocation(root, path);
  if (existing) {
    const indent = lineIndent(text, existing.parent?.offset ?? existing.offset);
    return apply(text, [
      { offset: existing.offset, length: existing.length, content: pretty(value, indent, layout) },
    ]);
  }
  let obj = root;
  let depth = 0;
  for (; depth < path.length - 1; depth++) {
    const next = findNodeAtLocation(obj, [path[depth]!]);
    if (!next) break;
    if (next.type !== 'object') throw new Error(`${path.slice(0, depth + 1).join('.')} is not an object`);
    obj = next;
  }
  let nested: unknown = value;
  for (let i = path.length - 1; i > depth; i--) nested = { [path[i]!]: nested };
  return insertMember(text, obj, path[depth]!, nested, layout);
}

/**
 * Removes the member at `path` with its comma, and its lines when it had them to itself; an object
 * left with nothing but whitespace inside becomes `{}`. The text is returned as is when there is no
 * such member.
 */
export function removeMember(text: string, path: string[]): string {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  const valueNode = root && findNodeAtLocation(root, path);
  const member = valueNode?.parent;
  const obj = member?.parent;
  if (!member || !obj || member.type !== 'property') return text;
  const members = obj.children ?? [];
  const index = members.indexOf(member);
  let start = member.offset;
  let end = member.offset + member.length;
  const edits: Edit[] = [];
  const comma = commaAfter(text, end);
  if (comma !== undefined) end = comma;
  const prev = index > 0 ? members[index - 1]! : undefined;
  const eolEnd = lineEnd(text, end);
  if (startsLine(text, start) && text.slice(end, eolEnd).trim() === '') {
    // The member has its lines to itself: they go.
    start = text.lastIndexOf('\n', start - 1) + 1;
    end = eolEnd < text.length ? text.indexOf('\n', eolEnd) + 1 : eolEnd;
    if (comma === undefined && prev) {
      // The last member goes: so does the comma after the one before it.
      const prevComma = commaAfter(text, prev.offset + prev.length);
      if (prevComma !== undefined) edits.push({ offset: prevComma - 1, length: 1, content: '' });
    }
  } else if (comma === undefined && prev) {
    start = prev.offset + prev.length; // from the end of the previous member: its comma too
  } else {
    while (text[end] === ' ') end++;
  }
  edits.push({ offset: start, length: end - start, content: '' });
  let out = apply(text, edits);
  if (members.length === 1) {
    const after = parseTree(out, [], { allowTrailingComma: true, disallowComments: false });
    const emptied = after && findNodeAtLocation(after, path.slice(0, -1));
    if (
      emptied?.type === 'object' &&
      /^\s*$/.test(out.slice(emptied.offset + 1, emptied.offset + emptied.length - 1))
    ) {
      out = apply(out, [{ offset: emptied.offset, length: emptied.length, content: '{}' }]);
    }
  }
  return out;
}
