// Validates an AsyncAPI document with the reference parser (@asyncapi/parser): any diagnostic of
// severity error fails. Run by tests/api/docs.rs:  node validate-asyncapi.mjs <file>
import { Parser } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(file, 'utf8'));
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of diagnostics) {
  console.log(`${['error', 'warning', 'info', 'hint'][d.severity]}: ${d.message} at ${d.path.join('.')}`);
}
if (!document || errors.length) {
  console.error(`invalid AsyncAPI: ${errors.length} errors`);
  process.exit(1);
}
console.log(`valid AsyncAPI ${document.version()}: ${document.operations().length} operations, ${document.allMessages().length} messages`);
