// Shared pieces of `make bench`: what a stage returns, and small helpers. Every figure is reported next to a
// baseline measured in the same run on the same machine, as a ratio: absolute times on a shared 2-core machine
// mean little (issue: Benchmarks).
import { type Config } from '../src/config/index.ts';
import { type Logger } from '../src/core/log.ts';

export type Target = {
  op: '>=' | '<=';
  value: number;
  /** what the target is compared with: the ratio or the value */ on: 'ratio' | 'value';
};

export type Figure = {
  /** e.g. "ingest: requests/s, batches of 1" */
  name: string;
  value: number;
  unit: string;
  baseline: { name: string; value: number; unit: string } | null;
  /** value / baseline.value (or the inverse when `lowerIsBetter`), null without a baseline */
  ratio: number | null;
  target: Target | null;
  met: boolean | null;
  /** Why a target is missed, or what the figure means. */
  note: string | null;
};

/** A line of a chart: points (x, y) with a label; a chart draws a stage's series together with its baseline. */
export type Series = { chart: string; label: string; x: string; y: string; points: { x: number; y: number }[] };

export type StageResult = {
  stage: string;
  figures: Figure[];
  series: Series[];
  notes: string[];
  /** Anything else worth keeping in the raw JSON. */
  raw?: unknown;
};

export type BenchContext = {
  /** A config on the running local stack with a fresh topic prefix and database for this stage. */
  config: Config;
  log: Logger;
  /** Folder for this run's raw files (.bench/<run>/). */
  dir: string;
  /** Removes the stage's topics and database. */
  cleanup(): Promise<void>;
  /** A fresh config (new prefix and database) with overrides, for stages that need several. */
  freshConfig(overrides?: Record<string, string>): { config: Config; cleanup(): Promise<void> };
};

export type Stage = { name: string; run(ctx: BenchContext): Promise<StageResult> };

export function figure(f: {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit?: string } | null;
  target?: Target | null;
  note?: string | null;
  lowerIsBetter?: boolean;
}): Figure {
  const baseline = f.baseline ? { name: f.baseline.name, value: f.baseline.value, unit: f.baseline.unit ?? f.unit } : null;
  const ratio =
    baseline && baseline.value !== 0 && f.value !== 0 ? (f.lowerIsBetter ? baseline.value / f.value : f.value / baseline.value) : null;
  const subject = f.target?.on === 'ratio' ? ratio : f.value;
  const met = f.target && subject !== null ? (f.target.op === '>=' ? subject >= f.target.value : subject <= f.target.value) : null;
  return { name: f.name, value: f.value, unit: f.unit, baseline, ratio, target: f.target ?? null, met, note: f.note ?? null };
}

/** Exact percentile of a sample (nearest rank). */
export function percentile(sample: readonly number[], p: number): number {
  if (sample.length === 0) return NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
