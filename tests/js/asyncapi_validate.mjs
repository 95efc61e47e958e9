// Validates an AsyncAPI document with the AsyncAPI project's own parser (@asyncapi/parser), $refs to files
// resolved relative to the document. Prints every diagnostic as JSON lines and exits 1 when one is an error.
// Usage: node asyncapi_validate.mjs ../../spec/asyncapi.yaml
import { Parser, fromFile } from '@asyncapi/parser';

const path = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, path).parse();
const severities = ['error', 'warning', 'information', 'hint'];
for (const d of diagnostics) {
  console.log(JSON.stringify({ severity: severities[d.severity], code: d.code, message: d.message, path: d.path.join('/') }));
}
if (document) {
  const channels = document.channels().all().map((c) => c.address());
  const messages = document.allMessages().all().map((m) => m.name());
  console.log(JSON.stringify({ summary: { channels, messages: messages.length, operations: document.operations().all().length } }));
}
process.exit(!document || diagnostics.some((d) => d.severity === 0) ? 1 : 0);
