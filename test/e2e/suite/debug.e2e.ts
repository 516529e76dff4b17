// The kvm-mmu-lab debugger in the real extension host: a breakpoint in demo/arch/x86/kvm/mmu/tdp_mmu.c
// inside kvm_tdp_mmu_map (entered by every TDP page fault), a bundled TDP scenario started with
// vscode.debug.startDebugging, the stop seen by a DebugAdapterTracker, the stack read back over DAP.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './00-activation.e2e';

const DEBUG_TYPE = 'kvm-mmu-lab';
const FUNCTION = 'kvm_tdp_mmu_map';

interface StoppedMessage {
  type: 'event';
  event: 'stopped';
  body: { reason: string; threadId: number };
}

function demoRoot(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  const candidates = [...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath), ...(ext ? [path.join(ext.extensionPath, 'demo')] : [])];
  const root = candidates.find((c) => fs.existsSync(path.join(c, 'arch/x86/kvm/mmu/tdp_mmu.c')));
  assert.ok(root, `no kernel tree with arch/x86/kvm/mmu/tdp_mmu.c in ${candidates.join(', ')}`);
  return root;
}

/** A bundled scenario that runs the TDP MMU and takes a page fault. */
function tdpScenario(root: string): string {
  const dirs = [path.join(root, 'scenarios'), path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'demo', 'scenarios')];
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      if (!name.endsWith('.kvmmmu.yaml')) continue;
      const text = fs.readFileSync(path.join(dir, name), 'utf8');
      if (/mmu:\s*tdp\b/.test(text) && /page_fault/.test(text) && !/^\s*bug:/m.test(text)) return path.join(dir, name);
    }
  }
  // until the demo ships one: the DAP tier's real-engine fixture (the extension runs from the repository)
  const fixture = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'test/dap/fixtures/scenarios/real-tdp-fault-zap.kvmmmu.yaml');
  assert.ok(fs.existsSync(fixture), `no bundled TDP scenario with a page fault in ${dirs.join(', ')}`);
  return fixture;
}

