/**
 * A small stand-in for the kernel index: finds C function definitions with regular expressions
 * (kernel style: the definition starts at column 0, the body's braces sit at column 0) so breakpoints,
 * stack frames and CodeLenses work before/without the tree-sitter index.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from '../engine/api';
import type { FunctionAtLine, SourceLocation } from './deps';

export interface CFunction {
  name: string;
  /** 1-based line of the definition's first line (return type / name). */
  line: number;
  /** 1-based line of the closing brace. */
  end: number;
}

export interface ParsedCFile {
  functions: CFunction[];
  lines: string[];
}

const KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'return', 'sizeof', 'do', 'else', 'case', 'typeof', 'defined', '__attribute__']);
const DEF_START = /^(?!#)(?:[A-Za-z_][\w]*[\s*]+)+?\**(FNAME\(\w+\)|[A-Za-z_]\w*)\s*\(/;
const CALL = /\b(FNAME\(\w+\)|[A-Za-z_]\w*)\s*\(/g;

export function parseCFunctions(text: string): ParsedCFile {
  const lines = text.split(/\r?\n/);
  const functions: CFunction[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = DEF_START.exec(lines[i]!);
    if (!m || KEYWORDS.has(m[1]!) || /;\s*$/.test(lines[i]!)) continue;
    // the body starts at the first line beginning with "{" (or a line ending in "{"), before any ";" at column 0
    if (/\)\s*\{.*\}\s*;?\s*$/.test(lines[i]!)) {
      // a one-line definition: "static inline bool f(void) { return x; }"
      functions.push({ name: m[1]!, line: i + 1, end: i + 1 });
      continue;
    }
    let j = i;
    let open = -1;
    for (; j < Math.min(lines.length, i + 12); j++) {
      const l = lines[j]!;
      if (j > i && /^[A-Za-z_#]/.test(l)) break; // a new declaration at column 0: this was not a definition
      if (/^\{/.test(l) || (j === i && /\)\s*\{\s*$/.test(l))) {
        open = j;
        break;
      }
      if (/;\s*$/.test(l)) break;
    }
    if (open < 0) continue;
    let end = open;
    while (end < lines.length && !/^\}/.test(lines[end]!)) end++;
    functions.push({ name: m[1]!, line: i + 1, end: Math.min(end, lines.length - 1) + 1 });
    i = end;
  }
  return { functions, lines };
}

/** Common relocations between eras, e.g. arch/x86/kvm/mmu/mmu.c (5.x) <-> arch/x86/kvm/mmu.c (older). */
export function alternateFiles(file: string): string[] {
  const out = [file];
  if (file === 'arch/x86/kvm/mmu/mmu.c') out.push('arch/x86/kvm/mmu.c');
  else if (file === 'arch/x86/kvm/mmu.c') out.push('arch/x86/kvm/mmu/mmu.c');
  const base = path.posix.basename(file);
  if (file.startsWith('arch/x86/kvm/mmu/')) out.push(`arch/x86/kvm/${base}`);
  else if (file.startsWith('arch/x86/kvm/') && !file.includes('/mmu/')) out.push(`arch/x86/kvm/mmu/${base}`);
  return out;
}

export class FallbackResolver {
  private readonly cache = new Map<string, { mtime: number; parsed: ParsedCFile }>();

  constructor(
    /** Kernel tree roots to search, in order (the user's trees first, then the demo tree). */
    private readonly roots: () => string[],
    /** Which functions the engine simulates; everything by default. */
    private readonly isSimulated: (fn: string) => boolean = () => true,
  ) {}

  parse(file: string): ParsedCFile | undefined {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return undefined;
    }
    const hit = this.cache.get(file);
    if (hit && hit.mtime === st.mtimeMs) return hit.parsed;
    const parsed = parseCFunctions(fs.readFileSync(file, 'utf8'));
    this.cache.set(file, { mtime: st.mtimeMs, parsed });
    return parsed;
  }

  resolveFrame(frame: Frame): SourceLocation | undefined {
    for (const root of this.roots()) {
      for (const rel of alternateFiles(frame.file)) {
        const abs = path.join(root, rel);
        const parsed = this.parse(abs);
        const fn = parsed?.functions.find((f) => f.name === frame.fn);
        if (!parsed || !fn) continue;
        return { path: abs, line: pointLine(parsed, fn, frame.point) ?? fn.line };
      }
    }
    return undefined;
  }

  functionsAtLine(file: string, line: number): FunctionAtLine[] {
    const parsed = this.parse(file);
    if (!parsed) return [];
    const fn = parsed.functions.find((f) => line >= f.line && line <= f.end);
    if (!fn || !this.isSimulated(fn.name)) return [];
    const text = parsed.lines[line - 1] ?? '';
    let callee: string | undefined;
    if (line > fn.line) {
      for (const m of text.matchAll(CALL)) {
        // only a simulated callee makes a call-site breakpoint; other calls mean "this function"
        if (!KEYWORDS.has(m[1]!) && m[1] !== fn.name && !/^[A-Z_0-9]+$/.test(m[1]!) && this.isSimulated(m[1]!)) {
          callee = m[1]!;
          break;
        }
      }
    }
    return [{ fn: fn.name, line: fn.line, ...(callee ? { callee } : {}) }];
  }

  /** All function definitions of a file (for CodeLenses). */
  functionsIn(file: string): CFunction[] {
    return this.parse(file)?.functions ?? [];
  }
}

/** The line a frame point names inside a function: "calls X" -> the first call of X. */
export function pointLine(parsed: ParsedCFile, fn: CFunction, point: string | undefined): number | undefined {
  if (!point) return undefined;
  const m = /^calls\s+(FNAME\(\w+\)|[A-Za-z_]\w*)/.exec(point);
  const targets = m
    ? [m[1]!.replace(/[()]/g, (c) => '\\' + c)]
    : [
        // a point naming a callee ("kvm_x86_flush_tlb_current", "flush_workqueue(tdp_mmu_zap_wq)") or a yield
        ...(point.match(/[A-Za-z_]\w{3,}/g) ?? []).filter((w) => !KEYWORDS.has(w)),
        ...(/yield|resched/.test(point) ? ['(?:cond_resched|cond_resched_rwlock_\\w+|cond_resched_lock|tdp_mmu_iter_cond_resched)'] : []),
      ];
  for (const target of targets) {
    const re = new RegExp(`\\b${target}\\s*\\(`);
    for (let l = fn.line + 1; l <= fn.end; l++) if (re.test(parsed.lines[l - 1] ?? '')) return l;
  }
  return undefined;
}

/** Whether a trace point names a call of `callee`: "calls callee", "callee", "callee(args)". */
export function pointCalls(point: string | undefined, callee: string): boolean {
  if (!point) return false;
  return point === `calls ${callee}` || point === callee || point.startsWith(`${callee}(`);
}
