/**
 * The shapes scenario's tables: per memory size one row per client, the ratios of lambda-kafka to
 * each peer, and the memory fit. Figures are medians over the rounds whose child succeeded; a
 * client whose every child failed shows "failed" (the notes say why).
 */
import type { ChildOutcome } from './shape-run.js';
import { formatFigure, formatRatioInterval, median, quantile } from './stats.js';

/** The four clients, in the order each round runs them. */
export const SHAPE_CLIENTS = ['lambda-kafka', 'lambda-kafka-linger', 'raw', 'kafkajs', 'platformatic'] as const;
export type ShapeClient = (typeof SHAPE_CLIENTS)[number];

export const SHAPE_CLIENT_LABELS: Record<ShapeClient, string> = {
  'lambda-kafka': 'lambda-kafka',
  'lambda-kafka-linger': 'lambda-kafka, KAFKA_PRODUCE_LINGER_MS=5',
  raw: 'raw binding',
  kafkajs: 'KafkaJS',
  platformatic: '@platformatic/kafka',
};

/** Every round's child of each client in one shape ("128 MB", "full"). */
export interface ShapeSamples {
  label: string;
  /** What the shape is, for the table's heading. */
  heading: string;
  outcomes: Record<ShapeClient, ChildOutcome[]>;
  /**
   * Children that start cold and then time the same warm 1-message sends, and nothing more (task cold):
   * more cold starts and warm p50s per run.
   */
  coldOnly: Record<ShapeClient, ChildOutcome[]>;
}

/** The memory fit at one memory size: one child per client and task. */
export interface FitSamples {
  label: string;
  /** Messages of 1 KB in the one large produce, and of 10 KB in the drain. */
  produceMessages: number;
  drainMessages: number;
  produce: Record<ShapeClient, ChildOutcome>;
  /** Not for lambda-kafka's linger variant: it only changes the producer. */
  drain: Partial<Record<ShapeClient, ChildOutcome>>;
}

const MB = 1024 * 1024;
/** What a failure's note keeps of the child's stderr. */
const FAILURE_TAIL_CHARS = 1500;

/** What the tables show per client: each a median of the children's figures. */
type Measure = 'cold' | 'p50' | 'p99' | 'steadyP50' | 'cpuPerInvocation' | 'batchRate' | 'batchCpu';

/** Each measure's figure per child that got one (`steadyP50`: warm p50 once many more invocations have run). */
type Samples = Record<Measure, number[]>;
type Figures = Record<Measure, number>;

/** The cold starts of every child that got a result: a shape's and its cold-only ones. */
function coldStarts(outcomes: readonly ChildOutcome[]): number[] {
  return outcomes.flatMap((o) => (o.result && o.coldMs !== undefined ? [o.coldMs] : []));
}

/**
 * Each child's figures, over the children that succeeded: cold start and the warm 1-message figures
 * of the shape's children and the cold-only ones, the rest of the shape's.
 */
function samplesOf(outcomes: readonly ChildOutcome[], coldOnly: readonly ChildOutcome[] = []): Samples {
  const results = outcomes.flatMap((o) => (o.result ? [o.result] : []));
  const warm = [...outcomes, ...coldOnly].flatMap((o) => (o.result?.warmMs?.length ? [o.result] : []));
  const each = (of: typeof results, value: (r: (typeof results)[number]) => number | undefined) =>
    of.map(value).filter((v): v is number => v !== undefined);
  return {
    cold: [...coldStarts(outcomes), ...coldStarts(coldOnly)],
    p50: each(warm, (r) => (r.warmMs ? median(r.warmMs) : undefined)),
    p99: each(warm, (r) => (r.warmMs ? quantile(r.warmMs, 0.99) : undefined)),
    steadyP50: each(results, (r) => (r.steadyMs?.length ? median(r.steadyMs) : undefined)),
    cpuPerInvocation: each(warm, (r) => r.warmCpuMicros),
    batchRate: each(results, (r) => r.batchMessagesPerSecond),
    batchCpu: each(results, (r) => r.batchCpuMicrosPerMessage),
  };
}

