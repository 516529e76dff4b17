/**
 * Tier 2: the kvm-mmu-lab debug adapter over DAP (DebugClient against the adapter in server mode),
 * on the fixture kernel tree and scenarios with the fake engine.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { startAdapterServer, type AdapterServer } from '../../src/debug/server';
import { SCENARIOS, TREE, fixtureDeps } from './fixtures/deps';

const TDP_C = path.join(TREE, 'arch/x86/kvm/mmu/tdp_mmu.c');
const MMU_C = path.join(TREE, 'arch/x86/kvm/mmu/mmu.c');
const SCENARIO = path.join(SCENARIOS, 'tdp-zap.kvmmmu.yaml');

/** 1-based line of the first line of `file` containing `text` (after line `from`). */
function lineOf(file: string, text: string, from = 0): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l, n) => n >= from && l.includes(text));
  assert.ok(i >= 0, `${text} not in ${file}`);
  return i + 1;
}

let server: AdapterServer;
let dc: DebugClient;

before(async () => {
  server = await startAdapterServer(fixtureDeps());
});
after(async () => {
  await server.close();
});

async function connect(): Promise<DebugClient> {
  const c = new DebugClient('node', 'unused', 'kvm-mmu-lab');
  c.defaultTimeout = 4000;
  await c.start(server.port);
  return c;
}

interface Setup {
  bps?: Array<{ file: string; lines: number[] }>;
  fnBps?: string[];
  exceptions?: string[];
}

/** initialize + launch, configuring breakpoints in between; resolves with the first stopped event. */
async function launch(args: Record<string, unknown>, setup: Setup = {}): Promise<{ stopped: DebugProtocol.StoppedEvent; bps: DebugProtocol.SetBreakpointsResponse[] }> {
  const bps: DebugProtocol.SetBreakpointsResponse[] = [];
  const configured = dc.waitForEvent('initialized').then(async () => {
    for (const b of setup.bps ?? []) bps.push(await dc.setBreakpointsRequest({ source: { path: b.file }, breakpoints: b.lines.map((line) => ({ line })) }));
    if (setup.fnBps) await dc.setFunctionBreakpointsRequest({ breakpoints: setup.fnBps.map((name) => ({ name })) });
    if (setup.exceptions) await dc.setExceptionBreakpointsRequest({ filters: setup.exceptions });
    await dc.configurationDoneRequest();
  });
  const stopped = dc.waitForEvent('stopped');
  await Promise.all([configured, dc.launch({ scenario: SCENARIO, ...args })]);
  return { stopped: (await stopped) as DebugProtocol.StoppedEvent, bps };
}

async function stack(threadId: number): Promise<DebugProtocol.StackFrame[]> {
  return (await dc.stackTraceRequest({ threadId })).body.stackFrames;
}

async function topOf(ev: DebugProtocol.StoppedEvent): Promise<DebugProtocol.StackFrame> {
  return (await stack(ev.body.threadId!))[0]!;
}

/** Send a motion request and wait for the stopped event it must produce. */
async function motion(send: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped');
  await send();
  return (await stopped) as DebugProtocol.StoppedEvent;
}

async function vars(ref: number): Promise<DebugProtocol.Variable[]> {
  return (await dc.variablesRequest({ variablesReference: ref })).body.variables;
}

function named(vs: DebugProtocol.Variable[], name: string | RegExp): DebugProtocol.Variable {
  const v = vs.find((x) => (typeof name === 'string' ? x.name === name : name.test(x.name)));
  assert.ok(v, `no variable ${String(name)} in ${vs.map((x) => x.name).join(', ')}`);
  return v;
}

