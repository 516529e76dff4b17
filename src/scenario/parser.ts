/**
 * Parser + validator for `*.kvmmmu.yaml` scenarios. Total: every input ends in diagnostics or a valid
 * scenario (never an exception). Diagnostics carry exact ranges and say how to fix the problem.
 */
import type { BugId, EraId, GuestPageTableConfig, MemslotConfig, MmuKind, Op, RequestName, Schedule, ScheduleSlice, ThreadKind, VmConfig, WaitCondition } from '../engine/api';
import { parseYaml, mapGet, type YNode, type YMapEntry } from './yaml-tree';
import { closest, didYouMean } from './suggest';
import {
  ASSERT_ROOTS, BUG_IDS, BUG_INFO, ERAS, GPTE_FIELDS, MMU_AVAILABILITY, MMU_KINDS, REQUESTS, REQUEST_AVAILABILITY, STEP_NAMES,
  HELPER_THREADS, THREAD_KINDS, VM_FIELDS, fieldAvailability, helperThreads, invariantDoc, knownInvariantIds, stepSpec, type StepSpec,
} from './vocabulary';
import {
  MATCHER_OPS, type Assertion, type AtBlock, type AtPoint, type Diagnostic, type Expectations, type Matcher, type MatcherOp, type ParseOptions,
  type ParseResult, type Range, type Scenario, type ScenarioThread, type ScenarioVariant, type ScheduleInfo, type Severity, type StepLabel,
} from './types';

export const TOP_KEYS = ['scenario', 'description', 'vm', 'bug', 'threads', 'schedule', 'expect', 'variants'] as const;
export const VM_KEYS = ['era', 'mmu', 'vcpus', 'memslots', 'guestPageTables', 'guestCr3', 'guestModeBits', 'maxMmuPages', 'hashBuckets', 'hostBacking'] as const;
export const MEMSLOT_KEYS = ['id', 'baseGfn', 'npages', 'hva', 'flags'] as const;
export const GPT_KEYS = ['gfn', 'level', 'entries'] as const;
export const GPT_ENTRY_KEYS = ['index', 'gfn', 'present', 'writable', 'user', 'huge'] as const;
export const MODE_BITS = ['cr0_wp', 'cr4_pae', 'cr4_pge', 'efer_nx', 'cr4_smep', 'cr4_smap'] as const;
export const THREAD_KEYS = ['kind', 'vcpu', 'steps'] as const;
export const SLICE_KEYS = ['thread', 'until', 'label'] as const;
export const UNTIL_WORDS = ['done', 'op'] as const;
export const EXPECT_KEYS = ['violations', 'absent', 'allowExtra', 'at'] as const;
export const AT_KEYS = ['after', 'assert'] as const;
export const VARIANT_KEYS = ['bug', 'era', 'expect', 'description'] as const;
export const WAIT_KEYS = ['requestServiced', 'vcpu', 'threadDone', 'point', 'thread'] as const;
const MAX_VCPUS = 64;
const MAX_THREADS = 32;
const MAX_STEPS = 10000;

/** Parse and validate scenario text. Never throws. */
export function parseScenario(text: string, options: ParseOptions = {}): ParseResult {
  try {
    return new Validator(text, options).run();
  } catch (e) {
    // Defensive: a validator bug must still end in a diagnostic, not a crash.
    return {
      diagnostics: [{ severity: 'error', code: 'internal', message: `internal validator error: ${e instanceof Error ? e.message : String(e)}`, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } }],
    };
  }
}

export function headerComment(text: string): string {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t.startsWith('#')) out.push(t.replace(/^#\s?/, ''));
    else if (t === '' && out.length === 0) continue;
    else if (t === '') out.push('');
    else break;
  }
  return out.join('\n').trim();
}

interface NumCheck { min?: number; max?: number }

class Validator {
  private readonly diags: Diagnostic[] = [];
  private era: EraId = '6.19';
  private mmu: MmuKind = 'tdp';
  private vcpus = 1;
  private memslots: MemslotConfig[] = [];
  private readonly createdSlots: MemslotConfig[] = [];
  private threadNames: string[] = [];
  private readonly gfnChecks: Array<{ gfn: number; range: Range; what: string }> = [];
  private readonly hvaChecks: Array<{ hva: number; npages: number; range: Range; what: string }> = [];
  private readonly requestChecks: Array<{ request: RequestName; range: Range; era: EraId }> = [];
  private readonly eraFieldChecks: Array<{ path: string; range: Range; era: EraId }> = [];

  constructor(private readonly text: string, private readonly options: ParseOptions) {}

  private add(severity: Severity, code: string, range: Range, message: string): void {
    if (this.diags.length < 500) this.diags.push({ severity, code, range, message });
  }
  private error(code: string, range: Range, message: string): void {
    this.add('error', code, range, message);
  }
  private warn(code: string, range: Range, message: string): void {
    this.add('warning', code, range, message);
  }

  run(): ParseResult {
    const ydoc = parseYaml(this.text);
    this.diags.push(...ydoc.diagnostics);
    const zero = ydoc.toRange(0, 0);
    const root = ydoc.root;
    if (!root || root.kind !== 'map') {
      this.error('not-a-map', root?.range ?? zero, "a scenario is a YAML mapping; start with 'scenario: NAME', then 'vm:', 'threads:', 'schedule:' and 'expect:' (see docs/scenario-format.md)");
      return { diagnostics: this.sorted() };
    }
    this.checkKeys(root, TOP_KEYS, 'top-level key');

    const nameNode = mapGet(root, 'scenario');
    let name = '';
    if (!nameNode) this.error('missing', keyLine(root), "missing 'scenario: NAME' (a short kebab-case name for the scenario)");
    else name = this.str(nameNode.value, 'scenario name') ?? '';
    const descNode = mapGet(root, 'description');
    const description = descNode ? this.str(descNode.value, 'description') : undefined;

    // --- vm -----------------------------------------------------------------------------------
    const vmEntry = mapGet(root, 'vm');
    let config: VmConfig | undefined;
    if (!vmEntry) this.error('missing', keyLine(root), "missing 'vm:' (era, mmu, vcpus and memslots of the simulated VM)");
    else config = this.vm(vmEntry.value);

    // --- bug ----------------------------------------------------------------------------------
    const bugEntry = mapGet(root, 'bug');
    let bug: BugId | undefined;
    if (bugEntry) bug = this.bugValue(bugEntry.value);
    if (this.options.bug !== undefined) bug = this.options.bug === 'none' ? undefined : this.options.bug;
    if (config) {
      if (bug) config.bug = bug;
      else delete config.bug;
      if (bug) this.checkBugEra(bug, this.era, bugEntry?.value.range ?? mapGet(root, 'vm')?.keyRange ?? zero);
    }

    // --- threads ------------------------------------------------------------------------------
    const threadsEntry = mapGet(root, 'threads');
    const labels: StepLabel[] = [];
    let threads: ScenarioThread[] = [];
    if (!threadsEntry) this.error('missing', keyLine(root), "missing 'threads:' (e.g. 'threads: { vcpu0: [ { page_fault: { gfn: 0x10 } } ] }')");
    else threads = this.threads(threadsEntry.value, labels);
    this.threadNames = threads.map((t) => t.id);
    // wait conditions refer to threads: resolved after all threads are known
    for (const t of threads) this.checkWaits(t);

    // --- schedule -----------------------------------------------------------------------------
    const schedEntry = mapGet(root, 'schedule');
    const schedule = schedEntry ? this.schedule(schedEntry.value) : { schedule: { kind: 'sequential' } as Schedule, sliceLabels: [], sliceRanges: [], finish: true, range: keyLine(root) };
    for (const l of schedule.sliceLabels) if (l) this.checkLabelUnique(l, labels, schedule.sliceRanges[schedule.sliceLabels.indexOf(l)] ?? schedule.range);

    // --- expect -------------------------------------------------------------------------------
    const expectEntry = mapGet(root, 'expect');
    const allLabels = new Set([...labels.map((l) => l.label), ...schedule.sliceLabels.filter((x): x is string => !!x)]);
    let expect: Expectations = { at: [], range: keyLine(root) };
    if (!expectEntry) this.warn('missing', keyLine(root), "no 'expect:' block: the scenario always passes; add 'expect: { violations: [] }' or the violations it must show");
    else expect = this.expect(expectEntry.value, allLabels, schedule);

    // --- variants -----------------------------------------------------------------------------
    const variants: ScenarioVariant[] = [];
    const varEntry = mapGet(root, 'variants');
    if (varEntry) {
      if (varEntry.value.kind !== 'map') this.error('type', varEntry.value.range, "'variants' is a mapping of variant name to { bug, era, expect }");
      else {
        for (const e of varEntry.value.entries) {
          const v = this.variant(e, allLabels, schedule);
          if (v) variants.push(v);
        }
      }
    }

    // --- cross checks that need the whole file --------------------------------------------------
    this.crossChecks();

    const diagnostics = this.sorted();
    if (diagnostics.some((d) => d.severity === 'error') || !config) return { diagnostics };
    const scenario: Scenario = {
      file: this.options.file,
      name,
      description,
      header: headerComment(this.text),
      config,
      threads,
      schedule,
      expect,
      labels,
      variants,
      ranges: { scenario: nameNode?.keyRange ?? zero, vm: vmEntry?.keyRange ?? zero, bug: bugEntry?.value.range, era: mapGet(vmEntry?.value, 'era')?.value.range },
      ops: threads.map((t) => t.ops),
    };
    return { scenario, diagnostics };
  }

