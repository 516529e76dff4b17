/**
 * DebugDeps.resolveFrame / functionsAtLine on top of the kernel index (src/kernel): definitions and call
 * sites from tree-sitter, rename-aware (a function renamed between eras still matches the engine's
 * name). Falls back to the regex resolver for files the index does not cover.
 */
import * as path from 'node:path';
import type { Frame } from '../engine/api';
import type { KernelIndex } from '../kernel/kernel-index';
import { aliasesOf } from '../kernel/aliases';
import type { DebugDeps, FunctionAtLine, SourceLocation } from './deps';
import type { FallbackResolver } from './fallback-resolver';

export type Resolvers = Pick<DebugDeps, 'resolveFrame' | 'functionsAtLine'>;

export function indexResolvers(
  /** The current index (it may be rebuilt while a session runs, so it is asked for every time). */
  getIndex: () => KernelIndex | undefined,
  fallback?: FallbackResolver,
  isSimulated: (fn: string) => boolean = () => true,
): Resolvers {
  return {
    resolveFrame(frame: Frame): SourceLocation | undefined {
      const index = getIndex();
      const loc = index?.resolveFrame(frame);
      if (index && loc) return { path: path.join(index.root, loc.file), line: loc.line };
      return fallback?.resolveFrame(frame);
    },
    functionsAtLine(file: string, line: number): FunctionAtLine[] {
      const index = getIndex();
      if (index) {
        const rel = path.relative(index.root, file).split(path.sep).join('/');
        if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
          const sym = index.symbolAt(rel, line);
          if (sym && sym.kind === 'function') {
            const aliases = aliasesOf(sym.name, index.era);
            if (!isSimulated(sym.name) && !aliases.some(isSimulated)) return [];
            // only a simulated callee makes a call-site breakpoint; other calls mean "this function"
            const call = line > sym.line ? [...(sym.calls ?? [])].find((c) => c.line === line && (isSimulated(c.callee) || aliasesOf(c.callee, index.era).some(isSimulated))) : undefined;
            return [{ fn: sym.name, line: sym.line, ...(call ? { callee: call.callee } : {}), ...(aliases.length ? { aliases } : {}) }];
          }
          if (index.files.some((f) => f.file === rel && !f.skipped)) return [];
        }
      }
      return fallback?.functionsAtLine(file, line) ?? [];
    },
  };
}
