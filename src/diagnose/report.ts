/** The diagnose report: sections of ✓ / ✗ lines, each failure with its finding and its fix. */
import type { Classification } from '../errors/classify.js';
import { causeLine } from '../errors/errors.js';
import type { Redactor } from '../observability/redact.js';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip' | 'info';

export interface Check {
  name: string;
  status: CheckStatus;
  /** What was found, one line. */
  finding: string;
  /** What to change, when something is wrong. */
  fix?: string;
  /**
   * For a classified failure, the one line a function shows for it (its error, the log line of an
   * HTTP 503 and health reasons): the finding and the fix together. The text report prints it instead of both.
   */
  cause?: string;
  details?: Record<string, unknown>;
}

export interface Section {
  title: string;
  checks: Check[];
}

/** healthy; degraded: it works, and the health status says degraded (with its reasons); unhealthy: a check failed. */
export type ReportStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface Report {
  /** True unless a check failed (a degraded setup works). */
  ok: boolean;
  status: ReportStatus;
  startedAt: string;
  durationMs: number;
  sections: Section[];
  health?: unknown;
}

const MARKS: Record<CheckStatus, string> = { pass: '✓', fail: '✗', warn: '!', skip: '-', info: ' ' };

export class ReportBuilder {
  readonly #sections: Section[] = [];
  readonly #started = Date.now();
  health: unknown;

  section(title: string): Section {
    const section: Section = { title, checks: [] };
    this.#sections.push(section);
    return section;
  }

  failed(): boolean {
    return this.#sections.some((s) => s.checks.some((c) => c.status === 'fail'));
  }

  /** As the health status says, unless a check failed: a warning in a log line does not make it degraded. */
  status(): ReportStatus {
    if (this.failed()) return 'unhealthy';
    return (this.health as { status?: string } | undefined)?.status === 'degraded' ? 'degraded' : 'healthy';
  }

  build(): Report {
    return {
      ok: !this.failed(),
      status: this.status(),
      startedAt: new Date(this.#started).toISOString(),
      durationMs: Date.now() - this.#started,
      sections: this.#sections,
      ...(this.health !== undefined && { health: this.health }),
    };
  }
}

export function add(
  section: Section,
  status: CheckStatus,
  name: string,
  finding: string,
  fix?: string,
  details?: Record<string, unknown>,
): Check {
  const check: Check = { name, status, finding, ...(fix && { fix }), ...(details && { details }) };
  section.checks.push(check);
  return check;
}

/** A failed check whose finding and fix are a classified cause: the line every other surface shows for it. */
export function addCause(section: Section, name: string, classification: Classification): Check {
  const check = add(section, 'fail', name, classification.summary, classification.hint);
  check.cause = causeLine(classification);
  return check;
}

const RESULTS: Record<ReportStatus, string> = { healthy: 'healthy', degraded: 'degraded', unhealthy: 'problems found' };

export function renderText(report: Report): string {
  const lines: string[] = [];
  report.sections.forEach((section, i) => {
    lines.push('', `== ${i + 1}. ${section.title}`);
    for (const check of section.checks) {
      const label = check.name ? `${check.name}: ` : '';
      lines.push(`  ${MARKS[check.status]} ${label}${check.cause ?? check.finding}`);
      if (check.fix && !check.cause) lines.push(`      fix: ${check.fix}`);
    }
  });
  lines.push('', `== Result: ${RESULTS[report.status]} (${Math.round(report.durationMs)} ms)`);
  return lines.join('\n');
}

/** JSON with every string passed through the redactor (secrets, PEM keys, password-named keys). */
export function renderJson(report: Report, redactor: Redactor): string {
  return JSON.stringify(report, redactor.replacer, 2);
}
