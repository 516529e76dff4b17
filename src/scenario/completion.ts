/**
 * Completion model for scenario files: step names, step fields, VM fields, eras, MMU kinds, bugs,
 * invariant ids, thread names, labels and assertion paths. Works on incomplete text (indentation and
 * bracket heuristics), so it never depends on the document parsing cleanly.
 */
import { ASSERT_ROOTS, BUG_INFO, ERAS, MMU_KINDS, REQUESTS, STEPS, THREAD_KINDS, VM_FIELDS, helperThreads, knownInvariantIds, stepSpec } from './vocabulary';
import type { EraId, MmuKind } from '../engine/api';
import { AT_KEYS, EXPECT_KEYS, MEMSLOT_KEYS, SLICE_KEYS, TOP_KEYS, VARIANT_KEYS, VM_KEYS, WAIT_KEYS } from './parser';

export type CompletionKind = 'step' | 'field' | 'value' | 'invariant' | 'thread' | 'path' | 'keyword' | 'label';

export interface CompletionItem {
  label: string;
  kind: CompletionKind;
  detail?: string;
  documentation?: string;
  /** Text to insert (defaults to label). */
  insertText?: string;
}

const COMMON_POINTS = [
  'kvm_zap_obsolete_pages:yield',
  'kvm_mmu_zap_all_fast:after-invalidate',
  'kvm_mmu_page_fault:after-gfn-to-pfn',
  'kvm_mmu_notifier_invalidate_range_start:after-unmap',
];

/** Completion items at a 0-based line/character. */
export function complete(text: string, line: number, character: number): CompletionItem[] {
  try {
    return completeUnsafe(text, line, character);
  } catch {
    return [];
  }
}