  private sorted(): Diagnostic[] {
    return [...this.diags].sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  }

  // ---------------------------------------------------------------------------------------------
  // primitives
  // ---------------------------------------------------------------------------------------------

  private checkKeys(node: YNode & { kind: 'map' }, allowed: readonly string[], what: string): void {
    for (const e of node.entries) {
      if (!allowed.includes(e.key)) this.error('unknown-key', e.keyRange, `unknown ${what} '${e.key}'${didYouMean(e.key, allowed)}`);
    }
  }

  private str(node: YNode, what: string): string | undefined {
    if (node.kind === 'scalar' && (typeof node.value === 'string' || typeof node.value === 'number' || typeof node.value === 'boolean')) {
      const s = String(node.value);
      if (s.length > 0) return s;
    }
    this.error('type', node.range, `${what} must be a non-empty string`);
    return undefined;
  }

  private num(node: YNode, what: string, check: NumCheck = {}): number | undefined {
    let v: number | undefined;
    if (node.kind === 'scalar') {
      if (typeof node.value === 'number' && Number.isFinite(node.value)) v = node.value;
      else if (typeof node.value === 'bigint') v = Number(node.value);
      else if (typeof node.value === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(node.value.trim())) v = Number(node.value.trim());
    }
    if (v === undefined || !Number.isInteger(v)) {
      this.error('type', node.range, `${what} must be an integer (decimal or 0x hex), got ${describe(node)}`);
      return undefined;
    }
    if (check.min !== undefined && v < check.min) {
      this.error('range', node.range, `${what} must be at least ${check.min}, got ${v}`);
      return undefined;
    }
    if (check.max !== undefined && v > check.max) {
      this.error('range', node.range, `${what} must be at most ${check.max}, got ${v}`);
      return undefined;
    }
    return v;
  }

  private bool(node: YNode, what: string): boolean | undefined {
    if (node.kind === 'scalar' && typeof node.value === 'boolean') return node.value;
    this.error('type', node.range, `${what} must be true or false, got ${describe(node)}`);
    return undefined;
  }

