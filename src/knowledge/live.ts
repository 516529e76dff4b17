/**
 * Live values: what a knowledge entry holds right now in the scenario being stepped.
 * Pure module over the engine contract (src/engine/api.ts); no `vscode`.
 */
import type { StateView, StepRecord, ShadowPageView } from '../engine/api';
import type { KnowledgeEntry } from './types';

export interface FunctionEntryCount {
  /** How many times the run entered the function (trace `call` events) up to the current step. */
  count: number;
  /** Index of the last step that entered it. */
  lastStep: number;
}

/** What the hover needs from an active scenario. */
export interface LiveValues {
  state: StateView;
  /** Per kernel function name (as emitted in the trace frames). */
  functionEntries: Readonly<Record<string, FunctionEntryCount>>;
  /** Current step position (0 = initial state). */
  step: number;
  /** Optional display name of the scenario. */
  scenario?: string;
}

/** Build LiveValues from an engine view and its history (steps after `position` are ignored). */
export function buildLiveValues(state: StateView, history: readonly StepRecord[], position = history.length, scenario?: string): LiveValues {
  const functionEntries: Record<string, FunctionEntryCount> = {};
  const n = Math.min(position, history.length);
  for (let i = 0; i < n; i++) {
    const rec = history[i]!;
    for (const ev of rec.events) {
      if (ev.kind !== 'call') continue;
      const fn = ev.frame.fn;
      const cur = functionEntries[fn];
      if (cur) {
        cur.count++;
        cur.lastStep = rec.index;
      } else functionEntries[fn] = { count: 1, lastStep: rec.index };
    }
  }
  return scenario === undefined ? { state, functionEntries, step: state.step } : { state, functionEntries, step: state.step, scenario };
}

export interface LiveLink {
  label: string;
  command: 'kvmMmuLab.gotoStep' | 'kvmMmuLab.showPanel' | 'kvmMmuLab.openDefinition';
  args?: Record<string, unknown>;
}

export interface LiveSection {
  /** Markdown lines (no links). */
  lines: string[];
  links: LiveLink[];
}

const sp = (p: ShadowPageView): string => `sp#${p.id}`;
const list = (xs: readonly (string | number)[], max = 8): string =>
  xs.length === 0 ? '—' : xs.slice(0, max).join(', ') + (xs.length > max ? `, … (+${xs.length - max})` : '');

function livePages(state: StateView): ShadowPageView[] {
  return state.shadowPages.filter((p) => p.lifetime !== 'freed');
}

type FieldRenderer = (state: StateView) => string[];

