import * as fs from 'node:fs';
import type { CliIo } from './main';
import { parseScenario } from '../scenario/parser';
import { runScenarioAll, type RunResult } from '../scenario/runner';
import { loadEngine } from '../scenario/engine-loader';
import { BUG_IDS, ERAS } from '../scenario/vocabulary';
import type { BugId, EraId } from '../engine/api';

const USAGE = `usage: kvm-mmu-lab run FILE... [--json] [--profile ERA] [--bug BUG|none] [--variant NAME]
  --profile ERA   run on another kernel era (${ERAS.join(', ')})
  --bug BUG       run with a bug variant (${BUG_IDS.join(', ')}) or 'none' for the fix
  --variant NAME  run only one of the file's named variants
exit status: 0 all pass, 1 an expectation failed, 2 invalid input or usage
`;

interface FileReport {
  file: string;
  scenario: string;
  verdict: 'pass' | 'fail';
  violations: Array<{ id: string; step: number; thread: string; function: string | null }>;
  failedExpectations: string[];
  steps: number;
  traceHash: string;
  era?: string;
  bug?: string | null;
  variants?: Array<{ variant: string; era: string; bug: string | null; verdict: 'pass' | 'fail'; violations: FileReport['violations']; failedExpectations: string[]; steps: number; traceHash: string }>;
  diagnostics?: string[];
}

/** `kvm-mmu-lab run FILE...`: run scenarios, print a verdict per file (or JSON with --json). */
export async function runCommand(args: string[], io: CliIo): Promise<number> {
  const files: string[] = [];
  let json = false;
  let era: EraId | undefined;
  let bug: BugId | 'none' | undefined;
  let variant: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string | undefined => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      return args[++i];
    };
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') {
      io.out(USAGE);
      return 0;
    } else if (a === '--profile' || a.startsWith('--profile=')) {
      const v = value();
      if (!v || !(ERAS as readonly string[]).includes(v)) {
        io.err(`kvm-mmu-lab run: --profile needs one of ${ERAS.join(', ')}${v ? ` (got '${v}')` : ''}\n`);
        return 2;
      }
      era = v as EraId;
    } else if (a === '--bug' || a.startsWith('--bug=')) {
      const v = value();
      if (!v || (v !== 'none' && !(BUG_IDS as readonly string[]).includes(v))) {
        io.err(`kvm-mmu-lab run: --bug needs 'none' or one of ${BUG_IDS.join(', ')}${v ? ` (got '${v}')` : ''}\n`);
        return 2;
      }
      bug = v as BugId | 'none';
    } else if (a === '--variant' || a.startsWith('--variant=')) {
      variant = value();
      if (!variant) {
        io.err('kvm-mmu-lab run: --variant needs a name\n');
        return 2;
      }
    } else if (a.startsWith('-')) {
      io.err(`kvm-mmu-lab run: unknown option '${a}'\n${USAGE}`);
      return 2;
    } else files.push(a);
  }
  if (files.length === 0) {
    io.err(USAGE);
    return 2;
  }
  const engine = loadEngine();
  let status = 0;
  const reports: FileReport[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      const msg = `${file}: cannot read: ${e instanceof Error ? e.message : String(e)}`;
      io.err(msg + '\n');
      reports.push(invalidReport(file, [msg]));
      status = 2;
      continue;
    }
    const parsed = parseScenario(text, { file, era, bug });
    if (!parsed.scenario) {
      const lines = parsed.diagnostics.filter((d) => d.severity === 'error').map((d) => `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.message}`);
      io.err(lines.join('\n') + '\n');
      reports.push(invalidReport(file, lines));
      status = 2;
      continue;
    }
    if (!engine.factory) {
      io.err(`kvm-mmu-lab run: ${engine.error}\n`);
      return 2;
    }
    let results: RunResult[];
    try {
      results = runScenarioAll(parsed.scenario, engine.factory, { era, bug, variant });
    } catch (e) {
      const msg = `${file}: ${e instanceof Error ? e.message : String(e)}`;
      io.err(msg + '\n');
      reports.push(invalidReport(file, [msg]));
      status = 2;
      continue;
    }
    const report = toReport(file, parsed.scenario.name, results);
    reports.push(report);
    if (report.verdict === 'fail' && status === 0) status = 1;
    if (!json) io.out(readable(report, results));
  }
  if (json) io.out(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n');
  return status;
}

function invalidReport(file: string, diagnostics: string[]): FileReport {
  return { file, scenario: '', verdict: 'fail', violations: [], failedExpectations: ['invalid scenario'], steps: 0, traceHash: '', diagnostics };
}

function toReport(file: string, scenario: string, results: RunResult[]): FileReport {
  const base = results[0]!;
  const vio = (r: RunResult): FileReport['violations'] => r.violations.map((v) => ({ id: v.id, step: v.step, thread: v.thread, function: v.function }));
  const report: FileReport = {
    file,
    scenario,
    verdict: results.every((r) => r.verdict === 'pass') ? 'pass' : 'fail',
    violations: vio(base),
    failedExpectations: results.flatMap((r) => r.failedExpectations.map((f) => (r.variant ? `[${r.variant}] ${f}` : f))),
    steps: base.steps,
    traceHash: base.traceHash,
    era: base.era,
    bug: base.bug ?? null,
  };
  if (results.length > 1 || base.variant) {
    report.variants = results.filter((r) => r.variant).map((r) => ({ variant: r.variant!, era: r.era, bug: r.bug ?? null, verdict: r.verdict, violations: vio(r), failedExpectations: r.failedExpectations, steps: r.steps, traceHash: r.traceHash }));
  }
  return report;
}

function readable(report: FileReport, results: RunResult[]): string {
  const lines = [`${report.verdict === 'pass' ? 'PASS' : 'FAIL'} ${report.file} (${report.scenario})`];
  for (const r of results) {
    const ids = [...new Set(r.violations.map((v) => v.id))];
    const first = r.violations[0];
    const what = ids.length ? `violations ${ids.join(', ')}; first at step ${first!.step} in ${first!.thread}${first!.function ? ` (${first!.function})` : ''}` : 'no violations';
    lines.push(`  ${r.verdict === 'pass' ? 'ok  ' : 'FAIL'} ${(r.variant ?? 'base').padEnd(14)} era ${r.era}${r.bug ? `, bug ${r.bug}` : ''}: ${r.steps} steps, ${what}`);
    for (const f of r.failedExpectations) lines.push(`         - ${f}`);
  }
  return lines.join('\n') + '\n';
}
