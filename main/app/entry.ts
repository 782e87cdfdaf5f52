/**
 * The app binary's entry (package.json `main`). It decides the process's role first (see
 * roles.ts): the tray app loads main.ts; `--engine` and `--shim <name>` run the engine or the
 * shim in this Electron main process without any window, tray, GPU use or single-instance lock.
 */
import { createReadStream } from 'node:fs';
import { Socket } from 'node:net';
import { app } from 'electron';
import { appRole } from './roles.js';

const role = appRole(process.argv.slice(1));
if (role.kind === 'tray') {
  await import('./main.js');
} else {
  app.disableHardwareAcceleration();
  if (process.platform === 'darwin') app.dock?.hide();
  if (role.kind === 'usage') {
    process.stderr.write(`${role.message}\n`);
    process.exit(2);
  } else if (role.kind === 'shim') {
    const { shimMain } = await import('../shim/index.js');
    await shimMain([role.name], process.platform === 'win32' ? windowsStdin() : process.stdin); // exits
  } else {
    const [{ engineMain }, { resolvePaths }] = await Promise.all([
      import('../engine/main.js'),
      import('../common-node/paths.js'),
    ]);
    await engineMain(resolvePaths(), app.getVersion());
    process.exit(0); // another engine already ran
  }
}

/**
 * Windows: the client's stdin, read from file descriptor 0 ourselves. Electron replaces
 * `process.stdin` in its main process on Windows with a stream that only ends (lib/common/init.ts:
 * "Always returns EOF for stdin stream"), but the handle the client passed is there: a pipe (what
 * clients use), opened as Node opens a piped stdin, else a file.
 */
function windowsStdin(): NodeJS.ReadableStream {
  try {
    return new Socket({ fd: 0, readable: true, writable: false });
  } catch {
    return createReadStream('', { fd: 0 });
  }
}
