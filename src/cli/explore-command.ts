import type { CliIo } from './main';

/** `kvm-mmu-lab explore`: placeholder until its issue lands; says so instead of pretending. */
export async function exploreCommand(_args: string[], io: CliIo): Promise<number> {
  io.err('kvm-mmu-lab explore: not available yet in this build\n');
  return 2;
}
