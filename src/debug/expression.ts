/**
 * The small expression language of breakpoint conditions, logpoint `{…}` parts and the Debug Console.
 * A hand-written tokenizer and recursive-descent parser; nothing is ever handed to `eval`/`Function`.
 *
 *   expr    := or
 *   or      := and ( '||' and )*
 *   and     := eq ( '&&' eq )*
 *   eq      := rel ( ( '==' | '!=' ) rel )*
 *   rel     := unary ( ( '<' | '<=' | '>' | '>=' ) unary )*
 *   unary   := ( '!' | '-' ) unary | postfix
 *   postfix := primary ( ( '.' | '->' ) name | '[' expr ']' )*
 *   primary := number | string | name | '(' expr ')'
 *
 * Numbers are decimal or hex (`0x1f`); strings use '…' or "…" with backslash escapes; `true`, `false`,
 * `NULL`/`null` are literals; a name may be written `sp#3` (the shadow page with id 3). `==`/`!=`/`<`…
 * compare numbers with numeric strings such as "0x10" numerically (the simulator keeps some addresses
 * and SPTE values as hex strings). `&&`, `||` short-circuit; truthiness is C's: 0, false, NULL and ""
 * are false. Names and fields are resolved by an `Env` (see breakpoints.ts for the simulator one).
 *
 * Limits keep a hostile text harmless: MAX_EXPR_LENGTH characters and MAX_DEPTH nesting levels are
 * parse errors, never a stack overflow.
 */

export const MAX_EXPR_LENGTH = 4096;
export const MAX_DEPTH = 64;

export type Expr =
  | { kind: 'lit'; value: Value }
  | { kind: 'name'; name: string }
  | { kind: 'member'; object: Expr; name: string }
  | { kind: 'index'; object: Expr; index: Expr }
  | { kind: 'unary'; op: '!' | '-'; arg: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr };

type BinaryOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=';

/** What an expression computes: plain JSON-like data from the state view, or a keyed lookup table. */
export type Value = unknown;

/** Raised for text that is not an expression (with the 0-based column). */
export class ExprSyntaxError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

/** Raised while evaluating: an unknown name, a field that does not exist, a comparison of mismatched types. */
export class ExprRuntimeError extends Error {}

/**
 * A table looked up by key with `x[k]` or `x.k` (`sp[3]` finds the shadow page with id 3, not the 4th);
 * a missing key gives NULL. `length` is the number of entries.
 */
export class Lookup {
  constructor(
    readonly label: string,
    readonly get: (key: string | number) => Value,
    readonly size: () => number,
  ) {}
}

export interface Env {
  /** The value of a bare name; `undefined` when the name is unknown. */
  name(name: string): Value | undefined;
}

// ----------------------------------------------------------------------------------------------
// tokenizer

type Token =
  | { t: 'num'; v: number; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'id'; v: string; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'eof'; at: number };

const OPS = ['||', '&&', '==', '!=', '<=', '>=', '->', '<', '>', '!', '-', '.', '[', ']', '(', ')'];

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c)) {
      let m = /^0[xX][0-9a-fA-F]+/.exec(text.slice(i, i + 40));
      if (m && m[0].length < 40) {
        out.push({ t: 'num', v: parseInt(m[0].slice(2), 16), at: start });
        i += m[0].length;
      } else {
        m = /^[0-9]+(\.[0-9]+)?/.exec(text.slice(i, i + 400));
        if (!m || m[0].length >= 400) throw new ExprSyntaxError('number too long', start);
        out.push({ t: 'num', v: Number(m[0]), at: start });
        i += m[0].length;
      }
      if (i < text.length && /[A-Za-z_]/.test(text[i]!)) throw new ExprSyntaxError(`bad number "${text.slice(start, i + 1)}"`, start);
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j]!)) j++;
      let name = text.slice(i, j);
      // sp#3: the kernel developer's way to name a shadow page
      const hash = /^#\s*([0-9]+)/.exec(text.slice(j, j + 24));
      if (name === 'sp' && hash) {
        name = `sp#${hash[1]}`;
        j += hash[0].length;
      }
      out.push({ t: 'id', v: name, at: start });
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      for (;;) {
        if (j >= text.length) throw new ExprSyntaxError('unterminated string', start);
        const d = text[j]!;
        if (d === c) break;
        if (d === '\\' && j + 1 < text.length) {
          const e = text[j + 1]!;
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else {
          s += d;
          j++;
        }
      }
      out.push({ t: 'str', v: s, at: start });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) throw new ExprSyntaxError(`unexpected character "${c}"`, start);
    out.push({ t: 'op', v: op, at: start });
    i += op.length;
  }
  out.push({ t: 'eof', at: text.length });
  return out;
}

