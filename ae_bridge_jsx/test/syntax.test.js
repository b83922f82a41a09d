"use strict";
// ExtendScript is ECMAScript 3: every .jsx must parse as ES3 once the ExtendScript
// preprocessor lines (#target, #include) are removed.

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const acorn = require("acorn");
const m = require("./mock_ae");

const files = m.jsxFiles();

test("the bridge has its two scripts", () => {
  assert.deepEqual(files.map((f) => path.basename(f)).sort(), ["StmpoSubmitter.jsx", "stmpo_export.jsx"]);
});

for (const file of files) {
  test(`${path.basename(file)} parses as ECMAScript 3`, () => {
    const source = m.stripDirectives(fs.readFileSync(file, "utf8"));
    assert.doesNotThrow(() => acorn.parse(source, { ecmaVersion: 3, sourceType: "script" }));
  });

  test(`${path.basename(file)} has no trailing comma in an array literal`, () => {
    // ES3 parsers accept [a, b,] as an elision; ExtendScript gives it a different length.
    const source = m.stripDirectives(fs.readFileSync(file, "utf8"));
    const tokens = [...acorn.tokenizer(source, { ecmaVersion: 3 })];
    for (let i = 1; i < tokens.length; i++) {
      if (tokens[i].type.label === "]" && tokens[i - 1].type.label === ",") {
        assert.fail(`trailing comma before ] at offset ${tokens[i].start}`);
      }
    }
  });
}

test("the ES3 check really rejects ES5+ syntax", () => {
  for (const bad of ["let x = 1;", "var o = {a: 1,};", "var o = {get x() { return 1; }};", "var f = () => 1;"]) {
    assert.throws(() => acorn.parse(bad, { ecmaVersion: 3 }), bad);
  }
});