/** The medians of samplesOf() (NaN where no child got the figure). */
function figures(outcomes: readonly ChildOutcome[], coldOnly: readonly ChildOutcome[] = []): Figures {
  const samples = samplesOf(outcomes, coldOnly);
  return Object.fromEntries(Object.entries(samples).map(([measure, values]) => [measure, median(values)])) as Figures;
}

/**
 * "failed" when no child succeeded; else the figure, with how many children it is over: always
 * (`counted`, "(k)"), or only where some failed ("(k/n children)").
 */
function cell(outcomes: readonly ChildOutcome[], value: number, counted = false): string {
  const succeeded = outcomes.filter((o) => o.result).length;
  if (succeeded === 0) return 'failed';
  const figure = formatFigure(value);
  if (counted) return `${figure} (${succeeded < outcomes.length ? `${succeeded}/${outcomes.length}` : succeeded})`;
  return succeeded < outcomes.length ? `${figure} (${succeeded}/${outcomes.length} children)` : figure;
}

/** Peak memory in MB: the median of VmHWM; † when a killed child's cgroup peak stands in for it. */
function peakCell(outcomes: readonly ChildOutcome[]): string {
  const peaks = outcomes.flatMap((o) => (o.peak ? [o.peak] : []));
  if (peaks.length === 0) return '—';
  const figure = formatFigure(median(peaks.map((p) => p.bytes / MB)));
  return peaks.some((p) => p.from === 'cgroup') ? `${figure} †` : figure;
}

function oomCell(outcomes: readonly ChildOutcome[]): string {
  const killed = outcomes.filter((o) => o.oomKilled).length;
  return outcomes.length > 1 && killed > 0 ? `${killed} of ${outcomes.length}` : String(killed);
}

function linesCell(outcomes: readonly ChildOutcome[]): string {
  const count = (pick: (o: ChildOutcome) => number) => Math.round(median(outcomes.map(pick)));
  return `${count((o) => o.warnErrorLines)} of ${count((o) => o.lines)}`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, header.map(() => '---'), ...rows].map((line) => `| ${line.join(' | ')} |`).join('\n');
}

const SHAPE_HEADER = [
  'memory',
  'client',
  'cold ms ↓ (children)',
  'warm p50 ms ↓',
  'warm p99 ms ↓',
  'later p50 ms ↓',
  'CPU µs / 1-msg invocation ↓',
  '500/inv msg/s ↑',
  '500/inv CPU µs/msg ↓',
  'peak RSS MB (VmHWM) ↓',
  'OOM kills',
  'WARN/ERROR lines',
];

/** One table for one shape, a row per client. */
export function renderShapeTable(shape: ShapeSamples): string {
  const rows = SHAPE_CLIENTS.map((client) => {
    const outcomes = shape.outcomes[client];
    const f = figures(outcomes, shape.coldOnly[client]);
    // Cold start and the warm 1-message figures are over every child, cold-only ones included.
    const all = [...outcomes, ...shape.coldOnly[client]];
    return [
      shape.label,
      SHAPE_CLIENT_LABELS[client],
      cell(all, f.cold, true),
      cell(all, f.p50),
      cell(all, f.p99),
      cell(outcomes, f.steadyP50),
      cell(all, f.cpuPerInvocation),
      cell(outcomes, f.batchRate),
      cell(outcomes, f.batchCpu),
      peakCell(outcomes),
      oomCell(outcomes),
      linesCell(outcomes),
    ];
  });
  return table(SHAPE_HEADER, rows);
}

const RATIO_MEASURES: readonly { name: string; measure: Measure }[] = [
  { name: 'cold ms ↓', measure: 'cold' },
  { name: 'warm p50 ms ↓', measure: 'p50' },
  { name: 'later p50 ms ↓', measure: 'steadyP50' },
  { name: 'CPU µs / 1-msg invocation ↓', measure: 'cpuPerInvocation' },
  { name: '500/inv msg/s ↑', measure: 'batchRate' },
];

/** The peers lambda-kafka is measured against (its own variant with a linger is not one). */
export const PEERS = ['raw', 'kafkajs', 'platformatic'] as const satisfies readonly ShapeClient[];

