/**
 * Writes the generated editor assets from the vocabulary: schemas/kvmmmu-scenario.schema.json,
 * syntaxes/kvmmmu-scenario.tmLanguage.json, snippets/kvmmmu-scenario.json.
 *   node <out>/src/scenario/write-schema.js [repoRoot]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSchema } from './schema';
import { buildGrammar, buildSnippets } from './assets';

export const GENERATED: ReadonlyArray<[string, () => unknown]> = [
  ['schemas/kvmmmu-scenario.schema.json', buildSchema],
  ['syntaxes/kvmmmu-scenario.tmLanguage.json', buildGrammar],
  ['snippets/kvmmmu-scenario.json', buildSnippets],
];

if (require.main === module) {
  const root = process.argv[2] ?? process.cwd();
  for (const [rel, build] of GENERATED) fs.writeFileSync(path.join(root, rel), JSON.stringify(build(), null, 2) + '\n');
}
