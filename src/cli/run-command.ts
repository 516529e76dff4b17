import type { CliIo } from './main';

/** `kvm-mmu-lab run`: placeholder until its issue lands; says so instead of pretending. */
export async function runCommand(_args: string[], io: CliIo): Promise<number> {
  io.err('kvm-mmu-lab run: not available yet in this build\n');
  return 2;
}
