/**
 * The Variables view: lazily expanded trees over a StateView, frame arguments and violations.
 * Every expandable node is a producer registered under a variablesReference handle; big collections
 * (shadow pages, SPTEs, rmaps, TLB entries) are split into ranges of CHUNK children.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Effect, Frame, RmapHeadView, ShadowPageView, SpteView, StateView, VcpuView, Violation } from '../engine/api';
import { decodeRoleWord, formatScalar, hex, roleSummary, shadowPageSummary, spteSummary } from './format';

export const CHUNK = 100;

type Producer = () => DebugProtocol.Variable[];

/** What a data breakpoint watches: an object of the simulated state, matched against trace effects. */
export interface DataTarget {
  /** "vm:<field>", "sp:<id>", "vcpu:<id>", "lock:mmu_lock", "stat:<name>", "rmap:<slot>:<level>:<gfn>". */
  dataId: string;
  description: string;
}

export class VariableStore {
  private next = 1;
  private readonly map = new Map<number, Producer>();
  private readonly data = new WeakMap<DebugProtocol.Variable, DataTarget>();
  /** Data targets of the variables handed out, by "<parent ref>/<name>". */
  private readonly dataByName = new Map<string, DataTarget>();

  reset(): void {
    this.map.clear();
    this.dataByName.clear();
    this.next = 1;
  }

  add(p: Producer): number {
    const h = this.next++;
    this.map.set(h, p);
    return h;
  }

  expand(ref: number): DebugProtocol.Variable[] {
    const vars = this.map.get(ref)?.() ?? [];
    for (const v of vars) {
      const d = this.data.get(v);
      if (d) this.dataByName.set(`${ref}/${v.name}`, d);
    }
    return vars;
  }

  /** Mark a variable as watchable by a data breakpoint. */
  watch(v: DebugProtocol.Variable, dataId: string, description: string): DebugProtocol.Variable {
    this.data.set(v, { dataId, description });
    return v;
  }

  dataTarget(parentRef: number, name: string): DataTarget | undefined {
    return this.dataByName.get(`${parentRef}/${name}`);
  }

  leaf(name: string, value: string, type?: string): DebugProtocol.Variable {
    return { name, value, type, variablesReference: 0 };
  }

  node(name: string, value: string, p: Producer, extra?: Partial<DebugProtocol.Variable>): DebugProtocol.Variable {
    return { name, value, variablesReference: this.add(p), ...extra };
  }

  /** A list shown as ranges of CHUNK when long: "[0..99]", "[100..199]", ... */
  list<T>(items: readonly T[], item: (x: T, i: number) => DebugProtocol.Variable): DebugProtocol.Variable[] {
    if (items.length <= CHUNK) return items.map(item);
    const out: DebugProtocol.Variable[] = [];
    for (let start = 0; start < items.length; start += CHUNK) {
      const end = Math.min(items.length, start + CHUNK) - 1;
      out.push(this.node(`[${start}..${end}]`, `${end - start + 1} items`, () => items.slice(start, end + 1).map((x, j) => item(x, start + j))));
    }
    return out;
  }

  /** Any plain value: objects and arrays expand lazily, scalars are formatted by key (hex addresses). */
  value(name: string, v: unknown): DebugProtocol.Variable {
    if (Array.isArray(v)) {
      return this.node(name, summarizeArray(name, v), () => this.list(v, (x, i) => this.value(`[${i}]`, x)), { indexedVariables: v.length });
    }
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      return this.node(name, `{${entries.length} fields}`, () => entries.map(([k, x]) => this.value(k, x)));
    }
    return this.leaf(name, formatScalar(name, v), typeof v);
  }
}

function summarizeArray(name: string, v: unknown[]): string {
  if (v.length === 0) return '[]';
  if (v.length <= 8 && v.every((x) => typeof x !== 'object' || x === null)) return `[${v.map((x) => formatScalar(name, x)).join(', ')}]`;
  return `${v.length} items`;
}

const spRef = (id: number | string | null): string => (id === null ? 'NULL' : typeof id === 'number' ? `sp#${id}` : id);

// ----------------------------------------------------------------------------------------------

export function argumentVariables(store: VariableStore, frame: Frame): DebugProtocol.Variable[] {
  const args = Object.entries(frame.args ?? {}).map(([k, v]) => store.value(k, v));
  if (frame.point) args.push(store.leaf('(point)', frame.point));
  return args;
}

