"use strict";
// The bridge's own JSON writer (ExtendScript has no JSON object), run in the ES3-like context.

const test = require("node:test");
const assert = require("node:assert/strict");
const m = require("./mock_ae");

function writer() {
  const env = m.makeContext({});
  env.load("stmpo_export.jsx");
  const toJson = env.run("stmpoExport.toJson");
  return { env, toJson };
}

/** What a string must read back as: lone surrogates become U+FFFD, all else unchanged. */
function wellFormed(s) {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s[i] + s[i + 1];
        i++;
      } else out += "\ufffd";
    } else if (c >= 0xdc00 && c <= 0xdfff) out += "\ufffd";
    else out += s[i];
  }
  return out;
}

test("every single UTF-16 code unit round-trips (lone surrogates as U+FFFD), output is ASCII", () => {
  const { toJson } = writer();
  for (let c = 0; c <= 0xffff; c++) {
    const s = String.fromCharCode(c);
    const text = toJson(s);
    assert.ok(/^[\x20-\x7e]*$/.test(text), `U+${c.toString(16)} wrote non-ASCII or a control`);
    assert.equal(JSON.parse(text), wellFormed(s), `U+${c.toString(16)}`);
  }
});

test("random strings with pairs, lone surrogates and controls round-trip", () => {
  const { toJson } = writer();
  let seed = 12345;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pool = [0, 7, 9, 10, 13, 0x1f, 0x22, 0x5c, 0x2f, 0x7f, 0x80, 0xe9, 0x2028, 0x2029, 0xd83d, 0xde00, 0xdbff, 0xdc00, 0xfeff, 0xfffd, 0x41];
  for (let n = 0; n < 2000; n++) {
    let s = "";
    const len = rand(12);
    for (let i = 0; i < len; i++) s += String.fromCharCode(rand(3) ? pool[rand(pool.length)] : rand(0x10000));
    assert.equal(JSON.parse(toJson(s)), wellFormed(s), JSON.stringify(s));
  }
});

test("emoji (surrogate pairs) are written as escaped pairs", () => {
  const { toJson } = writer();
  assert.equal(toJson("a😀b"), '"a\\ud83d\\ude00b"');
  assert.equal(toJson('q"b\\s\n'), '"q\\"b\\\\s\\n"');
  assert.equal(toJson("\u2028"), '"\\u2028"');
});

test("numbers: integers stay integers, fractions round-trip, -0 is 0", () => {
  const { toJson } = writer();
  assert.equal(toJson(250), "250");
  assert.equal(toJson(-24), "-24");
  assert.equal(toJson(-0), "0");
  for (const x of [29.97002997002997, Math.fround(30000 / 1001), 0.1, 1e-7, 123456789.125, 2 ** 53]) {
    assert.equal(JSON.parse(toJson(x)), x);
  }
});

test("non-finite numbers and undefined values are refused with the JSON path", () => {
  const { env } = writer();
  assert.throws(() => env.run("stmpoExport.toJson({comp: {frameRate: 0 / 0}})"), /comp\.frameRate is not a finite number/);
  assert.throws(() => env.run("stmpoExport.toJson({a: [1, 1 / 0]})"), /a\[1\] is not a finite number/);
  assert.throws(() => env.run("stmpoExport.toJson([function () {}])"), /\[0\] has no JSON value/);
});

test("objects and arrays: nesting, key order, undefined members left out, empty containers", () => {
  const { env } = writer();
  const text = env.run(
    'stmpoExport.toJson({b: 1, a: [true, false, null, "x", [], {}], skip: undefined, "k\\"ey": {z: []}})',
  );
  assert.deepEqual(JSON.parse(text), { b: 1, a: [true, false, null, "x", [], {}], 'k"ey': { z: [] } });
  assert.deepEqual(Object.keys(JSON.parse(text)), ["b", "a", 'k"ey']);
});
