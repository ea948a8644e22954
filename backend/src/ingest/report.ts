// The import report as printed on the console.
import type { ImportReport } from './importCsv.ts';

export function formatReport(report: ImportReport, maxProblems = 20): string {
  const lines = [
    `import run #${report.runId} (org ${report.orgId}) ${report.status} in ${report.seconds.toFixed(1)} s: ${report.file}`,
    `  rows read    ${report.rowsRead}`,
    `  inserted     ${report.inserted}`,
    `  updated      ${report.updated}`,
    `  unchanged    ${report.unchanged}`,
    `  quarantined  ${report.quarantined}  (not imported)`,
    `  flagged      ${report.flagged}  (imported with a warning)`
  ];
  if (report.error) lines.push(`  error        ${report.error}`);
  if (report.problemCount > 0) {
    lines.push(
      '',
      `${report.problemCount} problem(s); row N is the N-th data row (row 1 is the first row under the header):`
    );
    for (const p of report.problems.slice(0, maxProblems)) {
      const where = `row ${p.rowNumber}`.padEnd(11);
      const field = (p.field ?? '(row)').padEnd(17);
      lines.push(`  ${where} ${field} ${p.severity.padEnd(7)} ${p.reason}`);
    }
    const shown = Math.min(maxProblems, report.problems.length);
    if (report.problemCount > shown) {
      lines.push(
        `  ... and ${report.problemCount - shown} more (see import run #${report.runId}: ` +
          `SELECT * FROM quarantined_rows WHERE import_run_id = ${report.runId})`
      );
    }
  }
  return lines.join('\n');
}