export function vmVariables(store: VariableStore, view: StateView): DebugProtocol.Variable[] {
  const vm = view.vm;
  const name = (k: string): string => vm.names?.[k] ?? k;
  const spIds = (label: string, ids: number[]): DebugProtocol.Variable =>
    store.node(label, ids.length <= 8 ? `[${ids.map((i) => spRef(i)).join(', ')}]` : `${ids.length} pages`, () =>
      store.list(ids, (id, i) => spNode(store, view, `[${i}]`, id)),
    );
  const field = (k: string, value: string): DebugProtocol.Variable => store.watch(store.leaf(name(k), value), `vm:${name(k)}`, `kvm->arch.${name(k)} changes`);
  const out: DebugProtocol.Variable[] = [
    store.leaf('era', `${view.era} (${view.mmu}${view.bug ? `, bug ${view.bug}` : ''})`),
    field('mmu_valid_gen', String(vm.mmu_valid_gen)),
    field('n_used_mmu_pages', String(vm.n_used_mmu_pages)),
    field('n_max_mmu_pages', String(vm.n_max_mmu_pages)),
    field('mmu_invalidate_seq', String(vm.mmu_invalidate_seq)),
    field('mmu_invalidate_in_progress', String(vm.mmu_invalidate_in_progress)),
    store.leaf(name('mmu_invalidate_range'), vm.mmu_invalidate_range ? `[${hex(vm.mmu_invalidate_range[0])}, ${hex(vm.mmu_invalidate_range[1])})` : 'none'),
    store.leaf('indirect_shadow_pages', String(vm.indirect_shadow_pages)),
    spIds('active_mmu_pages', vm.active_mmu_pages),
    spIds('zapped_obsolete_pages', vm.zapped_obsolete_pages),
    store.watch(spIds('tdp_mmu_roots', vm.tdp_mmu_roots), 'vm:tdp_mmu_roots', 'kvm->arch.tdp_mmu_roots changes'),
    store.node('mmu_lock', lockSummary(view), () => [
      store.leaf('type', vm.mmu_lock.type),
      ...vm.mmu_lock.holders.map((h, i) => store.leaf(`holder[${i}]`, `${h.thread} (${h.mode})`)),
    ]),
    store.node('stats', `{${Object.keys(vm.stats).length} counters}`, () =>
      Object.entries(vm.stats).map(([k, v]) => store.watch(store.leaf(k, String(v)), `stat:${k}`, `stat ${k} changes`)),
    ),
  ];
  store.watch(out.find((v) => v.name === 'mmu_lock')!, 'lock:mmu_lock', 'mmu_lock is taken or released');
  return out;
}

export function lockSummary(view: StateView): string {
  const h = view.vm.mmu_lock.holders;
  return `${view.vm.mmu_lock.type}: ${h.length ? h.map((x) => `${x.thread} (${x.mode})`).join(', ') : 'unlocked'}`;
}

export function vcpuVariables(store: VariableStore, view: StateView): DebugProtocol.Variable[] {
  return view.vcpus.map((v) =>
    store.watch(store.node(`vcpu${v.id}`, vcpuSummary(v), () => vcpuChildren(store, view, v)), `vcpu:${v.id}`, `vcpu${v.id}'s roots, requests or TLB change`),
  );
}

function vcpuSummary(v: VcpuView): string {
  const parts = [`root=${v.root ?? 'NULL'}`];
  if (v.requests.length) parts.push(`req=${v.requests.join('|')}`);
  parts.push(`tlb=${v.tlb.length}`);
  if (v.guestMode) parts.push('L2');
  return parts.join(' ');
}

function vcpuChildren(store: VariableStore, view: StateView, v: VcpuView): DebugProtocol.Variable[] {
  const root = (label: string, r: string | null): DebugProtocol.Variable => {
    const id = r === null ? undefined : parseSpId(r);
    return id !== undefined ? spNode(store, view, label, id, r ?? undefined) : store.leaf(label, r ?? 'NULL');
  };
  const out: DebugProtocol.Variable[] = [
    root('arch.mmu->root', v.root),
    store.node('arch.mmu->prev_roots', `[${v.prevRoots.map((r) => r ?? 'NULL').join(', ')}]`, () => v.prevRoots.map((r, i) => root(`[${i}]`, r))),
    store.leaf('requests', v.requests.length ? v.requests.join(' | ') : '0'),
    store.node('tlb', `${v.tlb.length} entries${v.tlb.some((t) => t.stale) ? ' (stale!)' : ''}`, () =>
      store.list(v.tlb, (t, i) =>
        store.leaf(`[${i}]`, `${t.tag} gfn=${hex(t.gfn)} -> pfn=${hex(t.pfn)} ${t.writable ? 'W' : 'RO'}${t.stale ? ' STALE' : ''}`),
      ),
    ),
    store.leaf('in_guest', String(v.inGuest)),
    store.leaf('guest_mode', String(v.guestMode)),
  ];
  if (v.cr3 !== undefined) out.push(store.leaf('cr3', hex(v.cr3)));
  if (Object.keys(v.modeBits).length) out.push(store.value('mode bits', v.modeBits));
  return out;
}

