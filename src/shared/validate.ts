/**
 * Tiny runtime validators (no eval, no dependencies: they also run inside the webview under a strict CSP).
 * A validator returns `null` when the value conforms, otherwise a short error "path: reason".
 * Every object is checked for own keys only; keys that could pollute prototypes are rejected everywhere.
 */

export type Check = (v: unknown, path: string) => string | null;

export const LIMITS = {
  /** Longest accepted string (hex values, kernel paths, messages). */
  maxString: 4096,
  /** Longest accepted array (100k rmap heads, 10k+ shadow pages fit). */
  maxArray: 1_000_000,
  /** Most keys in a free-form record (role bits, stats, frame args). */
  maxRecordKeys: 256,
};

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export const str =
  (max = LIMITS.maxString): Check =>
  (v, p) =>
    typeof v !== 'string' ? `${p}: expected string` : v.length > max ? `${p}: string longer than ${max}` : null;

export const num: Check = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? null : `${p}: expected finite number`);
export const int: Check = (v, p) => (typeof v === 'number' && Number.isSafeInteger(v) ? null : `${p}: expected integer`);
export const nonNegInt: Check = (v, p) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? null : `${p}: expected non-negative integer`;
export const bool: Check = (v, p) => (typeof v === 'boolean' ? null : `${p}: expected boolean`);
export const unknownJson: Check = (v, p) => jsonLike(v, p, 0);

export function lit(...values: Array<string | number | boolean>): Check {
  const set = new Set<unknown>(values);
  return (v, p) => (set.has(v) ? null : `${p}: unexpected value`);
}

export function optional(c: Check): Check {
  return (v, p) => (v === undefined ? null : c(v, p));
}

export function nullable(c: Check): Check {
  return (v, p) => (v === null ? null : c(v, p));
}

export function oneOf(...cs: Check[]): Check {
  return (v, p) => {
    let first: string | null = null;
    for (const c of cs) {
      const e = c(v, p);
      if (e === null) return null;
      first ??= e;
    }
    return first;
  };
}

export function arr(of: Check, max = LIMITS.maxArray): Check {
  return (v, p) => {
    if (!Array.isArray(v)) return `${p}: expected array`;
    if (v.length > max) return `${p}: array longer than ${max}`;
    for (let i = 0; i < v.length; i++) {
      const e = of(v[i], `${p}[${i}]`);
      if (e) return e;
    }
    return null;
  };
}

export function tuple(...items: Check[]): Check {
  return (v, p) => {
    if (!Array.isArray(v) || v.length !== items.length) return `${p}: expected tuple of ${items.length}`;
    for (let i = 0; i < items.length; i++) {
      const e = items[i](v[i], `${p}[${i}]`);
      if (e) return e;
    }
    return null;
  };
}

function badKeys(v: Record<string, unknown>, p: string): string | null {
  for (const k of Object.keys(v)) if (FORBIDDEN_KEYS.has(k)) return `${p}: forbidden key ${k}`;
  return null;
}

/** An object with the given fields; unknown extra fields are allowed (additive contract) but must be JSON-like. */
export function obj(fields: Record<string, Check>, opts: { strict?: boolean } = {}): Check {
  const names = Object.keys(fields);
  return (v, p) => {
    if (!isPlainObject(v)) return `${p}: expected object`;
    const bad = badKeys(v, p);
    if (bad) return bad;
    for (const k of names) {
      const e = fields[k](Object.prototype.hasOwnProperty.call(v, k) ? v[k] : undefined, `${p}.${k}`);
      if (e) return e;
    }
    const keys = Object.keys(v);
    if (opts.strict) {
      for (const k of keys) if (!Object.prototype.hasOwnProperty.call(fields, k)) return `${p}: unknown field ${k.slice(0, 40)}`;
    } else if (keys.length > names.length) {
      if (keys.length > names.length + LIMITS.maxRecordKeys) return `${p}: too many fields`;
      for (const k of keys) {
        if (Object.prototype.hasOwnProperty.call(fields, k)) continue;
        const e = jsonLike(v[k], `${p}.${k.slice(0, 40)}`, 0);
        if (e) return e;
      }
    }
    return null;
  };
}

/** A free-form string-keyed record whose values pass `of`. */
export function rec(of: Check, maxKeys = LIMITS.maxRecordKeys): Check {
  return (v, p) => {
    if (!isPlainObject(v)) return `${p}: expected object`;
    const keys = Object.keys(v);
    if (keys.length > maxKeys) return `${p}: too many keys`;
    for (const k of keys) {
      if (FORBIDDEN_KEYS.has(k)) return `${p}: forbidden key ${k}`;
      if (k.length > 256) return `${p}: key too long`;
      const e = of(v[k], `${p}.${k}`);
      if (e) return e;
    }
    return null;
  };
}

/** Any JSON value with bounded depth, strings and arrays (for `unknown` fields such as sp-field old/new). */
function jsonLike(v: unknown, p: string, depth: number): string | null {
  if (depth > 16) return `${p}: nested too deeply`;
  if (v === null || typeof v === 'boolean') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? null : `${p}: expected finite number`;
  if (typeof v === 'string') return v.length > LIMITS.maxString ? `${p}: string too long` : null;
  if (Array.isArray(v)) {
    if (v.length > LIMITS.maxArray) return `${p}: array too long`;
    for (let i = 0; i < v.length; i++) {
      const e = jsonLike(v[i], `${p}[${i}]`, depth + 1);
      if (e) return e;
    }
    return null;
  }
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length > LIMITS.maxRecordKeys) return `${p}: too many keys`;
    for (const k of keys) {
      if (FORBIDDEN_KEYS.has(k)) return `${p}: forbidden key ${k}`;
      const e = jsonLike(v[k], `${p}.${k.slice(0, 40)}`, depth + 1);
      if (e) return e;
    }
    return null;
  }
  return `${p}: not JSON data`;
}

/** Lazily-defined check, for recursive schemas. */
export function lazy(f: () => Check): Check {
  let c: Check | undefined;
  return (v, p) => (c ??= f())(v, p);
}
