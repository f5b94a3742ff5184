// Validates a JSON document against a JSON schema (draft 2020-12) with Ajv, resolving $refs
// between the schemas of one directory by their $id (the OpenLineage specs refer to each other
// by URL; nothing is fetched).
//   node validate_json_schema.js SCHEMA_DIR SCHEMA_FILE DOCUMENT_FILE
// A DOCUMENT_FILE named *.jsonl holds one document per line, each validated.
// Exit 0: valid. Exit 1: invalid, each error on stderr as "<instancePath> <message>" (for a
// .jsonl file: "line <n>: <instancePath> <message>").
// Exit 2: usage or I/O error. Ajv comes from scripts/setup.sh (third_party/node, NODE_PATH).
'use strict';
const fs = require('fs');
const path = require('path');

const [dir, schemaFile, documentFile] = process.argv.slice(2);
if (!dir || !schemaFile || !documentFile) {
  console.error('usage: validate_json_schema.js SCHEMA_DIR SCHEMA_FILE DOCUMENT_FILE');
  process.exit(2);
}
let Ajv2020, addFormats;
try {
  Ajv2020 = require('ajv/dist/2020');
  addFormats = require('ajv-formats');
} catch (e) {
  console.error('ajv is not installed (run scripts/setup.sh): ' + e.message);
  process.exit(2);
}
const ajv = new Ajv2020({allErrors: true, strict: false});
addFormats(ajv);
let target;
for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const schema = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
  ajv.addSchema(schema);
  if (name === schemaFile) target = schema.$id;
}
if (!target) {
  console.error('no schema ' + schemaFile + ' in ' + dir);
  process.exit(2);
}
const validate = ajv.getSchema(target);
const text = fs.readFileSync(documentFile, 'utf8');
const docs = documentFile.endsWith('.jsonl') ? text.split('\n').filter((l) => l.length > 0) : [text];
let valid = true;
docs.forEach((line, i) => {
  if (validate(JSON.parse(line))) return;
  valid = false;
  const where = documentFile.endsWith('.jsonl') ? 'line ' + (i + 1) + ': ' : '';
  for (const e of validate.errors) console.error(where + (e.instancePath || '/') + ' ' + e.message);
});
process.exit(valid ? 0 : 1);
