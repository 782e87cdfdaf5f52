// Draws the tray icons (one per aggregate state; macOS template variants) and the app icon as PNGs,
// so the repository needs no image editor: `node resources/make-icons.mjs` rewrites them.
// Shapes are signed-distance functions sampled 4×4 per pixel for anti-aliasing.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** An RGBA PNG of `size`×`size` whose pixel colour is `paint(x, y)` → [r, g, b, a] (0-255). */
function png(size, paint) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = paint(x, y);
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
      raw[o + 3] = a;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Coverage (0-1) of the shape `inside(u, v)` over a pixel, u and v in [0, 1]. */
function coverage(size, x, y, inside) {
  let n = 0;
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) if (inside((x + (i + 0.5) / 4) / size, (y + (j + 0.5) / 4) / size)) n++;
  return n / 16;
}

const dist = (u, v, cx, cy) => Math.hypot(u - cx, v - cy);
const R = 0.42; // outer radius of the state glyph
const W = 0.13; // ring width

/** State glyphs: filled (ready), half (degraded), slashed ring (down), ring (idle). */
const GLYPHS = {
  ready: (u, v) => dist(u, v, 0.5, 0.5) <= R,
  degraded: (u, v) => {
    const d = dist(u, v, 0.5, 0.5);
    return d <= R && (d >= R - W || v >= 0.5);
  },
  down: (u, v) => {
    const d = dist(u, v, 0.5, 0.5);
    const slash = Math.abs(u - v) / Math.SQRT2 <= W / 2 && d <= R;
    return (d <= R && d >= R - W) || slash;
  },
  idle: (u, v) => {
    const d = dist(u, v, 0.5, 0.5);
    return d <= R && d >= R - W;
  },
};

const COLORS = {
  ready: [46, 155, 72],
  degraded: [224, 162, 0],
  down: [217, 48, 37],
  idle: [138, 143, 152],
};

for (const [state, inside] of Object.entries(GLYPHS)) {
  for (const [suffix, size] of [
    ['', 16],
    ['@2x', 32],
  ]) {
    const [r, g, b] = COLORS[state];
    writeFileSync(
      `${here}tray/${state}${suffix}.png`,
      png(size, (x, y) => [r, g, b, Math.round(255 * coverage(size, x, y, inside))]),
    );
    // macOS template images: black with alpha; the system colours them for light and dark bars.
    writeFileSync(
      `${here}tray/${state}Template${suffix}.png`,
      png(size, (x, y) => [0, 0, 0, Math.round(255 * coverage(size, x, y, inside))]),
    );
  }
}

/** The app icon: two rings joined by a line (a tether), white on a dark rounded square. */
function appIcon(u, v) {
  const corner = 0.18;
  const m = 0.04;
  const qx = Math.max(Math.abs(u - 0.5) - (0.5 - m - corner), 0);
  const qy = Math.max(Math.abs(v - 0.5) - (0.5 - m - corner), 0);
  const inSquare = Math.hypot(qx, qy) <= corner;
  if (!inSquare) return 'none';
  const ring = (cx) => {
    const d = dist(u, v, cx, 0.5);
    return d <= 0.15 && d >= 0.09;
  };
  const line = u >= 0.44 && u <= 0.56 && Math.abs(v - 0.5) <= 0.03;
  return ring(0.31) || ring(0.69) || line ? 'mark' : 'ground';
}

const ICON = 512;
writeFileSync(
  `${here}icon.png`,
  png(ICON, (x, y) => {
    const counts = { none: 0, mark: 0, ground: 0 };
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) counts[appIcon((x + (i + 0.5) / 4) / ICON, (y + (j + 0.5) / 4) / ICON)]++;
    const a = (counts.mark + counts.ground) / 16;
    if (a === 0) return [0, 0, 0, 0];
    const t = counts.mark / (counts.mark + counts.ground);
    const mix = (fg, bg) => Math.round(fg * t + bg * (1 - t));
    return [mix(255, 31), mix(255, 41), mix(255, 55), Math.round(255 * a)];
  }),
);
