/** The diagnose report: sections of ✓ / ✗ lines, each failure with its finding and its fix. */
import type { Redactor } from '../observability/redact.js';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip' | 'info';

export interface Check {
  name: string;
  status: CheckStatus;
  /** What was found, one line. */
  finding: string;
  /** What to change, when something is wrong. */
  fix?: string;
  details?: Record<string, unknown>;
}

export interface Section {
  title: string;
  checks: Check[];
}

export interface Report {
  ok: boolean;
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

  build(): Report {
    return {
      ok: !this.failed(),
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

export function renderText(report: Report): string {
  const lines: string[] = [];
  report.sections.forEach((section, i) => {
    lines.push('', `== ${i + 1}. ${section.title}`);
    for (const check of section.checks) {
      const label = check.name ? `${check.name}: ` : '';
      lines.push(`  ${MARKS[check.status]} ${label}${check.finding}`);
      if (check.fix) lines.push(`      fix: ${check.fix}`);
    }
  });
  lines.push('', `== Result: ${report.ok ? 'healthy' : 'problems found'} (${report.durationMs} ms)`);
  return lines.join('\n');
}

/** JSON with every string passed through the redactor (secrets, PEM keys, password-named keys). */
export function renderJson(report: Report, redactor: Redactor): string {
  return JSON.stringify(report, redactor.replacer, 2);
}