/** Runs one stage of the test; a failure names the stage (host errors like "Illegal argument" say nothing). */
async function stage<T>(name: string, fn: () => Thenable<T> | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new Error(`${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Source paths come back as URIs (vscode-remote://...) when the host is remote, e.g. code-server. */
function fsPath(p: string | undefined): string {
  if (!p) return '';
  return path.resolve(/^[a-z][\w+.-]*:\/\//i.test(p) ? vscode.Uri.parse(p).fsPath : p);
}

suite('debugger', () => {
  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
  });

  teardown(async () => {
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    if (vscode.debug.activeDebugSession) await vscode.debug.stopDebugging();
  });

  test('a breakpoint in tdp_mmu.c stops the scenario with the simulated kernel stack; CodeLens and Show Simulator State Here follow the run', async () => {
    const root = demoRoot();
    const file = path.join(root, 'arch/x86/kvm/mmu/tdp_mmu.c');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const def = lines.findIndex((l) => new RegExp(`^\\w.*\\b${FUNCTION}\\(`).test(l));
    assert.ok(def >= 0, `${FUNCTION} is not defined in ${file}`);
    const bodyLine = lines.findIndex((l, i) => i > def && l.startsWith('{')) + 1; // first line inside the body (0-based)
    const scenario = tdpScenario(root);

    const bp = new vscode.SourceBreakpoint(new vscode.Location(vscode.Uri.file(file), new vscode.Position(bodyLine, 0)));
    vscode.debug.addBreakpoints([bp]);

    // every stopped event, and waiters for the next one that matches
    const stops: Array<{ session: vscode.DebugSession; msg: StoppedMessage }> = [];
    const waiters: Array<{ pred: (m: StoppedMessage) => boolean; resolve: (x: { session: vscode.DebugSession; msg: StoppedMessage }) => void }> = [];
    const onStopped = (x: { session: vscode.DebugSession; msg: StoppedMessage }): void => {
      stops.push(x);
      for (const w of waiters.splice(0)) (w.pred(x.msg) ? w.resolve(x) : waiters.push(w));
    };
    const nextStop = (pred: (m: StoppedMessage) => boolean, what: string, ms: number): Promise<{ session: vscode.DebugSession; msg: StoppedMessage }> => {
      const seen = stops.find((x) => pred(x.msg));
      if (seen) return Promise.resolve(seen);
      return Promise.race([
        new Promise<{ session: vscode.DebugSession; msg: StoppedMessage }>((resolve) => waiters.push({ pred, resolve })),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s:\n${log.join('\n')}`)), ms)),
      ]);
    };
    const log: string[] = []; // the DAP conversation, for the failure message
    const brief = (m: { type?: string; event?: string; command?: string; success?: boolean; message?: string; body?: unknown }): string =>
      `${m.type} ${m.event ?? m.command ?? ''}${m.success === false ? ` FAILED ${m.message ?? ''}` : ''} ${JSON.stringify(m.body ?? {}).slice(0, 300)}`;
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
      createDebugAdapterTracker: (session) => ({
        onWillReceiveMessage: (m: { command?: string; arguments?: unknown }) => log.push(`-> ${m.command} ${JSON.stringify(m.arguments ?? {}).slice(0, 300)}`),
        onDidSendMessage: (m: { type?: string; event?: string }) => {
          log.push(`<- ${brief(m)}`);
          if (m.type === 'event' && m.event === 'stopped') onStopped({ session, msg: m as StoppedMessage });
        },
        onError: (e: Error) => log.push(`error ${e.message}`),
      }),
    });
    try {
      const started = await vscode.debug.startDebugging(undefined, { type: DEBUG_TYPE, request: 'launch', name: 'e2e: TDP scenario', scenario, stopOnEntry: false });
      assert.ok(started, `startDebugging failed for ${scenario}`);
      const { session, msg } = await nextStop(() => true, `no stop in ${FUNCTION} (${path.basename(scenario)})`, 20_000);
      assert.strictEqual(msg.body.reason, 'breakpoint');

      const trace = (await session.customRequest('stackTrace', { threadId: msg.body.threadId })) as { stackFrames: Array<{ name: string; line: number; source?: { path?: string } }> };
      const frames = trace.stackFrames;
      assert.ok(frames.length >= 2, `stack too short: ${frames.map((f) => f.name).join(' <- ')}`);
      assert.strictEqual(frames[0]!.name, FUNCTION);
      assert.strictEqual(fsPath(frames[0]!.source?.path), path.resolve(file));
      assert.strictEqual(frames[0]!.line, def + 1, 'the frame opens the function definition');
      const bottom = frames[frames.length - 1]!;
      assert.match(bottom.name, /^scenario: /);
      assert.strictEqual(fsPath(bottom.source?.path), path.resolve(scenario));

      const state = (await session.customRequest('state')) as { step: number; view: { mmu: string } };
      assert.strictEqual(state.view.mmu, 'tdp');
      const threads = (await session.customRequest('threads')) as { threads: Array<{ id: number; name: string }> };
      assert.ok(threads.threads.some((t) => t.id === msg.body.threadId));

      // CodeLens over the simulated function: "entered N times in this run — go to last step (S)"
      const uri = vscode.Uri.file(file);
      // the CodeLens command needs a text model; do not rely on the stop having opened the file yet
      await stage('openTextDocument', () => vscode.workspace.openTextDocument(uri));
      let lens: vscode.CodeLens | undefined;
      for (let i = 0; i < 50 && !lens; i++) {
        const lenses = (await stage('executeCodeLensProvider', () => vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri))) ?? [];
        lens = lenses.find((l) => l.range.start.line === def && /^entered \d+ times? in this run/.test(l.command?.title ?? ''));
        if (!lens) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(lens, `no "entered N times" CodeLens on ${FUNCTION}`);

      // "Show Simulator State Here" with the cursor in the function jumps the session to its last entry
      const editor = await vscode.window.showTextDocument(uri);
      editor.selection = new vscode.Selection(bodyLine, 0, bodyLine, 0);
      await stage('Show Simulator State Here', () => vscode.commands.executeCommand('kvmMmuLab.showSimulatorStateHere'));
      const goto = (await nextStop((m) => m.body.reason === 'goto', 'no "goto" stop after Show Simulator State Here', 10_000)).msg;
      const top = ((await session.customRequest('stackTrace', { threadId: goto.body.threadId })) as { stackFrames: Array<{ name: string }> }).stackFrames[0]!;
      assert.strictEqual(top.name, FUNCTION);
    } finally {
      tracker.dispose();
    }
  });

  test('VS Code hands the adapter conditions, hit counts and log messages: each changes where the run stops', async () => {
    const root = demoRoot();
    const file = path.join(root, 'arch/x86/kvm/mmu/tdp_mmu.c');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const def = lines.findIndex((l) => new RegExp(`^\\w.*\\b${FUNCTION}\\(`).test(l));
    const bodyLine = lines.findIndex((l, i) => i > def && l.startsWith('{')) + 1;
    // three TDP faults on one vCPU: the function is entered three times
    const scenario = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-e2e-bp-')), 'three-faults.kvmmmu.yaml');
    fs.writeFileSync(scenario, [
      'scenario: e2e-three-faults',
      'vm:',
      '  era: "6.19"',
      '  mmu: tdp',
      '  vcpus: 1',
      '  memslots: [{ id: 0, baseGfn: 0x0, npages: 512, hva: 0x7f0000000000 }]',
      'threads:',
      '  vcpu0:',
      '    - { page_fault: { gfn: 0x10, write: true } }',
      '    - { page_fault: { gfn: 0x11, write: false } }',
      '    - { page_fault: { gfn: 0x12, write: true } }',
      'schedule: sequential',
      '',
    ].join('\n'));
    const at = new vscode.Location(vscode.Uri.file(file), new vscode.Position(bodyLine, 0));

    /** One session with one breakpoint: the step of every stop (continuing after each) and the console output. */
    const runWith = async (bp: vscode.SourceBreakpoint, name: string): Promise<{ steps: number[]; output: string }> => {
      vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
      vscode.debug.addBreakpoints([bp]);
      const steps: number[] = [];
      let output = '';
      let ended!: () => void;
      const done = new Promise<void>((r) => { ended = r; });
      const tracker = vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
        createDebugAdapterTracker: (session) => ({
          onDidSendMessage: (m: { type?: string; event?: string; body?: { threadId?: number; output?: string } }) => {
            if (m.type !== 'event') return;
            if (m.event === 'output') output += m.body?.output ?? '';
            if (m.event === 'terminated') ended();
            if (m.event === 'stopped') {
              void (async () => {
                const st = (await session.customRequest('state')) as { step: number };
                steps.push(st.step);
                await session.customRequest('continue', { threadId: m.body?.threadId ?? 1 });
              })();
            }
          },
        }),
      });
      try {
        assert.ok(await vscode.debug.startDebugging(undefined, { type: DEBUG_TYPE, request: 'launch', name, scenario, stopOnEntry: false }));
        await Promise.race([done, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${name}: the run did not end within 30 s (stops at ${steps.join(', ')})`)), 30_000))]);
      } finally {
        tracker.dispose();
      }
      return { steps, output };
    };

    const plain = await runWith(new vscode.SourceBreakpoint(at), 'e2e: plain');
    assert.strictEqual(plain.steps.length, 3, `${FUNCTION} should stop once per fault (stops: ${plain.steps.join(', ')})`);
    const second = await runWith(new vscode.SourceBreakpoint(at, true, undefined, '2'), 'e2e: hit count 2');
    assert.deepStrictEqual(second.steps, [plain.steps[1]], 'hit condition 2 stops exactly at the second hit');
    const never = await runWith(new vscode.SourceBreakpoint(at, true, 'thread == "nobody"'), 'e2e: false condition');
    assert.deepStrictEqual(never.steps, [], 'a condition that never holds never stops');
    const logged = await runWith(new vscode.SourceBreakpoint(at, true, undefined, undefined, 'map by {thread}'), 'e2e: logpoint');
    assert.deepStrictEqual(logged.steps, [], 'a logpoint does not stop');
    assert.strictEqual((logged.output.match(/map by \S+/g) ?? []).length, plain.steps.length, `one log line per hit:\n${logged.output}`);
    fs.rmSync(path.dirname(scenario), { recursive: true, force: true });
  });
});
