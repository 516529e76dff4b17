import * as path from 'node:path';
import * as fs from 'node:fs';

/** Repository root from out-dir/test/unit/scenario or test/unit/scenario. */
export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

export const MINIMAL = `# minimal
scenario: minimal
vm: { era: "5.18", mmu: tdp, vcpus: 2, memslots: [{ id: 0, baseGfn: 0x0, npages: 512, hva: 0x7f0000000000 }] }
threads:
  vcpu0: [ { page_fault: { gfn: 0x10, write: true } }, enter_guest ]
  ioctl: [ zap_all_fast ]
schedule: sequential
expect:
  violations: []
`;
