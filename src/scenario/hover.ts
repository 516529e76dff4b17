/** Hover text for scenario files: steps, invariant ids, bug variants, eras, requests. Pure (no vscode). */
import { BUG_INFO, ERAS, REQUESTS, REQUEST_AVAILABILITY, stepSpec, invariantDoc, knownInvariantIds } from './vocabulary';
import type { Range } from './types';

export interface HoverInfo { markdown: string; range: Range }

export function hoverAt(text: string, line: number, character: number): HoverInfo | undefined {
  const l = text.split(/\r?\n/)[line];
  if (l === undefined) return undefined;
  const re = /[A-Za-z_][\w.-]*/g;
  for (let m = re.exec(l); m; m = re.exec(l)) {
    if (character < m.index || character > m.index + m[0].length) continue;
    const word = m[0];
    const range: Range = { start: { line, character: m.index }, end: { line, character: m.index + word.length } };
    const md = describeWord(word);
    return md ? { markdown: md, range } : undefined;
  }
  return undefined;
}

export function describeWord(word: string): string | undefined {
  const step = stepSpec(word);
  if (step) {
    const fields = step.fields.length ? step.fields.map((f) => `- \`${f.name}\`${f.required ? ' (required)' : ''}: ${f.doc}`).join('\n') : '_no fields_';
    const eras = step.eras ? `\n\nEras: ${step.eras.join(', ')}` : '';
    return `**${step.name}** — \`${step.kernel}\`\n\n${step.doc}${step.oneOf ? ` Give ${step.oneOf.join(' or ')}.` : ''}\n\n${fields}${eras}`;
  }
  if (knownInvariantIds().includes(word)) {
    const doc = invariantDoc(word);
    const bugs = BUG_INFO.filter((b) => b.invariants.includes(word)).map((b) => `\`${b.id}\` (${b.year})`);
    return `**${word}**${doc ? ` — ${doc.title}\n\n${doc.explanation}` : ''}${doc?.eras ? `\n\nChecked in eras: ${doc.eras.join(', ')}` : ''}${bugs.length ? `\n\nViolated by: ${bugs.join(', ')}` : ''}`;
  }
  const bug = BUG_INFO.find((b) => b.id === word);
  if (bug) return `**bug ${bug.id}** (${bug.year})\n\n${bug.summary}\n\nEras: ${bug.eras.join(', ')}; violates ${bug.invariants.join(', ') || 'no invariant (latency only)'}`;
  if ((REQUESTS as readonly string[]).includes(word)) {
    const eras = REQUEST_AVAILABILITY[word as keyof typeof REQUEST_AVAILABILITY];
    return `**${word}**\n\nExists in eras: ${eras.length === ERAS.length ? 'all' : eras.join(', ')}`;
  }
  return undefined;
}
