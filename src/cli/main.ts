import { ENGINE_NAME, ENGINE_VERSION } from '../engine/version';

/** Command-line entry point: `kvm-mmu-lab <command> ...`. */
export function main(argv: string[]): number {
  const [command] = argv;
  if (command === '--version' || command === 'version') {
    process.stdout.write(`${ENGINE_NAME} ${ENGINE_VERSION}\n`);
    return 0;
  }
  process.stderr.write('usage: kvm-mmu-lab <run|check|index|explore|version> ...\n');
  return 2;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
