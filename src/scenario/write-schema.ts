/** Writes schemas/kvmmmu-scenario.schema.json from buildSchema(): `node <out>/src/scenario/write-schema.js [repoRoot]`. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSchema } from './schema';

if (require.main === module) {
  const root = process.argv[2] ?? process.cwd();
  fs.writeFileSync(path.join(root, 'schemas', 'kvmmmu-scenario.schema.json'), JSON.stringify(buildSchema(), null, 2) + '\n');
}
