/**
 * The commands file of a command endpoint (`mcp-tether add <name> --ssh <host> --commands ops.yaml`):
 * allow-listed commands, each an MCP tool with typed parameters and an argv template. YAML or JSON
 * (JSON is YAML 1.2), validated with zod; every error names the file, line and column.
 *
 * Safety rules, enforced here before anything reaches the SSH server:
 * - The program (argv[0]) is fixed by the file; parameters only fill whole arguments (`{name}`
 *   elements), which are shell-quoted for the remote, never spliced into a shell string.
 * - A string parameter has a `pattern` (matched against the whole value) or an `enum`; an integer
 *   has bounds; a path is absolute, normalised and under one of its `prefixes`.
 * - No value may contain control characters, and a pattern or path value may not start with `-`
 *   (it would be read as an option).
 */
import { readFileSync, statSync } from 'node:fs';
import { LineCounter, isMap, isNode, isScalar, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { ErrorCode, TetherError, errorMessage } from '../../common/errors.js';
import { validationIssues } from '../../common/validation.js';

/** Tool names (MCP 2025-11-25 server/tools §Tool names: 1–128 of A-Z a-z 0-9 _ - .). */
const TOOL_NAME_RE = /^[A-Za-z0-9_.-]{1,128}$/;
const PARAM_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** An argv element that is a parameter: `{name}`, the whole element. */
const PLACEHOLDER_RE = /^\{([A-Za-z_][A-Za-z0-9_]{0,63})\}$/;
/** Control characters (Unicode category Cc: C0, DEL, C1). */
const CONTROL_RE = /\p{Cc}/u;
/** The tool every command endpoint has besides its commands. */
export const LIST_COMMANDS = 'list_commands';
/** Largest commands file read (bytes). */
const MAX_FILE_BYTES = 1024 * 1024;

/** Default per-command timeout (seconds). */
const DEFAULT_TIMEOUT_SECONDS = 30;
/** Default cap of each of stdout and stderr (bytes). */
const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;

/** Why an absolute POSIX path is not acceptable as given, if it is not. */
function pathShapeProblem(value: string): string | undefined {
  if (!value.startsWith('/')) return 'must be an absolute path (starting with /)';
  if (CONTROL_RE.test(value)) return 'must not contain control characters';
  const segments = value.split('/').slice(1);
  if (segments.some((s) => s === '.' || s === '..')) return 'must not contain "." or ".." segments';
  if (value.length > 1 && segments.some((s, i) => s === '' && i < segments.length - 1))
    return 'must not contain empty segments ("//")';
  return undefined;
}

/** True when `value` is `prefix` or inside it (`prefix` is a directory; a trailing / is optional). */
function isUnder(value: string, prefix: string): boolean {
  const p = prefix.replace(/\/+$/, '');
  return p === '' || value === p || value.startsWith(`${p}/`);
}

const description = z.string().min(1).max(4096);

const StringParam = z
  .object({
    type: z.literal('string'),
    description: description.optional(),
    /** A regular expression (JavaScript, `u` flag) the whole value must match. */
    pattern: z
      .string()
      .min(1)
      .refine((p) => {
        try {
          new RegExp(p, 'u');
          return true;
        } catch {
          return false;
        }
      }, 'not a valid regular expression')
      .optional(),
    /** The only values allowed. */
    enum: z
      .array(
        z
          .string()
          .min(1)
          .refine((v) => !CONTROL_RE.test(v), 'no control characters'),
      )
      .min(1)
      .optional(),
    default: z.string().optional(),
  })
  .strict()
  .refine((p) => (p.pattern === undefined) !== (p.enum === undefined), {
    message: 'a string parameter needs exactly one of "pattern" or "enum" (free text is never allowed)',
  });

const IntegerParam = z
  .object({
    type: z.literal('integer'),
    description: description.optional(),
    minimum: z.number().int(),
    maximum: z.number().int(),
    default: z.number().int().optional(),
  })
  .strict()
  .refine((p) => p.minimum <= p.maximum, { message: '"minimum" is above "maximum"' });

const PathParam = z
  .object({
    type: z.literal('path'),
    description: description.optional(),
    /** Directories the value must be in (absolute). */
    prefixes: z
      .array(
        z.string().superRefine((p, ctx) => {
          const why = pathShapeProblem(p);
          if (why) ctx.addIssue({ code: 'custom', message: `prefix ${why}` });
        }),
      )
      .min(1),
    default: z.string().optional(),
  })
  .strict();

/** One parameter of a command. */
const ParameterSchema = z.discriminatedUnion('type', [StringParam, IntegerParam, PathParam]);
/** See {@link ParameterSchema}. */
type Parameter = z.output<typeof ParameterSchema>;

/** MCP 2025-11-25 server/tools §ToolAnnotations, as hints for the client. */
const AnnotationsSchema = z
  .object({
    title: z.string().min(1).optional(),
    readOnlyHint: z.boolean().optional(),
    destructiveHint: z.boolean().optional(),
    idempotentHint: z.boolean().optional(),
    openWorldHint: z.boolean().optional(),
  })
  .strict();

const CommandSchema = z
  .object({
    description,
    title: z.string().min(1).max(256).optional(),
    /** A free label grouping commands in `list_commands` (e.g. `services`). */
    category: z.string().min(1).max(64).optional(),
    annotations: AnnotationsSchema.optional(),
    parameters: z
      .record(z.string().regex(PARAM_NAME_RE, 'parameter names are letters, digits and _'), ParameterSchema)
      .default({}),
    /** The argv run on the SSH host; an element `{name}` is replaced by that parameter's value. */
    command: z.array(z.string().min(1).max(4096)).min(1).max(256),
    /** Time allowed before the remote process is killed (seconds). */
    timeoutSeconds: z.number().positive().max(86_400).optional(),
    /** Cap of each of stdout and stderr kept for the result (bytes). */
    maxOutputBytes: z
      .number()
      .int()
      .min(256)
      .max(16 * 1024 * 1024)
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (PLACEHOLDER_RE.test(c.command[0]!))
      ctx.addIssue({
        code: 'custom',
        path: ['command', 0],
        message: 'the program (first element) must be fixed, not a parameter',
      });
    const used = new Set<string>();
    c.command.forEach((arg, i) => {
      const m = PLACEHOLDER_RE.exec(arg);
      if (!m) return;
      used.add(m[1]!);
      if (!c.parameters[m[1]!])
        ctx.addIssue({
          code: 'custom',
          path: ['command', i],
          message: `"${arg}" names no parameter; declare it under "parameters"`,
        });
    });
    for (const [name, p] of Object.entries(c.parameters)) {
      if (!used.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['parameters', name],
          message: `parameter "${name}" is not used in "command" (put "{${name}}" where its value goes)`,
        });
      if (p.default !== undefined) {
        const why = valueProblem(p, p.default);
        if (why)
          ctx.addIssue({
            code: 'custom',
            path: ['parameters', name, 'default'],
            message: `the default ${why}`,
          });
      }
    }
  });