const FIELD_RENDERERS: Record<string, FieldRenderer> = {
  mmu_valid_gen: (s) => {
    const pages = livePages(s).filter((p) => !p.tdp);
    const obsolete = pages.filter((p) => p.obsolete).length;
    const byGen = new Map<number, number>();
    for (const p of pages) byGen.set(p.mmuValidGen, (byGen.get(p.mmuValidGen) ?? 0) + 1);
    const gens = [...byGen.entries()].sort((a, b) => a[0] - b[0]).map(([g, c]) => `gen ${g}: ${c}`);
    return [`\`kvm->arch.mmu_valid_gen\` = **${s.vm.mmu_valid_gen}**; **${obsolete}** of ${pages.length} shadow pages are obsolete (${gens.length ? gens.join(', ') : 'no pages'}).`];
  },
  active_mmu_pages: (s) => [`${s.vm.active_mmu_pages.length} pages on the list, newest first: ${list(s.vm.active_mmu_pages.map((i) => `sp#${i}`))}.`],
  zapped_obsolete_pages: (s) => [`${s.vm.zapped_obsolete_pages.length} pages waiting to be freed: ${list(s.vm.zapped_obsolete_pages.map((i) => `sp#${i}`))}.`],
  tdp_mmu_roots: (s) => {
    const roots = s.vm.tdp_mmu_roots.map((id) => s.shadowPages.find((p) => p.id === id)).filter((p): p is ShadowPageView => !!p);
    return [`${roots.length} TDP roots: ${list(roots.map((p) => `${sp(p)} (count ${p.rootCount}${p.invalid ? ', invalid' : ''})`))}.`];
  },
  n_used_mmu_pages: (s) => [`n_used_mmu_pages = **${s.vm.n_used_mmu_pages}** (limit n_max_mmu_pages = ${s.vm.n_max_mmu_pages}).`],
  n_max_mmu_pages: (s) => [`n_max_mmu_pages = **${s.vm.n_max_mmu_pages}** (in use: ${s.vm.n_used_mmu_pages}).`],
  indirect_shadow_pages: (s) => [`indirect_shadow_pages = **${s.vm.indirect_shadow_pages}**.`],
  mmu_invalidate_seq: (s) => [`\`${s.vm.names['mmu_invalidate_seq'] ?? 'mmu_invalidate_seq'}\` = **${s.vm.mmu_invalidate_seq}**; in progress: ${s.vm.mmu_invalidate_in_progress}.`],
  mmu_invalidate_in_progress: (s) => [`\`${s.vm.names['mmu_invalidate_in_progress'] ?? 'mmu_invalidate_in_progress'}\` = **${s.vm.mmu_invalidate_in_progress}** (sequence ${s.vm.mmu_invalidate_seq}).`],
  mmu_invalidate_range_start: (s) => [rangeLine(s)],
  mmu_invalidate_range_end: (s) => [rangeLine(s)],
  mmu_lock: (s) => {
    const h = s.vm.mmu_lock.holders;
    return [`mmu_lock (${s.vm.mmu_lock.type}): ${h.length ? h.map((x) => `${x.thread} (${x.mode})`).join(', ') : 'not held'}.`];
  },
  root_count: (s) => rootLines(s, false),
  tdp_mmu_root_count: (s) => rootLines(s, true),
  invalid: (s) => {
    const inv = livePages(s).filter((p) => p.invalid);
    return [`${inv.length} shadow pages have role.invalid set: ${list(inv.map((p) => `${sp(p)} (count ${p.rootCount})`))}.`];
  },
  unsync: (s) => {
    const u = livePages(s).filter((p) => p.unsync);
    return [`${u.length} unsync pages: ${list(u.map(sp))}.`];
  },
  unsync_children: (s) => {
    const u = livePages(s).filter((p) => p.unsyncChildren > 0);
    return [`${u.length} pages with unsync children: ${list(u.map((p) => `${sp(p)}=${p.unsyncChildren}`))}.`];
  },
  unsync_child_bitmap: (s) => FIELD_RENDERERS['unsync_children']!(s),
  root: (s) => s.vcpus.map((v) => `vCPU ${v.id}: root ${v.root ?? 'none'}`),
  prev_roots: (s) => s.vcpus.map((v) => `vCPU ${v.id}: prev_roots [${v.prevRoots.map((r) => r ?? 'empty').join(', ')}]`),
  requests: (s) => s.vcpus.map((v) => `vCPU ${v.id}: ${v.requests.length ? v.requests.join(', ') : 'no pending requests'}`),
  kvm_mmu_page: (s) => {
    const c = { live: 0, 'invalid-list': 0, freed: 0 };
    for (const p of s.shadowPages) c[p.lifetime]++;
    return [`${c.live} live, ${c['invalid-list']} on an invalid list, ${c.freed} freed.`];
  },
  link: (s) => [`${livePages(s).filter((p) => p.onActiveList).length} pages linked on active_mmu_pages.`],
  hash_link: (s) => [`${livePages(s).filter((p) => p.inHash).length} pages in mmu_page_hash (including invalid ones not yet freed).`],
  parent_ptes: (s) => {
    const multi = livePages(s).filter((p) => p.parentPtes.length > 1);
    return [`${multi.length} pages with more than one parent SPTE: ${list(multi.map((p) => `${sp(p)}×${p.parentPtes.length}`))}.`];
  },
  pte_list_desc: (s) => rmapLines(s),
  kvm_rmap_head: (s) => rmapLines(s),
  rmap: (s) => rmapLines(s),
  disallow_lpage: (s) => {
    const n = s.memslots.reduce((acc, m) => acc + m.lpageDisallow.filter((d) => d.count > 0).length, 0);
    return [`${n} huge frames currently disallowed.`];
  },
};
FIELD_RENDERERS['mmu_page_hash'] = FIELD_RENDERERS['hash_link']!;
FIELD_RENDERERS['root_hpa'] = FIELD_RENDERERS['root']!;
FIELD_RENDERERS['mmu_notifier_seq'] = FIELD_RENDERERS['mmu_invalidate_seq']!;
FIELD_RENDERERS['mmu_notifier_count'] = FIELD_RENDERERS['mmu_invalidate_in_progress']!;
FIELD_RENDERERS['n_free_mmu_pages'] = FIELD_RENDERERS['n_used_mmu_pages']!;
FIELD_RENDERERS['n_alloc_mmu_pages'] = FIELD_RENDERERS['n_max_mmu_pages']!;
FIELD_RENDERERS['write_count'] = FIELD_RENDERERS['disallow_lpage']!;
FIELD_RENDERERS['kvm_rmap_desc'] = FIELD_RENDERERS['pte_list_desc']!;

function rangeLine(s: StateView): string {
  const r = s.vm.mmu_invalidate_range;
  return r ? `Tracked invalidation range: [0x${r[0].toString(16)}, 0x${r[1].toString(16)}) with ${s.vm.mmu_invalidate_in_progress} in progress.` : 'No invalidation range is tracked.';
}

function rootLines(s: StateView, tdp: boolean): string[] {
  const roots = livePages(s).filter((p) => p.tdp === tdp && (p.rootCount > 0 || (tdp && s.vm.tdp_mmu_roots.includes(p.id))));
  if (roots.length === 0) return [`No ${tdp ? 'TDP' : 'shadow'} root currently holds a reference.`];
  return roots.map((p) => `${sp(p)}: ${tdp ? 'tdp_mmu_root_count' : 'root_count'} = **${p.rootCount}**${p.invalid ? ' (invalid)' : ''}${p.obsolete ? ' (obsolete)' : ''}`);
}

function rmapLines(s: StateView): string[] {
  let heads = 0;
  let chains = 0;
  let descs = 0;
  for (const m of s.memslots)
    for (const h of m.rmaps) {
      if (h.head === '0') continue;
      heads++;
      if (h.descs.length > 0) {
        chains++;
        descs += h.descs.length;
      }
    }
  return [`${heads} non-empty rmap heads; ${chains} use a pte_list_desc chain (${descs} descriptors in total).`];
}

/** Names under which the run may have entered a function: the entry's own name and its old/new names. */
function functionNames(entry: KnowledgeEntry): string[] {
  const names = [entry.name];
  for (const o of entry.history.oldNames ?? []) names.push(o.name);
  for (const n of entry.history.newNames ?? []) names.push(n.name);
  return names;
}

/** The live section for an entry, or undefined when there is nothing to say. */
export function liveSection(entry: KnowledgeEntry, live: LiveValues, hoveredWord?: string): LiveSection | undefined {
  const { state } = live;
  const panel: LiveLink = { label: 'Open panel', command: 'kvmMmuLab.showPanel' };
  if (entry.kind === 'function' || entry.kind === 'macro') {
    let total = 0;
    let last = -1;
    let lastName = entry.name;
    for (const n of functionNames(entry)) {
      const c = live.functionEntries[n];
      if (!c) continue;
      total += c.count;
      if (c.lastStep > last) {
        last = c.lastStep;
        lastName = n;
      }
    }
    if (total === 0) return { lines: [`Not entered so far in this run (step ${live.step}).`], links: [panel] };
    const via = lastName !== entry.name ? ` (as \`${lastName}\`)` : '';
    return {
      lines: [`Entered **${total}** time${total === 1 ? '' : 's'} so far${via}; last entry at step ${last}.`],
      links: [{ label: `Go to step ${last}`, command: 'kvmMmuLab.gotoStep', args: { step: last } }, panel],
    };
  }
  if (entry.kind === 'request') {
    const names = [entry.name, ...(entry.history.oldNames ?? []).map((o) => o.name)];
    const pending = state.vcpus.filter((v) => v.requests.some((r) => names.includes(r))).map((v) => v.id);
    return {
      lines: [pending.length ? `Pending on vCPU ${pending.join(', ')} (of ${state.vcpus.length}).` : `Not pending on any of the ${state.vcpus.length} vCPUs.`],
      links: [panel],
    };
  }
  if (entry.kind === 'stat') {
    const v = state.vm.stats[entry.name];
    return { lines: [v === undefined ? 'Not tracked by this run.' : `\`${entry.name}\` = **${v}**.`], links: [panel] };
  }
  const r = FIELD_RENDERERS[hoveredWord ?? entry.name] ?? FIELD_RENDERERS[entry.name];
  if (!r) return undefined;
  return { lines: r(state), links: [panel] };
}

/** Command URI for a link (VS Code passes a JSON object as the single argument). */
export function commandUri(link: LiveLink): string {
  return link.args === undefined ? `command:${link.command}` : `command:${link.command}?${encodeURIComponent(JSON.stringify(link.args))}`;
}