// ----------------------------------------------------------------------------------------------
// parser

export function parseExpression(text: string): Expr {
  if (text.length > MAX_EXPR_LENGTH) throw new ExprSyntaxError(`expression too long (${text.length} characters, the limit is ${MAX_EXPR_LENGTH})`, MAX_EXPR_LENGTH);
  if (!text.trim()) throw new ExprSyntaxError('empty expression', 0);
  const toks = tokenize(text);
  let p = 0;
  let depth = 0;
  const peek = (): Token => toks[p]!;
  const isOp = (v: string): boolean => {
    const t = peek();
    return t.t === 'op' && t.v === v;
  };
  const expect = (v: string): void => {
    if (!isOp(v)) throw new ExprSyntaxError(`expected "${v}" but found ${describe(peek())}`, peek().at);
    p++;
  };
  const nest = <T>(f: () => T): T => {
    if (++depth > MAX_DEPTH) throw new ExprSyntaxError(`expression nested too deeply (more than ${MAX_DEPTH} levels)`, peek().at);
    try {
      return f();
    } finally {
      depth--;
    }
  };
  const binary = (ops: BinaryOp[], next: () => Expr): Expr => {
    let left = next();
    for (;;) {
      const t = peek();
      if (t.t !== 'op' || !(ops as string[]).includes(t.v)) return left;
      p++;
      left = { kind: 'binary', op: t.v as BinaryOp, left, right: next() };
    }
  };
  const or = (): Expr => nest(() => binary(['||'], and));
  const and = (): Expr => binary(['&&'], eq);
  const eq = (): Expr => binary(['==', '!='], rel);
  const rel = (): Expr => binary(['<', '<=', '>', '>='], unary);
  const unary = (): Expr => {
    if (isOp('!') || isOp('-')) {
      const op = (peek() as { v: '!' | '-' }).v;
      p++;
      return nest(() => ({ kind: 'unary', op, arg: unary() }));
    }
    return postfix();
  };
  const postfix = (): Expr => {
    let e = primary();
    let chain = 0;
    for (;;) {
      if (isOp('.') || isOp('->')) {
        p++;
        const t = peek();
        if (t.t !== 'id') throw new ExprSyntaxError(`expected a field name but found ${describe(t)}`, t.at);
        p++;
        e = { kind: 'member', object: e, name: t.v };
      } else if (isOp('[')) {
        p++;
        const index = or();
        expect(']');
        e = { kind: 'index', object: e, index };
      } else return e;
      if (++chain > MAX_DEPTH) throw new ExprSyntaxError(`field path too long (more than ${MAX_DEPTH} parts)`, peek().at);
    }
  };
  const primary = (): Expr => {
    const t = peek();
    if (t.t === 'num') {
      p++;
      return { kind: 'lit', value: t.v };
    }
    if (t.t === 'str') {
      p++;
      return { kind: 'lit', value: t.v };
    }
    if (t.t === 'id') {
      p++;
      if (t.v === 'true' || t.v === 'false') return { kind: 'lit', value: t.v === 'true' };
      if (t.v === 'NULL' || t.v === 'null') return { kind: 'lit', value: null };
      return { kind: 'name', name: t.v };
    }
    if (isOp('(')) {
      p++;
      const e = or();
      expect(')');
      return e;
    }
    throw new ExprSyntaxError(`expected a value but found ${describe(t)}`, t.at);
  };
  const e = or();
  if (peek().t !== 'eof') throw new ExprSyntaxError(`unexpected ${describe(peek())} after the expression`, peek().at);
  return e;
}

function describe(t: Token): string {
  switch (t.t) {
    case 'eof':
      return 'the end';
    case 'num':
      return `number ${t.v}`;
    case 'str':
      return `string "${t.v.slice(0, 20)}"`;
    default:
      return `"${t.v}"`;
  }
}

// ----------------------------------------------------------------------------------------------
// evaluation

/** kernel spelling -> the state view's field (the view uses camelCase for some kernel fields). */
const FIELD_ALIASES: Record<string, string> = { tdp_mmu_root_count: 'rootCount', spt: 'sptes' };

