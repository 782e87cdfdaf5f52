/**
 * Looking at what happens: `traffic` (the recorded JSON-RPC messages, or --follow them live) and
 * `doctor` (an endpoint layer by layer, or with no endpoint the whole setup).
 */
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { ControlClient } from '../../common-node/control-client.js';
import type { TrafficFilter, TrafficRecord } from '../../common/domain.js';
import { ErrorCode, TetherError } from '../../common/errors.js';
import { parseCount } from '../arguments.js';
import { call, type CliContext } from '../context.js';
import { formatDoctor, formatTrafficLine, trafficJsonLine } from '../format.js';
import { runSystemDoctor } from '../system-doctor.js';

/**
 * Registers `traffic` and `doctor` on the program.
 */
export function register(program: Command, ctx: CliContext): void {
  const { paths, version, print, setExitCode } = ctx;
  program
    .command('traffic')
    .description('JSON-RPC traffic, one line per message')
    .option('--endpoint <name>', 'only this endpoint')
    .option('--method <method>', 'only this method')
    .addOption(
      new Option('--direction <direction>', 'only this direction').choices([
        'client-to-server',
        'server-to-client',
      ]),
    )
    .option('--text <text>', 'only messages containing this text')
    .option('--limit <n>', 'how many recent records to show first', parseCount, 50)
    .option('--follow', 'keep printing new records as they come')
    .option('--json', 'one JSON object per line, with the message')
    .action(
      async (opts: {
        endpoint?: string;
        method?: string;
        direction?: TrafficFilter['direction'];
        text?: string;
        limit: number;
        follow?: boolean;
        json?: boolean;
      }) => {
        const filter: TrafficFilter = {};
        if (opts.endpoint) filter.endpoint = opts.endpoint;
        if (opts.method) filter.method = opts.method;
        if (opts.direction) filter.direction = opts.direction;
        if (opts.text) filter.text = opts.text;
        const show = (r: TrafficRecord) => print(opts.json ? trafficJsonLine(r) : formatTrafficLine(r));
        const client = await ControlClient.open(paths);
        try {
          if (!opts.follow) {
            const { records } = await client.request('traffic/query', { ...filter, limit: opts.limit });
            records.forEach(show);
            return;
          }
          // Following ends only with an error: a record that cannot be shown, or the engine gone.
          let failed!: (err: unknown) => void;
          const failure = new Promise<never>((_, reject) => (failed = reject));
          const early: TrafficRecord[] = [];
          let lastSeq = Number.POSITIVE_INFINITY;
          let live = false;
          client.onNotification('traffic/record', ({ record }) => {
            try {
              if (live) show(record);
              else early.push(record);
            } catch (err) {
              failed(err);
            }
          });
          ({ lastSeq } = await client.request('traffic/subscribe', filter));
          const { records } = await client.request('traffic/query', { ...filter, limit: opts.limit });
          records.filter((r) => r.seq <= lastSeq).forEach(show);
          early.filter((r) => r.seq > lastSeq).forEach(show);
          live = true;
          void client.closed().then(() =>
            failed(
              new TetherError(
                ErrorCode.ENGINE_UNAVAILABLE,
                'the engine closed the connection: traffic --follow stopped',
                {
                  hint: `See ${join(paths.logDir, 'engine.log')}; mcp-tether status starts the engine again.`,
                },
              ),
            ),
          );
          await failure;
        } finally {
          client.close();
        }
      },
    );

  program
    .command('doctor')
    .description(
      'diagnose an endpoint layer by layer (DNS, TCP, TLS, HTTP, transport, initialize); with no endpoint, the whole setup',
    )
    .argument('[name]')
    .option('--json', 'one JSON document')
    .action(async (name: string | undefined, opts: { json?: boolean }) => {
      if (name === undefined) {
        const setup = await runSystemDoctor(paths, version, { json: opts.json === true, print });
        if (!setup.ok) setExitCode(1);
        return;
      }
      const report = await call(paths, 'doctor/run', { name });
      print(opts.json ? JSON.stringify(report, null, 2) : formatDoctor(report));
      if (!report.ok) setExitCode(1);
    });
}
