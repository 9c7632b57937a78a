// Compiles each JSON schema read from stdin (a JSON array) with ajv in strict mode, formats known;
// prints a JSON array of [index, message] for those it refuses. Used by tests/test_strict_schemas.py.
import Ajv from "ajv";
import addFormats from "ajv-formats";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const refused = [];
JSON.parse(input).forEach((schema, index) => {
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats(ajv);
  try {
    ajv.compile(schema);
  } catch (error) {
    refused.push([index, String(error.message)]);
  }
});
process.stdout.write(JSON.stringify(refused));