/** "sp#12", "root sp#12", "sp 12" ... -> 12 */
export function parseSpId(text: string): number | undefined {
  const m = /sp\s*#?\s*(\d+)/i.exec(text);
  return m ? Number(m[1]) : /^\d+$/.test(text) ? Number(text) : undefined;
}

function spNode(store: VariableStore, view: StateView, label: string, id: number, text?: string): DebugProtocol.Variable {
  const sp = view.shadowPages.find((p) => p.id === id);
  if (!sp) return store.leaf(label, `${text ?? spRef(id)} (freed)`);
  return watchSp(store, store.node(label, shadowPageSummary(sp), () => shadowPageChildren(store, view, sp)), sp.id);
}

const watchSp = (store: VariableStore, v: DebugProtocol.Variable, id: number): DebugProtocol.Variable =>
  store.watch(v, `sp:${id}`, `sp#${id} changes (SPTEs, role, root count, parents, lifetime)`);

export function shadowPageVariables(store: VariableStore, view: StateView): DebugProtocol.Variable[] {
  return store.list(view.shadowPages, (sp) => watchSp(store, store.node(`sp#${sp.id}`, shadowPageSummary(sp), () => shadowPageChildren(store, view, sp)), sp.id));
}

export function shadowPageChildren(store: VariableStore, view: StateView, sp: ShadowPageView): DebugProtocol.Variable[] {
  return [
    store.leaf('gfn', hex(sp.gfn)),
    roleNode(store, sp),
    store.leaf(sp.tdp ? 'tdp_mmu_root_count' : 'root_count', String(sp.rootCount)),
    store.leaf('mmu_valid_gen', `${sp.mmuValidGen}${sp.obsolete ? ` (obsolete, vm gen ${view.vm.mmu_valid_gen})` : ''}`),
    store.leaf('role.invalid', String(sp.invalid)),
    store.leaf('unsync', String(sp.unsync)),
    store.leaf('unsync_children', String(sp.unsyncChildren)),
    store.leaf('unsync_child_bitmap', sp.unsyncChildBitmap.length ? sp.unsyncChildBitmap.join(',') : '0'),
    store.leaf('lifetime', sp.lifetime),
    store.leaf('on active_mmu_pages', String(sp.onActiveList)),
    store.leaf('in mmu_page_hash', String(sp.inHash)),
    store.value('parent_ptes', sp.parentPtes),
    store.node('spt', `${sp.sptes.length} present SPTEs`, () => store.list(sp.sptes, (e) => spteNode(store, view, e)), { indexedVariables: sp.sptes.length }),
  ];
}

function roleNode(store: VariableStore, sp: ShadowPageView): DebugProtocol.Variable {
  return store.node('role', `${sp.roleWord} {${roleSummary(sp.role)}}`, () => {
    const fields = Object.keys(sp.role).length ? sp.role : decodeRoleWord(sp.roleWord);
    const out = Object.entries(fields).map(([k, v]) => store.leaf(k, typeof v === 'boolean' ? (v ? '1' : '0') : k === 'access' ? `${v} (${accessText(v)})` : String(v)));
    out.push(store.leaf('word', sp.roleWord));
    return out;
  });
}

function accessText(v: number): string {
  const parts: string[] = [];
  if (v & 4) parts.push('ACC_USER_MASK');
  if (v & 2) parts.push('ACC_WRITE_MASK');
  if (v & 1) parts.push('ACC_EXEC_MASK');
  return parts.join('|') || '0';
}

function spteNode(store: VariableStore, view: StateView, e: SpteView): DebugProtocol.Variable {
  return store.node(`[${e.index}]`, spteSummary(e), () => {
    const out = [
      store.leaf('value', e.value),
      store.leaf('present', String(e.present)),
      store.leaf('writable', String(e.writable)),
      store.leaf('accessed', String(e.accessed)),
      store.leaf('dirty', String(e.dirty)),
      store.leaf('huge', String(e.huge)),
      store.leaf('mmio', String(e.mmio)),
      store.leaf('leaf', String(e.leaf)),
    ];
    if (e.pfn !== undefined) out.push(store.leaf('pfn', hex(e.pfn)));
    if (e.child !== undefined) out.push(spNode(store, view, 'child', e.child));
    return out;
  });
}

