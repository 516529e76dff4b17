import type { Effect, StepRecord } from '../../../src/engine';

/** Compact, stable text of one effect (used by the exact-sequence tests). */
export function fmtEffect(f: Effect): string {
  switch (f.kind) {
    case 'spte-write': return `spte sp${f.sp}[${f.index}] ${f.old}->${f.new}`;
    case 'rmap-add': case 'rmap-remove': return `${f.kind} l${f.level} gfn=${f.gfn.toString(16)} ${f.sptep} n=${f.count}`;
    case 'parent-pte-add': case 'parent-pte-remove': return `${f.kind} sp${f.sp} ${f.sptep}`;
    case 'sp-alloc': return `alloc sp${f.sp} gfn=${f.gfn.toString(16)} role=${f.role} gen=${f.gen}${f.tdp ? ' tdp' : ''}`;
    case 'sp-state': return `sp${f.sp} ${f.from}->${f.to}`;
    case 'sp-field': return `sp${f.sp}.${f.field} ${String(f.old)}->${String(f.new)}`;
    case 'root-ref': return `sp${f.sp}.${f.field} ${f.old}->${f.new}`;
    case 'vcpu-root': return `vcpu${f.vcpu}.${f.slot} ${f.old}->${f.new}`;
    case 'request-set': return `req+ vcpu${f.vcpu} ${f.request}`;
    case 'request-clear': return `req- vcpu${f.vcpu} ${f.request}`;
    case 'tlb-fill': return `tlb-fill vcpu${f.vcpu} ${f.tag} ${f.gfn.toString(16)}->${f.pfn.toString(16)}${f.writable ? ' w' : ''}`;
    case 'tlb-flush': return `tlb-flush vcpu${f.vcpu} ${f.scope} ${f.entries}`;
    case 'lock': return `${f.action} ${f.lock} ${f.mode}`;
    case 'vm-field': return `${f.field} ${String(f.old)}->${String(f.new)}`;
    case 'stat': return `stat ${f.stat} ${f.old}->${f.new}`;
    case 'host-pte': return `host-pte ${f.hva.toString(16)} ${f.old}->${f.new}`;
    case 'host-page': return `page ${f.pfn.toString(16)}.${f.field} ${String(f.old)}->${String(f.new)}`;
    case 'memslot': return `memslot ${f.id} ${f.action}`;
    case 'note': return `note ${f.text}`;
  }
}

export function effectsOf(recs: readonly StepRecord[], from = 0, to = recs.length): string[] {
  const out: string[] = [];
  for (const r of recs.slice(from, to)) for (const e of r.events) if (e.kind === 'effect') out.push(fmtEffect(e.effect));
  return out;
}

export function callsOf(recs: readonly StepRecord[], from = 0): string[] {
  const out: string[] = [];
  for (const r of recs.slice(from)) for (const e of r.events) if (e.kind === 'call') out.push(e.frame.fn);
  return out;
}
