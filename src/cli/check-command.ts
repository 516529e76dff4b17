import type { CliIo } from './main';

/** `kvm-mmu-lab check`: placeholder until its issue lands; says so instead of pretending. */
export async function checkCommand(_args: string[], io: CliIo): Promise<number> {
  io.err('kvm-mmu-lab check: not available yet in this build\n');
  return 2;
}
