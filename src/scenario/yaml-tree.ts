/**
 * A small, total view of a YAML document: maps, sequences and scalars with exact source ranges.
 * Built from the `yaml` package's AST with a LineCounter; never throws on any input.
 */
import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node as YamlNodeT } from 'yaml';
import type { Diagnostic, Position, Range } from './types';

export interface YMapEntry { key: string; keyRange: Range; value: YNode }
export type YNode =
  | { kind: 'map'; entries: YMapEntry[]; range: Range; flow: boolean }
  | { kind: 'seq'; items: YNode[]; range: Range; flow: boolean }
  | { kind: 'scalar'; value: unknown; text: string; range: Range };

export interface YDoc {
  root: YNode | undefined;
  diagnostics: Diagnostic[];
  lineCounter: LineCounter;
  text: string;
  toRange(start: number, end: number): Range;
}

const MAX_DEPTH = 64;

export function parseYaml(text: string): YDoc {
  const lineCounter = new LineCounter();
  const diagnostics: Diagnostic[] = [];
  const pos = (offset: number): Position => {
    const o = Math.max(0, Math.min(offset, text.length));
    const lp = lineCounter.linePos(o);
    return { line: Math.max(0, lp.line - 1), character: Math.max(0, lp.col - 1) };
  };
  const toRange = (start: number, end: number): Range => ({ start: pos(start), end: pos(Math.max(start, end)) });
  let doc: Document.Parsed | undefined;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    diagnostics.push({ severity: 'error', code: 'yaml', message: `cannot parse YAML: ${e instanceof Error ? e.message : String(e)}`, range: toRange(0, 0) });
    return { root: undefined, diagnostics, lineCounter, text, toRange };
  }
  for (const err of doc.errors) {
    const [s, e] = err.pos ?? [0, 0];
    diagnostics.push({ severity: 'error', code: 'yaml', message: `YAML syntax: ${firstLine(err.message)}`, range: toRange(s, e) });
  }
  for (const w of doc.warnings) {
    const [s, e] = w.pos ?? [0, 0];
    diagnostics.push({ severity: 'warning', code: 'yaml', message: `YAML: ${firstLine(w.message)}`, range: toRange(s, e) });
  }
  const parsedDoc = doc;
  const convert = (node: unknown, depth: number, fallback: [number, number]): YNode => {
    const r = rangeOf(node) ?? fallback;
    const range = toRange(r[0], r[1]);
    if (depth > MAX_DEPTH) return { kind: 'scalar', value: null, text: '', range };
    if (isAlias(node)) {
      let target: unknown;
      try {
        target = node.resolve(parsedDoc);
      } catch {
        target = undefined;
      }
      if (!target) return { kind: 'scalar', value: null, text: '', range };
      const converted = convert(target, depth + 1, r);
      return { ...converted, range } as YNode;
    }
    if (isMap(node)) {
      const entries: YMapEntry[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as unknown;
        const kr = rangeOf(keyNode) ?? r;
        let key: string;
        if (isScalar(keyNode)) key = String(keyNode.value);
        else if (keyNode === null || keyNode === undefined) key = '';
        else key = safeString(keyNode);
        const valueNode = pair.value as unknown;
        const value: YNode =
          valueNode === null || valueNode === undefined
            ? { kind: 'scalar', value: null, text: '', range: toRange(kr[1], kr[1]) }
            : convert(valueNode, depth + 1, [kr[1], kr[1]]);
        entries.push({ key, keyRange: toRange(kr[0], kr[1]), value });
      }
      return { kind: 'map', entries, range, flow: Boolean(node.flow) };
    }
    if (isSeq(node)) {
      const items: YNode[] = [];
      for (const item of node.items) {
        items.push(item === null || item === undefined ? { kind: 'scalar', value: null, text: '', range } : convert(item, depth + 1, r));
      }
      return { kind: 'seq', items, range, flow: Boolean(node.flow) };
    }
    if (isScalar(node)) {
      const t = text.slice(r[0], r[1]);
      return { kind: 'scalar', value: node.value, text: t, range };
    }
    return { kind: 'scalar', value: null, text: '', range };
  };
  const root = doc.contents === null || doc.contents === undefined ? undefined : convert(doc.contents as YamlNodeT, 0, [0, 0]);
  return { root, diagnostics, lineCounter, text, toRange };
}

function rangeOf(node: unknown): [number, number] | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const r = (node as { range?: [number, number, number] | null }).range;
    if (Array.isArray(r) && typeof r[0] === 'number' && typeof r[1] === 'number') return [r[0], r[1]];
  }
  return undefined;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    return '?';
  }
}

export function mapGet(node: YNode | undefined, key: string): YMapEntry | undefined {
  return node && node.kind === 'map' ? node.entries.find((e) => e.key === key) : undefined;
}
