// Kernel symbol index: parser, version/era, rename table, demo tree, odd inputs, CLI.
import { test, describe, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createParser, indexSource, Slicer } from '../../../src/kernel/parser';
import { blankAttributes, looksBinary } from '../../../src/kernel/preprocess';
import { eraForVersion, parseMakefileVersion } from '../../../src/kernel/version';
import { aliasesOf } from '../../../src/kernel/aliases';
import { findKernelTree, indexKernelTree, indexTreeFile, KernelIndex } from '../../../src/kernel/kernel-index';
import { FALLBACK_ENGINE_NAMES, engineFiles, engineNames, namesForEra } from '../../../src/kernel/engine-names';
import { indexCommand } from '../../../src/cli/index-command';
import type { FileIndex } from '../../../src/kernel/types';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const demo = path.join(repoRoot, 'demo');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-kernel-index-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

async function indexText(file: string, text: string, opts = {}): Promise<FileIndex> {
  const parser = await createParser();
  try {
    return await indexSource(parser, file, text, opts);
  } finally {
    parser.delete();
  }
}

const SAMPLE = `
#define KVM_REQ_MMU_SYNC KVM_ARCH_REQ(2)
#define for_each_root(_kvm, _r) \\
	list_for_each_entry(_r, &(_kvm)->roots, link)

struct kvm_mmu_page {
	struct list_head link;
	union {
		int root_count;
		refcount_t tdp_mmu_root_count;
	};
#ifdef CONFIG_X86_64
	bool tdp_mmu_page;
#endif
	DECLARE_BITMAP(unsync_child_bitmap, 512);
	union kvm_mmu_page_role { unsigned word; struct { unsigned level:4; unsigned invalid:1; }; } role;
};

static __always_inline bool __must_check is_obsolete(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	return sp->role.invalid;
}

static void zap(struct kvm *kvm) __must_hold(&kvm->mmu_lock)
{
	struct kvm_mmu_page *r;

	for_each_root(kvm, r) {
		if (is_obsolete(kvm, r))
			continue;
	}
	kvm_make_all_cpus_request(kvm, KVM_REQ_MMU_SYNC);
	kvm_flush_remote_tlbs(kvm);
}

static int FNAME(fetch)(struct kvm_vcpu *vcpu)
{
	return FNAME(walk_addr)(vcpu);
}
`;

describe('version and era', () => {
  test('reads VERSION/PATCHLEVEL/SUBLEVEL/EXTRAVERSION', () => {
    const v = parseMakefileVersion('# x\nVERSION = 5\nPATCHLEVEL = 17\nSUBLEVEL = 0\nEXTRAVERSION = -rc5\nNAME = x\n');
    assert.deepEqual(v, { version: 5, patchlevel: 17, sublevel: 0, extraversion: '-rc5', text: '5.17.0-rc5' });
    assert.equal(parseMakefileVersion('all:\n\techo\n'), undefined);
  });
  test('maps versions to the era whose algorithms match', () => {
    const cases: Array<[string, string]> = [
      ['2.6.27', '2.6.27'], ['2.6.33', '2.6.27'], ['2.6.34', '2.6.34'], ['2.6.35.6', '2.6.35'], ['2.6.36', '3.10'],
      ['3.10.65', '3.10'], ['3.13.10', '3.11'], ['4.19', '3.11'], ['5.2.1', '3.10'], ['5.4.59', '3.11'],
      ['5.10', '5.15'], ['5.15.24', '5.15'], ['5.17.0', '5.17'], ['5.18.12', '5.18'], ['6.0', '5.18'],
      ['6.1.0', '6.1'], ['6.5', '6.1'], ['6.6', '6.19'], ['6.19.0', '6.19'], ['7.1.5', '6.19'],
    ];
    for (const [v, era] of cases) assert.equal(eraForVersion(v), era, v);
  });
});

describe('pre-processing', () => {
  test('blanks attribute macros keeping offsets', () => {
    const src = 'static __always_inline int f(void) __must_hold(&a->b)\n{\n}\n';
    const out = blankAttributes(src);
    assert.equal(out.length, src.length);
    assert.equal(out.split('\n').length, src.split('\n').length);
    assert.ok(!out.includes('__always_inline') && !out.includes('__must_hold'));
    assert.ok(out.includes('int f(void)'));
  });
  test('detects binary content', () => {
    assert.ok(looksBinary(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 0, 1])));
    assert.ok(!looksBinary(Buffer.from('int x;\n')));
  });
});

