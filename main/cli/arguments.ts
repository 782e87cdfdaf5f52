/**
 * Parsers of option values that several commands share, for commander: each returns the value or
 * throws commander's InvalidArgumentError, which commander reports as a usage error.
 */
import { InvalidArgumentError } from 'commander';

/** A duration in milliseconds: a whole number. */
export function parseMs(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number of milliseconds');
  return Number(value);
}

/** A TCP port, 0-65535 (0: any free one). */
export function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535)
    throw new InvalidArgumentError('expected a port, 0-65535');
  return Number(value);
}

/** A count: a positive whole number. */
export function parseCount(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a positive whole number');
  return Number(value);
}