export function memslotVariables(store: VariableStore, view: StateView): DebugProtocol.Variable[] {
  return view.memslots.map((m) =>
    store.node(`slot ${m.id}`, `base_gfn=${hex(m.baseGfn)} npages=${m.npages} hva=${hex(m.hva)}${m.flags?.length ? ' ' + m.flags.join(',') : ''}`, () => [
      store.leaf('base_gfn', hex(m.baseGfn)),
      store.leaf('npages', String(m.npages)),
      store.leaf('userspace_addr', hex(m.hva)),
      store.leaf('flags', m.flags?.join(' | ') || '0'),
      store.node('arch.rmap', `${m.rmaps.length} non-empty heads`, () => store.list(m.rmaps, (r) => rmapNode(store, r)), { indexedVariables: m.rmaps.length }),
      store.value('lpage_info', m.lpageDisallow),
    ]),
  );
}

function rmapNode(store: VariableStore, r: RmapHeadView): DebugProtocol.Variable {
  return store.watch(rmapNodeInner(store, r), `rmap:${r.slot}:${r.level}:${r.gfn}`, `the L${r.level} rmap of gfn ${hex(r.gfn)} changes`);
}

function rmapNodeInner(store: VariableStore, r: RmapHeadView): DebugProtocol.Variable {
  return store.node(`L${r.level} gfn ${hex(r.gfn)}`, `${r.head} (${r.sptes.length} sptes${r.descs.length ? `, ${r.descs.length} pte_list_desc` : ''})`, () => [
    store.leaf('head', r.head),
    store.value('sptes', r.sptes),
    store.value('pte_list_desc', r.descs),
  ]);
}

export function threadVariables(store: VariableStore, view: StateView): DebugProtocol.Variable[] {
  return [store.leaf(view.vm.names?.mmu_lock ?? 'mmu_lock', lockSummary(view)), ...view.threads.map((t) =>
    store.leaf(t.id, `${t.kind} op ${t.opIndex}${t.done ? ' done' : ''}${t.blockedOn ? ` blocked on ${t.blockedOn}` : ''}${t.stack.length ? ` in ${t.stack[t.stack.length - 1]!.fn}` : ''}`),
  )];
}

export function violationVariables(store: VariableStore, vs: Violation[]): DebugProtocol.Variable[] {
  return vs.map((v, i) =>
    store.node(`[${i}] ${v.id}`, v.message, () => [
      store.leaf('id', v.id),
      store.leaf('message', v.message),
      store.leaf('step', String(v.step)),
      store.leaf('thread', v.thread),
      store.leaf('frame', v.frame ? `${v.frame.fn}${v.frame.point ? ` (${v.frame.point})` : ''}` : '-'),
      store.value('objects', v.objects),
    ]),
  );
}

/** Whether a trace effect changes the object a data breakpoint watches. */
export function effectTouches(e: Effect, dataId: string): boolean {
  const [kind, ...rest] = dataId.split(':');
  const arg = rest.join(':');
  switch (kind) {
    case 'vm':
      return e.kind === 'vm-field' && e.field === arg;
    case 'stat':
      return e.kind === 'stat' && e.stat === arg;
    case 'lock':
      return e.kind === 'lock' && e.lock === arg;
    case 'sp': {
      const id = Number(arg);
      return (
        ((e.kind === 'spte-write' || e.kind === 'sp-field' || e.kind === 'sp-state' || e.kind === 'root-ref' || e.kind === 'parent-pte-add' || e.kind === 'parent-pte-remove') && e.sp === id) ||
        (e.kind === 'sp-alloc' && e.sp === id)
      );
    }
    case 'vcpu': {
      const id = Number(arg);
      return (
        ((e.kind === 'vcpu-root' || e.kind === 'request-set' || e.kind === 'request-clear' || e.kind === 'tlb-fill') && e.vcpu === id) ||
        (e.kind === 'tlb-flush' && (e.vcpu === id || e.vcpu === 'all'))
      );
    }
    case 'rmap': {
      const [slot, level, gfn] = arg.split(':').map(Number);
      return (e.kind === 'rmap-add' || e.kind === 'rmap-remove') && e.slot === slot && e.level === level && e.gfn === gfn;
    }
    default:
      return false;
  }
}