describe('parser', () => {
  let idx: FileIndex;
  before(async () => {
    idx = await indexText('arch/x86/kvm/mmu/paging_tmpl.h', SAMPLE);
  });
  const find = (name: string) => idx.symbols.find((s) => s.name === name);

  test('functions with kernel attributes, exact ranges', () => {
    const f = find('is_obsolete');
    assert.ok(f, 'is_obsolete');
    assert.equal(f.kind, 'function');
    const lines = SAMPLE.split('\n');
    assert.match(lines[f.line - 1]!, /is_obsolete\(/);
    assert.equal(lines[f.endLine - 1], '}');
    assert.ok(find('zap'));
  });
  test('call sites with lines, including iterator macros', () => {
    const z = find('zap')!;
    const callees = z.calls!.map((c) => c.callee);
    assert.deepEqual(callees, ['for_each_root', 'is_obsolete', 'kvm_make_all_cpus_request', 'kvm_flush_remote_tlbs']);
    const site = z.calls!.find((c) => c.callee === 'kvm_make_all_cpus_request')!;
    assert.match(SAMPLE.split('\n')[site.line - 1]!.slice(site.column - 1), /^kvm_make_all_cpus_request\(/);
    assert.equal(z.refs?.[0]?.callee, 'KVM_REQ_MMU_SYNC');
  });
  test('macros, requests, struct fields (anonymous unions, #ifdef, DECLARE_BITMAP, nested role)', () => {
    assert.equal(find('KVM_REQ_MMU_SYNC')?.kind, 'request');
    assert.equal(find('for_each_root')?.kind, 'macro');
    for (const f of ['link', 'root_count', 'tdp_mmu_root_count', 'tdp_mmu_page', 'unsync_child_bitmap', 'role']) {
      assert.equal(find(`kvm_mmu_page.${f}`)?.kind, 'field', f);
    }
    assert.equal(find('kvm_mmu_page_role.level')?.kind, 'field');
    assert.equal(find('kvm_mmu_page_role.invalid')?.container, 'kvm_mmu_page_role');
  });
  test('FNAME(x) indexed as template and as paging64_/paging32_/ept_ instances', () => {
    assert.ok(find('FNAME(fetch)'));
    for (const p of ['paging64_fetch', 'paging32_fetch', 'ept_fetch']) assert.equal(find(p)?.template, 'FNAME(fetch)');
    assert.deepEqual(find('FNAME(fetch)')!.calls!.map((c) => c.callee), ['FNAME(walk_addr)']);
  });
});

describe('odd input ends in a bounded, clear result', () => {
  test('50 MB file is skipped without reading it', async () => {
    const dir = path.join(tmp, 'big');
    fs.mkdirSync(path.join(dir, 'arch/x86/kvm/mmu'), { recursive: true });
    const f = path.join(dir, 'arch/x86/kvm/mmu/mmu.c');
    fs.writeFileSync(f, '');
    fs.truncateSync(f, 50 * 1024 * 1024);
    const r = await indexTreeFile(dir, 'arch/x86/kvm/mmu/mmu.c');
    assert.equal(r.skipped, 'skipped: file too large (50.0 MB > 8.0 MB)');
    assert.equal(r.symbols.length, 0);
  });
  test('binary junk named mmu.c is skipped', async () => {
    const junk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) & 0xff;
    const parser = await createParser();
    const r = await indexSource(parser, 'arch/x86/kvm/mmu/mmu.c', junk);
    parser.delete();
    assert.match(r.skipped ?? '', /binary content/);
  });
  test('half-written function still yields its neighbours, no throw', async () => {
    const src = 'static void ok(void)\n{\n\tfoo();\n}\n\nstatic void half(struct kvm *kvm\n{\n\tif (x\n\tbar(kvm);\n';
    const r = await indexText('x.c', src);
    assert.equal(r.skipped, undefined);
    assert.ok(r.symbols.some((s) => s.name === 'ok'));
  });
  test('parse timeout gives a clear skip', async () => {
    const big = 'int f(void) { return g(1, 2, 3); }\n'.repeat(40_000);
    const r = await indexText('x.c', big, { parseTimeoutMs: 1, sliceMs: 1 });
    assert.match(r.skipped ?? '', /^skipped: parse timed out after \d+ ms$/);
  });
  test('cancellation through the progress callback', async () => {
    const big = 'int f(void) { return g(1, 2, 3); }\n'.repeat(40_000);
    const r = await indexText('x.c', big, { sliceMs: 1, onProgress: () => true });
    assert.equal(r.skipped, 'skipped: cancelled');
  });
  test('cooperative indexing yields between slices', async () => {
    const slicer = new Slicer(5);
    const parser = await createParser();
    const body = Array.from({ length: 2000 }, (_, i) => `static int f${i}(int a)\n{\n\treturn g${i}(a);\n}\n`).join('\n');
    const r = await indexSource(parser, 'x.c', body, { sliceMs: 5 }, slicer);
    parser.delete();
    slicer.finish();
    assert.equal(r.symbols.length, 2000);
    assert.ok(slicer.yields > 0, 'yielded');
  });
});

describe('demo tree', () => {
  let index: KernelIndex;
  before(async () => {
    index = await indexKernelTree(demo, { extraFiles: engineFiles(engineNames()) });
  });
  test('is found and reads as 6.19', () => {
    assert.equal(findKernelTree([repoRoot]), demo);
    assert.equal(index.version?.text, '6.19.0');
    assert.equal(index.era, '6.19');
  });
  test('resolves every engine name used in the 6.19 era', () => {
    const { unresolved } = index.resolveAll(namesForEra(engineNames(), '6.19'));
    assert.deepEqual(unresolved.map((u) => u.name), []);
    const own = index.resolveAll(namesForEra(FALLBACK_ENGINE_NAMES, '6.19'));
    assert.deepEqual(own.unresolved.map((u) => u.name), []);
  });
  test('a "calls X" frame resolves to the line of that call', () => {
    const loc = index.resolveFrame({ fn: 'kvm_mmu_zap_all_fast', file: 'arch/x86/kvm/mmu/mmu.c', point: 'calls kvm_make_all_cpus_request' });
    assert.ok(loc?.exact);
    const line = fs.readFileSync(path.join(demo, loc.file), 'utf8').split('\n')[loc.line - 1]!;
    assert.match(line, /kvm_make_all_cpus_request\(kvm, KVM_REQ_MMU_FREE_OBSOLETE_ROOTS\)/);
    const entry = index.resolveFrame({ fn: 'kvm_mmu_zap_all_fast', point: 'entry' })!;
    assert.equal(entry.line, loc.symbol.line);
    const y = index.resolveFrame({ fn: 'kvm_zap_obsolete_pages', point: 'before yield' })!;
    assert.ok(y.exact);
    assert.match(fs.readFileSync(path.join(demo, y.file), 'utf8').split('\n')[y.line - 1]!, /cond_resched_rwlock_write/);
  });
  test('symbol under a position', () => {
    const f = index.definition('kvm_mmu_page.tdp_mmu_root_count', 'field')!;
    assert.equal(index.symbolAt(f.file, f.line)?.name, 'kvm_mmu_page.tdp_mmu_root_count');
    const fn = index.definition('kvm_tdp_mmu_put_root', 'function')!;
    assert.equal(index.symbolAt(fn.file, fn.line + 2)?.name, 'kvm_tdp_mmu_put_root');
  });
  test('rename table: old names resolve to the 6.19 definitions', () => {
    for (const [old, now] of [['kvm_mmu_invalidate_zap_all_pages', 'kvm_mmu_zap_all_fast'], ['mmu_notifier_seq', 'kvm.mmu_invalidate_seq'], ['kvm_tdp_mmu_invalidate_all_roots', 'kvm_tdp_mmu_invalidate_roots']] as const) {
      const r = index.lookup(old, old.startsWith('mmu_') ? 'field' : 'function');
      assert.ok(r.symbol, old);
      assert.equal(r.symbol.name, now);
      assert.ok(r.via);
    }
    assert.deepEqual(aliasesOf('kvm_mmu_zap_all_fast', '3.11'), ['kvm_mmu_invalidate_zap_all_pages']);
  });
  test('unknown names are listed with a reason, never dropped', () => {
    const { unresolved } = index.resolveAll([{ name: 'no_such_function', kind: 'function' }, { name: 'kvm_reload_remote_mmus', kind: 'function', eras: ['5.17'] }]);
    assert.deepEqual(unresolved.map((u) => [u.name, u.reason]), [['no_such_function', 'not-found'], ['kvm_reload_remote_mmus', 'not-in-era']]);
  });
  test('re-indexing one file replaces its symbols', async () => {
    const parser = await createParser();
    const fi = await indexSource(parser, 'arch/x86/kvm/mmu/spte.c', 'int brand_new_fn(void)\n{\n}\n');
    parser.delete();
    const copy = new KernelIndex(index.root, index.version, index.era, index.eraSource, index.files);
    copy.updateFile(fi);
    assert.ok(copy.definition('brand_new_fn'));
    assert.equal(copy.definition('make_spte'), undefined);
  });
});

describe('cli: kvm-mmu-lab index', () => {
  const run = async (args: string[]) => {
    let out = '';
    let err = '';
    const code = await indexCommand(args, { out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err };
  };
  test('--json on the demo tree', async () => {
    const r = await run([demo, '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.version, '6.19.0');
    assert.equal(j.era, '6.19');
    assert.deepEqual(j.unresolved, []);
    assert.ok(j.files.length >= 11);
    const s = j.symbols.find((x: { name: string }) => x.name === 'kvm_mmu_zap_all_fast');
    assert.equal(s.file, 'arch/x86/kvm/mmu/mmu.c');
    assert.ok(s.line > 0 && s.endLine > s.line);
  });
  test('readable summary and era override', async () => {
    const r = await run([demo, '--era', '5.18']);
    assert.equal(r.code, 0);
    assert.match(r.out, /era: 5\.18 \(override\)/);
    assert.match(r.out, /engine names: \d+\/\d+ resolved/);
  });
  test('bad usage and non-kernel trees exit 2', async () => {
    assert.equal((await run([])).code, 2);
    assert.equal((await run([demo, '--era', '4.4'])).code, 2);
    assert.equal((await run([demo, '--bogus'])).code, 2);
    const notTree = await run([tmp]);
    assert.equal(notTree.code, 2);
    assert.match(notTree.err, /not a kernel tree/);
  });
});

test('one rename table: the hover view and the kernel-index view agree', async () => {
  const { RENAMES } = await import('../../../src/knowledge/aliases');
  const { RENAME_ROWS, eraRangeOf } = await import('../../../src/knowledge/renames');
  const { ALIAS_GROUPS, aliasesOf: aliases } = await import('../../../src/kernel/aliases');
  const eras = ['2.6.27', '2.6.34', '2.6.35', '3.10', '3.11', '5.15', '5.17', '5.18', '6.1', '6.19'] as const;
  const keyOf = (e: string): number => eras.indexOf(e as (typeof eras)[number]);
  const problems: string[] = [];
  // hover → index: every same-object successor resolves from the old name in an era where it is current
  for (const r of RENAMES) {
    const row = RENAME_ROWS.find((x) => x.old === r.old)!;
    for (const s of row.same ?? []) {
      const [from, to] = eraRangeOf(s);
      const era = eras.find((e) => (!from || keyOf(e) >= keyOf(from)) && (!to || keyOf(e) <= keyOf(to)))!;
      const forms = row.qualifiedOnly ? [[`${row.struct}.${r.old}`, `${row.struct}.${s}`]] : [[r.old, s]];
      for (const [o, n] of forms) {
        if (!aliases(o!, era).includes(n!)) problems.push(`${o} does not reach ${n} in ${era}`);
        if (aliases(o!, era)[0] === undefined) problems.push(`${o}: no alias`);
      }
    }
  }
  // index → hover: every alias group is made of table rows (each member is an old name or a successor of one)
  const known = new Set(RENAME_ROWS.flatMap((x) => [x.old, ...x.successors, ...(x.struct ? [x.old, ...x.successors].map((n) => `${x.struct}.${n}`) : [])]));
  for (const g of ALIAS_GROUPS) for (const n of g) if (!known.has(n.name)) problems.push(`${n.name}: in an alias group but not in the table`);
  // and every hover rename whose old name the index knows points at a successor the index can reach
  for (const r of RENAMES) {
    const all = aliases(r.old);
    if (all.length && !r.successors.some((s) => all.includes(s))) problems.push(`${r.old}: index aliases ${all.join(', ')} miss every hover successor`);
  }
  assert.deepEqual(problems, []);
});
