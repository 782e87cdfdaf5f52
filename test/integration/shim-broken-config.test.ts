/**
 * A shim started while endpoints.json is broken: the client's `initialize` and every later request
 * get a JSON-RPC error (data.code CONFIG_INVALID, the file:line:column message, a hint) instead of a
 * process that exits without a word; the shim exits 1 when the client closes stdin.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exited } from '../helpers/processes.js';
import { initializeLine, rawShim, type Home, useTempHomes } from '../helpers/tether.js';

let home: Home;
const { home: tempHome } = useTempHomes();

beforeAll(() => {
  home = tempHome();
});

describe('a shim with a broken endpoints.json', () => {
  it('answers the client’s requests with CONFIG_INVALID, then exits 1', async () => {
    const file = join(home.dir, 'endpoints.json');
    writeFileSync(file, '{\n  "version": 1,\n  "endpoints": {,\n}\n');
    const shim = rawShim(home.env, 'api');
    shim.send(initializeLine(1));
    const init = await shim.next(30_000);
    expect(init).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32000, data: { code: 'CONFIG_INVALID' } },
    });
    const error = init['error'] as { message: string; data: { hint: string; line: number; column: number } };
    expect(error.message).toContain(`${file}:3:17: not valid JSON`);
    expect(error.data).toMatchObject({ line: 3, column: 17 });
    expect(error.data.hint).toBe(
      `Fix ${file} (\`mcp-tether list\` shows what is wrong), then restart this MCP server in your client.`,
    );
    // A notification gets nothing; the next request its own answer; a batch one array.
    shim.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    shim.send(JSON.stringify({ jsonrpc: '2.0', id: 'b', method: 'tools/list' }));
    expect(await shim.next()).toMatchObject({ id: 'b', error: { data: { code: 'CONFIG_INVALID' } } });
    shim.send(
      JSON.stringify([
        { jsonrpc: '2.0', id: 3, method: 'ping' },
        { jsonrpc: '2.0', method: 'notifications/x' },
      ]),
    );
    expect(await shim.next()).toMatchObject([{ id: 3, error: { data: { code: 'CONFIG_INVALID' } } }]);
    expect(shim.stderr()).toContain(`mcp-tether shim api: ${file}:3:17: not valid JSON`);
    shim.child.stdin.end();
    await exited(shim.child);
    expect(shim.child.exitCode).toBe(1);
  });
});