describe('kvm-mmu-lab debug adapter', () => {
  dc = undefined as unknown as DebugClient;
  const fresh = async (): Promise<void> => {
    dc = await connect();
  };
  const close = async (): Promise<void> => {
    await dc.stop();
  };

  it('initialize advertises stepping back, function and exception breakpoints', async () => {
    await fresh();
    try {
      const r = await dc.initializeRequest();
      assert.equal(r.body?.supportsStepBack, true);
      assert.equal(r.body?.supportsFunctionBreakpoints, true);
      assert.equal(r.body?.supportsDataBreakpoints, true);
      assert.equal(r.body?.supportsConfigurationDoneRequest, true);
      assert.deepEqual(r.body?.exceptionBreakpointFilters?.map((f) => f.filter), ['invariant']);
    } finally {
      await close();
    }
  });

  it('launch with stopOnEntry stops at the scenario, threads are the scenario threads', async () => {
    await fresh();
    try {
      const { stopped } = await launch({ stopOnEntry: true });
      assert.equal(stopped.body.reason, 'entry');
      const threads = (await dc.threadsRequest()).body.threads;
      assert.deepEqual(threads.map((t) => t.name), ['vcpu0 (vcpu)', 'ioctl (ioctl)']);
      const frames = await stack(1);
      assert.equal(frames.length, 1);
      assert.match(frames[0]!.name, /^scenario: vcpu0 op 0 enter_guest/);
      assert.equal(frames[0]!.source?.path, SCENARIO);
      assert.equal(frames[0]!.line, lineOf(SCENARIO, '- op: enter_guest'));
      const ioctl = await stack(2);
      assert.equal(ioctl[0]!.line, lineOf(SCENARIO, '- op: zap_all_fast'));
    } finally {
      await close();
    }
  });

  it('a scenario with syntax errors fails to launch with the error position', async () => {
    await fresh();
    try {
      await dc.initializeRequest();
      await assert.rejects(dc.launchRequest({ scenario: path.join(SCENARIOS, 'broken.kvmmmu.yaml') } as DebugProtocol.LaunchRequestArguments), /broken\.kvmmmu\.yaml:\d+:\d+/);
    } finally {
      await close();
    }
  });

  it('breakpoints on kernel lines: verified at the function line, unverified without a simulated function, stop with the kernel stack', async () => {
    await fresh();
    try {
      const inside = lineOf(TDP_C, 'int ret = 0;');
      const def = lineOf(TDP_C, 'int kvm_tdp_mmu_map(');
      const notSim = lineOf(MMU_C, 'fixture_nothing(kvm);');
      const { stopped, bps } = await launch({}, { bps: [{ file: TDP_C, lines: [inside, 1] }, { file: MMU_C, lines: [notSim] }] });
      const [tdp, mmu] = bps.map((b) => b.body.breakpoints);
      assert.equal(tdp![0]!.verified, true);
      assert.equal(tdp![0]!.line, def);
      assert.equal(tdp![1]!.verified, false);
      assert.match(tdp![1]!.message ?? '', /No simulated kernel function/);
      assert.equal(mmu![0]!.verified, false);

      assert.equal(stopped.body.reason, 'breakpoint');
      assert.deepEqual(stopped.body.hitBreakpointIds, [tdp![0]!.id]);
      const frames = await stack(stopped.body.threadId!);
      assert.deepEqual(frames.map((f) => f.name), [
        'kvm_tdp_mmu_map',
        'kvm_tdp_page_fault [calls kvm_tdp_mmu_map]',
        'kvm_mmu_page_fault [calls kvm_tdp_page_fault]',
        'scenario: vcpu0 op 1 page_fault(gfn=0x10, write=true)',
      ]);
      assert.equal(frames[0]!.source?.path, TDP_C);
      assert.equal(frames[0]!.line, def);
      assert.equal(frames[1]!.source?.path, MMU_C);
      assert.equal(frames[1]!.line, lineOf(MMU_C, 'r = kvm_tdp_mmu_map(vcpu, fault);'));
      assert.equal(frames[3]!.source?.path, SCENARIO);
      assert.equal(frames[3]!.line, lineOf(SCENARIO, '- op: page_fault'));

      // continue to the end: the breakpoint is hit once, then the run terminates
      const terminated = dc.waitForEvent('terminated');
      await dc.continueRequest({ threadId: stopped.body.threadId! });
      await terminated;
    } finally {
      await close();
    }
  });

  it('a breakpoint on a call site stops once, where the caller reaches the call', async () => {
    await fresh();
    try {
      const site = lineOf(MMU_C, 'kvm_make_all_cpus_request(kvm, KVM_REQ_MMU_FREE_OBSOLETE_ROOTS);');
      const { stopped, bps } = await launch({}, { bps: [{ file: MMU_C, lines: [site] }] });
      assert.equal(bps[0]!.body.breakpoints[0]!.verified, true);
      assert.equal(bps[0]!.body.breakpoints[0]!.line, site);
      assert.equal(stopped.body.reason, 'breakpoint');
      const threads = (await dc.threadsRequest()).body.threads;
      assert.equal(threads.find((t) => t.id === stopped.body.threadId)?.name, 'ioctl (ioctl)');
      const top = await topOf(stopped);
      assert.equal(top.name, 'kvm_mmu_zap_all_fast [calls kvm_make_all_cpus_request]');
      assert.equal(top.line, site);
      const terminated = dc.waitForEvent('terminated');
      await dc.continueRequest({ threadId: stopped.body.threadId! });
      await terminated;
    } finally {
      await close();
    }
  });

  it('function breakpoints stop on entry of the named kernel function; unknown names are not verified', async () => {
    await fresh();
    try {
      let fnResponse: DebugProtocol.SetFunctionBreakpointsResponse | undefined;
      const configured = dc.waitForEvent('initialized').then(async () => {
        fnResponse = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'kvm_zap_obsolete_pages()' }, { name: 'kvm_mmu_zap_everything' }] });
        await dc.configurationDoneRequest();
      });
      const first = dc.waitForEvent('stopped');
      await Promise.all([configured, dc.launch({ scenario: SCENARIO })]);
      const stopped = (await first) as DebugProtocol.StoppedEvent;
      assert.deepEqual(fnResponse!.body.breakpoints.map((b) => b.verified), [true, false]);
      assert.match(fnResponse!.body.breakpoints[1]!.message ?? '', /not a kernel function the simulator runs/);
      assert.equal(stopped.body.reason, 'function breakpoint');
      const top = await topOf(stopped);
      assert.equal(top.name, 'kvm_zap_obsolete_pages');
      assert.equal(top.source?.path, MMU_C);
      assert.equal(top.line, lineOf(MMU_C, 'static void kvm_zap_obsolete_pages('));
    } finally {
      await close();
    }
  });

  it('a function breakpoint under an older kernel name stops in the renamed function', async () => {
    await fresh();
    try {
      const { stopped } = await launch({}, { fnBps: ['kvm_mmu_invalidate_zap_all_pages'] });
      assert.equal(stopped.body.reason, 'function breakpoint');
      assert.equal((await topOf(stopped)).name, 'kvm_mmu_zap_all_fast');
    } finally {
      await close();
    }
  });

  it('step in / over / out follow the call depth; step back and reverse continue go backwards', async () => {
    await fresh();
    try {
      const bpLine = lineOf(MMU_C, 'int kvm_tdp_page_fault(');
      let ev = (await launch({}, { bps: [{ file: MMU_C, lines: [bpLine + 3] }] })).stopped;
      const tid = ev.body.threadId!;
      assert.equal((await topOf(ev)).name, 'kvm_tdp_page_fault');

      ev = await motion(() => dc.stepInRequest({ threadId: tid }));
      assert.equal(ev.body.reason, 'step');
      assert.equal((await topOf(ev)).name, 'kvm_tdp_mmu_map');

      ev = await motion(() => dc.stepInRequest({ threadId: tid }));
      assert.equal((await topOf(ev)).name, 'tdp_mmu_alloc_sp');
      assert.equal((await stack(tid)).length, 5);

      ev = await motion(() => dc.stepOutRequest({ threadId: tid }));
      let frames = await stack(tid);
      assert.equal(frames[0]!.name, 'kvm_tdp_mmu_map [calls tdp_mmu_alloc_sp]');
      assert.equal(frames[0]!.line, lineOf(TDP_C, 'sp = tdp_mmu_alloc_sp(vcpu);'));

      ev = await motion(() => dc.nextRequest({ threadId: tid }));
      frames = await stack(tid);
      assert.equal(frames[0]!.name, 'kvm_tdp_mmu_map [calls tdp_mmu_link_sp]', 'step over skips the body of tdp_mmu_link_sp');
      assert.equal(frames.length, 4);

      ev = await motion(() => dc.stepOutRequest({ threadId: tid }));
      frames = await stack(tid);
      assert.equal(frames[0]!.name, 'kvm_tdp_page_fault [calls kvm_tdp_mmu_map]');
      assert.equal(frames.length, 3);

      ev = await motion(() => dc.stepBackRequest({ threadId: tid }));
      assert.equal(ev.body.reason, 'step');
      frames = await stack(tid);
      assert.equal(frames[0]!.name, 'kvm_tdp_page_fault [calls kvm_tdp_mmu_map]');
      assert.equal(frames.length, 3);
      const state = (await dc.customRequest('state')).body as { step: number; event: number };
      assert.equal(state.step, 1);

      ev = await motion(() => dc.reverseContinueRequest({ threadId: tid }));
      assert.equal(ev.body.reason, 'breakpoint');
      assert.equal((await topOf(ev)).name, 'kvm_tdp_page_fault');

      ev = await motion(() => dc.reverseContinueRequest({ threadId: tid }));
      assert.equal(ev.body.reason, 'entry');
      assert.equal((await stack(1)).length, 1);

      // forward again after rewinding: the engine replays the recorded steps
      ev = await motion(() => dc.continueRequest({ threadId: tid }));
      assert.equal(ev.body.reason, 'breakpoint');
      assert.equal((await topOf(ev)).name, 'kvm_tdp_page_fault');
      ev = await motion(() => dc.stepBackRequest({ threadId: tid }));
      frames = await stack(tid);
      assert.equal(frames[0]!.name, 'kvm_mmu_page_fault');
    } finally {
      await close();
    }
  });

  it('stepping off the end of a step moves on through the schedule to the next atomic step', async () => {
    await fresh();
    try {
      let ev = (await launch({}, { fnBps: ['kvm_zap_obsolete_pages'] })).stopped;
      const ioctl = ev.body.threadId!;
      ev = await motion(() => dc.nextRequest({ threadId: ioctl }));
      let frames = await stack(ioctl);
      assert.equal(frames[0]!.name, 'kvm_zap_obsolete_pages [before yield]');
      ev = await motion(() => dc.nextRequest({ threadId: ioctl }));
      frames = await stack(ioctl);
      assert.equal(frames[0]!.name, 'kvm_zap_obsolete_pages [before yield]', 'end of the atomic step: preempted at the yield');
      let st = (await dc.customRequest('state')).body as { step: number };
      assert.equal(st.step, 2);
      // the next ioctl event is after vcpu0's step 3
      ev = await motion(() => dc.nextRequest({ threadId: ioctl }));
      st = (await dc.customRequest('state')).body as { step: number };
      assert.equal(st.step, 4);
      assert.equal(ev.body.threadId, ioctl);
      frames = await stack(ioctl);
      assert.equal(frames[0]!.name, 'kvm_zap_obsolete_pages [after yield]');
    } finally {
      await close();
    }
  });

  it('variables: VM, vCPUs, frame arguments, shadow pages with decoded roles and SPTEs, memslots in hex', async () => {
    await fresh();
    try {
      const { stopped } = await launch({}, { fnBps: ['tdp_mmu_map_handle_target_level'] });
      const frames = await stack(stopped.body.threadId!);
      const scopes = (await dc.scopesRequest({ frameId: frames[0]!.id })).body.scopes;
      assert.deepEqual(scopes.map((s) => s.name), [
        'Arguments: tdp_mmu_map_handle_target_level',
        'VM (after step 1)',
        'vCPUs (after step 1)',
        'Shadow pages: 4 (after step 1)',
        'Memslots & rmaps (after step 1)',
        'Threads & locks (after step 1)',
      ]);
      const args = await vars(scopes[0]!.variablesReference);
      assert.equal(named(args, 'gfn').value, '0x10');
      assert.equal(named(args, 'pfn').value, '0x100010');

      const vm = await vars(scopes[1]!.variablesReference);
      assert.equal(named(vm, 'mmu_valid_gen').value, '0');
      assert.equal(named(vm, 'tdp_mmu_roots').value, '[sp#1]');
      assert.equal(named(vm, 'mmu_lock').value, 'rwlock: unlocked');

      const vcpus = await vars(scopes[2]!.variablesReference);
      assert.match(named(vcpus, 'vcpu0').value, /^root=sp#1 /);
      const v0 = await vars(named(vcpus, 'vcpu0').variablesReference);
      assert.match(named(v0, 'arch.mmu->root').value, /^sp#1 gfn=0x0 L4 direct acc=XWU root\(1\)/);

      const sps = await vars(scopes[3]!.variablesReference);
      assert.deepEqual(sps.map((s) => s.name), ['sp#1', 'sp#2', 'sp#3', 'sp#4']);
      const leafPt = await vars(named(sps, 'sp#4').variablesReference);
      const role = await vars(named(leafPt, 'role').variablesReference);
      assert.equal(named(leafPt, 'role').value, '0x781 {L1 direct acc=XWU}');
      assert.equal(named(role, 'level').value, '1');
      assert.equal(named(role, 'direct').value, '1');
      assert.equal(named(role, 'access').value, '7 (ACC_USER_MASK|ACC_WRITE_MASK|ACC_EXEC_MASK)');
      const spt = await vars(named(leafPt, 'spt').variablesReference);
      // the leaf SPTE is written by the function we stopped in: state after the step shows it
      assert.equal(named(spt, '[16]').value, '0x100010377 P W A D leaf pfn=0x100010');
      const l3 = await vars(named(sps, 'sp#2').variablesReference);
      assert.equal(named(l3, 'gfn').value, '0x0');
      const l3spt = await vars(named(l3, 'spt').variablesReference);
      assert.match(l3spt[0]!.value, /P W -> sp#3$/);

      const slots = await vars(scopes[4]!.variablesReference);
      assert.equal(named(slots, 'slot 0').value, 'base_gfn=0x0 npages=4096 hva=0x7f0000000000');
      const slot = await vars(named(slots, 'slot 0').variablesReference);
      const rmaps = await vars(named(slot, 'arch.rmap').variablesReference);
      assert.equal(rmaps[0]!.name, 'L1 gfn 0x10');

      const ev = (await dc.evaluateRequest({ expression: 'gfn', frameId: frames[0]!.id, context: 'hover' })).body;
      assert.equal(ev.result, '0x10');
      const sp = (await dc.evaluateRequest({ expression: 'sp#1', frameId: frames[0]!.id, context: 'hover' })).body;
      assert.match(sp.result, /\{\d+ fields\}|sp#1/);
      assert.ok(sp.variablesReference > 0);
      const gen = (await dc.evaluateRequest({ expression: 'kvm->arch.mmu_valid_gen', frameId: frames[0]!.id, context: 'repl' })).body;
      assert.equal(gen.result, '0');
      const cpu = (await dc.evaluateRequest({ expression: 'vcpu0', frameId: frames[0]!.id, context: 'repl' })).body;
      assert.ok(cpu.variablesReference > 0);

      // a frame outside the kernel tree (mmu.h is not in the fixture tree) names its file but has no path
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'kvm_mmu_reload' }] });
      const ev2 = await motion(() => dc.continueRequest({ threadId: stopped.body.threadId! }));
      const top = (await stack(ev2.body.threadId!))[0]!;
      assert.equal(top.name, 'kvm_mmu_reload');
      assert.equal(top.source?.name, 'arch/x86/kvm/mmu.h');
      assert.equal(top.source?.path, undefined);
      assert.equal(top.source?.presentationHint, 'deemphasize');
    } finally {
      await close();
    }
  });

  it('big collections are split into ranges of 100', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-dap-'));
    const file = path.join(dir, 'many.kvmmmu.yaml');
    const ops = Array.from({ length: 120 }, (_, i) => `      - { op: page_fault, gfn: ${i * 512} }`).join('\n');
    fs.writeFileSync(
      file,
      `name: many faults\nvm:\n  era: "6.1"\n  mmu: tdp\n  vcpus: 1\n  memslots:\n    - { id: 0, baseGfn: 0, npages: 0x100000, hva: 0x7f0000000000 }\nthreads:\n  - id: vcpu0\n    kind: vcpu\n    vcpu: 0\n    ops:\n      - op: enter_guest\n${ops}\nschedule: { kind: sequential }\n`,
    );
    await fresh();
    try {
      await launch({ scenario: file, stopOnEntry: true });
      const goto = dc.waitForEvent('stopped');
      await dc.customRequest('gotoStep', { step: 120 });
      assert.equal(((await goto) as DebugProtocol.StoppedEvent).body.reason, 'goto');
      const frames = await stack(1);
      const scopes = (await dc.scopesRequest({ frameId: frames[0]!.id })).body.scopes;
      const spScope = named(scopes as DebugProtocol.Variable[] & DebugProtocol.Scope[], /^Shadow pages: 123 /) as unknown as DebugProtocol.Scope;
      const ranges = await vars(spScope.variablesReference);
      assert.deepEqual(ranges.map((r) => r.name), ['[0..99]', '[100..122]']);
      const tail = await vars(ranges[1]!.variablesReference);
      assert.equal(tail.length, 23);
      assert.equal(tail[22]!.name, 'sp#123');
    } finally {
      await close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the "invariant violated" exception breakpoint stops at the violating step of a bug variant', async () => {
    await fresh();
    try {
      const { stopped } = await launch({ bug: 'yield-before-free-request' }, { exceptions: ['invariant'] });
      assert.equal(stopped.body.reason, 'exception');
      assert.match(stopped.body.text ?? '', /^RT-3: vcpu0 entered the guest with invalid root sp#1/);
      const threads = (await dc.threadsRequest()).body.threads;
      assert.equal(threads.find((t) => t.id === stopped.body.threadId)?.name, 'vcpu0 (vcpu)');
      const info = (await dc.exceptionInfoRequest({ threadId: stopped.body.threadId! })).body;
      assert.equal(info.exceptionId, 'RT-3');
      const frames = await stack(stopped.body.threadId!);
      assert.match(frames[frames.length - 1]!.name, /^scenario: vcpu0 op 2 enter_guest/);
      const scopes = (await dc.scopesRequest({ frameId: frames[0]!.id })).body.scopes;
      assert.equal(scopes[scopes.length - 1]!.name, 'Violations: 1');
      const state = (await dc.customRequest('state')).body as { step: number; violations: Array<{ id: string }> };
      assert.equal(state.step, 3);
      assert.deepEqual(state.violations.map((v) => v.id), ['RT-3']);
    } finally {
      await close();
    }
  });

  it('without the exception filter the bug variant runs to the end; the fixed variant never stops', async () => {
    await fresh();
    try {
      const terminated = dc.waitForEvent('terminated');
      await Promise.all([
        dc.waitForEvent('initialized').then(async () => {
          await dc.setExceptionBreakpointsRequest({ filters: [] });
          await dc.configurationDoneRequest();
        }),
        dc.launch({ scenario: SCENARIO, bug: 'yield-before-free-request' }),
      ]);
      await terminated;
    } finally {
      await close();
    }
    await fresh();
    try {
      const terminated = dc.waitForEvent('terminated');
      await Promise.all([dc.configurationSequence(), dc.launch({ scenario: SCENARIO })]);
      await terminated;
    } finally {
      await close();
    }
  });

  it('custom requests: gotoStep jumps to a function entry, state and functionEntries follow the session', async () => {
    await fresh();
    try {
      await launch({ stopOnEntry: true });
      const stopped = dc.waitForEvent('stopped');
      const r = await dc.customRequest('gotoStep', { step: 1, fn: 'kvm_tdp_mmu_map' });
      assert.equal(r.body.step, 1);
      const ev = (await stopped) as DebugProtocol.StoppedEvent;
      assert.equal(ev.body.reason, 'goto');
      assert.equal((await topOf(ev)).name, 'kvm_tdp_mmu_map');
      const state = (await dc.customRequest('state')).body as { step: number; view: { step: number; shadowPages: unknown[] }; record: { index: number; op: { op: string } }; violations: unknown[] };
      assert.equal(state.step, 1);
      assert.equal(state.record.index, 1);
      assert.equal(state.record.op.op, 'page_fault');
      assert.deepEqual(state.violations, []);
      assert.equal(state.view.step, 2, 'the view is the engine state after step 1 (two steps taken)');
      const entries = (await dc.customRequest('functionEntries')).body.entries as Record<string, { count: number; lastStep: number }>;
      assert.deepEqual(entries.kvm_tdp_mmu_map, { count: 1, lastStep: 1 });
      assert.deepEqual(entries.vcpu_enter_guest, { count: 1, lastStep: 0 });
      assert.equal(entries.kvm_mmu_zap_all_fast, undefined);
      const whole = (await dc.customRequest('functionEntries', { all: true })).body.entries as Record<string, { count: number; lastStep: number }>;
      assert.deepEqual(whole.vcpu_enter_guest, { count: 2, lastStep: 3 });
      assert.deepEqual(whole.kvm_mmu_zap_all_fast, { count: 1, lastStep: 2 });
      assert.equal(((await dc.customRequest('state')).body as { step: number }).step, 1, 'counting the whole run does not move the session');
      assert.equal((await stack(1))[0]!.name, 'kvm_tdp_mmu_map');
      const pos = (await dc.customRequest('position')).body as { fn: string; location: { path: string; line: number } };
      assert.equal(pos.fn, 'kvm_tdp_mmu_map');
      assert.equal(pos.location.path, TDP_C);
      await assert.rejects(dc.customRequest('gotoStep', { step: 999 }), /no step 999/);
    } finally {
      await close();
    }
  });

  it('data breakpoints on state objects stop at the effect that changes them, in the writing function', async () => {
    await fresh();
    try {
      await launch({ stopOnEntry: true });
      const frames = await stack(1);
      const scopes = (await dc.scopesRequest({ frameId: frames[0]!.id })).body.scopes;
      const vmRef = scopes.find((x) => x.name.startsWith('VM ('))!.variablesReference;
      const cpuRef = scopes.find((x) => x.name.startsWith('vCPUs ('))!.variablesReference;
      await vars(vmRef);
      await vars(cpuRef);
      const gen = (await dc.dataBreakpointInfoRequest({ variablesReference: vmRef, name: 'mmu_valid_gen' })).body;
      assert.equal(gen.dataId, 'vm:mmu_valid_gen');
      const cpu = (await dc.dataBreakpointInfoRequest({ variablesReference: cpuRef, name: 'vcpu0' })).body;
      assert.equal(cpu.dataId, 'vcpu:0');
      assert.equal((await dc.dataBreakpointInfoRequest({ variablesReference: vmRef, name: 'era' })).body.dataId, null);

      const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: cpu.dataId! }] });
      assert.equal(set.body.breakpoints[0]!.verified, true);
      let ev = await motion(() => dc.continueRequest({ threadId: 1 }));
      assert.equal(ev.body.reason, 'data breakpoint');
      assert.match(ev.body.text ?? '', /vcpu0 current root NULL -> sp#1/);
      assert.equal((await topOf(ev)).name, 'kvm_mmu_load [calls kvm_tdp_mmu_get_vcpu_root_hpa]', 'stops right at the write, in the writing function');
      // stepping from a data-breakpoint stop goes on with the normal stops
      ev = await motion(() => dc.nextRequest({ threadId: 1 }));
      assert.equal((await topOf(ev)).name, 'kvm_mmu_reload [calls kvm_mmu_load]');

      await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: gen.dataId! }] });
      ev = await motion(() => dc.continueRequest({ threadId: 1 }));
      assert.equal(ev.body.reason, 'data breakpoint');
      assert.match(ev.body.text ?? '', /kvm->arch\.mmu_valid_gen 0 -> 1/);
      assert.equal((await topOf(ev)).name, 'kvm_mmu_zap_all_fast');
      ev = await motion(() => dc.reverseContinueRequest({ threadId: 1 }));
      assert.equal(ev.body.reason, 'entry');
    } finally {
      await close();
    }
  });

  it('a long continue yields between slices and can be paused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-dap-'));
    const file = path.join(dir, 'long.kvmmmu.yaml');
    const ops = Array.from({ length: 4000 }, () => '      - { op: exit_guest }').join('\n');
    fs.writeFileSync(
      file,
      `name: long\nvm: { era: "6.1", mmu: tdp, vcpus: 1, memslots: [{ id: 0, baseGfn: 0, npages: 16, hva: 0x1000 }] }\nthreads:\n  - id: vcpu0\n    kind: vcpu\n    vcpu: 0\n    ops:\n${ops}\n`,
    );
    await fresh();
    try {
      await launch({ scenario: file, stopOnEntry: true });
      const stopped = dc.waitForEvent('stopped', 20000);
      await dc.continueRequest({ threadId: 1 });
      await dc.pauseRequest({ threadId: 1 });
      const ev = (await stopped) as DebugProtocol.StoppedEvent;
      assert.equal(ev.body.reason, 'pause');
      const st = ((await dc.customRequest('state')).body as { step: number }).step;
      assert.ok(st > 0 && st < 3999, `paused at step ${st}`);
      // continuing from the pause runs to the end
      const end = dc.waitForEvent('terminated', 20000);
      await dc.continueRequest({ threadId: 1 });
      await end;
    } finally {
      await close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an engine error during continue stops at the last good position with the error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-dap-'));
    const file = path.join(dir, 'crash.kvmmmu.yaml');
    fs.writeFileSync(
      file,
      'name: crash\nvm: { era: "6.1", mmu: tdp, vcpus: 1, memslots: [{ id: 0, baseGfn: 0, npages: 16, hva: 0x1000 }] }\nthreads:\n  - { id: vcpu0, kind: vcpu, vcpu: 0, ops: [{ op: enter_guest }] }\n  - { id: ioctl, kind: ioctl, ops: [{ op: destroy_vm }] }\n',
    );
    await fresh();
    try {
      const output: string[] = [];
      dc.on('output', (e) => output.push((e as DebugProtocol.OutputEvent).body.output));
      const { stopped } = await launch({ scenario: file });
      assert.equal(stopped.body.reason, 'exception');
      assert.match(stopped.body.text ?? '', /engine error during continue: fake engine: destroy_vm is not simulated/);
      assert.ok(output.some((o) => o.includes('destroy_vm is not simulated')));
      assert.equal(((await dc.customRequest('state')).body as { step: number }).step, 0);
    } finally {
      await close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('breakpoints on scenario lines stop when the op starts', async () => {
    await fresh();
    try {
      const line = lineOf(SCENARIO, '- op: enter_guest', lineOf(SCENARIO, '- op: page_fault'));
      const changed: DebugProtocol.BreakpointEvent[] = [];
      dc.on('breakpoint', (e) => changed.push(e as DebugProtocol.BreakpointEvent));
      const { stopped, bps } = await launch({}, { bps: [{ file: SCENARIO, lines: [line] }] });
      // verified at once if the scenario is already loaded, else by a 'changed' event after launch
      assert.ok(bps[0]!.body.breakpoints[0]!.verified || changed.some((e) => e.body.breakpoint.verified));
      assert.equal(stopped.body.reason, 'breakpoint');
      const frames = await stack(stopped.body.threadId!);
      assert.equal(frames[0]!.name, 'vcpu_enter_guest');
      assert.equal(frames[frames.length - 1]!.line, line);
    } finally {
      await close();
    }
  });
});
