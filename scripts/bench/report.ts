/** The benchmark's results as one markdown table, with the machine it ran on. */
import type { Machine } from './machine.js';
import { formatFigure, formatRatio } from './stats.js';

/** The three clients, in the order each round runs them. */
export const CLIENTS = ['lambdaKafka', 'raw', 'kafkajs'] as const;
export type ClientName = (typeof CLIENTS)[number];

export const CLIENT_LABELS: Record<ClientName, string> = {
  lambdaKafka: 'lambda-kafka',
  raw: 'raw binding',
  kafkajs: 'KafkaJS',
};

export interface Row {
  measurement: string;
  /** Unit and direction, e.g. `ms ↓` (lower is better) or `msg/s ↑`. */
  unit: string;
  values: Partial<Record<ClientName, number>>;
  /** Rounds (or samples) behind each figure. */
  rounds: number;
}

export interface ScenarioResult {
  rows: Row[];
  /** What the figures include and how they were taken, one line each. */
  notes: string[];
  /** Tables of its own (markdown), printed after the main table. */
  sections?: string[];
  /** What it adds to the machine line (the shapes scenario: its children's Node, @platformatic/kafka). */
  machine?: Pick<Machine, 'childNode' | 'platformatic'>;
}

function cells(row: Row): string[] {
  const { lambdaKafka, raw, kafkajs } = row.values;
  return [
    row.measurement,
    row.unit,
    formatFigure(lambdaKafka),
    formatFigure(raw),
    formatFigure(kafkajs),
    formatRatio(lambdaKafka, raw),
    formatRatio(lambdaKafka, kafkajs),
    String(row.rounds),
  ];
}

export function renderTable(rows: readonly Row[]): string {
  const header = [
    'measurement',
    'unit',
    CLIENT_LABELS.lambdaKafka,
    CLIENT_LABELS.raw,
    CLIENT_LABELS.kafkajs,
    'lambda-kafka / raw',
    'lambda-kafka / KafkaJS',
    'rounds',
  ];
  const lines = [header, header.map(() => '---'), ...rows.map(cells)];
  return lines.map((line) => `| ${line.join(' | ')} |`).join('\n');
}

export function renderMachine(machine: Machine): string {
  const load = (values: readonly number[] | undefined) => values?.map((v) => v.toFixed(2)).join(' ') ?? '—';
  return [
    `Machine: ${machine.cpu}, ${machine.cores} cores; load average ${load(machine.loadBefore)} before, ${load(machine.loadAfter)} after.`,
    `Node ${machine.node}; Kafka ${machine.kafka} (local broker, PLAINTEXT); librdkafka ${machine.librdkafka} (@confluentinc/kafka-javascript ${machine.binding}); KafkaJS ${machine.kafkajs}.`,
    ...(machine.childNode
      ? [
          `Shapes: children on Node ${machine.childNode}${machine.platformatic ? `; @platformatic/kafka ${machine.platformatic}` : ''}.`,
        ]
      : []),
  ].join('\n');
}

export function renderReport(options: {
  rows: readonly Row[];
  notes: readonly string[];
  /** Tables of scenarios with tables of their own, after the main table. */
  sections?: readonly string[];
  machine: Machine;
  mode: string;
  elapsedMs: number;
}): string {
  const blocks = [...(options.rows.length > 0 ? [renderTable(options.rows)] : []), ...(options.sections ?? [])];
  const legend =
    options.rows.length > 0
      ? '↓ lower is better, ↑ higher is better; ratios are lambda-kafka’s figure over the peer’s. Medians of interleaved rounds (A B C A B C …).'
      : '↓ lower is better, ↑ higher is better; ratios are lambda-kafka’s figure over the peer’s.';
  return [
    `## lambda-kafka benchmark (${options.mode}, ${Math.round(options.elapsedMs / 1000)} s)`,
    '',
    blocks.join('\n\n'),
    '',
    legend,
    ...options.notes.map((note) => `- ${note}`),
    '',
    renderMachine(options.machine),
    '',
  ].join('\n');
}