const camel = (s: string): string => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export function evaluate(e: Expr, env: Env): Value {
  switch (e.kind) {
    case 'lit':
      return e.value;
    case 'name': {
      const v = env.name(e.name);
      if (v === undefined) throw new ExprRuntimeError(`unknown name "${e.name}"`);
      return v;
    }
    case 'member':
      return member(evaluate(e.object, env), e.name, e.object);
    case 'index': {
      const obj = evaluate(e.object, env);
      const key = evaluate(e.index, env);
      if (typeof key !== 'number' && typeof key !== 'string') throw new ExprRuntimeError(`index of ${show(e.object)} must be a number or a string`);
      return member(obj, key, e.object);
    }
    case 'unary': {
      const v = evaluate(e.arg, env);
      if (e.op === '!') return !truthy(v);
      const n = toNumber(v);
      if (n === undefined) throw new ExprRuntimeError(`cannot negate ${typeName(v)}`);
      return -n;
    }
    case 'binary': {
      if (e.op === '&&') return truthy(evaluate(e.left, env)) && truthy(evaluate(e.right, env));
      if (e.op === '||') return truthy(evaluate(e.left, env)) || truthy(evaluate(e.right, env));
      const a = evaluate(e.left, env);
      const b = evaluate(e.right, env);
      if (e.op === '==') return equal(a, b);
      if (e.op === '!=') return !equal(a, b);
      return order(e.op, a, b);
    }
  }
}

function member(obj: Value, key: string | number, from: Expr): Value {
  if (obj === null || obj === undefined) throw new ExprRuntimeError(`${show(from)} is NULL (reading ${typeof key === 'number' ? `[${key}]` : `.${key}`})`);
  if (obj instanceof Lookup) {
    if (key === 'length') return obj.size();
    const v = obj.get(key);
    return v === undefined ? null : v;
  }
  if (Array.isArray(obj)) {
    if (key === 'length') return obj.length;
    const i = typeof key === 'number' ? key : /^[0-9]+$/.test(key) ? Number(key) : NaN;
    if (!Number.isInteger(i)) throw new ExprRuntimeError(`${show(from)} is a list; index it with a number`);
    if (i < 0 || i >= obj.length) throw new ExprRuntimeError(`${show(from)}[${i}] is out of range (length ${obj.length})`);
    return obj[i];
  }
  if (typeof obj === 'object') {
    const rec = obj as Record<string, unknown>;
    const k = String(key);
    for (const cand of [k, camel(k), FIELD_ALIASES[k]]) {
      if (cand !== undefined && Object.prototype.hasOwnProperty.call(rec, cand)) return rec[cand];
    }
    throw new ExprRuntimeError(`${show(from)} has no field "${k}"`);
  }
  if (typeof obj === 'string' && key === 'length') return obj.length;
  throw new ExprRuntimeError(`${show(from)} is ${typeName(obj)}, it has no field "${key}"`);
}

export function truthy(v: Value): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (typeof v === 'number') return !Number.isNaN(v);
  return true;
}

/** A number, or a string written as a decimal or hex number ("0x10"). */
function toNumber(v: Value): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    if (/^-?0[xX][0-9a-fA-F]+$/.test(v)) return (v.startsWith('-') ? -1 : 1) * parseInt(v.replace(/^-?0[xX]/, ''), 16);
    if (/^-?[0-9]+(\.[0-9]+)?$/.test(v)) return Number(v);
  }
  return undefined;
}

function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return false;
  if (typeof a === 'number' || typeof b === 'number' || typeof a === 'boolean' || typeof b === 'boolean') {
    const x = toNumber(a);
    const y = toNumber(b);
    return x !== undefined && y !== undefined && x === y;
  }
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  return false;
}

function order(op: '<' | '<=' | '>' | '>=', a: Value, b: Value): boolean {
  let x: number | string | undefined = toNumber(a);
  let y: number | string | undefined = toNumber(b);
  if (x === undefined || y === undefined) {
    if (typeof a === 'string' && typeof b === 'string') {
      x = a;
      y = b;
    } else throw new ExprRuntimeError(`cannot compare ${typeName(a)} ${op} ${typeName(b)}`);
  }
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}

function typeName(v: Value): string {
  if (v === null || v === undefined) return 'NULL';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Lookup) return `the table ${v.label}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v === 'string' ? 'the string' : `the ${typeof v}`} ${JSON.stringify(v).slice(0, 40)}`;
}

/** The source text of an expression (for messages). */
export function show(e: Expr): string {
  switch (e.kind) {
    case 'lit':
      return e.value === null ? 'NULL' : JSON.stringify(e.value);
    case 'name':
      return e.name;
    case 'member':
      return `${show(e.object)}.${e.name}`;
    case 'index':
      return `${show(e.object)}[${show(e.index)}]`;
    case 'unary':
      return `${e.op}${show(e.arg)}`;
    case 'binary':
      return `${show(e.left)} ${e.op} ${show(e.right)}`;
  }
}
