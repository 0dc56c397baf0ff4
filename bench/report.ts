// Benchmark output: one table of figure, value, peer (or target) and ratio.

export interface Row {
  figure: string;
  value: number;
  unit: string;
  peer?: number;
  peerName?: string;
  /** Lower is better (latency, memory) unless false. */
  lowerIsBetter?: boolean;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function printTable(title: string, rows: Row[]): void {
  const fmt = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '-' : n >= 100 ? n.toFixed(0) : n.toFixed(2));
  const lines = rows.map((r) => [
    r.figure,
    `${fmt(r.value)} ${r.unit}`,
    r.peer === undefined ? '-' : `${fmt(r.peer)} ${r.unit} (${r.peerName})`,
    r.peer === undefined ? '-' : `${(r.value / r.peer).toFixed(2)}x`,
  ]);
  const header = ['figure', 'kubesvc', 'peer / target', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(`\n${title}\n${row(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const l of lines) console.log(row(l));
}
