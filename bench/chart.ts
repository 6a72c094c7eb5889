// The PNG chart: three grouped bar panels (issuance throughput, p50 latency,
// revocation throughput), ours next to the floor. Drawn with pureimage (pure
// JavaScript, a devDependency) and Debian's DejaVu Sans, so no native canvas
// or browser is needed.

import * as fs from 'node:fs';
import * as PImage from 'pureimage';

type Context = ReturnType<ReturnType<typeof PImage.make>['getContext']>;

/** One group of bars: a label under it and ours/floor values (and an optional third, NaN when absent). */
export interface BarGroup {
  label: string;
  ours: number;
  floor: number;
  alt: number;
}

export interface Panel {
  title: string;
  /** Unit shown on the y axis, e.g. `creds/s`. */
  unit: string;
  groups: BarGroup[];
}

export interface ChartSpec {
  title: string;
  subtitle: string;
  panels: Panel[];
  oursLabel: string;
  floorLabel: string;
  altLabel: string;
}

const FONT_DIR = '/usr/share/fonts/truetype/dejavu';
const FONTS = { regular: 'DejaVuSans', bold: 'DejaVuSans-Bold' } as const;
const COLORS = { ours: '#2b6cb0', floor: '#dd6b20', alt: '#9e9e9e', axis: '#333333', grid: '#dddddd', text: '#111111', muted: '#555555' };

const WIDTH = 1500;
const HEIGHT = 640;
const HEADER = 125;
const PANEL_GAP = 30;
const MARGIN = { left: 70, right: 20, top: 62, bottom: 50 };

let fontsLoaded = false;

/** Fonts are files of Debian's fonts-dejavu-core; say so when they are missing. */
function loadFonts(): void {
  if (fontsLoaded) return;
  for (const name of Object.values(FONTS)) {
    const file = `${FONT_DIR}/${name}.ttf`;
    if (!fs.existsSync(file)) throw new Error(`font ${file} not found (apt-get install fonts-dejavu-core)`);
    PImage.registerFont(file, name).loadSync();
  }
  fontsLoaded = true;
}

/** Renders `spec` into a PNG file. */
export async function writeChart(spec: ChartSpec, file: string): Promise<void> {
  loadFonts();
  const img = PImage.make(WIDTH, HEIGHT);
  const ctx = img.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, WIDTH, HEIGHT);
  drawHeader(ctx, spec);
  const panelWidth = (WIDTH - PANEL_GAP * (spec.panels.length + 1)) / spec.panels.length;
  spec.panels.forEach((panel, i) => {
    drawPanel(ctx, panel, { x: PANEL_GAP + i * (panelWidth + PANEL_GAP), y: HEADER, w: panelWidth, h: HEIGHT - HEADER - 10 });
  });
  await PImage.encodePNGToStream(img, fs.createWriteStream(file));
}

function text(ctx: Context, s: string, x: number, y: number, opts: { size: number; bold?: boolean; color?: string; align?: 'left' | 'center' | 'right' }): void {
  ctx.font = `${opts.size}px ${opts.bold === true ? FONTS.bold : FONTS.regular}`;
  ctx.fillStyle = opts.color ?? COLORS.text;
  ctx.textAlign = opts.align ?? 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(s, x, y);
}

function drawHeader(ctx: Context, spec: ChartSpec): void {
  text(ctx, spec.title, PANEL_GAP, 38, { size: 26, bold: true });
  text(ctx, spec.subtitle, PANEL_GAP, 66, { size: 16, color: COLORS.muted });
  // Legend: one row under the subtitle, entries side by side.
  const legend: [string, string][] = [
    [spec.oursLabel, COLORS.ours],
    [spec.floorLabel, COLORS.floor],
    [spec.altLabel, COLORS.alt],
  ];
  let x = PANEL_GAP;
  const y = 100;
  for (const [label, color] of legend) {
    ctx.fillStyle = color;
    ctx.fillRect(x, y - 14, 18, 18);
    text(ctx, label, x + 26, y, { size: 17 });
    ctx.font = `17px ${FONTS.regular}`;
    x += 26 + ctx.measureText(label).width + 40;
  }
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function drawPanel(ctx: Context, panel: Panel, box: Box): void {
  text(ctx, panel.title, box.x + box.w / 2, box.y + 24, { size: 19, bold: true, align: 'center' });
  const plot: Box = { x: box.x + MARGIN.left, y: box.y + MARGIN.top, w: box.w - MARGIN.left - MARGIN.right, h: box.h - MARGIN.top - MARGIN.bottom };
  const values = panel.groups.flatMap((g) => [g.ours, g.floor, g.alt]).filter(Number.isFinite);
  const { max, step } = niceScale(Math.max(1e-9, ...values));
  const yOf = (v: number): number => plot.y + plot.h - (v / max) * plot.h;

  drawYAxis(ctx, plot, max, step, yOf, panel.unit);
  const groupWidth = plot.w / panel.groups.length;
  const barWidth = Math.min(60, groupWidth * 0.27);
  const gap = 4;
  panel.groups.forEach((g, i) => {
    const center = plot.x + groupWidth * (i + 0.5);
    // Bars are centred as a pair, or as a triple when the group has the third value.
    const bars = Number.isFinite(g.alt) ? [g.ours, g.floor, g.alt] : [g.ours, g.floor];
    const colors = [COLORS.ours, COLORS.floor, COLORS.alt];
    const left = center - (bars.length * barWidth + (bars.length - 1) * gap) / 2;
    bars.forEach((v, k) => drawBar(ctx, left + k * (barWidth + gap), barWidth, v, yOf, colors[k] ?? COLORS.alt));
    text(ctx, g.label, center, plot.y + plot.h + 26, { size: 17, align: 'center' });
  });
}

function drawYAxis(ctx: Context, plot: Box, max: number, step: number, yOf: (v: number) => number, unit: string): void {
  for (let v = 0; v <= max + step / 2; v += step) {
    const y = Math.round(yOf(v)) + 0.5;
    ctx.fillStyle = v === 0 ? COLORS.axis : COLORS.grid;
    ctx.fillRect(plot.x, y, plot.w, 1);
    text(ctx, formatValue(v), plot.x - 8, y + 5, { size: 14, color: COLORS.muted, align: 'right' });
  }
  ctx.fillStyle = COLORS.axis;
  ctx.fillRect(plot.x, plot.y, 1, plot.h);
  text(ctx, unit, plot.x - 8, plot.y - 14, { size: 14, color: COLORS.muted, align: 'left' });
}

function drawBar(ctx: Context, x: number, w: number, value: number, yOf: (v: number) => number, color: string): void {
  if (!Number.isFinite(value)) return;
  const top = yOf(value);
  ctx.fillStyle = color;
  ctx.fillRect(x, top, w, yOf(0) - top);
  text(ctx, formatValue(value), x + w / 2, top - 6, { size: 14, align: 'center' });
}

/** An axis maximum and tick step of 1, 2 or 5 × 10^n, with about five ticks. */
function niceScale(maxValue: number): { max: number; step: number } {
  const raw = (maxValue * 1.12) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude);
  return { max: Math.ceil((maxValue * 1.12) / step) * step, step };
}

function formatValue(v: number): string {
  if (v >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
