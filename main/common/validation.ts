/**
 * zod's validation issues in words, the one mapping used by every place that validates against a
 * schema (endpoints.json in main/engine/config/store.ts, control-API params in
 * main/engine/control/server.ts, commands files in main/engine/commands/spec.ts). zod is imported
 * for its types only.
 */
import type { z } from 'zod';
import { isErrorCode, type ErrorCode } from './errors.js';

/** One validation problem: where and why. */
export interface ValidationIssue {
  /** Where: the path's segments as strings (`['endpoint', 'ssh', 'destination']`); `[]` at the top. */
  path: string[];
  /**
   * Why, for people: zod's message, except for an invalid record key (a bad endpoint or header
   * name), where zod says only "Invalid key in record" and the key's own issue says why.
   */
  message: string;
  /** For an unknown key (`unrecognized_keys`): the first such key; `path` is its object's. */
  unknownKey?: string;
  /** The stable code a schema named for this issue (`params.tetherCode`, e.g. SECRET_IN_CONFIG). */
  code?: ErrorCode;
}

/**
 * Every issue of a failed zod parse (zod 4 `ZodError.issues`), in zod's order: the first one is what
 * a single message names.
 */
export function validationIssues(error: { issues: readonly z.core.$ZodIssue[] }): ValidationIssue[] {
  return error.issues.map((issue) => {
    const why = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
    const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    const code = issue.code === 'custom' ? issue.params?.['tetherCode'] : undefined;
    return {
      path: issue.path.map(String),
      message: why ?? issue.message,
      ...(unknownKey !== undefined ? { unknownKey } : {}),
      ...(isErrorCode(code) ? { code } : {}),
    };
  });
}
