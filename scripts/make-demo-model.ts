// Regenerates the demo dual encoder (not PickScore) into resources/demo-model, or OUT:
//   node --import tsx scripts/make-demo-model.ts [--tokenizer DIR] [OUT]
// DIR holds CLIP's tokenizer.json and preprocessor_config.json; by default the folder's own, so
// that a change to the generator is one command away from the committed files.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildDemoModel } from '../electron/core/scoring/demo-model/build';
import { loadModelFolder } from '../electron/core/scoring/model-folder';

const { values, positionals } = parseArgs({
  options: { tokenizer: { type: 'string' } },
  allowPositionals: true,
});
const out = path.resolve(positionals[0] ?? 'resources/demo-model');
await buildDemoModel(out, { tokenizerDir: path.resolve(values.tokenizer ?? out) });
const folder = await loadModelFolder(out);
console.log(`${out}: ${folder.manifest.name}, fingerprint ${folder.fingerprint}`);
