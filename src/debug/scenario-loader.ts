/**
 * DebugDeps.loadScenario on top of the scenario room: the project's parser (diagnostics with
 * positions), its runner's ScheduleDriver (so the debugger takes exactly the steps `kvm-mmu-lab run`
 * takes) and the engine (src/engine/index.ts, loaded lazily by the scenario room's engine loader).
 */
import * as fs from 'node:fs';
import { parseScenario } from '../scenario/parser';
import { ScenarioSession, type EngineFactory } from '../scenario/runner';
import { loadEngine } from '../scenario/engine-loader';
import type { LoadResult, ScenarioOverrides } from './deps';

/** A loader using `factory` for engines (tests pass a stand-in), or the real engine when omitted. */
export function createScenarioLoader(factory?: EngineFactory): (file: string, overrides: ScenarioOverrides) => LoadResult {
  return (file, overrides) => {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      return { errors: [{ line: 1, col: 1, message: `cannot read the scenario: ${e instanceof Error ? e.message : String(e)}` }] };
    }
    const parsed = parseScenario(text, { file, era: overrides.era, bug: overrides.bug });
    const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length || !parsed.scenario) {
      return {
        errors: (errors.length ? errors : parsed.diagnostics).map((d) => ({ line: d.range.start.line + 1, col: d.range.start.character + 1, message: d.message })),
      };
    }
    const scenario = parsed.scenario;
    const make = factory ?? loadEngine().factory;
    if (!make) return { errors: [{ line: 1, col: 1, message: loadEngine().error ?? 'the MMU engine is not available' }] };
    if (overrides.variant && !scenario.variants.some((v) => v.name === overrides.variant)) {
      const names = scenario.variants.map((v) => v.name).join(', ') || 'none';
      return { errors: [{ line: scenario.ranges.scenario.start.line + 1, col: 1, message: `no variant named '${overrides.variant}' (have: ${names})` }] };
    }
    const session = new ScenarioSession(scenario, make, { era: overrides.era, bug: overrides.bug, variant: overrides.variant });
    return {
      name: scenario.name,
      engine: session.engine,
      schedule: scenario.schedule.schedule,
      threads: scenario.threads,
      stepLocation(thread, opIndex) {
        const range = scenario.threads.find((t) => t.id === thread)?.opRanges[opIndex];
        return range ? { path: file, line: range.start.line + 1 } : undefined;
      },
      nextStep: () => session.driver.step(),
      scheduleError: () => session.driver.error,
    };
  };
}
