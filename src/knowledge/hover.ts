/**
 * The pure hover pipeline: word at a position → knowledge entry (through aliases) → markdown.
 * The VS Code provider (src/extension/hover) is a thin wrapper around `hoverFor`. No `vscode` here.
 */
import { invariant, resolve, type Resolution } from './index';
import type { KnowledgeEntry } from './types';
import { SEED_TITLES } from './types';
import { renamesFrom, renamesTo } from './aliases';
import { presenceIn, type PresenceVerdict } from './versions';
import { commandUri, liveSection, type LiveLink, type LiveValues } from './live';

export type { LiveValues, FunctionEntryCount, LiveLink } from './live';
export { buildLiveValues, commandUri } from './live';

/** Commands the hover's links may run (MarkdownString.isTrusted.enabledCommands). */
export const HOVER_COMMANDS = ['kvmMmuLab.gotoStep', 'kvmMmuLab.showPanel', 'kvmMmuLab.openDefinition'] as const;

export interface WordAt {
  word: string;
  start: number;
  end: number;
}

const isIdent = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/**
 * The C identifier at `offset` in `text` (offset may sit just after the last character). `FNAME(x)` is returned
 * whole when hovering either `FNAME` or `x`. Numbers are not words.
 */
export function wordAt(text: string, offset: number): WordAt | undefined {
  if (offset < 0 || offset > text.length) return undefined;
  let s = offset;
  let e = offset;
  if (!(e < text.length && isIdent(text.charCodeAt(e)))) {
    if (s > 0 && isIdent(text.charCodeAt(s - 1))) {
      s--;
      e = s;
    } else return undefined;
  }
  while (s > 0 && isIdent(text.charCodeAt(s - 1))) s--;
  while (e < text.length && isIdent(text.charCodeAt(e))) e++;
  const c0 = text.charCodeAt(s);
  if (c0 >= 48 && c0 <= 57) return undefined;
  const word = text.slice(s, e);
  // FNAME(x): hovering FNAME
  if (word === 'FNAME') {
    const m = /^\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)/.exec(text.slice(e, e + 80));
    if (m) return { word: `FNAME(${m[1]})`, start: s, end: e + m[0].length };
  }
  // FNAME(x): hovering x
  const before = text.slice(Math.max(0, s - 12), s);
  const mb = /FNAME\(\s*$/.exec(before);
  if (mb) {
    const after = /^\s*\)/.exec(text.slice(e, e + 8));
    if (after) return { word: `FNAME(${word})`, start: s - mb[0].length, end: e + after[0].length };
  }
  return { word, start: s, end: e };
}

export interface HoverOptions {
  /** Detected kernel version of the tree (e.g. "6.19", "5.17-rc5"). */
  treeVersion?: string;
  /** Live values of the active scenario. */
  live?: LiveValues;
  /** Whether a definition of `name` can be opened (adds an "open definition" link). */
  hasDefinition?: (name: string) => boolean;
  /** Hovering in a scenario file: op names resolve to their kernel entry point. */
  scenario?: boolean;
}

export interface HoverResult {
  markdown: string;
  /** Name of the (first) entry shown. */
  entryName: string;
  /** Presence of the hovered word in the tree version, when one was given. */
  presence?: PresenceVerdict;
  /** Every command link in the markdown (already encoded in `markdown`). */
  links: LiveLink[];
}

const KIND_LABEL: Record<KnowledgeEntry['kind'], string> = {
  function: 'function',
  macro: 'macro',
  'vm-field': 'per-VM MMU field',
  'sp-field': 'struct kvm_mmu_page field',
  'role-bit': 'kvm_mmu_page_role bit',
  'vcpu-field': 'per-vCPU MMU state',
  rmap: 'reverse map',
  request: 'vCPU request',
  notifier: 'MMU-notifier state',
  'spte-bit': 'SPTE bit',
  stat: 'statistic',
  lock: 'lock',
};

const code = (n: string): string => '`' + n + '`';
const codes = (xs: readonly string[] | undefined, max = 8): string =>
  !xs || xs.length === 0 ? '' : xs.slice(0, max).map(code).join(', ') + (xs.length > max ? `, … (+${xs.length - max})` : '');

function mdLink(l: LiveLink): string {
  return `[${l.label}](${commandUri(l)})`;
}