/** One command as written in the file. */
export type CommandSpec = z.output<typeof CommandSchema>;

/** The whole commands file. */
const CommandsFileSchema = z
  .object({
    /** Defaults of every command's `timeoutSeconds` and `maxOutputBytes`. */
    defaults: z
      .object({
        timeoutSeconds: z.number().positive().max(86_400).default(DEFAULT_TIMEOUT_SECONDS),
        maxOutputBytes: z
          .number()
          .int()
          .min(256)
          .max(16 * 1024 * 1024)
          .default(DEFAULT_MAX_OUTPUT_BYTES),
      })
      .strict()
      .prefault({}),
    commands: z
      .record(
        z
          .string()
          .regex(TOOL_NAME_RE, 'command names are 1-128 letters, digits, "_", "-" and "." (MCP tool names)')
          .refine((n) => n !== LIST_COMMANDS, `"${LIST_COMMANDS}" is the built-in tool; choose another name`),
        CommandSchema,
      )
      .refine((c) => Object.keys(c).length > 0, 'at least one command is needed'),
  })
  .strict();
/** A validated commands file (defaults applied). */
export type CommandsFile = z.output<typeof CommandsFileSchema>;

/**
 * Why `value` is not acceptable for parameter `p` (type and constraints), or undefined.
 * Used for defaults and, through {@link argumentsSchema}, for every call.
 */
function valueProblem(p: Parameter, value: unknown): string | undefined {
  switch (p.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'must be an integer';
      if (value < p.minimum || value > p.maximum) return `must be between ${p.minimum} and ${p.maximum}`;
      return undefined;
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (p.enum) return p.enum.includes(value) ? undefined : `must be one of: ${p.enum.join(', ')}`;
      if (CONTROL_RE.test(value)) return 'must not contain control characters';
      if (value.startsWith('-')) return 'must not start with "-" (it would be read as an option)';
      return new RegExp(`^(?:${p.pattern!})$`, 'u').test(value) ? undefined : `must match ${p.pattern}`;
    case 'path': {
      if (typeof value !== 'string') return 'must be a string';
      const why = pathShapeProblem(value);
      if (why) return why;
      return p.prefixes.some((prefix) => isUnder(value, prefix))
        ? undefined
        : `must be under ${p.prefixes.join(' or ')}`;
    }
  }
}

