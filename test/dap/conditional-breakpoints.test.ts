/**
 * Tier 2: conditional breakpoints, hit-count breakpoints and logpoints of the kvm-mmu-lab debug adapter
 * (DebugClient against the adapter in server mode, fixture tree, fake engine), plus the expression
 * language they use.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { startAdapterServer, type AdapterServer } from '../../src/debug/server';
import { evaluate, parseExpression, MAX_DEPTH } from '../../src/debug/expression';
import { hitMatches, parseHitCondition, parseLogMessage } from '../../src/debug/breakpoints';
import { TREE, fixtureDeps } from './fixtures/deps';

const TDP_C = path.join(TREE, 'arch/x86/kvm/mmu/tdp_mmu.c');
const FAULTS = 6;

let server: AdapterServer;
let dc: DebugClient;
let dir: string;
let scenario: string;

before(async () => {
  server = await startAdapterServer(fixtureDeps());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-dap-cond-'));
  scenario = path.join(dir, 'faults.kvmmmu.yaml');
  // vcpu0 enters the guest, then faults gfn 0x10, 0x11, ... 0x15: kvm_tdp_mmu_map runs once per fault
  const ops = Array.from({ length: FAULTS }, (_, i) => `      - { op: page_fault, gfn: ${0x10 + i}, write: true }`).join('\n');
  fs.writeFileSync(
    scenario,
    `name: six faults\nvm:\n  era: "6.1"\n  mmu: tdp\n  vcpus: 1\n  memslots:\n    - { id: 0, baseGfn: 0, npages: 0x1000, hva: 0x7f0000000000 }\nthreads:\n  - id: vcpu0\n    kind: vcpu\n    vcpu: 0\n    ops:\n      - op: enter_guest\n${ops}\nschedule: { kind: sequential }\n`,
  );
});
after(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function lineOf(file: string, text: string): number {
  const i = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `${text} not in ${file}`);
  return i + 1;
}

interface Setup {
  src?: DebugProtocol.SourceBreakpoint[];
  fns?: DebugProtocol.FunctionBreakpoint[];
}

interface Session {
  src?: DebugProtocol.SetBreakpointsResponse;
  fns?: DebugProtocol.SetFunctionBreakpointsResponse;
  output: Array<{ category?: string; output: string }>;
  /** Resolves with the first stopped event, or 'terminated'. */
  first: Promise<DebugProtocol.StoppedEvent | 'terminated'>;
}

function nextStopOrEnd(): Promise<DebugProtocol.StoppedEvent | 'terminated'> {
  return Promise.race([
    dc.waitForEvent('stopped').then((e) => e as DebugProtocol.StoppedEvent),
    dc.waitForEvent('terminated').then(() => 'terminated' as const),
  ]);
}

async function launch(setup: Setup): Promise<Session> {
  dc = new DebugClient('node', 'unused', 'kvm-mmu-lab');
  dc.defaultTimeout = 8000;
  await dc.start(server.port);
  const s: Session = { output: [], first: undefined as never };
  dc.on('output', (e) => s.output.push((e as DebugProtocol.OutputEvent).body));
  const configured = dc.waitForEvent('initialized').then(async () => {
    if (setup.src) s.src = await dc.setBreakpointsRequest({ source: { path: TDP_C }, breakpoints: setup.src });
    if (setup.fns) s.fns = await dc.setFunctionBreakpointsRequest({ breakpoints: setup.fns });
    await dc.configurationDoneRequest();
  });
  s.first = nextStopOrEnd();
  await Promise.all([configured, dc.launch({ scenario })]);
  return s;
}

/** gfn argument of the innermost frame at the stop, as the Variables view shows it. */
async function gfnAt(ev: DebugProtocol.StoppedEvent): Promise<string> {
  const frames = (await dc.stackTraceRequest({ threadId: ev.body.threadId! })).body.stackFrames;
  const r = await dc.evaluateRequest({ expression: 'gfn', frameId: frames[0]!.id, context: 'watch' });
  return r.body.result;
}

