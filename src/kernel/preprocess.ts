/**
 * Light pre-processing before tree-sitter sees kernel C: known attribute macros are replaced by spaces of
 * the same length, so offsets, lines and columns stay exact while the grammar no longer trips over
 * `static __always_inline bool f(...)` or `void f(...) __must_hold(&kvm->mmu_lock)`.
 */

/** Attribute-like macros without arguments. */
export const ATTRIBUTE_WORDS: readonly string[] = [
  '__always_inline', '__must_check', '__init', '__exit', '__initdata', '__initconst', '__ref', '__refdata',
  'noinline', 'noinline_for_stack', '__noinline', '__cold', '__hot', '__weak', '__maybe_unused', '__always_unused',
  '__used', '__ro_after_init', '__read_mostly', '__rcu', '__percpu', '__user', '__iomem', '__visible', 'asmlinkage',
  'notrace', '__sched', '__pure', '__packed', '__aligned_largest', '__noreturn', 'noinstr', '__flatten',
  '__latent_entropy', '__randomize_layout', '__no_randomize_layout', '____cacheline_aligned',
  '____cacheline_aligned_in_smp', '__cacheline_aligned', '__cacheline_aligned_in_smp', '__force', '__bitwise',
  '__kvm_lockdep_guard', 'fastcall', '__nocfi', '__no_kcsan', '__always_used', '__counted_by_ptr',
];

/** Attribute-like macros that take one parenthesised argument list. */
export const ATTRIBUTE_CALLS: readonly string[] = [
  '__acquires', '__releases', '__must_hold', '__cond_acquires', '__cond_releases', '__aligned', '__section',
  '__printf', '__scanf', '__counted_by', '__guarded_by', '__pt_guarded_by', '__no_sanitize_address',
  '__acquire_shared', '__release_shared', '__must_hold_shared', '__cond_acquires_shared', '__alloc_size',
  '__assume_aligned', '__nonstring_array',
];

const WORD_RE = new RegExp(`\\b(?:${ATTRIBUTE_WORDS.map(escape).join('|')})\\b`, 'g');
const CALL_RE = new RegExp(`\\b(?:${ATTRIBUTE_CALLS.map(escape).join('|')})\\s*\\(`, 'g');

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function blank(s: string): string {
  return s.replace(/[^\n]/g, ' ');
}

/** Returns text of the same length (and the same line breaks) with attribute macros blanked out. */
export function blankAttributes(text: string): string {
  let out = text.replace(WORD_RE, (m) => ' '.repeat(m.length));
  CALL_RE.lastIndex = 0;
  const parts: string[] = [];
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = CALL_RE.exec(out)) !== null) {
    // find the matching close paren (bounded: attributes are short)
    let depth = 0;
    let end = -1;
    const limit = Math.min(out.length, m.index + m[0].length + 400);
    for (let i = m.index + m[0].length - 1; i < limit; i++) {
      const c = out.charCodeAt(i);
      if (c === 40) depth++;
      else if (c === 41 && --depth === 0) {
        end = i + 1;
        break;
      }
    }
    if (end < 0) continue;
    parts.push(out.slice(last, m.index), blank(out.slice(m.index, end)));
    last = end;
    CALL_RE.lastIndex = end;
  }
  if (parts.length) {
    parts.push(out.slice(last));
    out = parts.join('');
  }
  return out;
}

/** True if the buffer looks binary: any NUL byte, or many control bytes, in the sampled prefix. */
export function looksBinary(buf: Uint8Array, sample = 1 << 20): boolean {
  const n = Math.min(buf.length, sample);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = buf[i]!;
    if (b === 0) return true;
    if (b < 8 || (b > 13 && b < 32 && b !== 27)) control++;
  }
  return n > 0 && control / n > 0.02;
}