  private oneOf<T extends string>(node: YNode, allowed: readonly T[], what: string): T | undefined {
    if (node.kind !== 'scalar' || node.value === null || typeof node.value === 'object') {
      this.error('type', node.range, `${what} must be one of: ${allowed.join(', ')}`);
      return undefined;
    }
    const raw = node.kind === 'scalar' && typeof node.value === 'number' ? node.text.replace(/^["']|["']$/g, '') : String(node.value);
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.error('unknown-value', node.range, `unknown ${what} '${raw}'${didYouMean(raw, allowed)}`);
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // vm
  // ---------------------------------------------------------------------------------------------

  private vm(node: YNode): VmConfig | undefined {
    if (node.kind !== 'map') {
      this.error('type', node.range, "'vm' must be a mapping: { era: \"5.18\", mmu: tdp, vcpus: 2, memslots: [...] }");
      return undefined;
    }
    this.checkKeys(node, VM_KEYS, 'vm field');
    const eraE = mapGet(node, 'era');
    let era: EraId | undefined;
    if (!eraE) this.error('missing', node.range, `vm needs 'era' (one of ${ERAS.join(', ')}); quote it, e.g. era: "3.10"`);
    else era = this.oneOf(eraE.value, ERAS, 'era');
    if (this.options.era) era = this.options.era;
    if (era) this.era = era;
    const mmuE = mapGet(node, 'mmu');
    let mmu: MmuKind | undefined;
    if (!mmuE) this.error('missing', node.range, `vm needs 'mmu' (one of ${MMU_KINDS.join(', ')})`);
    else mmu = this.oneOf(mmuE.value, MMU_KINDS, 'mmu kind');
    if (mmu) {
      this.mmu = mmu;
      if (era && !MMU_AVAILABILITY[mmu].includes(era)) {
        this.error('era-mmu', mmuE?.value.range ?? node.range, `mmu '${mmu}' does not exist in era ${era}${mmu === 'tdp' ? " (the TDP MMU arrived in 5.10); use 'direct-shadow' or an era from 5.15" : ''}`);
      }
    }
    const vcE = mapGet(node, 'vcpus');
    const vcpus = vcE ? this.num(vcE.value, 'vcpus', { min: 1, max: MAX_VCPUS }) ?? 1 : 1;
    this.vcpus = vcpus;
    const msE = mapGet(node, 'memslots');
    const memslots: MemslotConfig[] = [];
    if (!msE) this.error('missing', node.range, "vm needs 'memslots', e.g. memslots: [{ id: 0, baseGfn: 0x0, npages: 512, hva: 0x7f0000000000 }]");
    else if (msE.value.kind !== 'seq') this.error('type', msE.value.range, "'memslots' must be a list of { id, baseGfn, npages, hva }");
    else {
      if (msE.value.items.length === 0) this.error('range', msE.value.range, 'at least one memslot is needed');
      for (const item of msE.value.items) {
        const slot = this.memslot(item);
        if (slot) {
          for (const other of memslots) this.checkSlotOverlap(slot, other, item.range);
          memslots.push(slot);
        }
      }
    }
    this.memslots = memslots;
    const config: VmConfig = { era: era ?? '6.19', mmu: mmu ?? 'tdp', vcpus, memslots };
    const gptE = mapGet(node, 'guestPageTables');
    if (gptE) {
      if (gptE.value.kind !== 'seq') this.error('type', gptE.value.range, "'guestPageTables' must be a list of { gfn, level, entries: [{ index, gfn, ... }] }");
      else {
        const tables: GuestPageTableConfig[] = [];
        for (const item of gptE.value.items) {
          const t = this.guestTable(item);
          if (t) tables.push(t);
        }
        config.guestPageTables = tables;
      }
      if (mmu === 'tdp' || mmu === 'direct-shadow') this.warn('unused', gptE.keyRange, `guest page tables are only used by shadow or nested paging, not by mmu '${mmu}'`);
    }
    const cr3E = mapGet(node, 'guestCr3');
    if (cr3E) {
      if (cr3E.value.kind !== 'seq') this.error('type', cr3E.value.range, "'guestCr3' is a list with one gfn per vCPU");
      else {
        const list: number[] = [];
        cr3E.value.items.forEach((it, i) => {
          const g = this.num(it, `guestCr3[${i}]`, { min: 0 });
          if (g !== undefined) {
            list.push(g);
            this.gfnChecks.push({ gfn: g, range: it.range, what: `guestCr3[${i}]` });
            if (config.guestPageTables && !config.guestPageTables.some((t) => t.gfn === g)) this.warn('cr3', it.range, `guestCr3[${i}] = 0x${g.toString(16)} is not one of the guestPageTables; add a table with that gfn`);
          }
        });
        if (list.length > vcpus) this.error('range', cr3E.value.range, `guestCr3 has ${list.length} entries but the VM has ${vcpus} vCPUs`);
        config.guestCr3 = list;
      }
    }
    const modeE = mapGet(node, 'guestModeBits');
    if (modeE) {
      if (modeE.value.kind !== 'map') this.error('type', modeE.value.range, `'guestModeBits' maps bit names (${MODE_BITS.join(', ')}) to true/false`);
      else {
        this.checkKeys(modeE.value, MODE_BITS, 'guest mode bit');
        const bits: Record<string, boolean> = {};
        for (const e of modeE.value.entries) {
          const b = this.bool(e.value, e.key);
          if (b !== undefined && (MODE_BITS as readonly string[]).includes(e.key)) bits[e.key] = b;
        }
        config.guestModeBits = bits;
      }
    }
    const maxE = mapGet(node, 'maxMmuPages');
    if (maxE) {
      const v = this.num(maxE.value, 'maxMmuPages', { min: 1, max: 1 << 20 });
      if (v !== undefined) config.maxMmuPages = v;
    }
    const hbE = mapGet(node, 'hashBuckets');
    if (hbE) {
      const v = this.num(hbE.value, 'hashBuckets', { min: 1, max: 4096 });
      if (v !== undefined) config.hashBuckets = v;
    }
    const hostE = mapGet(node, 'hostBacking');
    if (hostE) {
      const v = this.oneOf(hostE.value, ['all', 'none'] as const, 'hostBacking');
      if (v) config.hostBacking = v;
    }
    return config;
  }

  private memslot(node: YNode, what = 'memslot'): MemslotConfig | undefined {
    if (node.kind !== 'map') {
      this.error('type', node.range, `a ${what} is { id, baseGfn, npages, hva }`);
      return undefined;
    }
    this.checkKeys(node, MEMSLOT_KEYS, `${what} field`);
    const need = (k: string): YNode | undefined => {
      const e = mapGet(node, k);
      if (!e) this.error('missing', node.range, `${what} needs '${k}'`);
      return e?.value;
    };
    const idN = need('id');
    const baseN = need('baseGfn');
    const npN = need('npages');
    const hvaN = need('hva');
    const id = idN ? this.num(idN, `${what} id`, { min: 0, max: 32767 }) : undefined;
    const baseGfn = baseN ? this.num(baseN, 'baseGfn', { min: 0 }) : undefined;
    const npages = npN ? this.num(npN, 'npages', { min: 1, max: 1 << 24 }) : undefined;
    const hva = hvaN ? this.num(hvaN, 'hva', { min: 0 }) : undefined;
    if (hva !== undefined && hva % 4096 !== 0) this.error('range', hvaN!.range, `hva 0x${hva.toString(16)} must be page aligned (a multiple of 0x1000)`);
    let flags: MemslotConfig['flags'];
    const flE = mapGet(node, 'flags');
    if (flE) {
      if (flE.value.kind !== 'seq') this.error('type', flE.value.range, "memslot 'flags' is a list of 'dirty-log' / 'readonly'");
      else {
        flags = [];
        for (const it of flE.value.items) {
          const fv = this.oneOf(it, ['dirty-log', 'readonly'] as const, 'memslot flag');
          if (fv) flags.push(fv);
        }
      }
    }
    if (id === undefined || baseGfn === undefined || npages === undefined || hva === undefined) return undefined;
    const slot: MemslotConfig = { id, baseGfn, npages, hva };
    if (flags) slot.flags = flags;
    return slot;
  }

  private checkSlotOverlap(a: MemslotConfig, b: MemslotConfig, range: Range): void {
    if (a.id === b.id) this.error('duplicate', range, `memslot id ${a.id} is used twice; give each memslot its own id`);
    else if (a.baseGfn < b.baseGfn + b.npages && b.baseGfn < a.baseGfn + a.npages) {
      this.error('overlap', range, `memslot ${a.id} (gfn 0x${a.baseGfn.toString(16)}..0x${(a.baseGfn + a.npages - 1).toString(16)}) overlaps memslot ${b.id}; move its baseGfn`);
    }
  }

  private guestTable(node: YNode): GuestPageTableConfig | undefined {
    if (node.kind !== 'map') {
      this.error('type', node.range, 'a guest page table is { gfn, level, entries: [{ index, gfn, present, writable, user, huge }] }');
      return undefined;
    }
    this.checkKeys(node, GPT_KEYS, 'guest page table field');
    const gE = mapGet(node, 'gfn');
    const lE = mapGet(node, 'level');
    if (!gE) this.error('missing', node.range, "guest page table needs 'gfn'");
    if (!lE) this.error('missing', node.range, "guest page table needs 'level' (1..4)");
    const gfn = gE ? this.num(gE.value, 'gfn', { min: 0 }) : undefined;
    if (gfn !== undefined && gE) this.gfnChecks.push({ gfn, range: gE.value.range, what: 'guest page table gfn' });
    const level = lE ? this.num(lE.value, 'level', { min: 1, max: 5 }) : undefined;
    const entries: GuestPageTableConfig['entries'] = [];
    const eE = mapGet(node, 'entries');
    if (eE) {
      if (eE.value.kind !== 'seq') this.error('type', eE.value.range, "'entries' is a list of { index, gfn, present, writable, user, huge }");
      else {
        const seen = new Set<number>();
        for (const it of eE.value.items) {
          const entry = this.gpte(it, true);
          if (entry && 'index' in entry && entry.index !== undefined) {
            if (seen.has(entry.index)) this.error('duplicate', it.range, `entry index ${entry.index} appears twice in this table`);
            seen.add(entry.index);
            entries.push(entry as GuestPageTableConfig['entries'][number]);
          }
        }
      }
    }
    if (gfn === undefined || level === undefined) return undefined;
    return { gfn, level, entries };
  }

  /** A guest PTE value { gfn, present, writable, user, huge } (with index when `withIndex`). */
  private gpte(node: YNode, withIndex: boolean): ({ index?: number; gfn: number; present?: boolean; writable?: boolean; user?: boolean; huge?: boolean }) | undefined {
    if (node.kind !== 'map') {
      this.error('type', node.range, `a guest PTE is { ${withIndex ? 'index, ' : ''}gfn, present, writable, user, huge }`);
      return undefined;
    }
    this.checkKeys(node, withIndex ? GPT_ENTRY_KEYS : GPTE_FIELDS, 'guest PTE field');
    const out: { index?: number; gfn: number; present?: boolean; writable?: boolean; user?: boolean; huge?: boolean } = { gfn: 0 };
    let ok = true;
    if (withIndex) {
      const iE = mapGet(node, 'index');
      if (!iE) {
        this.error('missing', node.range, "guest PTE needs 'index' (0..511)");
        ok = false;
      } else {
        const i = this.num(iE.value, 'index', { min: 0, max: 511 });
        if (i === undefined) ok = false;
        else out.index = i;
      }
    }
    const gE = mapGet(node, 'gfn');
    if (!gE) {
      this.error('missing', node.range, "guest PTE needs 'gfn' (the frame it points to)");
      ok = false;
    } else {
      const g = this.num(gE.value, 'gfn', { min: 0 });
      if (g === undefined) ok = false;
      else {
        out.gfn = g;
        this.gfnChecks.push({ gfn: g, range: gE.value.range, what: 'guest PTE gfn' });
      }
    }
    for (const k of ['present', 'writable', 'user', 'huge'] as const) {
      const e = mapGet(node, k);
      if (e) {
        const b = this.bool(e.value, k);
        if (b !== undefined) out[k] = b;
      }
    }
    return ok ? out : undefined;
  }

  private bugValue(node: YNode): BugId | undefined {
    if (node.kind === 'scalar' && (node.value === null || node.value === 'none')) return undefined;
    return this.oneOf(node, BUG_IDS, 'bug variant');
  }

  private checkBugEra(bug: BugId, era: EraId, range: Range): void {
    const info = BUG_INFO.find((b) => b.id === bug);
    if (info && !info.eras.includes(era)) {
      this.warn('era-bug', range, `bug '${bug}' (${info.year}) belongs to era ${info.eras.join('/')}, not ${era}; the engine may ignore it in this era`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // threads and steps
  // ---------------------------------------------------------------------------------------------

  private threads(node: YNode, labels: StepLabel[]): ScenarioThread[] {
    if (node.kind !== 'map') {
      this.error('type', node.range, "'threads' maps a thread name to its list of steps, e.g. threads: { vcpu0: [enter_guest], ioctl: [zap_all_fast] }");
      return [];
    }
    if (node.entries.length === 0) this.error('range', node.range, 'at least one thread is needed');
    if (node.entries.length > MAX_THREADS) this.error('range', node.range, `at most ${MAX_THREADS} threads`);
    const out: ScenarioThread[] = [];
    const usedVcpus = new Map<number, string>();
    for (const e of node.entries.slice(0, MAX_THREADS)) {
      if (!/^[A-Za-z_][\w.-]*$/.test(e.key)) {
        this.error('thread-name', e.keyRange, `thread name '${e.key}' must start with a letter and use letters, digits, '_', '-' or '.'`);
        continue;
      }
      const t = this.thread(e, labels);
      if (!t) continue;
      if (t.kind === 'vcpu' && t.vcpu !== undefined) {
        const other = usedVcpus.get(t.vcpu);
        if (other) this.error('duplicate', e.keyRange, `vCPU ${t.vcpu} is already driven by thread '${other}'; one thread per vCPU`);
        usedVcpus.set(t.vcpu, t.id);
      }
      out.push(t);
    }
    return out;
  }

  private thread(e: YMapEntry, labels: StepLabel[]): ScenarioThread | undefined {
    let stepsNode: YNode | undefined;
    let kind: ThreadKind | undefined;
    let vcpu: number | undefined;
    const inferred = inferKind(e.key);
    if (e.value.kind === 'map') {
      this.checkKeys(e.value, THREAD_KEYS, 'thread field');
      const kE = mapGet(e.value, 'kind');
      if (kE) kind = this.oneOf(kE.value, THREAD_KINDS, 'thread kind');
      const vE = mapGet(e.value, 'vcpu');
      if (vE) vcpu = this.num(vE.value, 'vcpu', { min: 0 });
      stepsNode = mapGet(e.value, 'steps')?.value;
      if (!stepsNode) this.error('missing', e.keyRange, `thread '${e.key}' needs 'steps: [...]'`);
    } else if (e.value.kind === 'seq') stepsNode = e.value;
    else if (e.value.kind === 'scalar' && typeof e.value.value === 'string') {
      // a single step written inline: `ioctl: zap_all_fast`
      stepsNode = { kind: 'seq', items: [e.value], range: e.value.range, flow: true };
    } else {
      this.error('type', e.value.range, `thread '${e.key}' must be a list of steps, e.g. [ { page_fault: { gfn: 0x10 } }, enter_guest ]`);
      return undefined;
    }
    kind = kind ?? inferred.kind;
    if (vcpu === undefined && kind === 'vcpu') vcpu = inferred.vcpu;
    if (kind === 'vcpu') {
      if (vcpu === undefined) this.error('vcpu', e.keyRange, `vCPU thread '${e.key}' needs a vCPU index: name it vcpuN or write { kind: vcpu, vcpu: N, steps: [...] }`);
      else if (vcpu >= this.vcpus) this.error('vcpu', e.keyRange, `thread '${e.key}' drives vCPU ${vcpu} but the VM has ${this.vcpus} vCPU${this.vcpus === 1 ? '' : 's'}; raise vm.vcpus to ${vcpu + 1}`);
    }
    const ops: Op[] = [];
    const opRanges: Range[] = [];
    if (stepsNode) {
      if (stepsNode.kind !== 'seq') this.error('type', stepsNode.range, `the steps of '${e.key}' must be a list`);
      else {
        if (stepsNode.items.length > MAX_STEPS) this.error('range', stepsNode.range, `at most ${MAX_STEPS} steps per thread`);
        for (const item of stepsNode.items.slice(0, MAX_STEPS)) {
          const r = this.step(item, e.key, kind, ops.length, labels);
          if (r) {
            ops.push(r);
            opRanges.push(item.range);
          }
        }
      }
    }
    const t: ScenarioThread = { id: e.key, kind, ops, opRanges, range: e.keyRange };
    if (vcpu !== undefined) t.vcpu = vcpu;
    return t;
  }

  private step(node: YNode, thread: string, kind: ThreadKind, opIndex: number, labels: StepLabel[]): Op | undefined {
    let opName: string;
    let opRange: Range;
    let args: YNode | undefined;
    if (node.kind === 'scalar') {
      if (typeof node.value !== 'string') {
        this.error('type', node.range, `a step is a step name or { name: { fields } }, got ${describe(node)}`);
        return undefined;
      }
      opName = node.value;
      opRange = node.range;
    } else if (node.kind === 'map') {
      const opEntries = node.entries.filter((x) => x.key !== 'label');
      const labelE = mapGet(node, 'label');
      if (opEntries.length !== 1) {
        this.error('step-shape', node.range, opEntries.length === 0 ? "a step needs a step name, e.g. { page_fault: { gfn: 0x10 } }" : `one step per list item; found ${opEntries.map((x) => `'${x.key}'`).join(', ')} — put each on its own '- ' line`);
        return undefined;
      }
      const oe = opEntries[0]!;
      opName = oe.key;
      opRange = oe.keyRange;
      args = oe.value;
      if (labelE) {
        const l = this.str(labelE.value, 'label');
        if (l) {
          this.checkLabelUnique(l, labels, labelE.value.range);
          labels.push({ thread, opIndex, label: l, range: labelE.value.range });
        }
      }
    } else {
      this.error('type', node.range, 'a step is a step name or { name: { fields } }, not a list');
      return undefined;
    }
    const spec = stepSpec(opName);
    if (!spec) {
      this.error('unknown-step', opRange, `unknown step '${opName}'${didYouMean(opName, STEP_NAMES)}`);
      return undefined;
    }
    if (spec.eras && !spec.eras.includes(this.era)) {
      this.error('era-step', opRange, `step '${opName}' (${spec.kernel}) does not exist in era ${this.era}; it exists in ${spec.eras[0]}${spec.eras.length > 1 ? '..' + spec.eras[spec.eras.length - 1] : ''}${opName === 'zap_all_fast' ? "; use 'zap_all' for older eras" : ''}`);
    }
    if (!spec.threads.includes(kind)) {
      this.warn('thread-kind', opRange, `step '${opName}' is normally run by a ${spec.threads.join('/')} thread, not by '${thread}' (${kind})`);
    }
    if (opName === 'wait') return this.waitStep(args, opRange);
    return this.stepArgs(spec, args, opRange);
  }

  private stepArgs(spec: StepSpec, args: YNode | undefined, opRange: Range): Op | undefined {
    const out: Record<string, unknown> = { op: spec.name };
    const fields = spec.fields;
    let map: (YNode & { kind: 'map' }) | undefined;
    if (!args || (args.kind === 'scalar' && (args.value === null || args.value === true))) {
      map = undefined;
    } else if (args.kind === 'map') map = args;
    else if (args.kind === 'scalar' && shorthandField(spec)) {
      // shorthand: { load_cr3: 0x20 }, { page_fault: 0x10 }
      const field = shorthandField(spec)!;
      map = { kind: 'map', flow: true, range: args.range, entries: [{ key: field.name, keyRange: args.range, value: args }] };
    } else {
      this.error('type', args.range, `the fields of '${spec.name}' are a mapping: { ${fields.map((x) => x.name).join(', ')} }`);
      return undefined;
    }
    if (map) this.checkKeys(map, fields.map((x) => x.name), `field of '${spec.name}'`);
    let ok = true;
    for (const field of fields) {
      const e = map ? mapGet(map, field.name) : undefined;
      if (!e) {
        if (field.required) {
          this.error('missing', map?.range ?? opRange, `step '${spec.name}' needs '${field.name}' (${field.doc}), e.g. { ${spec.name}: { ${fields.filter((x) => x.required).map((x) => `${x.name}: ${example(x.type)}`).join(', ')} } }`);
          ok = false;
        }
        continue;
      }
      const v = this.fieldValue(spec, field.name, field.type, e.value);
      if (v === undefined) ok = false;
      else out[field.name] = v;
    }
    if (spec.oneOf && !spec.oneOf.some((k) => out[k] !== undefined) && ok) {
      this.error('missing', map?.range ?? opRange, `step '${spec.name}' needs one of ${spec.oneOf.map((x) => `'${x}'`).join(' or ')}, e.g. { ${spec.name}: { gfn: 0x10 } }`);
      ok = false;
    }
    if (!ok) return undefined;
    if (out.gva !== undefined && (this.mmu === 'tdp' || this.mmu === 'direct-shadow')) {
      this.warn('gva', opRange, `'gva' is translated by guest page tables, which mmu '${this.mmu}' does not shadow; use 'gfn'`);
    }
    if (typeof out.fastOnly === 'boolean' && out.fastOnly && this.era !== '6.19') {
      this.warn('era-field', opRange, `'fastOnly' aging (lockless, 6.15+) does not exist in era ${this.era} and is ignored there; use era "6.19" for fast-only aging`);
    }
    // field-specific semantic checks
    if (spec.name === 'zap_gfn_range' && typeof out.start === 'number' && typeof out.end === 'number' && out.start >= out.end) {
      this.error('range', map?.range ?? opRange, `zap_gfn_range needs start < end (end is exclusive), got 0x${out.start.toString(16)}..0x${out.end.toString(16)}`);
      return undefined;
    }
    if (spec.name === 'memslot_create') {
      const slot: MemslotConfig = { id: out.id as number, baseGfn: out.baseGfn as number, npages: out.npages as number, hva: out.hva as number };
      this.createdSlots.push(slot);
      for (const k of ['id', 'baseGfn', 'npages', 'hva']) delete out[k];
      out.slot = slot;
    }
    if (spec.name === 'set_cr4' || spec.name === 'set_cr0') {
      const bits: Record<string, boolean> = {};
      for (const field of fields) if (typeof out[field.name] === 'boolean') bits[field.name] = out[field.name] as boolean;
      for (const field of fields) delete out[field.name];
      if (Object.keys(bits).length === 0) {
        this.error('missing', opRange, `step '${spec.name}' needs at least one bit, e.g. { ${spec.name}: { ${fields[0]!.name}: false } }`);
        return undefined;
      }
      out.bits = bits;
    }
    return out as unknown as Op;
  }

  private fieldValue(spec: StepSpec, name: string, type: string, node: YNode): unknown {
    const what = `${spec.name}.${name}`;
    switch (type) {
      case 'gfn': {
        const v = this.num(node, what, { min: 0 });
        if (v !== undefined && spec.name !== 'memslot_create' && spec.name !== 'memslot_move' && spec.name !== 'zap_gfn_range') this.gfnChecks.push({ gfn: v, range: node.range, what });
        return v;
      }
      case 'gva':
        return this.num(node, what, { min: 0 });
      case 'hva': {
        const v = this.num(node, what, { min: 0 });
        if (v !== undefined && spec.name !== 'memslot_create') this.hvaChecks.push({ hva: v, npages: 1, range: node.range, what });
        return v;
      }
      case 'int':
        return this.num(node, what, { min: name === 'index' ? 0 : name === 'pages' ? 1 : 0, max: name === 'index' ? 511 : undefined });
      case 'bool':
        return this.bool(node, what);
      case 'gpte':
        if (node.kind === 'scalar' && node.value === null) return null;
        return this.gpte(node, false) ?? undefined;
      default:
        return undefined;
    }
  }

  private readonly waits: Array<{ cond: WaitCondition; node: YNode; range: Range }> = [];

  private waitStep(args: YNode | undefined, opRange: Range): Op | undefined {
    if (!args || args.kind !== 'map') {
      this.error('type', args?.range ?? opRange, "wait needs a condition: { requestServiced: KVM_REQ_..., vcpu: 0 } or { threadDone: NAME } or { point: 'fn:point', thread: NAME }");
      return undefined;
    }
    this.checkKeys(args, WAIT_KEYS, 'wait field');
    const rq = mapGet(args, 'requestServiced');
    const td = mapGet(args, 'threadDone');
    const pt = mapGet(args, 'point');
    const forms = [rq, td, pt].filter(Boolean).length;
    if (forms !== 1) {
      this.error('wait', args.range, "wait takes exactly one of 'requestServiced', 'threadDone' or 'point'");
      return undefined;
    }
    let cond: WaitCondition | undefined;
    if (rq) {
      const r = this.oneOf(rq.value, REQUESTS, 'request');
      if (!r) return undefined;
      this.requestChecks.push({ request: r, range: rq.value.range, era: this.era });
      const vE = mapGet(args, 'vcpu');
      const c: WaitCondition = { requestServiced: r };
      if (vE) {
        const v = this.num(vE.value, 'vcpu', { min: 0, max: this.vcpus - 1 });
        if (v === undefined) return undefined;
        (c as { vcpu?: number }).vcpu = v;
      }
      cond = c;
    } else if (td) {
      const t = this.str(td.value, 'threadDone');
      if (!t) return undefined;
      cond = { threadDone: t };
    } else if (pt) {
      const p = this.str(pt.value, 'point');
      const tE = mapGet(args, 'thread');
      if (!tE) {
        this.error('missing', args.range, "a point wait needs 'thread' (the thread that must reach the point)");
        return undefined;
      }
      const t = this.str(tE.value, 'thread');
      if (!p || !t) return undefined;
      cond = { point: p, thread: t };
    }
    if (!cond) return undefined;
    this.waits.push({ cond, node: args, range: args.range });
    return { op: 'wait', for: cond };
  }

  private checkWaits(_t: ScenarioThread): void {
    // waits are checked once, in crossChecks, after all threads are known
  }

  private checkLabelUnique(label: string, labels: StepLabel[], range: Range): void {
    if (label === 'end' || /^\d+$/.test(label) || /^step:/.test(label)) this.error('label', range, `label '${label}' is reserved; choose another name`);
    else if (labels.some((l) => l.label === label)) this.error('duplicate', range, `label '${label}' is used twice; labels must be unique`);
  }

  // ---------------------------------------------------------------------------------------------
  // schedule
  // ---------------------------------------------------------------------------------------------

  private schedule(node: YNode): ScheduleInfo {
    const info: ScheduleInfo = { schedule: { kind: 'sequential' }, sliceLabels: [], sliceRanges: [], finish: true, range: node.range };
    if (node.kind === 'scalar') {
      const k = this.oneOf(node, ['sequential', 'round-robin'] as const, 'schedule');
      if (k) info.schedule = { kind: k };
      return info;
    }
    let slicesNode: YNode | undefined = node;
    if (node.kind === 'map') {
      const openE = mapGet(node, 'open');
      if (openE) {
        this.checkKeys(node, ['open'], 'schedule field');
        const open: Schedule = { kind: 'open' };
        if (openE.value.kind === 'map') {
          this.checkKeys(openE.value, ['threads', 'maxPreemptions', 'maxDepth'], 'open schedule field');
          const th = mapGet(openE.value, 'threads');
          if (th) {
            if (th.value.kind !== 'seq') this.error('type', th.value.range, "'threads' is a list of thread names");
            else {
              open.threads = [];
              for (const it of th.value.items) {
                const s = this.str(it, 'thread');
                if (s) {
                  this.threadRef(s, it.range);
                  open.threads.push(s);
                }
              }
            }
          }
          const mp = mapGet(openE.value, 'maxPreemptions');
          if (mp) open.maxPreemptions = this.num(mp.value, 'maxPreemptions', { min: 0, max: 64 });
          const md = mapGet(openE.value, 'maxDepth');
          if (md) open.maxDepth = this.num(md.value, 'maxDepth', { min: 1, max: 100000 });
        } else if (!(openE.value.kind === 'scalar' && (openE.value.value === null || openE.value.value === true))) {
          this.error('type', openE.value.range, "'open' takes { threads, maxPreemptions, maxDepth }");
        }
        info.schedule = open;
        return info;
      }
      this.checkKeys(node, ['slices', 'finish'], 'schedule field');
      const fin = mapGet(node, 'finish');
      if (fin) info.finish = this.bool(fin.value, 'finish') ?? true;
      slicesNode = mapGet(node, 'slices')?.value;
      if (!slicesNode) {
        this.error('missing', node.range, "an explicit schedule needs 'slices: [ { thread, until }, ... ]' (or write the list directly)");
        return info;
      }
    }
    if (!slicesNode || slicesNode.kind !== 'seq') {
      this.error('type', slicesNode?.range ?? node.range, "'schedule' is 'sequential', 'round-robin', a list of slices { thread, until }, or { open: {...} }");
      return info;
    }
    const slices: ScheduleSlice[] = [];
    for (const item of slicesNode.items.slice(0, MAX_STEPS)) {
      const s = this.slice(item);
      if (s) {
        slices.push(s.slice);
        info.sliceLabels.push(s.label);
        info.sliceRanges.push(item.range);
      }
    }
    info.schedule = { kind: 'explicit', slices };
    return info;
  }

  private slice(node: YNode): { slice: ScheduleSlice; label?: string } | undefined {
    if (node.kind === 'scalar' && typeof node.value === 'string') {
      this.threadRef(node.value, node.range);
      return { slice: { thread: node.value } };
    }
    if (node.kind !== 'map') {
      this.error('type', node.range, "a schedule slice is { thread: NAME, until: done | op | N | 'fn:point' }");
      return undefined;
    }
    this.checkKeys(node, SLICE_KEYS, 'slice field');
    const tE = mapGet(node, 'thread');
    if (!tE) {
      this.error('missing', node.range, "a schedule slice needs 'thread'");
      return undefined;
    }
    const thread = this.str(tE.value, 'thread');
    if (!thread) return undefined;
    this.threadRef(thread, tE.value.range);
    const slice: ScheduleSlice = { thread };
    const uE = mapGet(node, 'until');
    if (uE) {
      const u = this.until(uE.value);
      if (u === null) return undefined;
      if (u) slice.until = u;
    }
    const lE = mapGet(node, 'label');
    const label = lE ? this.str(lE.value, 'label') : undefined;
    return { slice, label };
  }

  private until(node: YNode): ScheduleSlice['until'] | null {
    if (node.kind === 'scalar') {
      if (typeof node.value === 'number') {
        const n = this.num(node, 'until (steps)', { min: 1, max: 100000 });
        return n === undefined ? null : { steps: n };
      }
      if (typeof node.value === 'string') {
        if (node.value === 'done') return { done: true };
        if (node.value === 'op') return { opDone: true };
        if (/^[^:\s][^:]*:.+$/.test(node.value)) return { point: node.value };
        // a bare point name ("after faultin", "yield") matches that point in any function
        const typo = closest(node.value, UNTIL_WORDS);
        if (!(typo && node.value.length <= 5) && node.value.trim().length > 0) return { point: node.value };
        this.error('until', node.range, `until '${node.value}' is not understood; use 'done', 'op', a step count, or a preemption point 'function:point' such as 'kvm_zap_obsolete_pages:yield'${node.value.length > 1 ? didYouMean(node.value, UNTIL_WORDS).replace(/; expected.*/, '') : ''}`);
        return null;
      }
    }
    if (node.kind === 'map') {
      this.checkKeys(node, ['steps', 'point', 'occurrence', 'done', 'opDone'], 'until field');
      const st = mapGet(node, 'steps');
      const pt = mapGet(node, 'point');
      if (st) {
        const n = this.num(st.value, 'steps', { min: 1, max: 100000 });
        return n === undefined ? null : { steps: n };
      }
      if (pt) {
        const p = this.str(pt.value, 'point');
        if (!p) return null;
        const oc = mapGet(node, 'occurrence');
        const u: { point: string; occurrence?: number } = { point: p };
        if (oc) {
          const o = this.num(oc.value, 'occurrence', { min: 1, max: 100000 });
          if (o === undefined) return null;
          u.occurrence = o;
        }
        return u;
      }
      if (mapGet(node, 'done')) return { done: true };
      if (mapGet(node, 'opDone')) return { opDone: true };
    }
    this.error('until', node.range, "until is 'done', 'op', a step count, 'fn:point', or { point, occurrence }");
    return null;
  }

  /** Eras set by variants (helper threads named by the shared schedule must exist in each). */
  private readonly variantEras: Array<{ name: string; era: EraId; range: Range }> = [];
  private readonly threadRefs: Array<{ name: string; range: Range }> = [];
  private threadRef(name: string, range: Range): void {
    this.threadRefs.push({ name, range });
  }

  // ---------------------------------------------------------------------------------------------
  // expectations
  // ---------------------------------------------------------------------------------------------

  private expect(node: YNode, labels: Set<string>, schedule: ScheduleInfo): Expectations {
    const out: Expectations = { at: [], range: node.range };
    if (node.kind !== 'map') {
      this.error('type', node.range, "'expect' is { violations: [IDs] or [], at: [ { after, assert } ] }");
      return out;
    }
    this.checkKeys(node, EXPECT_KEYS, 'expect field');
    const vE = mapGet(node, 'violations');
    if (vE) {
      out.violationsRange = vE.value.range;
      out.violations = this.invariantList(vE.value, 'violations');
    }
    const aE = mapGet(node, 'absent');
    if (aE) out.absent = this.invariantList(aE.value, 'absent');
    const xE = mapGet(node, 'allowExtra');
    if (xE) out.allowExtra = this.bool(xE.value, 'allowExtra');
    const atE = mapGet(node, 'at');
    if (atE) {
      if (atE.value.kind !== 'seq') this.error('type', atE.value.range, "'at' is a list of { after: end | LABEL | N, assert: { path: value } }");
      else for (const it of atE.value.items) {
        const b = this.atBlock(it, labels, schedule);
        if (b) out.at.push(b);
      }
    }
    return out;
  }

  private invariantList(node: YNode, what: string): string[] {
    if (node.kind === 'scalar' && (node.value === 'none' || node.value === null)) return [];
    if (node.kind === 'scalar' && typeof node.value === 'string') node = { kind: 'seq', items: [node], range: node.range, flow: true };
    if (node.kind !== 'seq') {
      this.error('type', node.range, `'${what}' is a list of invariant ids like [RT-6], or [] for none`);
      return [];
    }
    const ids = knownInvariantIds();
    const out: string[] = [];
    for (const it of node.items) {
      const s = it.kind === 'scalar' && typeof it.value === 'string' ? it.value : undefined;
      if (!s) {
        this.error('type', it.range, `an invariant id is a string like 'RT-6'`);
        continue;
      }
      if (!ids.includes(s)) {
        this.error('unknown-invariant', it.range, `unknown invariant '${s}'${didYouMean(s, ids)}`);
        continue;
      }
      const doc = invariantDoc(s);
      if (what === 'violations' && doc?.eras && !doc.eras.includes(this.era)) {
        this.warn('era-invariant', it.range, `invariant ${s} (${doc.title}) is not checked in era ${this.era}, so this expectation cannot pass; it is checked in ${doc.eras.join(', ')}`);
      }
      out.push(s);
    }
    return out;
  }

  private atBlock(node: YNode, labels: Set<string>, schedule: ScheduleInfo): AtBlock | undefined {
    if (node.kind !== 'map') {
      this.error('type', node.range, "an 'at' entry is { after: end | LABEL | N, assert: { path: value } }");
      return undefined;
    }
    this.checkKeys(node, AT_KEYS, "'at' field");
    const afterE = mapGet(node, 'after');
    let point: AtPoint = { kind: 'end' };
    if (afterE) {
      const v = afterE.value;
      if (v.kind === 'scalar' && typeof v.value === 'number') {
        const n = this.num(v, 'after (slice index)', { min: 0 });
        if (n === undefined) return undefined;
        if (schedule.schedule.kind !== 'explicit') {
          this.error('after', v.range, `'after: ${n}' names a schedule slice, but the schedule is ${schedule.schedule.kind}; use a step label or 'end'`);
          return undefined;
        }
        if (n >= schedule.schedule.slices.length) {
          this.error('after', v.range, `slice ${n} does not exist: the schedule has ${schedule.schedule.slices.length} slices (0..${schedule.schedule.slices.length - 1})`);
          return undefined;
        }
        point = { kind: 'slice', index: n };
      } else if (v.kind === 'scalar' && typeof v.value === 'string') {
        const s = v.value;
        const m = /^step:(\d+)$/.exec(s);
        if (s === 'end') point = { kind: 'end' };
        else if (m) point = { kind: 'step', index: Number(m[1]) };
        else if (labels.has(s)) point = { kind: 'label', label: s };
        else {
          const sug = closest(s, [...labels, 'end']);
          this.error('unknown-label', v.range, `no step or slice is labelled '${s}'${sug ? `; did you mean '${sug}'?` : "; add 'label: " + s + "' to a step or slice, or use 'end'"}`);
          return undefined;
        }
      } else {
        this.error('type', v.range, "'after' is 'end', a label, a slice index, or 'step:N'");
        return undefined;
      }
    }
    const asE = mapGet(node, 'assert');
    if (!asE) {
      this.error('missing', node.range, "an 'at' entry needs 'assert: { path: value }', e.g. assert: { \"vm.mmu_valid_gen\": 1 }");
      return undefined;
    }
    if (asE.value.kind !== 'map') {
      this.error('type', asE.value.range, "'assert' maps state paths to expected values, e.g. { \"vcpus[0].root\": null }");
      return undefined;
    }
    const assertions: Assertion[] = [];
    for (const e of asE.value.entries) {
      if (!this.checkPath(e.key, e.keyRange)) continue;
      const m = this.matcher(e.value, e.key);
      if (m) assertions.push({ path: e.key, matcher: m, range: { start: e.keyRange.start, end: e.value.range.end } });
    }
    return { point, assertions, range: node.range };
  }

  private checkPath(path: string, range: Range): boolean {
    const segs = splitPath(path);
    if (!segs) {
      this.error('path', range, `cannot read path '${path}'; write it like vm.mmu_valid_gen, vcpus[0].root or gfn[0x10].mapped`);
      return false;
    }
    const rootName = segs[0]!;
    const roots = ASSERT_ROOTS.map((r) => r.name);
    if (typeof rootName !== 'string' || !roots.includes(rootName)) {
      this.error('path', range, `unknown state '${String(rootName)}' in '${path}'${didYouMean(String(rootName), roots)}`);
      return false;
    }
    if (rootName === 'vm' && typeof segs[1] === 'string' && !(VM_FIELDS as readonly string[]).includes(segs[1])) {
      this.error('path', range, `unknown vm field '${segs[1]}'${didYouMean(segs[1], VM_FIELDS)}`);
      return false;
    }
    if (rootName === 'vcpus' && typeof segs[1] === 'number' && segs[1] >= this.vcpus) {
      this.error('path', range, `vcpus[${segs[1]}] does not exist: the VM has ${this.vcpus} vCPU${this.vcpus === 1 ? '' : 's'}`);
      return false;
    }
    if (rootName === 'vcpus' && typeof segs[2] === 'string') {
      const fields = ['id', 'root', 'prevRoots', 'guestMode', 'inGuest', 'requests', 'tlb', 'cr3', 'modeBits'];
      if (!fields.includes(segs[2])) {
        this.error('path', range, `unknown vCPU field '${segs[2]}'${didYouMean(segs[2], fields)}`);
        return false;
      }
    }
    if (rootName === 'roots' && typeof segs[1] === 'string') {
      const fields = ['count', 'valid', 'invalid', 'obsolete', 'list', 'tdp', 'ids'];
      if (!fields.includes(segs[1])) {
        this.error('path', range, `unknown roots field '${segs[1]}'${didYouMean(segs[1], fields)}`);
        return false;
      }
    }
    if (rootName === 'gfn') {
      if (typeof segs[1] !== 'number') {
        this.error('path', range, `'gfn' needs an index: gfn[0x10].mapped`);
        return false;
      }
      const fields = ['mapped', 'sptes', 'young', 'writable', 'rmap', 'rmapCount', 'pfn', 'hostYoung', 'hostPfn'];
      if (typeof segs[2] === 'string' && !fields.includes(segs[2])) {
        this.error('path', range, `unknown gfn field '${segs[2]}'${didYouMean(segs[2], fields)}`);
        return false;
      }
    }
    if (rootName === 'pages' && typeof segs[1] === 'string') {
      const fields = ['live', 'freed', 'invalidList', 'obsolete', 'unsync', 'count'];
      if (!fields.includes(segs[1])) {
        this.error('path', range, `unknown pages field '${segs[1]}'${didYouMean(segs[1], fields)}`);
        return false;
      }
    }
    const norm = segs.filter((s) => typeof s === 'string').join('.');
    this.eraFieldChecks.push({ path: norm, range, era: this.era });
    return true;
  }

  private matcher(node: YNode, path: string): Matcher | undefined {
    const value = plain(node);
    this.collectRequests(node);
    if (node.kind === 'map' && node.entries.length === 1 && (MATCHER_OPS as readonly string[]).includes(node.entries[0]!.key)) {
      const op = node.entries[0]!.key as MatcherOp;
      const v = plain(node.entries[0]!.value);
      if (['gt', 'ge', 'lt', 'le', 'length'].includes(op) && typeof v !== 'number') {
        this.error('type', node.entries[0]!.value.range, `'${op}' compares numbers; got ${describe(node.entries[0]!.value)}`);
        return undefined;
      }
      if (op === 'in' && !Array.isArray(v)) {
        this.error('type', node.entries[0]!.value.range, "'in' takes a list of allowed values");
        return undefined;
      }
      return { kind: 'op', op, value: v };
    }
    if (node.kind === 'map' && node.entries.length === 1) {
      const k = node.entries[0]!.key;
      const sug = closest(k, MATCHER_OPS);
      if (sug && sug !== k && !k.includes('.')) this.warn('matcher', node.entries[0]!.keyRange, `'${k}' is compared literally against ${path}; did you mean the matcher '${sug}'?`);
    }
    return { kind: 'eq', value };
  }

  private collectRequests(node: YNode): void {
    if (node.kind === 'scalar') {
      if (typeof node.value === 'string' && node.value.startsWith('KVM_REQ_')) {
        if ((REQUESTS as readonly string[]).includes(node.value)) this.requestChecks.push({ request: node.value as RequestName, range: node.range, era: this.era });
        else this.error('unknown-value', node.range, `unknown request '${node.value}'${didYouMean(node.value, REQUESTS)}`);
      }
    } else if (node.kind === 'seq') node.items.forEach((i) => this.collectRequests(i));
    else node.entries.forEach((e) => this.collectRequests(e.value));
  }

  // ---------------------------------------------------------------------------------------------
  // variants
  // ---------------------------------------------------------------------------------------------

  private variant(e: YMapEntry, labels: Set<string>, schedule: ScheduleInfo): ScenarioVariant | undefined {
    if (e.value.kind !== 'map') {
      this.error('type', e.value.range, `variant '${e.key}' is { bug, era, expect }`);
      return undefined;
    }
    this.checkKeys(e.value, VARIANT_KEYS, 'variant field');
    const v: ScenarioVariant = { name: e.key, expect: { at: [], range: e.value.range }, range: e.keyRange };
    const bE = mapGet(e.value, 'bug');
    if (bE) {
      const b = this.bugValue(bE.value);
      if (b) {
        v.bug = b;
        this.checkBugEra(b, this.options.era ?? this.eraOf(e.value) ?? this.era, bE.value.range);
      }
    }
    const eE = mapGet(e.value, 'era');
    if (eE) {
      const era = this.oneOf(eE.value, ERAS, 'era');
      if (era) {
        v.era = era;
        if (!this.options.era) this.variantEras.push({ name: e.key, era, range: eE.value.range });
        if (!MMU_AVAILABILITY[this.mmu].includes(era)) this.error('era-mmu', eE.value.range, `mmu '${this.mmu}' does not exist in era ${era}`);
      }
    }
    const xE = mapGet(e.value, 'expect');
    if (!xE) this.warn('missing', e.keyRange, `variant '${e.key}' has no 'expect'; it always passes`);
    else {
      // the variant's assertions are checked against the variant's era
      const baseEra = this.era;
      if (v.era && !this.options.era) this.era = v.era;
      try {
        v.expect = this.expect(xE.value, labels, schedule);
      } finally {
        this.era = baseEra;
      }
    }
    return v;
  }

  private eraOf(node: YNode): EraId | undefined {
    const e = mapGet(node, 'era');
    if (e && e.value.kind === 'scalar') {
      const raw = typeof e.value.value === 'number' ? e.value.text.replace(/^["']|["']$/g, '') : String(e.value.value);
      if ((ERAS as readonly string[]).includes(raw)) return raw as EraId;
    }
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // whole-file checks
  // ---------------------------------------------------------------------------------------------

  private crossChecks(): void {
    const slots = [...this.memslots, ...this.createdSlots];
    const fmt = (n: number): string => `0x${n.toString(16)}`;
    const slotList = slots.map((s) => `slot ${s.id} covers gfn ${fmt(s.baseGfn)}..${fmt(s.baseGfn + s.npages - 1)}`).join(', ');
    for (const c of this.gfnChecks) {
      if (slots.length && !slots.some((s) => c.gfn >= s.baseGfn && c.gfn < s.baseGfn + s.npages)) {
        this.error('bad-gfn', c.range, `${c.what}: gfn ${fmt(c.gfn)} is outside every memslot (${slotList}); use a gfn inside a memslot or add a memslot that covers it`);
      }
    }
    for (const c of this.hvaChecks) {
      if (slots.length && !slots.some((s) => c.hva >= s.hva && c.hva < s.hva + s.npages * 4096)) {
        const hvaList = slots.map((s) => `slot ${s.id} maps hva ${fmt(s.hva)}..${fmt(s.hva + s.npages * 4096 - 1)}`).join(', ');
        this.error('bad-hva', c.range, `${c.what}: hva ${fmt(c.hva)} is not backed by any memslot (${hvaList}); hva = slot.hva + (gfn - baseGfn) * 0x1000`);
      }
    }
    // schedules may also name the threads the engine adds itself, where the era and MMU have them
    const helpers = helperThreads(this.era, this.mmu).map((h) => h.id).filter((id) => !this.threadNames.includes(id));
    const schedulable = [...this.threadNames, ...helpers];
    const helperReported = new Set<string>();
    for (const r of this.threadRefs) {
      if (schedulable.includes(r.name)) {
        if (!this.threadNames.includes(r.name)) {
          // a helper thread: the variants that switch the era must have it too
          for (const v of this.variantEras) {
            if (helperThreads(v.era, this.mmu).some((h) => h.id === r.name) || helperReported.has(r.name + '|' + v.name)) continue;
            helperReported.add(r.name + '|' + v.name);
            this.error('era-thread', v.range, `variant '${v.name}' runs era ${v.era}, where the schedule's thread '${r.name}' does not exist: ${helperWhere(r.name)}`);
          }
        }
        continue;
      }
      const h = HELPER_THREADS.find((x) => x.id === r.name);
      if (h) {
        this.error('era-thread', r.range, `thread '${r.name}' does not exist in era ${this.era} with mmu ${this.mmu}: ${helperWhere(r.name)}`);
      } else this.error('unknown-thread', r.range, `thread '${r.name}' does not exist${didYouMean(r.name, schedulable)}`);
    }
    for (const w of this.waits) {
      const c = w.cond;
      const name = 'threadDone' in c ? c.threadDone : 'thread' in c ? c.thread : undefined;
      if (name !== undefined && !this.threadNames.includes(name)) {
        const key = 'threadDone' in c ? 'threadDone' : 'thread';
        this.error('unknown-thread', mapGet(w.node, key)?.value.range ?? w.range, `thread '${name}' does not exist${didYouMean(name, this.threadNames)}`);
      }
      if ('requestServiced' in c && c.vcpu === undefined && this.vcpus > 1) {
        // fine: any vCPU
      }
    }
    for (const r of this.requestChecks) {
      if (!REQUEST_AVAILABILITY[r.request].includes(r.era)) {
        const hint = r.request === 'KVM_REQ_MMU_RELOAD' ? '; from 5.18 it is KVM_REQ_MMU_FREE_OBSOLETE_ROOTS' : r.request === 'KVM_REQ_MMU_FREE_OBSOLETE_ROOTS' ? '; before 5.18 use KVM_REQ_MMU_RELOAD' : '';
        this.error('era-request', r.range, `request ${r.request} does not exist in era ${r.era}${hint}`);
      }
    }
    for (const c of this.eraFieldChecks) {
      const a = fieldAvailability(c.path);
      if (a && !a.eras.includes(c.era)) this.error('era-field', c.range, `'${c.path}' does not exist in era ${c.era}: ${a.why}; remove the assertion or use an era in ${a.eras.join(', ')}`);
    }
  }
}

/** Where a helper thread exists (diagnostic text). */
function helperWhere(id: string): string {
  const h = HELPER_THREADS.find((x) => x.id === id);
  return h ? `the engine adds it (${h.doc}) only in eras ${h.eras.join(', ')} with mmu ${h.mmus.join(' or ')}` : '';
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

/** The field a scalar shorthand `{ step: value }` fills, if the step has one. */
export function shorthandField(spec: StepSpec): StepSpec['fields'][number] | undefined {
  const required = spec.fields.filter((x) => x.required);
  if (required.length === 1) return required[0];
  if (spec.fields.length === 1) return spec.fields[0];
  if (spec.oneOf) return spec.fields.find((x) => x.name === spec.oneOf![0]);
  return undefined;
}

function keyLine(root: YNode): Range {
  const s = root.range.start;
  return { start: s, end: { line: s.line, character: s.character + 1 } };
}

export function inferKind(name: string): { kind: ThreadKind; vcpu?: number } {
  const m = /^vcpu(\d+)$/i.exec(name);
  if (m) return { kind: 'vcpu', vcpu: Number(m[1]) };
  if (/^vcpu/i.test(name)) return { kind: 'vcpu' };
  if (/^(ioctl|userspace|vmm|qemu)/i.test(name)) return { kind: 'ioctl' };
  if (/notifier|^mm$|^mmu_notifier/i.test(name)) return { kind: 'notifier' };
  if (/^(reclaim|kswapd|swap|lru|mglru|host|aging)/i.test(name)) return { kind: 'reclaim' };
  return { kind: 'worker' };
}

function describe(node: YNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  if (node.value === null) return 'nothing';
  return `'${String(node.text || node.value).slice(0, 40)}'`;
}

function example(type: string): string {
  switch (type) {
    case 'gfn':
      return '0x10';
    case 'hva':
      return '0x7f0000010000';
    case 'gva':
      return '0x400000';
    case 'bool':
      return 'true';
    case 'gpte':
      return '{ gfn: 0x20, present: true }';
    default:
      return '1';
  }
}

/** Plain JS value of a node (for assertion comparisons). */
export function plain(node: YNode): unknown {
  if (node.kind === 'scalar') return typeof node.value === 'bigint' ? Number(node.value) : node.value;
  if (node.kind === 'seq') return node.items.map(plain);
  const o: Record<string, unknown> = {};
  for (const e of node.entries) o[e.key] = plain(e.value);
  return o;
}

/** Split "vcpus[0].prevRoots[1]" / "gfn[0x10].mapped" into segments; undefined if malformed. */
export function splitPath(path: string): Array<string | number> | undefined {
  const out: Array<string | number> = [];
  const re = /([A-Za-z_][\w]*)|\[(\s*(?:0x[0-9a-fA-F]+|\d+)\s*)\]|(\.)/gy;
  let last = 0;
  let expectSep = false;
  re.lastIndex = 0;
  while (last < path.length) {
    re.lastIndex = last;
    const m = re.exec(path);
    if (!m || m.index !== last) return undefined;
    if (m[1] !== undefined) {
      if (expectSep) return undefined;
      out.push(m[1]);
      expectSep = true;
    } else if (m[2] !== undefined) {
      if (!expectSep) return undefined;
      out.push(Number(m[2].trim()));
    } else {
      if (!expectSep) return undefined;
      expectSep = false;
    }
    last = re.lastIndex;
  }
  if (!expectSep || out.length === 0) return undefined;
  return out;
}


