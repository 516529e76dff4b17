import type { CliIo } from './main';

/** `kvm-mmu-lab index`: placeholder until its issue lands; says so instead of pretending. */
export async function indexCommand(_args: string[], io: CliIo): Promise<number> {
  io.err('kvm-mmu-lab index: not available yet in this build\n');
  return 2;
}
