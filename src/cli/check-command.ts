import * as fs from 'node:fs';
import type { CliIo } from './main';
import { parseScenario } from '../scenario/parser';
import { loadEngine } from '../scenario/engine-loader';

const USAGE = 'usage: kvm-mmu-lab check FILE...\n';

/** `kvm-mmu-lab check FILE...`: validate only; prints `file:line:col: message`. Exit 0 valid, 2 invalid/usage. */
export async function checkCommand(args: string[], io: CliIo): Promise<number> {
  const files = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--help');
  if (args.includes('--help')) {
    io.out(USAGE);
    return 0;
  }
  if (unknown.length || files.length === 0) {
    io.err(unknown.length ? `kvm-mmu-lab check: unknown option ${unknown[0]}\n${USAGE}` : USAGE);
    return 2;
  }
  loadEngine(); // registers the engine's invariant catalogue (eras each invariant is checked in), if available
  let status = 0;
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      io.err(`${file}: cannot read: ${e instanceof Error ? e.message : String(e)}\n`);
      status = 2;
      continue;
    }
    const r = parseScenario(text, { file });
    for (const d of r.diagnostics) {
      io.out(`${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity === 'error' ? '' : d.severity + ': '}${d.message}\n`);
    }
    if (!r.scenario) status = 2;
  }
  return status;
}
