/**
 * The app binary's entry (package.json `main`). It decides the process's role first (see
 * roles.ts): the tray app loads main.ts; `--engine` and `--shim <name>` run the engine or the
 * shim in this Electron main process without any window, tray, GPU use or single-instance lock.
 */
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
    await shimMain([role.name]); // exits with the shim's code
  } else {
    const [{ engineMain }, { resolvePaths }] = await Promise.all([
      import('../engine/main.js'),
      import('../common/paths.js'),
    ]);
    await engineMain(resolvePaths(), app.getVersion());
    process.exit(0); // another engine already ran
  }
}
