// Charts of BENCHMARKS.md: one SVG per chart, each stage's series drawn with its baseline on the same axes.
// vega-lite compiles the spec and vega renders SVG headless (no canvas, no browser).
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { type Series } from './lib.ts';

export async function writeCharts(dir: string, series: readonly Series[]): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const charts = [...new Set(series.map((s) => s.chart))];
  const files: string[] = [];
  for (const chart of charts) {
    const lines = series.filter((s) => s.chart === chart);
    const values = lines.flatMap((s) => s.points.map((p) => ({ series: s.label, x: p.x, y: p.y })));
    const spec: TopLevelSpec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: chart,
      width: 560,
      height: 300,
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: lines[0]!.x },
        y: { field: 'y', type: 'quantitative', title: lines[0]!.y },
        color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2, labelLimit: 400 } },
      },
      config: { font: 'sans-serif', background: 'white' },
    };
    const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
    const svg = await view.toSVG();
    view.finalize();
    const file = `${chart
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')}.svg`;
    writeFileSync(join(dir, file), svg);
    files.push(file);
  }
  return files;
}
