/**
 * Conditions, hit conditions and logpoints of source and function breakpoints (parsed once when the
 * breakpoint is set), and the names a condition can read at a stop.
 *
 * Names at a stop (see `stopEnv`):
 * - the arguments of the thread's innermost frame at the stop (`gfn`, `vcpu`, `sp` ...), also as `args.x`;
 * - `thread` (the stopping thread's id), `fn` (innermost function), `step` (atomic step index);
 * - `kvm` / `vm`: the VM (`kvm.mmu_valid_gen`, `kvm->arch.mmu_valid_gen`, `kvm.stats.pages_4k`), and each
 *   VM field by its bare name (`mmu_valid_gen`, or the era's name such as `mmu_notifier_seq`);
 * - `vcpu0`, `vcpu[0]`, `vcpus`; `sp#3`, `sp[3]` (by id; NULL once freed), `shadowPages`; `threads.ioctl`
 *   (by id), `mmu_lock`, `stats`, `memslots`, `era`, `mmu`, `bug`.
 * Kernel spellings of view fields work too (`sp[3].root_count`, `vcpu0.prev_roots`).
 */
import type { Frame, StateView, ThreadId } from '../engine/api';
import { ExprRuntimeError, ExprSyntaxError, Lookup, MAX_EXPR_LENGTH, evaluate, parseExpression, truthy, type Env, type Expr, type Value } from './expression';
import { formatScalar } from './format';

export interface HitCondition {
  op: '==' | '>' | '>=' | '<' | '<=' | '%';
  n: number;
  text: string;
}

/** VS Code's hit condition forms: `N` (exactly the Nth hit), `==N`/`=N`, `>N`, `>=N`, `<N`, `<=N`, `%N` (every Nth). */
export function parseHitCondition(text: string): HitCondition {
  const m = /^\s*(==|=|>=|<=|>|<|%)?\s*([0-9]{1,9})\s*$/.exec(text.slice(0, 64));
  if (!m || text.length > 64) throw new Error(`hit condition "${text.slice(0, 40)}" is not N, ==N, >N, >=N, <N, <=N or %N`);
  const op = (m[1] === '=' || !m[1] ? '==' : m[1]) as HitCondition['op'];
  const n = Number(m[2]);
  if (op === '%' && n === 0) throw new Error('hit condition %0 never matches (use %1 or more)');
  return { op, n, text: text.trim() };
}

export function hitMatches(h: HitCondition, count: number): boolean {
  switch (h.op) {
    case '==':
      return count === h.n;
    case '>':
      return count > h.n;
    case '>=':
      return count >= h.n;
    case '<':
      return count < h.n;
    case '<=':
      return count <= h.n;
    case '%':
      return count % h.n === 0;
  }
}

/** A logpoint message: literal text and `{expression}` parts; `\{` and `\}` are literal braces. */
export type LogTemplate = Array<string | { expr: Expr; text: string }>;

export const MAX_LOG_MESSAGE = 8 * MAX_EXPR_LENGTH;

