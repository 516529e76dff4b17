/**
 * Tier 2 against the real engine (src/engine via the scenario room's loader) on the demo kernel tree.
 * Skipped while the engine cannot be loaded.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { startAdapterServer, type AdapterServer } from '../../src/debug/server';
import { createScenarioLoader } from '../../src/debug/scenario-loader';
import { FallbackResolver } from '../../src/debug/fallback-resolver';
import { loadEngine } from '../../src/scenario/engine-loader';
import { engineSimulatedFunctions } from '../../src/debug/simulated';
import { SCENARIOS } from './fixtures/deps';

const ROOT = path.resolve(SCENARIOS, '..', '..', '..', '..');
const DEMO = path.join(ROOT, 'demo');
const TDP_C = path.join(DEMO, 'arch/x86/kvm/mmu/tdp_mmu.c');
const SCENARIO = path.join(SCENARIOS, 'real-tdp-fault-zap.kvmmmu.yaml');
const engineError = loadEngine().error;
const skip = engineError ? `engine not available: ${engineError}` : !fs.existsSync(TDP_C) ? 'demo tree has no tdp_mmu.c' : false;

let server: AdapterServer | undefined;
let dc: DebugClient;

before(async () => {
  if (skip) return;
  const resolver = new FallbackResolver(() => [DEMO], engineSimulatedFunctions());
  server = await startAdapterServer({
    loadScenario: createScenarioLoader(),
    resolveFrame: (f) => resolver.resolveFrame(f),
    functionsAtLine: (p, l) => resolver.functionsAtLine(p, l),
  });
});
after(async () => {
  await server?.close();
});

async function launch(args: Record<string, unknown>, bps: Array<{ file: string; lines: number[] }> = []): Promise<DebugProtocol.StoppedEvent> {
  dc = new DebugClient('node', 'unused', 'kvm-mmu-lab');
  dc.defaultTimeout = 8000;
  await dc.start(server!.port);
  const configured = dc.waitForEvent('initialized').then(async () => {
    for (const b of bps) await dc.setBreakpointsRequest({ source: { path: b.file }, breakpoints: b.lines.map((line) => ({ line })) });
    await dc.configurationDoneRequest();
  });
  const stopped = dc.waitForEvent('stopped');
  await Promise.all([configured, dc.launch({ scenario: SCENARIO, ...args })]);
  return (await stopped) as DebugProtocol.StoppedEvent;
}

describe('debug adapter on the real engine', { skip }, () => {
  it('stops in kvm_tdp_mmu_map of the demo tree, steps across atomic steps and back', async () => {
    try {
      const lines = fs.readFileSync(TDP_C, 'utf8').split('\n');
      const def = lines.findIndex((l) => /^int kvm_tdp_mmu_map\(/.test(l)) + 1;
      assert.ok(def > 0);
      assert.equal(engineSimulatedFunctions()?.('kvm_tdp_mmu_map'), true);
      assert.equal(engineSimulatedFunctions()?.('no_such_kernel_function'), false);
      const ev = await launch({}, [{ file: TDP_C, lines: [def + 3] }]);
      assert.equal(ev.body.reason, 'breakpoint');
      const tid = ev.body.threadId!;
      let frames = (await dc.stackTraceRequest({ threadId: tid })).body.stackFrames;
      assert.equal(frames[0]!.name, 'kvm_tdp_mmu_map');
      assert.equal(frames[0]!.source?.path, TDP_C);
      assert.equal(frames[0]!.line, def);
      assert.match(frames[frames.length - 1]!.name, /^scenario: vcpu0 op 1 page_fault/);
      assert.ok(frames.some((f) => f.name.startsWith('kvm_mmu_page_fault')));
      const at = ((await dc.customRequest('state')).body as { step: number }).step;

      // step out of kvm_tdp_mmu_map, then back into it with step back
      let stopped = dc.waitForEvent('stopped');
      await dc.stepOutRequest({ threadId: tid });
      await stopped;
      frames = (await dc.stackTraceRequest({ threadId: tid })).body.stackFrames;
      assert.ok(!frames.some((f) => f.name === 'kvm_tdp_mmu_map'));
      stopped = dc.waitForEvent('stopped');
      await dc.reverseContinueRequest({ threadId: tid });
      await stopped;
      frames = (await dc.stackTraceRequest({ threadId: tid })).body.stackFrames;
      assert.equal(frames[0]!.name, 'kvm_tdp_mmu_map');
      assert.equal(((await dc.customRequest('state')).body as { step: number }).step, at);

      // the engine's own workqueue thread shows up as a thread once it exists
      const end = dc.waitForEvent('terminated');
      await dc.continueRequest({ threadId: tid });
      await end;
    } finally {
      await dc.stop();
    }
  });

  it('the bug variant stops at the step where the engine reports RT-3', async () => {
    try {
      const ev = await launch({ bug: 'yield-before-free-request' });
      assert.equal(ev.body.reason, 'exception');
      assert.match(ev.body.text ?? '', /^RT-3: /);
      const info = (await dc.exceptionInfoRequest({ threadId: ev.body.threadId! })).body;
      assert.equal(info.exceptionId, 'RT-3');
      const threads = (await dc.threadsRequest()).body.threads;
      assert.equal(threads.find((t) => t.id === ev.body.threadId)?.name, 'ioctl (ioctl)');
      const frames = (await dc.stackTraceRequest({ threadId: ev.body.threadId! })).body.stackFrames;
      const scopes = (await dc.scopesRequest({ frameId: frames[0]!.id })).body.scopes;
      assert.ok(scopes.some((s) => s.name === 'Violations: 1'));
      const vm = (await dc.variablesRequest({ variablesReference: scopes.find((s) => s.name.startsWith('VM ('))!.variablesReference })).body.variables;
      assert.ok(vm.some((v) => v.name === 'mmu_valid_gen'));
      const sps = scopes.find((s) => s.name.startsWith('Shadow pages'))!;
      const pages = (await dc.variablesRequest({ variablesReference: sps.variablesReference })).body.variables;
      assert.ok(pages.length > 0);
      assert.match(pages[0]!.value, /^sp#\d+ gfn=0x[0-9a-f]+ L\d /);
    } finally {
      await dc.stop();
    }
  });
});
