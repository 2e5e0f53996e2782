/**
 * The shape every topic of `npm run bench` reports in, and its plain-text and markdown renderings.
 * A topic is one table: rows of named cells, some of them ratios against a baseline measured in
 * the same run (never an absolute figure alone).
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export type ColumnKind =
  /** Left-aligned text. */
  | 'text'
  /** Integer with thousands separators. */
  | 'int'
  /** Number with one decimal. */
  | 'float'
  /** A ratio against the topic's baseline, shown as `0.93×`. */
  | 'ratio';

export interface Column {
  /** The row property holding the value. */
  readonly key: string;
  readonly label: string;
  readonly kind: ColumnKind;
}

export interface Topic {
  /** Short id, used by `--only`: `store`, `http`, `alternatives`, … */
  readonly topic: string;
  readonly title: string;
  /** How it was measured: load generator, concurrency, durations, rounds. */
  readonly method: string;
  /** What the ratio columns are divided by. */
  readonly baseline: string;
  readonly columns: readonly Column[];
  readonly rows: readonly Row[];
  /** Findings worth reading beside the numbers (a target missed, a wrong answer, …). */
  readonly notes: readonly string[];
  /** Set when the topic did not run; `rows` is then empty. */
  readonly skipped?: string;
  /** Wall time the topic took, in seconds. */
  readonly seconds?: number;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly freeMemoryGiB: number;
  /** 1-minute load average when the run started: other work on the machine makes numbers noisy. */
  readonly loadAverage: number;
  readonly node: string;
  readonly platform: string;
}

export interface Report {
  readonly date: string;
  readonly machine: Machine;
  readonly mode: 'quick' | 'default' | 'full';
  readonly topics: readonly Topic[];
}

export function machine(): Machine {
  const list = cpus();
  const gib = (bytes: number) => Math.round((bytes / 2 ** 30) * 10) / 10;
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: gib(totalmem()),
    freeMemoryGiB: gib(freemem()),
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** One cell as text. */
export function formatCell(value: Cell | undefined, kind: ColumnKind): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return 'n/a';
  switch (kind) {
    case 'int':
      return Math.round(value).toLocaleString('en-US');
    case 'float':
      return value.toFixed(value >= 100 ? 0 : 1);
    case 'ratio':
      // Two decimals, but never 0.00× for a ratio that is small and not zero.
      return `${value !== 0 && Math.abs(value) < 0.1 ? value.toPrecision(2) : value.toFixed(2)}×`;
    default:
      return String(value);
  }
}

function cells(topic: Topic): string[][] {
  return topic.rows.map((row) => topic.columns.map((c) => formatCell(row[c.key], c.kind)));
}

/** The topic as an aligned plain-text table with its title, method and notes. */
export function formatText(topic: Topic): string {
  const lines = [`== ${topic.title} ==`];
  if (topic.skipped) return [...lines, `skipped: ${topic.skipped}`].join('\n');
  lines.push(`method: ${topic.method}`, `ratios: ${topic.baseline}`);
  const header = topic.columns.map((c) => c.label);
  const body = cells(topic);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((c, i) => (topic.columns[i]!.kind === 'text' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  lines.push(line(header), ...body.map(line));
  for (const note of topic.notes) lines.push(`* ${note}`);
  return lines.join('\n');
}

const escapeMd = (s: string) => s.replace(/\|/g, '\\|');

/** The topic as a markdown section. */
export function formatMarkdown(topic: Topic): string {
  const lines = [`### ${topic.title}`, ''];
  if (topic.skipped) return [...lines, `Skipped: ${topic.skipped}`, ''].join('\n');
  const sentence = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);
  lines.push(`${sentence(topic.method)}. Ratios: ${topic.baseline}.`, '');
  lines.push(`| ${topic.columns.map((c) => escapeMd(c.label)).join(' | ')} |`);
  lines.push(`|${topic.columns.map((c) => (c.kind === 'text' ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const row of cells(topic)) lines.push(`| ${row.map(escapeMd).join(' | ')} |`);
  if (topic.notes.length > 0) lines.push('', ...topic.notes.map((n) => `- ${n}`));
  lines.push('');
  return lines.join('\n');
}

/** The whole report as the markdown written to bench/RESULTS.md, `findings` first. */
export function reportMarkdown(report: Report, command: string, findings: readonly string[] = []): string {
  const m = report.machine;
  const lines = [
    '# Benchmark results',
    '',
    `Generated by \`${command}\` on ${report.date} (${report.mode} mode).`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB memory (${m.freeMemoryGiB} GiB free), ${m.platform}`,
    `- Node ${m.node}; 1-minute load average at start: ${m.loadAverage}`,
    '- Every ratio compares two rows measured in the same run; absolute figures depend on the machine',
    '  and on whatever else it was doing, ratios much less.',
    '- Rerun: `npm run bench` (add `-- --full` for 1M stored keys, `-- --only http,scale` for some topics,',
    '  `-- --json` for machines). PostgreSQL and Redis come from ONCEKEY_TEST_POSTGRES_URL and',
    '  ONCEKEY_TEST_REDIS_URL (default: the local servers); a topic whose server does not answer is skipped.',
    '',
  ];
  if (findings.length > 0) {
    lines.push('## Where Oncekey is slower or misses a target', '', ...findings.map((f) => `- ${f}`), '');
  }
  lines.push('## Tables', '');
  for (const topic of report.topics) lines.push(formatMarkdown(topic));
  return lines.join('\n');
}