export function parseLogMessage(message: string): LogTemplate {
  if (message.length > MAX_LOG_MESSAGE) throw new Error(`log message too long (${message.length} characters, the limit is ${MAX_LOG_MESSAGE})`);
  const out: LogTemplate = [];
  let lit = '';
  let i = 0;
  while (i < message.length) {
    const c = message[i]!;
    if (c === '\\' && (message[i + 1] === '{' || message[i + 1] === '}')) {
      lit += message[i + 1];
      i += 2;
    } else if (c === '{') {
      const end = message.indexOf('}', i + 1);
      if (end < 0) throw new Error(`log message: "{" at column ${i + 1} has no closing "}"`);
      const text = message.slice(i + 1, end);
      let expr: Expr;
      try {
        expr = parseExpression(text);
      } catch (e) {
        throw new Error(`log message: {${text.slice(0, 60)}}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (lit) out.push(lit);
      lit = '';
      out.push({ expr, text });
      i = end + 1;
    } else {
      lit += c;
      i++;
    }
  }
  if (lit) out.push(lit);
  return out;
}

/** The text of a logpoint at a stop; a part that fails to evaluate shows as `<error: ...>`. */
export function renderLog(t: LogTemplate, env: Env): string {
  return t
    .map((part) => {
      if (typeof part === 'string') return part;
      try {
        return displayValue(part.text.trim(), evaluate(part.expr, env));
      } catch (e) {
        return `<error: ${e instanceof Error ? e.message : String(e)}>`;
      }
    })
    .join('');
}

/** One value as text, hex for address-like names (as in the Variables view). */
export function displayValue(name: string, v: Value): string {
  if (v instanceof Lookup) return `${v.label} (${v.size()} entries)`;
  const key = /([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(name)?.[1] ?? name;
  return formatScalar(key, v);
}

/** Condition, hit condition and log message of one breakpoint, parsed; `error` when one does not parse. */
export interface BpOptions {
  condition?: Expr;
  conditionText?: string;
  hit?: HitCondition;
  log?: LogTemplate;
  error?: string;
}

export function parseBpOptions(req: { condition?: string; hitCondition?: string; logMessage?: string }): BpOptions {
  const o: BpOptions = {};
  try {
    if (req.condition !== undefined && req.condition.trim() !== '') {
      o.conditionText = req.condition.length > 80 ? `${req.condition.slice(0, 77)}...` : req.condition;
      try {
        o.condition = parseExpression(req.condition);
      } catch (e) {
        const col = e instanceof ExprSyntaxError ? ` at column ${e.column + 1}` : '';
        throw new Error(`condition does not parse${col}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (req.hitCondition !== undefined && req.hitCondition.trim() !== '') o.hit = parseHitCondition(req.hitCondition);
    if (req.logMessage !== undefined && req.logMessage !== '') o.log = parseLogMessage(req.logMessage);
  } catch (e) {
    o.error = e instanceof Error ? e.message : String(e);
  }
  return o;
}

/** "stops when ... if gfn == 0x10, on hit ==3" / "logs ..." for the Breakpoint message. */
export function describeOptions(o: BpOptions, base: string): string {
  const extra: string[] = [];
  if (o.conditionText) extra.push(`if ${o.conditionText}`);
  if (o.hit) extra.push(`on hits ${o.hit.op === '==' ? `==${o.hit.n}` : `${o.hit.op}${o.hit.n}`}`);
  const text = o.log ? base.replace(/^stops when/, 'logs when') : base;
  return extra.length ? `${text} (${extra.join(', ')})` : text;
}

/** Evaluates a condition: true / false, or the error text. */
export function testCondition(e: Expr, env: Env): boolean | { error: string } {
  try {
    return truthy(evaluate(e, env));
  } catch (err) {
    if (err instanceof ExprRuntimeError) return { error: err.message };
    // anything else is a bug in the evaluator or the state view; still the user's stop, not a crash
    return { error: `internal error: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * The names a condition can read: the state view after the stop's atomic step (what the Variables view
 * shows there) and the arguments of the innermost frame.
 */
export function stopEnv(view: () => StateView, stop: { thread: ThreadId; step: number; stack: Frame[]; frame?: Frame }): Env {
  const top = stop.stack[stop.stack.length - 1] ?? stop.frame;
  const args: Record<string, unknown> = { ...(stop.frame?.args ?? {}), ...(top?.args ?? {}) };
  const vmOf = (): Record<string, unknown> => {
    const vm = view().vm as unknown as Record<string, unknown>;
    return { ...vm, arch: vm };
  };
  const vmField = (name: string): Value | undefined => {
    const vm = view().vm;
    const rec = vm as unknown as Record<string, unknown>;
    if (name !== 'names' && Object.prototype.hasOwnProperty.call(rec, name)) return rec[name];
    const generic = Object.entries(vm.names ?? {}).find(([, era]) => era === name)?.[0];
    return generic !== undefined ? rec[generic] : undefined;
  };
  const byId = <T extends { id: number | string }>(label: string, items: () => T[]): Lookup =>
    new Lookup(
      label,
      (k) => items().find((x) => String(x.id) === String(typeof k === 'string' ? k.replace(/^sp#/, '') : k)) ?? null,
      () => items().length,
    );
  return {
    name(name: string): Value | undefined {
      if (Object.prototype.hasOwnProperty.call(args, name)) return args[name];
      switch (name) {
        case 'args':
          return args;
        case 'thread':
          return stop.thread;
        case 'fn':
          return top?.fn ?? null;
        case 'step':
          return stop.step;
        case 'kvm':
        case 'vm':
          return vmOf();
        case 'vcpu':
          return byId('vcpu', () => view().vcpus);
        case 'vcpus':
          return view().vcpus;
        case 'sp':
          return byId('sp', () => view().shadowPages);
        case 'shadowPages':
          return view().shadowPages;
        case 'threads':
          return byId('threads', () => view().threads);
        case 'memslots':
          return view().memslots;
        case 'era':
          return view().era;
        case 'mmu':
          return view().mmu;
        case 'bug':
          return view().bug ?? null;
      }
      const cpu = /^vcpu([0-9]+)$/.exec(name);
      if (cpu) return view().vcpus.find((c) => c.id === Number(cpu[1])) ?? null;
      const sp = /^sp#([0-9]+)$/.exec(name);
      if (sp) return view().shadowPages.find((p) => p.id === Number(sp[1])) ?? null;
      return vmField(name);
    },
  };
}

export { MAX_EXPR_LENGTH };
