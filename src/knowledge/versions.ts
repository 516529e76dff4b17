/**
 * Kernel version labels and comparison. Understands labels such as "2.6.35.6", "5.17-rc5", "6.19", "v6.8.0".
 */

/** The sampled trees, oldest first (domain §12.1). */
export const SAMPLE_LABELS = [
  '2.6.27', '2.6.35.6', '3.10.65', '3.13.10', '4.19', '5.2.1', '5.4.59', '5.10', '5.12.9', '5.15.24',
  '5.17-rc5', '5.18.12', '6.1-rc7', '6.19', '7.1.5',
] as const;
export type SampleLabel = (typeof SAMPLE_LABELS)[number];

/** JSON keys of kvm-function-index.json per label (domain §12.1). */
export const INDEX_KEYS: Record<SampleLabel, string> = {
  '2.6.27': 'caglar10ur/linux-2.6.27.y@3fa8749e584b55f1180411ab1b51117190bac1e5',
  '2.6.35.6': 'rivsidn/linux-2.6.35.6@62070fa14415e51aae06a636bcc9b4cec091a8ad',
  '3.10.65': 'Original-Linux/Linux-3.10@87bade1f41b5d2027146bd76d293f8389e59635a',
  '3.13.10': 'yifengyou/linux-3.13.0@b41ea31c2ce32552349b190fda1e59be48950d9e',
  '4.19': '0x88888888/Linux-4.19@74e90c5be72298af806d019452335484d048929a',
  '5.2.1': 'wangliang-cs/linux-5.2.1@6759af640c6e3095d58e1dc686588d6a0448be38',
  '5.4.59': 'BoKyoungHan/linux-5.4.59-vanilla@5b62582439bdadc8decffe4b4266cf4e6a871f3c',
  '5.10': 'wqhot/linux-5.10@2d901b1cb612478281d5bac5ab10ddf0cd2e464e',
  '5.12.9': 'zhangyinjun/linux-5.12.9@d2af4375332155975bc320ed8cc6981e2c7c285e',
  '5.15.24': 'yhuan416/linux-5.15.24@4479079f5a3178250e8bf613961e647c8fd6115c',
  '5.17-rc5': 'dunli/linux-5.17@6d28e3552c15bfd7c91004a65ae918591be70693',
  '5.18.12': 'esuoyanyu/kernel-5.18@678ce3b6bee675d9e53cc9dffe1b70818c0c3405',
  '6.1-rc7': 'krr-io/linux-6.1.0@7c210bc387c3fd282b1579833bbf6b7411ef4f30',
  '6.19': 'matankalina/linux-6.19.10-fork@094d869456d2bb93023e0ef9bf84a0758cbe8085',
  '7.1.5': 'danayer/linux-7.1.5@7d33d86d5512a3689a1779cd4af19c3c354e4af0',
};

export interface ParsedVersion {
  nums: number[];
  /** release candidate number, or undefined for a release. */
  rc?: number;
}

export function parseVersion(label: string): ParsedVersion | undefined {
  const m = /^v?(\d+(?:\.\d+)*)(?:-rc(\d+))?/.exec(label.trim());
  if (!m) return undefined;
  const nums = m[1]!.split('.').map((x) => Number(x));
  return m[2] !== undefined ? { nums, rc: Number(m[2]) } : { nums };
}

/**
 * Compare two labels. Missing components count as 0; "x.y-rcN" sorts before "x.y" (and before x.y.z).
 * Returns <0, 0, >0. Unparseable labels sort first.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return (pa ? 1 : 0) - (pb ? 1 : 0);
  const n = Math.max(pa.nums.length, pb.nums.length);
  for (let i = 0; i < n; i++) {
    const d = (pa.nums[i] ?? 0) - (pb.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  const ra = pa.rc ?? Number.POSITIVE_INFINITY;
  const rb = pb.rc ?? Number.POSITIVE_INFINITY;
  return ra === rb ? 0 : ra < rb ? -1 : 1;
}

export function isSampleLabel(x: string): x is SampleLabel {
  return (SAMPLE_LABELS as readonly string[]).includes(x);
}

/** Parse "a..b, c..d" / "all" / "x" into the sample labels it covers. Throws on unknown labels. */
export function presenceToLabels(presence: string): SampleLabel[] {
  const text = presence.trim();
  if (text === 'all') return [...SAMPLE_LABELS];
  if (text === '' || text === 'none') return [];
  const out = new Set<SampleLabel>();
  for (const part of text.split(',')) {
    const p = part.trim();
    const [from, to] = p.includes('..') ? p.split('..').map((s) => s.trim()) : [p, p];
    if (!from || !to || !isSampleLabel(from) || !isSampleLabel(to)) throw new Error(`unknown version range "${p}" in presence "${presence}"`);
    const i = SAMPLE_LABELS.indexOf(from);
    const j = SAMPLE_LABELS.indexOf(to);
    if (j < i) throw new Error(`reversed range "${p}"`);
    for (let k = i; k <= j; k++) out.add(SAMPLE_LABELS[k]!);
  }
  return SAMPLE_LABELS.filter((l) => out.has(l));
}

/** The inverse: contiguous runs of sample labels, e.g. "3.13.10..4.19, 5.4.59..7.1.5" ("all" when every sample). */
export function labelsToPresence(labels: Iterable<string>): string {
  const set = new Set(labels);
  if (SAMPLE_LABELS.every((l) => set.has(l))) return 'all';
  const runs: string[] = [];
  let start = -1;
  for (let i = 0; i <= SAMPLE_LABELS.length; i++) {
    const on = i < SAMPLE_LABELS.length && set.has(SAMPLE_LABELS[i]!);
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      runs.push(start === i - 1 ? SAMPLE_LABELS[start]! : `${SAMPLE_LABELS[start]}..${SAMPLE_LABELS[i - 1]}`);
      start = -1;
    }
  }
  return runs.length ? runs.join(', ') : 'none';
}

export type PresenceVerdict = 'present' | 'absent' | 'uncertain';

/**
 * Does a symbol with the given sampled presence exist in a tree of version `version`?
 * Exact sample → exact answer. Between two samples that agree → their answer; that disagree → uncertain.
 * Before the oldest / after the newest sample → the nearest sample's answer, marked uncertain only if the
 * nearest sample is present-and-edge (could have been removed/added) — we keep it simple: nearest answer.
 */
export function presenceIn(presence: string, version: string): PresenceVerdict {
  const labels = new Set<string>(presenceToLabels(presence));
  if (!parseVersion(version)) return 'uncertain';
  let below: SampleLabel | undefined;
  let above: SampleLabel | undefined;
  for (const l of SAMPLE_LABELS) {
    const c = compareVersions(l, version);
    if (c === 0) return labels.has(l) ? 'present' : 'absent';
    if (c < 0) below = l;
    else if (!above) above = l;
  }
  const b = below ? labels.has(below) : undefined;
  const a = above ? labels.has(above) : undefined;
  if (b === undefined) return a ? 'present' : 'absent';
  if (a === undefined) return b ? 'present' : 'absent';
  if (a === b) return a ? 'present' : 'absent';
  return 'uncertain';
}