function completeUnsafe(text: string, line: number, character: number): CompletionItem[] {
  const lines = text.split(/\r?\n/);
  const cur = lines[line] ?? '';
  const before = cur.slice(0, Math.max(0, character));
  const ancestors = blockAncestors(lines, line, before);
  const flow = flowContext(before);
  const top = ancestors[0] ?? (indentOf(before) === 0 && !before.includes(':') ? undefined : undefined);
  const threads = threadNames(lines);
  const labels = labelNames(lines);

  // value position: "key: |" — decide by the key right before the cursor
  const valueKey = /([A-Za-z_][\w]*)\s*:\s*["']?[\w.:-]*$/.exec(before)?.[1];
  const inViolationList = /\b(violations|absent)\s*:\s*\[[^\]]*$/.test(before) || ((ancestors.at(-1) === 'violations' || ancestors.at(-1) === 'absent') && /^\s*-\s*[\w-]*$/.test(before));
  if (inViolationList) return knownInvariantIds().map((id) => ({ label: id, kind: 'invariant' as const, detail: 'invariant', documentation: invariantDoc(id) }));
  // the schedule may also name the threads the engine adds itself in this VM's era/MMU
  const scheduleThreads = (): CompletionItem[] => [
    ...threads.map((t) => ({ label: t, kind: 'thread' as const })),
    ...engineThreads(lines).filter((h) => !threads.includes(h.id)).map((h) => ({ label: h.id, kind: 'thread' as const, detail: `engine ${h.kind} thread`, documentation: h.doc })),
  ];
  if (top === 'schedule' && /\bthreads\s*:\s*\[[^\]]*$/.test(before) && /[[,]\s*[\w.-]*$/.test(before)) return scheduleThreads();
  if (valueKey && !/[{[,]\s*[\w]*$/.test(before.slice(before.lastIndexOf(valueKey) + valueKey.length + 1))) {
    if (valueKey === 'thread' && top === 'schedule') return scheduleThreads();
    const v = valueCompletions(valueKey, threads, labels);
    if (v) return v;
  }

  // inside a flow mapping of a step: fields of that step
  const stepName = flow.map((f) => f.key).reverse().find((k) => k && stepSpec(k));
  if (stepName && flow.at(-1)?.bracket === '{' && flow.at(-1)?.key === stepName) return stepFields(stepName);
  const blockStep = ancestors.slice().reverse().find((k) => stepSpec(k));
  if (top === 'threads' && blockStep && flow.length === 0 && !/^\s*-/.test(before)) return stepFields(blockStep);

  if (top === 'threads') {
    // step position: after "[", "- ", "{ " in a thread's list
    if (ancestors.length >= 2 || flow.length > 0) return stepItems();
    return threads.map((t) => ({ label: t, kind: 'thread' as const }));
  }
  if (top === 'vm') {
    if (ancestors.includes('memslots')) return keys(MEMSLOT_KEYS, 'memslot field');
    if (ancestors.length === 1 || flow.length === 1) return keys(VM_KEYS, 'vm field');
  }
  if (top === 'schedule') {
    if (flow.length > 0 || ancestors.length >= 1) return keys(SLICE_KEYS, 'schedule slice field');
  }
  if (top === 'expect' || top === 'variants') {
    if (ancestors.includes('assert')) return pathItems();
    if (ancestors.includes('at')) return keys(AT_KEYS, "'at' field");
    if (ancestors.includes('requestServiced') || ancestors.includes('wait')) return keys(WAIT_KEYS, 'wait field');
    if (top === 'variants' && ancestors.length === 2) return keys(VARIANT_KEYS, 'variant field');
    return keys(EXPECT_KEYS, 'expect field');
  }
  if (indentOf(cur) === 0 || ancestors.length === 0) return keys(TOP_KEYS, 'scenario key');
  return [];
}

function valueCompletions(key: string, threads: string[], labels: string[]): CompletionItem[] | undefined {
  switch (key) {
    case 'era':
      return ERAS.map((e) => ({ label: e, kind: 'value' as const, insertText: `"${e}"`, detail: 'kernel era profile' }));
    case 'mmu':
      return MMU_KINDS.map((m) => ({ label: m, kind: 'value' as const, detail: 'MMU kind' }));
    case 'bug':
      return BUG_INFO.map((b) => ({ label: b.id, kind: 'value' as const, detail: `${b.year}: violates ${b.invariants.join(', ') || 'nothing (latency)'}`, documentation: b.summary }));
    case 'thread':
    case 'threadDone':
      return threads.map((t) => ({ label: t, kind: 'thread' as const }));
    case 'requestServiced':
      return REQUESTS.map((r) => ({ label: r, kind: 'value' as const }));
    case 'until':
      return [
        { label: 'done', kind: 'keyword', detail: 'run the thread to completion' },
        { label: 'op', kind: 'keyword', detail: 'finish the current step' },
        ...COMMON_POINTS.map((p) => ({ label: p, kind: 'value' as const, insertText: `"${p}"`, detail: 'preemption point' })),
      ];
    case 'after':
      return [{ label: 'end', kind: 'keyword' as const }, ...labels.map((l) => ({ label: l, kind: 'label' as const }))];
    case 'kind':
      return THREAD_KINDS.map((k) => ({ label: k, kind: 'value' as const }));
    case 'hostBacking':
      return ['all', 'none'].map((k) => ({ label: k, kind: 'value' as const }));
    case 'schedule':
      return ['sequential', 'round-robin'].map((k) => ({ label: k, kind: 'keyword' as const }));
    default:
      return undefined;
  }
}

function stepItems(): CompletionItem[] {
  return STEPS.map((s) => ({ label: s.name, kind: 'step' as const, detail: s.kernel, documentation: s.doc }));
}

function stepFields(name: string): CompletionItem[] {
  const spec = stepSpec(name);
  if (!spec) return [];
  return spec.fields.map((f) => ({ label: f.name, kind: 'field' as const, detail: `${f.type}${f.required ? ' (required)' : ''}`, documentation: f.doc, insertText: `${f.name}: ` }));
}

function keys(list: readonly string[], detail: string): CompletionItem[] {
  return list.map((k) => ({ label: k, kind: 'field' as const, detail, insertText: `${k}: ` }));
}

export function pathItems(): CompletionItem[] {
  const out: CompletionItem[] = ASSERT_ROOTS.map((r) => ({ label: r.name, kind: 'path' as const, documentation: r.doc }));
  for (const f of VM_FIELDS) out.push({ label: `vm.${f}`, kind: 'path', detail: 'vm field' });
  for (const f of ['count', 'valid', 'invalid', 'obsolete', 'list']) out.push({ label: `roots.${f}`, kind: 'path', detail: 'computed' });
  for (const f of ['root', 'prevRoots', 'requests', 'tlb', 'inGuest']) out.push({ label: `vcpus[0].${f}`, kind: 'path', detail: 'vCPU field' });
  for (const f of ['mapped', 'young', 'writable', 'sptes', 'rmap', 'rmapCount', 'hostYoung']) out.push({ label: `gfn[0x10].${f}`, kind: 'path', detail: 'computed' });
  for (const f of ['live', 'freed', 'invalidList', 'obsolete', 'unsync']) out.push({ label: `pages.${f}`, kind: 'path', detail: 'computed count' });
  return out.map((i) => ({ ...i, insertText: `"${i.label}": ` }));
}

function invariantDoc(id: string): string | undefined {
  const bug = BUG_INFO.find((b) => b.invariants.includes(id));
  return bug ? `violated by bug '${bug.id}' (${bug.year}): ${bug.summary}` : undefined;
}

function indentOf(s: string): number {
  return /^\s*/.exec(s)![0].length;
}

/** Keys of the enclosing block mappings, outermost first, for the cursor line. */
function blockAncestors(lines: string[], line: number, before: string): string[] {
  const out: string[] = [];
  // keys opened on the current line before the cursor count as ancestors (e.g. "  vcpu0: [ {")
  let indent = effectiveIndent(before);
  const curKey = /^\s*(?:-\s*)?([A-Za-z_][\w.-]*)\s*:/.exec(before)?.[1];
  if (curKey && /:\s*(\S.*)?$/.test(before) && /:\s*[[{]/.test(before)) out.unshift(curKey);
  for (let i = line - 1; i >= 0 && indent > 0; i--) {
    const l = lines[i] ?? '';
    if (!l.trim() || l.trim().startsWith('#')) continue;
    const ind = effectiveIndent(l);
    if (ind < indent) {
      const m = /^\s*(?:-\s*)?([A-Za-z_"][\w.\-"[\]]*)\s*:/.exec(l);
      if (m) out.unshift(m[1]!.replace(/"/g, ''));
      indent = ind;
    }
  }
  if (out.length === 0 && indent === 0 && curKey && /:\s*[[{]/.test(before)) return [curKey];
  return out;
}

function effectiveIndent(l: string): number {
  const m = /^(\s*)(-\s+)?/.exec(l)!;
  return m[1]!.length + (m[2] ? m[2].length : 0);
}

/** Unclosed flow brackets on the line, each with the key right before it. */
function flowContext(before: string): Array<{ bracket: '{' | '['; key?: string }> {
  const stack: Array<{ bracket: '{' | '['; key?: string }> = [];
  let quote: string | undefined;
  for (let i = 0; i < before.length; i++) {
    const c = before[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === '[') {
      const key = /([A-Za-z_][\w.-]*)\s*:\s*$/.exec(before.slice(0, i))?.[1];
      stack.push({ bracket: c, key });
    } else if (c === '}' || c === ']') stack.pop();
    else if (c === '#' && (i === 0 || /\s/.test(before[i - 1]!))) break;
  }
  return stack;
}

/** Helper threads the engine adds for the VM described by the text's `vm:` block (era and mmu). */
function engineThreads(lines: string[]): ReturnType<typeof helperThreads> {
  let era: string | undefined;
  let mmu: string | undefined;
  let inVm = false;
  for (const l of lines) {
    if (/^\S/.test(l)) inVm = /^vm\s*:/.test(l);
    if (!inVm) continue;
    era ??= /\bera\s*:\s*["']?([\d.]+)/.exec(l)?.[1];
    mmu ??= /\bmmu\s*:\s*["']?([\w-]+)/.exec(l)?.[1];
  }
  if (!era || !(ERAS as readonly string[]).includes(era)) return [];
  return helperThreads(era as EraId, (mmu && (MMU_KINDS as readonly string[]).includes(mmu) ? mmu : 'tdp') as MmuKind);
}

function threadNames(lines: string[]): string[] {
  const out: string[] = [];
  let inThreads = false;
  let childIndent = -1;
  for (const l of lines) {
    if (/^threads\s*:/.test(l)) {
      inThreads = true;
      const inline = /^threads\s*:\s*\{(.*)/.exec(l);
      if (inline) for (const m of inline[1]!.matchAll(/([A-Za-z_][\w.-]*)\s*:/g)) if (!stepSpec(m[1]!) && m[1] !== 'label') out.push(m[1]!);
      continue;
    }
    if (inThreads && /^\S/.test(l)) break;
    if (!inThreads || !l.trim() || l.trim().startsWith('#')) continue;
    const ind = indentOf(l);
    if (childIndent < 0) childIndent = ind;
    if (ind === childIndent) {
      const m = /^\s*([A-Za-z_][\w.-]*)\s*:/.exec(l);
      if (m) out.push(m[1]!);
    }
  }
  return [...new Set(out)];
}

function labelNames(lines: string[]): string[] {
  const out: string[] = [];
  for (const l of lines) for (const m of l.matchAll(/\blabel\s*:\s*["']?([\w.-]+)/g)) out.push(m[1]!);
  return [...new Set(out)];
}