async function cont(): Promise<DebugProtocol.StoppedEvent | 'terminated'> {
  const next = nextStopOrEnd();
  await dc.continueRequest({ threadId: 1 });
  return next;
}

/** The gfns of all stops until the run ends, starting with the session's first stop. */
async function allStops(s: Session): Promise<string[]> {
  const out: string[] = [];
  for (let ev = await s.first; ev !== 'terminated'; ev = await cont()) {
    assert.notEqual(ev.body.reason, 'exception', ev.body.text);
    out.push(await gfnAt(ev));
  }
  return out;
}

const logLines = (s: Session): string[] => s.output.filter((o) => o.category === 'console' && !o.output.startsWith('KVM MMU Lab:')).map((o) => o.output);

describe('conditional breakpoints, hit counts and logpoints', () => {
  it('initialize advertises conditional, hit-conditional breakpoints and logpoints', async () => {
    dc = new DebugClient('node', 'unused', 'kvm-mmu-lab');
    await dc.start(server.port);
    try {
      const r = await dc.initializeRequest();
      assert.equal(r.body?.supportsConditionalBreakpoints, true);
      assert.equal(r.body?.supportsHitConditionalBreakpoints, true);
      assert.equal(r.body?.supportsLogPoints, true);
    } finally {
      await dc.stop();
    }
  });

  it('a function breakpoint with a condition on a frame argument stops only where it is true', async () => {
    const s = await launch({ fns: [{ name: 'kvm_tdp_mmu_map', condition: 'gfn == 0x13' }] });
    try {
      assert.equal(s.fns!.body.breakpoints[0]!.verified, true);
      assert.match(s.fns!.body.breakpoints[0]!.message ?? '', /if gfn == 0x13/);
      assert.deepEqual(await allStops(s), ['0x13']);
    } finally {
      await dc.stop();
    }
  });

  it('a condition that is never true never stops; a line breakpoint condition reads the simulator state', async () => {
    let s = await launch({ fns: [{ name: 'kvm_tdp_mmu_map', condition: 'gfn == 0x999 || thread != "vcpu0"' }] });
    try {
      assert.equal(await s.first, 'terminated');
    } finally {
      await dc.stop();
    }
    // state after the stop's atomic step: the kth fault has mapped k 4K pages
    const line = lineOf(TDP_C, 'int kvm_tdp_mmu_map(');
    s = await launch({ src: [{ line, condition: 'kvm->arch.stats.pages_4k >= 2 && vcpu0.root == "sp#1" && sp[1].root_count == 1 && !sp[99]' }] });
    try {
      assert.equal(s.src!.body.breakpoints[0]!.verified, true);
      const stops = await allStops(s);
      assert.deepEqual(stops, ['0x11', '0x12', '0x13', '0x14', '0x15']);
    } finally {
      await dc.stop();
    }
  });

  it('hit condition 3 stops on the 3rd hit only; >=5 from the 5th; counts only hits whose condition is true', async () => {
    let s = await launch({ fns: [{ name: 'kvm_tdp_mmu_map', hitCondition: '3' }] });
    try {
      assert.match(s.fns!.body.breakpoints[0]!.message ?? '', /on hits ==3/);
      assert.deepEqual(await allStops(s), ['0x12']);
    } finally {
      await dc.stop();
    }
    s = await launch({ fns: [{ name: 'kvm_tdp_mmu_map', hitCondition: '>= 5' }] });
    try {
      assert.deepEqual(await allStops(s), ['0x14', '0x15']);
    } finally {
      await dc.stop();
    }
    // the hits are 0x11, 0x13, 0x15 (odd gfns); the 2nd of them is 0x13
    s = await launch({ src: [{ line: lineOf(TDP_C, 'int kvm_tdp_mmu_map('), condition: 'gfn == 0x11 || gfn == 0x13 || gfn == 0x15', hitCondition: '==2' }] });
    try {
      assert.deepEqual(await allStops(s), ['0x13']);
    } finally {
      await dc.stop();
    }
  });

  it('hit condition %2 stops on every 2nd hit; counts belong to positions, so going back and forward again does not recount', async () => {
    const s = await launch({ fns: [{ name: 'kvm_tdp_mmu_map', hitCondition: '%2' }] });
    try {
      let ev = await s.first;
      assert.notEqual(ev, 'terminated');
      assert.equal(await gfnAt(ev as DebugProtocol.StoppedEvent), '0x11');
      ev = await cont();
      assert.equal(await gfnAt(ev as DebugProtocol.StoppedEvent), '0x13');
      // reverse continue stops at the 2nd hit again, continue at the 4th, then the 6th
      const back = dc.waitForEvent('stopped');
      await dc.reverseContinueRequest({ threadId: 1 });
      ev = (await back) as DebugProtocol.StoppedEvent;
      assert.equal(ev.body.reason, 'function breakpoint');
      assert.equal(await gfnAt(ev), '0x11');
      ev = await cont();
      assert.equal(await gfnAt(ev as DebugProtocol.StoppedEvent), '0x13');
      ev = await cont();
      assert.equal(await gfnAt(ev as DebugProtocol.StoppedEvent), '0x15');
      assert.equal(await cont(), 'terminated');
    } finally {
      await dc.stop();
    }
  });

  it('a hit-count breakpoint set after stepping past earlier hits counts them from the start of the run', async () => {
    const s = await launch({ fns: [{ name: 'kvm_tdp_mmu_map', condition: 'gfn == 0x12' }] });
    try {
      const ev = (await s.first) as DebugProtocol.StoppedEvent;
      assert.equal(await gfnAt(ev), '0x12');
      // now the 4th entry overall is 0x13
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'kvm_tdp_mmu_map', hitCondition: '4' }] });
      const next = await cont();
      assert.equal(await gfnAt(next as DebugProtocol.StoppedEvent), '0x13');
    } finally {
      await dc.stop();
    }
  });

  it('a logpoint writes its message with {expressions} to the console and does not stop', async () => {
    const line = lineOf(TDP_C, 'int kvm_tdp_mmu_map(');
    const s = await launch({
      src: [
        { line, logMessage: 'map gfn={gfn} pages={kvm.stats.pages_4k} on {thread} \\{literal\\} {nosuch.field}' },
        { line: lineOf(TDP_C, 'static int tdp_mmu_map_handle_target_level('), logMessage: 'leaf pfn {pfn}', hitCondition: '>4' },
      ],
    });
    try {
      assert.deepEqual(s.src!.body.breakpoints.map((b) => b.verified), [true, true]);
      assert.match(s.src!.body.breakpoints[0]!.message ?? '', /^logs when/);
      assert.equal(await s.first, 'terminated');
      const lines = logLines(s);
      const maps = lines.filter((l) => l.startsWith('map '));
      assert.equal(maps.length, FAULTS);
      assert.equal(maps[0], 'map gfn=0x10 pages=1 on vcpu0 {literal} <error: unknown name "nosuch">\n');
      assert.match(maps[5]!, /^map gfn=0x15 pages=6 /);
      assert.deepEqual(lines.filter((l) => l.startsWith('leaf')), ['leaf pfn 0x100014\n', 'leaf pfn 0x100015\n']);
    } finally {
      await dc.stop();
    }
  });

  it('a condition, hit condition or log message that does not parse leaves the breakpoint unverified with the reason', async () => {
    const line = lineOf(TDP_C, 'int kvm_tdp_mmu_map(');
    const s = await launch({
      src: [
        { line, condition: 'gfn == (0x10' },
        { line, condition: 'gfn = 3' },
        { line, hitCondition: 'every third time' },
        { line, logMessage: 'gfn {gfn' },
        { line, logMessage: 'gfn {gfn +}' },
        { line, condition: 'kvm.stats.pages_4k == 4' },
      ],
      fns: [{ name: 'kvm_tdp_mmu_map', condition: '&& 1' }, { name: 'kvm_tdp_mmu_map', hitCondition: '%0' }],
    });
    try {
      const bps = s.src!.body.breakpoints;
      assert.deepEqual(bps.map((b) => b.verified), [false, false, false, false, false, true]);
      assert.match(bps[0]!.message ?? '', /^condition does not parse at column \d+: expected "\)" but found the end/);
      assert.match(bps[1]!.message ?? '', /^condition does not parse at column 5: unexpected character "="/);
      assert.match(bps[2]!.message ?? '', /hit condition "every third time" is not N, ==N, >N/);
      assert.match(bps[3]!.message ?? '', /log message: "\{" at column 5 has no closing "\}"/);
      assert.match(bps[4]!.message ?? '', /log message: \{gfn \+\}: unexpected character "\+"/);
      const fns = s.fns!.body.breakpoints;
      assert.deepEqual(fns.map((b) => b.verified), [false, false]);
      assert.match(fns[0]!.message ?? '', /^condition does not parse at column 1: expected a value but found "&&"/);
      assert.match(fns[1]!.message ?? '', /%0 never matches/);
      // only the good breakpoint stops
      assert.deepEqual(await allStops(s), ['0x13']);
    } finally {
      await dc.stop();
    }
  });

  it('a condition that fails at run time stops with the error on stderr; hostile and huge conditions do not crash the adapter', async () => {
    const huge = 'gfn == 1 && '.repeat(200_000) + '1';
    const deep = '('.repeat(5000) + '1' + ')'.repeat(5000);
    const s = await launch({
      fns: [
        { name: 'kvm_tdp_mmu_map', condition: huge },
        { name: 'kvm_tdp_mmu_map', condition: deep },
        { name: 'kvm_tdp_mmu_map', condition: '\u0000\u202e"' },
        { name: 'kvm_tdp_mmu_map', logMessage: '{'.repeat(100_000) } as DebugProtocol.FunctionBreakpoint,
        { name: 'kvm_tdp_mmu_map', hitCondition: '9'.repeat(100_000) },
        { name: 'kvm_tdp_mmu_map', condition: 'args.__proto__ || constructor || kvm.constructor' },
        { name: 'kvm_tdp_mmu_map', condition: 'sp[99].root_count > 0' },
      ],
    });
    try {
      const fns = s.fns!.body.breakpoints;
      assert.deepEqual(fns.map((b) => b.verified), [false, false, false, false, false, true, true]);
      assert.match(fns[0]!.message ?? '', /expression too long \(2400001 characters, the limit is 4096\)/);
      assert.ok((fns[0]!.message ?? '').length < 300);
      assert.match(fns[1]!.message ?? '', /too long|nested too deeply/);
      assert.match(fns[2]!.message ?? '', /unexpected character|unterminated string/);
      assert.match(fns[3]!.message ?? '', /log message/);
      assert.match(fns[4]!.message ?? '', /hit condition/);
      const ev = (await s.first) as DebugProtocol.StoppedEvent;
      assert.equal(ev.body.reason, 'function breakpoint');
      assert.deepEqual(ev.body.hitBreakpointIds, [fns[5]!.id, fns[6]!.id]);
      assert.match(ev.body.text ?? '', /"args\.__proto__ \|\| constructor \|\| kvm\.constructor" could not be evaluated: args has no field "__proto__"/);
      assert.match(ev.body.text ?? '', /"sp\[99\]\.root_count > 0" could not be evaluated: sp\[99\] is NULL/);
      assert.ok(s.output.some((o) => o.category === 'stderr' && /could not be evaluated/.test(o.output)));
      // the adapter still answers and runs on
      assert.equal((await dc.threadsRequest()).body.threads.length, 1);
      assert.equal(await gfnAt(ev), '0x10');
    } finally {
      await dc.stop();
    }
  });

  it('the Debug Console evaluates the same expressions at the current stop', async () => {
    const s = await launch({ fns: [{ name: 'kvm_tdp_mmu_map', hitCondition: '2' }] });
    try {
      const ev = (await s.first) as DebugProtocol.StoppedEvent;
      const frames = (await dc.stackTraceRequest({ threadId: ev.body.threadId! })).body.stackFrames;
      const ask = async (expression: string): Promise<string> => (await dc.evaluateRequest({ expression, frameId: frames[0]!.id, context: 'repl' })).body.result;
      assert.equal(await ask('gfn == 0x11 && kvm.stats.pages_4k == 2'), 'true');
      assert.equal(await ask('sp[1].root_count'), '1');
      assert.equal(await ask('vcpu[0].root'), 'sp#1');
      assert.equal(await ask('threads.vcpu0.opIndex'), '3', 'the state after the step: the 2nd fault (op 2) is done');
      assert.match(await ask('sp[99].gfn'), /sp\[99\] is NULL/);
      assert.match(await ask('gfn =='), /not an expression at column 7/);
      assert.equal(await ask('nosuch'), '(not a simulated name: nosuch)');
    } finally {
      await dc.stop();
    }
  });
});