/** The JSON Schema of one parameter, for the tool's `inputSchema`. */
function parameterJsonSchema(p: Parameter): Record<string, unknown> {
  const base: Record<string, unknown> = p.description ? { description: p.description } : {};
  if (p.default !== undefined) base['default'] = p.default;
  switch (p.type) {
    case 'integer':
      return { type: 'integer', minimum: p.minimum, maximum: p.maximum, ...base };
    case 'string':
      return p.enum
        ? { type: 'string', enum: p.enum, ...base }
        : { type: 'string', pattern: `^(?:${p.pattern!})$`, ...base };
    case 'path':
      return {
        type: 'string',
        ...base,
        description: `${p.description ? `${p.description} ` : ''}(an absolute path under ${p.prefixes.join(' or ')})`,
      };
  }
}

/**
 * The tool `inputSchema` of a command (JSON Schema 2020-12, MCP 2025-11-25 server/tools): its
 * parameters; those without a default are required; nothing else is accepted.
 */
export function inputJsonSchema(c: CommandSpec): Record<string, unknown> {
  const entries = Object.entries(c.parameters);
  return {
    type: 'object',
    properties: Object.fromEntries(entries.map(([n, p]) => [n, parameterJsonSchema(p)])),
    required: entries.filter(([, p]) => p.default === undefined).map(([n]) => n),
    additionalProperties: false,
  };
}

/**
 * Checks a call's arguments against a command's parameters and builds the argv to run.
 * @returns the argv, or the reasons the call is refused (one line per problem, naming the parameter)
 */
export function bindArguments(
  c: CommandSpec,
  args: Record<string, unknown> | undefined,
): { argv: string[] } | { refused: string } {
  const given = args ?? {};
  const problems: string[] = [];
  for (const key of Object.keys(given))
    if (!Object.hasOwn(c.parameters, key)) problems.push(`"${key}" is not a parameter of this command`);
  const values: Record<string, string> = {};
  for (const [name, p] of Object.entries(c.parameters)) {
    const value = Object.hasOwn(given, name) ? given[name] : p.default;
    if (value === undefined) {
      problems.push(`${name}: required`);
      continue;
    }
    const why = valueProblem(p, value);
    if (why) problems.push(`${name}: ${why}`);
    else values[name] = String(value);
  }
  if (problems.length) return { refused: problems.join('; ') };
  return { argv: c.command.map((arg) => values[PLACEHOLDER_RE.exec(arg)?.[1] ?? ''] ?? arg) };
}

/** The 1-based line and column of `path` (or of its nearest existing parent) in the document. */
function positionOf(
  doc: Document,
  counter: LineCounter,
  path: readonly string[],
  key?: string,
): { line: number; col: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (!isNode(node) || !node.range) continue;
    if (key !== undefined && n === path.length && isMap(node)) {
      const pair = node.items.find((i) => isScalar(i.key) && i.key.value === key);
      if (pair && isNode(pair.key) && pair.key.range) return counter.linePos(pair.key.range[0]);
    }
    return counter.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

/**
 * Parses and validates the text of a commands file.
 * @param path the file's path, for messages
 * @throws TetherError CONFIG_INVALID `{ path, line, column }`: the message is
 *   `path:line:column: what is wrong`
 */
export function parseCommandsFile(text: string, path: string): CommandsFile {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: false });
  const fail = (pos: { line: number; col: number }, message: string, at?: string): never => {
    throw new TetherError(ErrorCode.CONFIG_INVALID, `${path}:${pos.line}:${pos.col}: ${message}`, {
      path,
      line: pos.line,
      column: pos.col,
      ...(at !== undefined ? { at } : {}),
      hint: 'Fix the commands file; the example examples/commands.yaml shows every field.',
    });
  };
  const syntax = doc.errors[0];
  if (syntax) fail(counter.linePos(syntax.pos[0]), syntax.message.split('\n')[0]!);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    fail({ line: 1, col: 1 }, errorMessage(err));
  }
  const result = CommandsFileSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = validationIssues(result.error)[0]!;
  const key = issue.unknownKey;
  const at = [...issue.path, ...(key !== undefined ? [key] : [])].join('.') || '(top level)';
  return fail(positionOf(doc, counter, issue.path, key), `${at}: ${issue.message}`, at);
}

/**
 * Reads and validates a commands file.
 * @throws TetherError CONFIG_INVALID (see {@link parseCommandsFile}; also a file over 1 MiB),
 *   CONFIG_IO (the file cannot be read)
 */
export function loadCommandsFile(path: string): CommandsFile {
  let text: string;
  try {
    if (statSync(path).size > MAX_FILE_BYTES)
      throw new TetherError(ErrorCode.CONFIG_INVALID, `${path}: a commands file is at most 1 MiB`, { path });
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof TetherError) throw err;
    throw new TetherError(
      ErrorCode.CONFIG_IO,
      `cannot read the commands file ${path}: ${errorMessage(err)}`,
      {
        path,
        hint: 'Check the path (an absolute path; the engine reads it when a session opens).',
      },
      { cause: err },
    );
  }
  return parseCommandsFile(text, path);
}
