/**
 * The scaling charts, as SVG text: Apache ECharts rendered on the server side (no DOM, no canvas:
 * `echarts.init(null, null, { renderer: 'svg', ssr: true })` and `renderToSVGString()`).
 */
import * as echarts from 'echarts';
import type { ClientPoint, InflightPoint, SizePoint, Sweep } from './cases/scaling.js';
import { formatSize, type PathName } from './options.js';

/** One colour per path (and per engine line), the same in every chart. */
const COLORS: Record<string, string> = {
  direct: '#4c72b0',
  'mcp-remote': '#dd8452',
  supergateway: '#8172b3',
  tether: '#c44e52',
  'engine RSS (MiB)': '#c44e52',
  'engine CPU per 1,000 calls (ms)': '#55a868',
};

const WIDTH = 760;
const HEIGHT = 420;

/** One line: its name and its [x, y] points. */
interface Line {
  name: string;
  points: [number, number][];
  /** On the right-hand y axis. */
  right?: boolean;
}

/** An axis: its title, and optionally a log scale (base) and a label format. */
interface Axis {
  name: string;
  logBase?: number;
  format?: (v: number) => string;
}

/** A chart written next to results.md. */
export interface Chart {
  /** File name (next to results.md). */
  file: string;
  title: string;
  svg: string;
}

/** An x axis spans its data exactly; y axes, on the left or right, round outwards. */
function axis(a: Axis, role: 'x' | 'left' | 'right'): echarts.EChartsOption['xAxis'] {
  return {
    type: a.logBase ? 'log' : 'value',
    ...(a.logBase ? { logBase: a.logBase } : {}),
    ...(role === 'x' ? { min: 'dataMin', max: 'dataMax' } : { position: role }),
    name: a.name,
    nameLocation: 'middle',
    nameGap: 34,
    scale: true,
    axisLabel: a.format ? { formatter: (v: number) => a.format!(v) } : {},
  };
}

/** Renders a line chart with one line per series, on one or two y axes. */
function lineChart(title: string, x: Axis, y: Axis, lines: Line[], y2?: Axis): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height: HEIGHT });
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
    legend: { bottom: 0 },
    grid: { left: 70, right: y2 ? 70 : 30, top: 45, bottom: 75 },
    xAxis: axis(x, 'x'),
    yAxis: y2 ? [axis(y, 'left'), axis(y2, 'right')] : axis(y, 'left'),
    series: lines.map((l) => ({
      name: l.name,
      type: 'line',
      symbolSize: 6,
      yAxisIndex: l.right ? 1 : 0,
      color: COLORS[l.name],
      data: l.points,
    })),
  } as echarts.EChartsOption);
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

/** Per path, the [x, y] points a sweep has (failed points left out). */
function lines<P>(sweep: Sweep<P>, y: (p: P) => number): Line[] {
  return Object.entries(sweep.byPath).map(([name, points]) => ({
    name: name as PathName,
    points: (points ?? []).flatMap((p, i) =>
      p === undefined ? [] : [[sweep.xs[i]!, y(p)] as [number, number]],
    ),
  }));
}

const round = (v: number) => String(Math.round(v));

/** The charts of the sweeps that ran. */
export function scalingCharts(sweeps: {
  sizes?: Sweep<SizePoint>;
  inflight?: Sweep<InflightPoint>;
  clients?: Sweep<ClientPoint>;
}): Chart[] {
  const charts: Chart[] = [];
  if (sweeps.sizes) {
    const title = 'Echo round trip by message size';
    charts.push({
      file: 'scaling-sizes.svg',
      title,
      svg: lineChart(
        title,
        { name: 'message size', logBase: 2, format: formatSize },
        { name: 'round trip (ms)', logBase: 10 },
        lines(sweeps.sizes, (p) => p.ms),
      ),
    });
  }
  if (sweeps.inflight) {
    const title = 'Throughput by calls in flight (one client)';
    charts.push({
      file: 'scaling-inflight.svg',
      title,
      svg: lineChart(
        title,
        { name: 'calls in flight', logBase: 2, format: round },
        { name: 'calls/s' },
        lines(sweeps.inflight, (p) => p.callsPerSec),
      ),
    });
  }
  if (sweeps.clients) {
    const title = 'Aggregate throughput by clients at once (one call outstanding each)';
    charts.push({
      file: 'scaling-clients.svg',
      title,
      svg: lineChart(
        title,
        { name: 'clients', logBase: 2, format: round },
        { name: 'calls/s' },
        lines(sweeps.clients, (p) => p.callsPerSec),
      ),
    });
    const tether = sweeps.clients.byPath.tether;
    if (tether?.some((p) => p?.engineRssMiB !== undefined)) {
      const pick = (f: (p: ClientPoint) => number | undefined): [number, number][] =>
        tether.flatMap((p, i) => {
          const v = p && f(p);
          return v === undefined ? [] : [[sweeps.clients!.xs[i]!, v] as [number, number]];
        });
      const title2 = 'Tether engine as sessions grow';
      charts.push({
        file: 'scaling-engine.svg',
        title: title2,
        svg: lineChart(
          title2,
          { name: 'sessions (clients)', logBase: 2, format: round },
          { name: 'engine RSS (MiB)' },
          [
            { name: 'engine RSS (MiB)', points: pick((p) => p.engineRssMiB) },
            {
              name: 'engine CPU per 1,000 calls (ms)',
              points: pick((p) => p.engineCpuMsPer1000),
              right: true,
            },
          ],
          { name: 'CPU ms per 1,000 calls' },
        ),
      });
    }
  }
  return charts;
}