/**
 * lambda-kafka's figure over each peer's, per shape and measurement, with how far it could move with
 * other children of the same run (ratioInterval); and for 500 per invocation also its figure with the
 * setting documented for functions that send batches (KAFKA_PRODUCE_LINGER_MS).
 */
export function renderRatios(shapes: readonly ShapeSamples[]): string {
  const rows = shapes.flatMap((shape) => {
    const of = (client: ShapeClient) => samplesOf(shape.outcomes[client], shape.coldOnly[client]);
    const own = of('lambda-kafka');
    const peers = PEERS.map(of);
    const ratios = (name: string, mine: Samples, measure: Measure) => [
      shape.label,
      name,
      ...peers.map((peer) => formatRatioInterval(mine[measure], peer[measure])),
    ];
    return [
      ...RATIO_MEASURES.map(({ name, measure }) => ratios(name, own, measure)),
      ratios('500/inv msg/s ↑, KAFKA_PRODUCE_LINGER_MS=5', of('lambda-kafka-linger'), 'batchRate'),
    ];
  });
  return table(['memory', 'measurement', ...PEERS.map((peer) => `lambda-kafka / ${SHAPE_CLIENT_LABELS[peer]}`)], rows);
}

function fitCells(outcome: ChildOutcome | undefined, rate: boolean): string[] {
  if (!outcome) return Array.from({ length: rate ? 5 : 4 }, () => '—');
  const peak = outcome.peak
    ? `${formatFigure(outcome.peak.bytes / MB)}${outcome.peak.from === 'cgroup' ? ' †' : ''}`
    : '—';
  const memory = [
    peak,
    outcome.cgroupPeakBytes === undefined ? '—' : formatFigure(outcome.cgroupPeakBytes / MB),
    outcome.oomKilled ? 'yes' : 'no',
  ];
  const { result } = outcome;
  if (!result) return [...(rate ? ['failed', 'failed'] : ['failed']), ...memory];
  const perSecond = result.readingMs ? (result.processed ?? 0) / (result.readingMs / 1000) : Number.NaN;
  return [formatFigure(result.wallMs), ...(rate ? [formatFigure(perSecond)] : []), ...memory];
}

export function renderFit(fit: FitSamples): string {
  const rows = SHAPE_CLIENTS.map((client) => [
    fit.label,
    SHAPE_CLIENT_LABELS[client],
    ...fitCells(fit.produce[client], false),
    ...fitCells(fit.drain[client], true),
  ]);
  return table(
    [
      'memory',
      'client',
      `produce ${fit.produceMessages.toLocaleString('en-US')} × 1 KB: wall ms ↓`,
      'VmHWM MB ↓',
      'cgroup peak MB ↓',
      'OOM kill',
      `drain ${fit.drainMessages.toLocaleString('en-US')} × 10 KB: wall ms ↓`,
      'msg/s ↑',
      'VmHWM MB ↓',
      'cgroup peak MB ↓',
      'OOM kill',
    ],
    rows,
  );
}

/** Every failed child, with the tail of what it printed: the report's notes. */
export function failureNotes(shapes: readonly ShapeSamples[], fit: FitSamples | undefined): string[] {
  const notes: string[] = [];
  const add = (where: string, outcome: ChildOutcome) => {
    if (!outcome.failure) return;
    const [first, ...rest] = outcome.failure.split('\n');
    const tail = rest.join('\n').slice(-FAILURE_TAIL_CHARS);
    notes.push(`failed (${where}): ${first}${tail ? `\n    ${tail.replace(/\n/g, '\n    ')}` : ''}`);
  };
  for (const shape of shapes) {
    for (const client of SHAPE_CLIENTS) {
      shape.outcomes[client].forEach((outcome, round) => {
        add(`${shape.label}, round ${round + 1}`, outcome);
      });
      shape.coldOnly[client].forEach((outcome, n) => {
        add(`${shape.label}, cold start ${n + 1}`, outcome);
      });
    }
  }
  if (fit) {
    for (const client of SHAPE_CLIENTS) {
      add(`memory fit at ${fit.label}, produce`, fit.produce[client]);
      const drained = fit.drain[client];
      if (drained) add(`memory fit at ${fit.label}, drain`, drained);
    }
  }
  return notes;
}