function versionNote(word: string, res: Resolution, treeVersion: string): { verdict: PresenceVerdict; text?: string } {
  const entry = res.entries[0]!;
  const presence = res.via === 'alias' ? res.rename.oldPresence : entry.history.presence;
  const verdict = presenceIn(presence, treeVersion);
  if (verdict === 'present') return { verdict };
  const hints: string[] = [];
  // Names that do exist in this version: successors (for old names) and predecessors (for new names).
  const candidates = new Set<string>();
  for (const r of renamesFrom(word)) r.successors.forEach((s) => candidates.add(s));
  for (const r of renamesTo(word)) candidates.add(r.old);
  for (const o of entry.history.oldNames ?? []) candidates.add(o.name);
  for (const n of entry.history.newNames ?? []) candidates.add(n.name);
  if (res.via === 'alias') candidates.add(entry.name);
  candidates.delete(word);
  for (const c of candidates) {
    const cr = resolve(c);
    const p = cr ? (cr.via === 'alias' ? cr.rename.oldPresence : cr.via === 'direct' && cr.entries[0]!.name === c ? cr.entries[0]!.history.presence : undefined) : undefined;
    const fromRename = [...renamesFrom(c)][0]?.oldPresence;
    const pres = p ?? fromRename;
    if (pres && presenceIn(pres, treeVersion) === 'present') hints.push(code(c));
  }
  const where = hints.length ? ` In this tree look for ${hints.join(' or ')}.` : '';
  const text =
    verdict === 'absent'
      ? `⚠ ${code(word)} does not exist in this tree (detected ${treeVersion}); sampled presence: ${presence}.${where}`
      : `⚠ ${code(word)} may not exist in this tree (detected ${treeVersion} lies between samples that disagree); sampled presence: ${presence}.${where}`;
  return { verdict, text };
}

function historyLine(e: KnowledgeEntry): string {
  const h = e.history;
  const parts = [`sampled presence ${h.presence}`, `in ${code(h.file)}`];
  if (h.oldNames?.length) parts.push('earlier ' + h.oldNames.map((o) => `${code(o.name)}${o.until ? ` (until ${o.until})` : ''}`).join(', '));
  if (h.newNames?.length) parts.push('later ' + h.newNames.map((n) => `${code(n.name)}${n.since ? ` (from ${n.since})` : ''}`).join(', '));
  let s = parts.join('; ') + '.';
  if (h.note) s += ' ' + h.note;
  return s;
}

/** Render the hover for a word. Returns undefined when the knowledge base has nothing on it. */
export function hoverFor(word: string, opts: HoverOptions = {}): HoverResult | undefined {
  const res = resolve(word, opts.scenario ? { scenario: true } : {});
  if (!res) return undefined;
  const entry = res.entries[0]!;
  const links: LiveLink[] = [];
  const out: string[] = [];

  const defName = res.via === 'direct' ? word : entry.name;
  let head = `**${code(word)}** — ${KIND_LABEL[entry.kind]}`;
  if (opts.hasDefinition?.(defName)) {
    const l: LiveLink = { label: 'Open definition', command: 'kvmMmuLab.openDefinition', args: { name: defName } };
    links.push(l);
    head += ` · ${mdLink(l)}`;
  }
  out.push(head);

  if (res.via === 'alias') {
    const r = res.rename;
    out.push(`↪ ${code(word)} is an older name (sampled ${r.oldPresence}); its successor is ${r.successors.map(code).join(' / ')} (from ${r.since}): ${r.note}. Explanation of ${code(entry.name)} follows.`);
  } else if (res.via === 'scenario-op') {
    out.push(`Scenario op ${code(res.op)} drives ${code(entry.name)}.`);
  } else if (res.renamedTo.length) {
    const r = res.renamedTo[0]!;
    out.push(`↪ Renamed/replaced from ${r.since}: successor ${r.successors.map(code).join(' / ')} (${r.note}).`);
  }

  let presence: PresenceVerdict | undefined;
  if (opts.treeVersion) {
    const vn = versionNote(word, res, opts.treeVersion);
    presence = vn.verdict;
    if (vn.text) out.push(vn.text);
  }

  out.push(entry.summary);
  if (entry.details) out.push(entry.details);
  out.push(`**Protected by:** ${entry.protectedBy}`);
  if (entry.misuse) out.push(`**If misused:** ${entry.misuse}`);
  const rel: string[] = [];
  if (entry.callers?.length) rel.push(`**Callers:** ${codes(entry.callers)}`);
  if (entry.callees?.length) rel.push(`**Callees:** ${codes(entry.callees)}`);
  if (entry.users?.length) rel.push(`**Used by:** ${codes(entry.users)}`);
  if (rel.length) out.push(rel.join(' · '));
  if (entry.invariants.length) {
    out.push('**Invariants:** ' + entry.invariants.map((id) => `${id} (${invariant(id)?.title ?? '?'})`).join('; '));
  }
  const seeds = entry.seeds.filter((s) => s !== 'none');
  if (seeds.length) out.push('**Seed thread:** ' + seeds.map((s) => SEED_TITLES[s]).join('; '));
  out.push(`**History:** ${historyLine(entry)}`);

  for (const other of res.entries.slice(1)) {
    out.push(`**Also (${KIND_LABEL[other.kind]}):** ${other.summary}`);
  }

  if (opts.live) {
    const sec = liveSection(entry, opts.live, word);
    if (sec) {
      out.push('---');
      const title = `**Live${opts.live.scenario ? ` — ${opts.live.scenario}` : ''} (step ${opts.live.step}):**`;
      out.push([title, ...sec.lines].join('  \n'));
      if (sec.links.length) {
        links.push(...sec.links);
        out.push(sec.links.map(mdLink).join(' · '));
      }
    }
  }

  const result: HoverResult = { markdown: out.join('\n\n'), entryName: entry.name, links };
  if (presence) result.presence = presence;
  return result;
}
