/**
 * Kernel index benchmark (prints nothing). Figures:
 *   indexMsPer10kLines       median time to index (parse + extract) 10,000 lines of kernel-style C
 *   parseMsPer10kLines       median tree-sitter parse time alone for the same input
 *   maxBlockingMs            longest synchronous slice while indexing the same file in chunked mode (sliceMs 20)
 *   demoIndexMs              indexing the whole demo tree (all files), chunked mode
 *   demoEngineNamesResolved  "resolved/total" engine names for the demo tree
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createParser, indexSource, Slicer } from '../src/kernel/parser';
import { indexKernelTree } from '../src/kernel/kernel-index';
import { engineFiles, engineNames, namesForEra } from '../src/kernel/engine-names';

function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'demo', 'Makefile'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** ~10,000 lines of kernel-style C built from the demo's C files, repeated. */
function tenThousandLines(root: string): string {
  const parts = ['arch/x86/kvm/mmu/mmu.c', 'arch/x86/kvm/mmu/tdp_mmu.c', 'virt/kvm/kvm_main.c', 'arch/x86/include/asm/kvm_host.h'].map((f) =>
    fs.readFileSync(path.join(root, 'demo', f), 'utf8'),
  );
  const lines: string[] = [];
  for (let i = 0; lines.length < 10_000; i++) lines.push(...parts[i % parts.length]!.split('\n'));
  return lines.slice(0, 10_000).join('\n');
}

export async function run(): Promise<Record<string, unknown>> {
  const root = repoRoot();
  const text = tenThousandLines(root);
  const parser = await createParser();
  try {
    // warm-up (JIT of the WebAssembly parser)
    await indexSource(parser, 'bench.c', text, { sliceMs: Infinity });
    const index: number[] = [];
    const parse: number[] = [];
    for (let i = 0; i < 5; i++) {
      let t0 = performance.now();
      parser.parse(text)?.delete();
      parse.push(performance.now() - t0);
      t0 = performance.now();
      await indexSource(parser, 'bench.c', text, { sliceMs: Infinity });
      index.push(performance.now() - t0);
    }
    const slicer = new Slicer(20);
    await indexSource(parser, 'bench.c', text, { sliceMs: 20 }, slicer);
    slicer.finish();

    const all = engineNames();
    const t0 = performance.now();
    const demo = await indexKernelTree(path.join(root, 'demo'), { sliceMs: 20, extraFiles: engineFiles(all) });
    const demoIndexMs = performance.now() - t0;
    const names = namesForEra(all, demo.era);
    const { resolved } = demo.resolveAll(names);
    return {
      indexMsPer10kLines: Math.round(median(index) * 10) / 10,
      parseMsPer10kLines: Math.round(median(parse) * 10) / 10,
      maxBlockingMs: Math.round(slicer.maxSliceMs * 10) / 10,
      chunkedYields: slicer.yields,
      demoIndexMs: Math.round(demoIndexMs),
      demoSymbols: demo.symbols().length,
      demoEngineNamesResolved: `${resolved.length}/${names.length}`,
    };
  } finally {
    parser.delete();
  }
}
