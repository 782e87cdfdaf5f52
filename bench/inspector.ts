/**
 * The traffic inspector under load: a real engine with `--inspector` (test/helpers/inspector.ts),
 * its ring filled with `--inspector-records` real records (echo calls of server-everything through
 * a real shim, 32 in flight; a call is two records), and the UI opened on the traffic screen in
 * Debian's Chromium under playwright-core. Measured in the page with the Performance API:
 *
 * - first paint: navigation start → the first frame in which the list has rows in the DOM (the
 *   newest page of the backlog; a `performance.mark` in that frame's rAF callback);
 * - all loaded: navigation start → the frame in which the list counts every loaded record
 *   (`aria-rowcount`), the older pages behind the first included;
 * - filter: a change of the Method filter (one `input` event) → the frame that shows the new count;
 * - scroll frames: the list swept top to bottom in `SCROLL_FRAMES` animation frames (each frame
 *   jumps about `1/SCROLL_FRAMES` of the list, as dragging the scroll bar does); per frame, the
 *   main-thread work of the scroll (scroll event, React render, style and layout, forced
 *   synchronously and timed), and the interval between frames.
 */
import { launchChromium, startInspectorEngine } from '../test/helpers/inspector.js';
import { startEverything } from '../test/helpers/processes.js';
import { cliOk, makeHome, shimClient } from '../test/helpers/tether.js';
import type { EngineInfo } from '../main/common/domain.js';
import { log } from './context.js';
import { echoConcurrent } from './load.js';
import { MiB } from './options.js';
import { own } from './procs.js';
import { median, percentile, sleep } from './stats.js';
import { prepareHome } from './tether.js';
import { errorMessage } from '../main/common/errors.js';

/** Animation frames of the scroll sweep. */
const SCROLL_FRAMES = 240;
/** Method filter values applied in turn ('' clears it, so each change alters the count shown). */
const FILTERS = ['initialize', '', 'tools/call', '', 'initialize', '', 'tools/call', ''];
/** The most records the inspector loads on open (renderer/src/engine-state.ts BACKLOG). */
const BACKLOG = 100_000;

/** What the case measured (ms). */
export interface InspectorResult {
  /** Records in the engine's ring, and how many the page loaded. */
  records: number;
  loaded: number;
  /** Time to produce the records through the shim (s). */
  generateSeconds: number;
  firstPaintMs: number;
  /** Navigation start → every loaded record counted in the list (ms). */
  allLoadedMs: number;
  filterMs: number[];
  /** The slowest filter change. */
  filterMaxMs: number;
  filterMedianMs: number;
  scrollWorkP95Ms: number;
  scrollIntervalP95Ms: number;
  frames: number;
}