describe('breakpoint expression language', () => {
  const env = (names: Record<string, unknown>) => ({ name: (n: string) => (Object.prototype.hasOwnProperty.call(names, n) ? names[n] : undefined) });
  const ev = (text: string, names: Record<string, unknown> = {}): unknown => evaluate(parseExpression(text), env(names));

  it('comparisons, logic, hex, strings, precedence and short-circuit', () => {
    assert.equal(ev('1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3 && 1 != 2 && 0x1f == 31'), true);
    assert.equal(ev('!(1 == 1) || "a" == \'a\''), true);
    assert.equal(ev('1 == 2 || 2 == 2 && 3 == 4'), false);
    assert.equal(ev('-1 < 0'), true);
    assert.equal(ev('x == 0x10', { x: '0x10' }), true, 'hex strings compare with numbers');
    assert.equal(ev('x.y[1].z_w == 5', { x: { y: [0, { zW: 5 }] } }), true, 'kernel snake_case reaches camelCase view fields');
    assert.equal(ev('0 && nosuch'), false, '&& short-circuits');
    assert.equal(ev('x == NULL && !x', { x: null }), true);
    assert.equal(ev('list.length', { list: [1, 2, 3] }), 3);
    assert.throws(() => ev('nosuch'), /unknown name "nosuch"/);
    assert.throws(() => ev('x < 1', { x: [1] }), /cannot compare a list/);
    assert.throws(() => ev('x.toString', { x: {} }), /has no field "toString"/);
  });

  it('syntax errors, limits', () => {
    assert.throws(() => parseExpression(''), /empty expression/);
    assert.throws(() => parseExpression('1 2'), /unexpected number 2 after the expression/);
    assert.throws(() => parseExpression('a.'), /expected a field name/);
    assert.throws(() => parseExpression('12abc'), /bad number/);
    assert.throws(() => parseExpression('!'.repeat(MAX_DEPTH + 1) + '1'), /nested too deeply/);
    assert.throws(() => parseExpression('a' + '.b'.repeat(MAX_DEPTH + 1)), /field path too long/);
    assert.equal(evaluate(parseExpression('('.repeat(MAX_DEPTH - 1) + '1' + ')'.repeat(MAX_DEPTH - 1)), env({})), 1);
  });

  it('hit conditions and log messages', () => {
    const h = (t: string): number[] => [1, 2, 3, 4, 5, 6].filter((n) => hitMatches(parseHitCondition(t), n));
    assert.deepEqual(h('3'), [3]);
    assert.deepEqual(h('==3'), [3]);
    assert.deepEqual(h('=3'), [3]);
    assert.deepEqual(h('>3'), [4, 5, 6]);
    assert.deepEqual(h('>=3'), [3, 4, 5, 6]);
    assert.deepEqual(h('<3'), [1, 2]);
    assert.deepEqual(h('<=3'), [1, 2, 3]);
    assert.deepEqual(h('%3'), [3, 6]);
    assert.throws(() => parseHitCondition('3x'));
    assert.equal(parseLogMessage('a {b} \\{c\\}').length, 3);
  });
});
