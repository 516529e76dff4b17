import { ENGINE_NAME, ENGINE_VERSION } from '../engine/version';
import { runCommand } from './run-command';
import { checkCommand } from './check-command';
import { indexCommand } from './index-command';
import { exploreCommand } from './explore-command';

/** Exit codes shared by every subcommand: 0 all pass, 1 an expectation failed, 2 invalid input or usage. */
export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const USAGE = `usage: kvm-mmu-lab <command> [options]
  run FILE... [--json] [--profile ERA] [--bug BUG|none] [--variant NAME]
        run scenarios and print a verdict per file (exit 1 when an expectation fails)
  check FILE...
        validate scenarios, print file:line:col: message (exit 2 when a file is invalid)
  index KERNEL_TREE [--json] [--era ERA]
        index a kernel tree and map every engine name to its definition
  explore FILE [--json] [--max-depth N] [--max-preemptions N] [--all] [--save FILE] [--bug BUG|none] [--profile ERA]
        search the interleavings of an open schedule (exit 1 when a violation is found)
  version
        print the engine version
`;

/** Command-line entry point: `kvm-mmu-lab <command> ...`. Returns the exit status. */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return runCommand(rest, io);
    case 'check':
      return checkCommand(rest, io);
    case 'index':
      return indexCommand(rest, io);
    case 'explore':
      return exploreCommand(rest, io);
    case 'version':
    case '--version':
      io.out(`${ENGINE_NAME} ${ENGINE_VERSION}\n`);
      return EXIT_OK;
    case undefined:
    case 'help':
    case '--help':
      io.out(USAGE);
      return command === undefined ? EXIT_USAGE : EXIT_OK;
    default:
      io.err(`kvm-mmu-lab: unknown command '${command}'\n${USAGE}`);
      return EXIT_USAGE;
  }
}

function defaultIo(): CliIo {
  return { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`kvm-mmu-lab: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      process.exitCode = EXIT_USAGE;
    },
  );
}