/** Runs the case. @throws Error when a step fails or a wait times out */
export async function runInspector(records: number): Promise<InspectorResult> {
  const everything = await startEverything('streamableHttp');
  const home = makeHome();
  prepareHome(home, {
    maxRecords: Math.max(1000, Math.ceil(records * 1.1)),
    maxBytes: 512 * MiB,
    maxMessageBytes: 16 * MiB,
  });
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    const engine = await startInspectorEngine(home.env);
    own(engine.child.pid);
    await cliOk(home.env, ['add', 'ev', everything.url, '--transport', 'streamable-http']);
    const { client } = await shimClient(home.env, 'ev');
    const t0 = Date.now();
    await echoConcurrent(client, Math.ceil(records / 2), 32, 'hi');
    const generateSeconds = (Date.now() - t0) / 1000;
    await client.close();
    // Closing the session records an event too: wait until the ring stops growing.
    const status = async () =>
      (JSON.parse(await cliOk(home.env, ['status', '--json'])) as { engine: EngineInfo }).engine;
    let info = await status();
    for (let before = -1; info.traffic.records !== before;) {
      before = info.traffic.records;
      await sleep(1000);
      info = await status();
    }
    const loaded = Math.min(info.traffic.records, BACKLOG);
    log(`inspector: ${info.traffic.records} records in ${generateSeconds.toFixed(1)} s`);

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // tsx compiles this file with esbuild's keepNames, which wraps the named functions below in
    // calls to a `__name` helper; the page gets that helper as the identity.
    await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await page.addInitScript((rowcount: string) => {
      const tick = () => {
        const grid = document.querySelector('[role="grid"]');
        const rows = document.querySelector('.tbody .trow') !== null;
        if (rows && performance.getEntriesByName('bench-first-paint').length === 0)
          performance.mark('bench-first-paint');
        if (rows && grid?.getAttribute('aria-rowcount') === rowcount) performance.mark('bench-all-loaded');
        else requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }, String(loaded));
    await page.goto(`${engine.base}#/traffic`);
    await page
      .waitForFunction(() => performance.getEntriesByName('bench-all-loaded').length > 0, null, {
        timeout: 120_000,
        polling: 100,
      })
      .catch(async (e: unknown) => {
        const shown = await page.evaluate(() =>
          document.querySelector('[role="grid"]')?.getAttribute('aria-rowcount'),
        );
        throw new Error(`the list never showed ${loaded} rows (it shows ${shown}): ${errorMessage(e)}`);
      });
    const [firstPaintMs, allLoadedMs] = await page.evaluate(() =>
      ['bench-first-paint', 'bench-all-loaded'].map((m) => performance.getEntriesByName(m)[0]!.startTime),
    );
    log(`inspector: first paint ${firstPaintMs!.toFixed(0)} ms, all loaded ${allLoadedMs!.toFixed(0)} ms`);

    const filterMs = await page.evaluate(async (values) => {
      const input = document.querySelector<HTMLInputElement>('input[aria-label="Method"]')!;
      const count = document.querySelector('[data-testid="traffic-count"]')!;
      const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      const out: number[] = [];
      for (const value of values) {
        const before = count.textContent;
        const changed = new Promise<void>((resolve) => {
          const observer = new MutationObserver(() => {
            if (count.textContent === before) return;
            observer.disconnect();
            resolve();
          });
          observer.observe(count, { childList: true, characterData: true, subtree: true });
        });
        const t0 = performance.now();
        setValue.call(input, value);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await changed;
        await new Promise((r) => requestAnimationFrame(r));
        out.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 200));
      }
      return out;
    }, FILTERS);
    log(`inspector: filter ${filterMs.map((t) => t.toFixed(0)).join(', ')} ms`);

    const scroll = await page.evaluate(async (frames) => {
      const grid = document.querySelector<HTMLElement>('[role="grid"]')!;
      const frame = () => new Promise<number>((r) => requestAnimationFrame(r));
      grid.scrollTop = 0;
      await frame();
      await frame();
      const step = (grid.scrollHeight - grid.clientHeight) / frames;
      const work: number[] = [];
      const intervals: number[] = [];
      let last = await frame();
      for (let i = 1; i <= frames; i++) {
        const ts = await frame();
        intervals.push(ts - last);
        last = ts;
        const t0 = performance.now();
        grid.scrollTop = Math.round(step * i);
        // The virtualizer renders synchronously (flushSync) on a scroll event; reading a layout
        // property then forces style and layout now instead of at paint.
        grid.dispatchEvent(new Event('scroll'));
        void document.body.offsetHeight;
        work.push(performance.now() - t0);
      }
      return { work, intervals };
    }, SCROLL_FRAMES);
    if (errors.length > 0) throw new Error(`the page raised: ${errors.join('; ')}`);
    const result: InspectorResult = {
      records: info.traffic.records,
      loaded,
      generateSeconds,
      firstPaintMs: firstPaintMs!,
      allLoadedMs: allLoadedMs!,
      filterMs,
      filterMaxMs: Math.max(...filterMs),
      filterMedianMs: median(filterMs) ?? NaN,
      scrollWorkP95Ms: percentile(scroll.work, 95) ?? NaN,
      scrollIntervalP95Ms: percentile(scroll.intervals, 95) ?? NaN,
      frames: scroll.work.length,
    };
    log(
      `inspector: scroll work p95 ${result.scrollWorkP95Ms.toFixed(1)} ms, interval p95 ${result.scrollIntervalP95Ms.toFixed(1)} ms`,
    );
    return result;
  } finally {
    await browser?.close();
    await home.cleanup();
    await everything.kill();
  }
}
