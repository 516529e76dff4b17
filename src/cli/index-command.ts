import type { CliIo } from './main';
import type { EraId } from '../engine/api';
import { indexKernelTree, isKernelTree, KernelIndex } from '../kernel/kernel-index';
import { engineFiles, engineNames, namesForEra } from '../kernel/engine-names';
import { isEraId, ERA_IDS } from '../kernel/version';
import type { Resolution } from '../kernel/types';

const USAGE = 'usage: kvm-mmu-lab index KERNEL_TREE [--json] [--era ERA] [--all-names]\n';

/**
 * `kvm-mmu-lab index KERNEL_TREE [--json] [--era ERA]`: index the MMU files of a kernel tree and map the
 * engine's kernel names to their definitions. Exit 0 when indexed, 2 on bad usage / not a kernel tree.
 * `--all-names` also checks names the engine uses only in other eras.
 */
export async function indexCommand(args: string[], io: CliIo): Promise<number> {
  let json = false;
  let allNames = false;
  let era: EraId | undefined;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') json = true;
    else if (a === '--all-names') allNames = true;
    else if (a === '--era' || a.startsWith('--era=')) {
      const v = a.startsWith('--era=') ? a.slice(6) : args[++i];
      if (!v || !isEraId(v)) {
        io.err(`kvm-mmu-lab index: unknown era '${v ?? ''}' (one of ${ERA_IDS.join(', ')})\n${USAGE}`);
        return 2;
      }
      era = v;
    } else if (a === '--help' || a === '-h') {
      io.out(USAGE);
      return 0;
    } else if (a.startsWith('-')) {
      io.err(`kvm-mmu-lab index: unknown option '${a}'\n${USAGE}`);
      return 2;
    } else positional.push(a);
  }
  if (positional.length !== 1) {
    io.err(USAGE);
    return 2;
  }
  const root = positional[0]!;
  if (!isKernelTree(root)) {
    io.err(`kvm-mmu-lab index: ${root} is not a kernel tree (no arch/x86/kvm directory)\n`);
    return 2;
  }
  const all = engineNames();
  const index = await indexKernelTree(root, { era, sliceMs: Infinity, extraFiles: engineFiles(all) });
  const names = allNames ? all : namesForEra(all, index.era);
  const { resolved, unresolved } = index.resolveAll(names);
  if (json) {
    io.out(`${JSON.stringify({ ...index.toJSON(unresolved), resolved: resolved.length, checked: names.length }, null, 2)}\n`);
  } else {
    io.out(summary(index, resolved, unresolved, names.length));
  }
  return 0;
}

function summary(index: KernelIndex, resolved: Resolution[], unresolved: Resolution[], checked: number): string {
  const lines: string[] = [];
  lines.push(`kernel tree: ${index.root}`);
  lines.push(`version: ${index.version?.text ?? 'unknown (no Makefile version)'}  era: ${index.era} (${index.eraSource})`);
  lines.push('files:');
  for (const f of index.files) {
    lines.push(`  ${f.file}: ${f.skipped ?? `${f.lines} lines, ${f.symbols.length} symbols${f.recovered ? `, ${f.recovered} recovered` : ''}, ${f.parseMs} ms`}`);
  }
  const pct = checked ? Math.round((resolved.length / checked) * 1000) / 10 : 100;
  lines.push(`engine names: ${resolved.length}/${checked} resolved (${pct}%)`);
  const renamed = resolved.filter((r) => r.via);
  if (renamed.length) lines.push(`  via renames: ${renamed.map((r) => `${r.name} -> ${r.via}`).join(', ')}`);
  if (unresolved.length) {
    lines.push('unresolved:');
    for (const u of unresolved) lines.push(`  ${u.name}: ${u.reason ?? 'not-found'}${u.detail ? ` (${u.detail})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
