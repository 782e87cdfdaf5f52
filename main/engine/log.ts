/**
 * The engine's log: timestamped lines appended to `<logDir>/engine.log` (rotated to `engine.log.1`
 * past 5 MiB), and echoed to stderr when the engine runs in the foreground. Never given secrets.
 */
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MAX_LOG_BYTES = 5 * 1024 * 1024;

/** Writes one line. */
export type Logger = (line: string) => void;

/**
 * Makes the engine logger.
 * @param logDir directory of engine.log (created 0700)
 * @param echo also write to stderr
 */
export function createLogger(logDir: string, echo: boolean): Logger {
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const file = join(logDir, 'engine.log');
  let written = 0;
  try {
    written = statSync(file).size;
  } catch {
    // new file
  }
  return (line: string) => {
    const text = `${new Date().toISOString()} [${process.pid}] ${line}\n`;
    if (echo) process.stderr.write(text);
    try {
      if (written + text.length > MAX_LOG_BYTES) {
        renameSync(file, `${file}.1`);
        written = 0;
      }
      appendFileSync(file, text, { mode: 0o600 });
      written += text.length;
    } catch {
      // A log that cannot be written must not stop the engine.
    }
  };
}
