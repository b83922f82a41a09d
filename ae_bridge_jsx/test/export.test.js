"use strict";
// stmpoExport() run inside an ES3-like vm context against mock AE projects. The written
// files are parsed here, and (through $STMPO_JSX_EXPORT_DIR) by tests/test_jsx_bridge.py
// with the real export loader.

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const m = require("./mock_ae");
const { scenarios, NTSC, RATE_2997_SINGLE, HOSTILE_COMP, HOSTILE_DIR } = require("./scenarios");

const keepDir = process.env.STMPO_JSX_EXPORT_DIR;
const outDir = keepDir ? path.resolve(keepDir) : fs.mkdtempSync(path.join(os.tmpdir(), "stmpo-jsx-"));
fs.mkdirSync(outDir, { recursive: true });
if (!keepDir) test.after(() => fs.rmSync(outDir, { recursive: true, force: true }));

function exportScenario(name, options) {
  const env = m.makeContext(options);
  env.load("stmpo_export.jsx");
  const target = path.join(outDir, `${name}.json`);
  const returned = env.run(`stmpoExport(${JSON.stringify(target)})`);
  assert.equal(returned, target);
  const raw = fs.readFileSync(target);
  return { raw, data: JSON.parse(raw.toString("utf8")), env };
}

const bySceneName = Object.fromEntries(scenarios.map((s) => [s.name, s]));
const results = {};
function result(name) {
  if (!results[name]) results[name] = exportScenario(name, bySceneName[name].options());
  return results[name];
}

const framesOf = (data) => data.renderQueue.map((i) => [i.frames.start, i.frames.end, i.frames.step]);

test("every scenario writes an ASCII-only stmpo-ae-export file", () => {
  for (const s of scenarios) {
    const { raw, data } = result(s.name);
    assert.equal(data.format, "stmpo-ae-export");
    assert.equal(data.version, 1);
    assert.ok([...raw].every((b) => b < 0x80), `${s.name}: non-ASCII byte in the file`);
    assert.match(data.exportedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
});

test("basic 25 fps item: frames 0-249, png sequence, macOS host", () => {
  const { data } = result("basic_25fps");
  assert.deepEqual(data.host, { app: "After Effects", version: "24.6.2x3", os: "macos" });
  assert.deepEqual(data.project, { path: "/projects/spot/spot_v012.aep", displayStartFrame: 0 });
  assert.equal(data.renderQueue.length, 1);
  const item = data.renderQueue[0];
  assert.equal(item.index, 1);
  assert.equal(item.render, true);
  assert.equal(item.status, "QUEUED");
  assert.deepEqual(item.comp, {
    name: "MAIN comp", width: 1920, height: 1080, frameRate: 25, duration: 10, displayStartTime: 0,
  });
  assert.deepEqual(item.frames, { start: 0, end: 249, step: 1 });
  assert.deepEqual(item.outputModules, [
    {
      index: 1, path: "/renders/spot/MAIN_[#####].png", template: "PNG Sequence", kind: "sequence",
      useCompFrameNumber: true, startingNumber: 0,
    },
  ]);
  assert.equal(item.renderFrameRate, 25);
  assert.equal(item.skipExistingFiles, false);
  assert.deepEqual(data.warnings, []);
  assert.deepEqual(data.fonts, []);
  assert.deepEqual(data.footage, []);
});

test("29.97 and 59.94: float error does not shift frames", () => {
  // The case is real: naive floor() of the single-precision product lands one frame early.
  assert.equal(Math.floor(100 * NTSC * RATE_2997_SINGLE), 99);
  const { data } = result("drop_frame_2997");
  assert.deepEqual(framesOf(data), [
    [100, 399, 1],
    [17982, 17982, 1],
    [3, 1202, 1],
  ]);
  assert.equal(data.host.os, "windows");
  assert.equal(data.project.path, "C:\\projects\\ntsc\\ntsc.aep");
});

test("3-hour 29.97/59.94/23.976 comps: frames come from frameDuration, not frameRate", () => {
  const m = require("./mock_ae");
  // The mock's comp reads frameRate back as AE's 16.16 value: time * frameRate drifts.
  const rate = m.timeGrid(30000 / 1001).readBack;
  assert.equal(rate, 29.970001220703125);
  assert.equal(m.timeGrid(30000 / 1001).frameDuration, 100 / 2997);
  // 0.013 frame over after 3 hours: beyond the 0.01 snap, so ceil() adds a frame.
  assert.equal(Math.ceil(323676 * NTSC * rate), 323677);
  const { data } = result("ntsc_three_hours");
  assert.deepEqual(framesOf(data), [
    [107897, 107897 + 323676 - 1, 1],
    [0, 647352 - 1, 1],
    [86400, 86400 + 259200 - 1, 1],
  ]);
  // The export carries the grid's rate, so seconds * frameRate downstream is exact.
  assert.deepEqual(
    data.renderQueue.map((i) => i.comp.frameRate),
    [1 / NTSC, 1 / (50 / 2997), 1 / (125 / 2997)],
  );
  assert.deepEqual(
    data.renderQueue.map((i) => i.renderFrameRate),
    [1 / NTSC, 1 / (50 / 2997), 1 / (125 / 2997)],
  );
});

test("displayStartFrame 1 shifts every frame number by one; dirty project warns", () => {
  const { data } = result("display_start_frame_1");
  assert.equal(data.project.displayStartFrame, 1);
  assert.deepEqual(framesOf(data), [
    [1, 250, 1],
    [51, 75, 1],
  ]);
  assert.equal(data.warnings.length, 1);
  assert.match(data.warnings[0], /unsaved changes/);
});

test("comp displayStartTime moves the displayed frame numbers", () => {
  const { data } = result("comp_display_start_time");
  assert.deepEqual(framesOf(data), [
    [288, 311, 1],
    [-24, 23, 1],
  ]);
  assert.equal(data.renderQueue[0].comp.displayStartTime, 10);
  assert.equal(data.renderQueue[1].comp.displayStartTime, -1);
});

test("hostile names survive: quotes, braces, shell characters, controls, emoji, lone surrogate", () => {
  const { data } = result("hostile_names");
  const expectedName = HOSTILE_COMP.replace("\ud800", "\ufffd");
  assert.equal(data.renderQueue[0].comp.name, expectedName);
  assert.equal(data.project.path, `${HOSTILE_DIR}/spot_ü_😀.aep`);
  assert.deepEqual(data.renderQueue[0].outputModules, [
    {
      index: 1, path: `${HOSTILE_DIR}/out "q" [#####].png`, template: 'Tmpl "x" {{y}}', kind: "sequence",
      useCompFrameNumber: true, startingNumber: 0,
    },
  ]);
  assert.deepEqual(data.fonts, [
    {
      postScriptName: "Noto-日本語",
      familyName: 'Noto "Sans"',
      styleName: "Bold\\Italic",
      location: `${HOSTILE_DIR}/f.otf`,
      isSubstitute: false,
    },
  ]);
});

test("Windows paths keep their backslashes; UNC output", () => {
  const { data } = result("windows_paths");
  assert.deepEqual(data.host, { app: "After Effects", version: "23.6x62", os: "windows" });
  assert.equal(data.project.path, "C:\\Users\\artist\\Projects\\spot v2\\spot.aep");
  assert.deepEqual(
    data.renderQueue[0].outputModules.map((om) => [om.index, om.path, om.kind]),
    [
      [1, "\\\\server\\share\\renders\\MAIN_[####].exr", "sequence"],
      [2, "D:\\review\\MAIN.mov", "movie"],
    ],
  );
});

test("several output modules, statuses, unchecked items and skipFrames", () => {
  const { data } = result("several_output_modules");
  const [first, done, needsOutput, unqueued, twos, errStopped] = data.renderQueue;
  assert.deepEqual(
    first.outputModules.map((om) => [om.index, om.kind, om.template]),
    [
      [1, "sequence", "PNG Sequence"],
      [2, "movie", "Apple ProRes 422"],
      [4, "sequence", "EXR"],
    ],
  );
  assert.deepEqual(first.frames, { start: 0, end: 119, step: 1 });
  assert.equal(done.status, "DONE");
  assert.equal(needsOutput.status, "NEEDS_OUTPUT");
  assert.equal(needsOutput.render, false);
  assert.deepEqual(needsOutput.outputModules, []);
  assert.equal(unqueued.status, "UNQUEUED");
  assert.equal(unqueued.render, false);
  assert.equal(unqueued.outputModules[0].kind, "sequence");
  assert.deepEqual(twos.frames, { start: 0, end: 119, step: 2 });
  assert.equal(errStopped.status, "ERR_STOPPED");
  assert.equal(errStopped.outputModules[0].kind, "movie");
  assert.deepEqual(data.renderQueue.map((i) => i.index), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(data.warnings, ["Render queue item 1, output module 3 has no output file; it is left out."]);
});

test("footage: sequences as patterns, stills, movies, missing files warned, solids ignored", () => {
  const { data } = result("missing_footage");
  assert.deepEqual(data.footage, [
    { path: "/plates/sh010/plate.[0000-0047].exr", sequence: true, missing: false },
    { path: "/plates/logo.png", sequence: false, missing: false },
    { path: "/plates/ref.mov", sequence: false, missing: false },
    { path: "/plates/gone/interview.mov", sequence: false, missing: true },
  ]);
  assert.deepEqual(data.warnings, ['Missing footage: "gone" (/plates/gone/interview.mov).']);
});

test("footage: every still format AE imports is exported as a sequence pattern (DNG, CR2, AI, EPS, JPE, RGBE, RLE, DIB, VDA, RGB)", () => {
  const { data } = result("still_format_sequences");
  assert.deepEqual(data.footage, [
    { path: "/plates/raw/A001_C002.[000100-000123].dng", sequence: true, missing: false },
    { path: "/plates/raw/shot_[0001-0024].CR2", sequence: true, missing: false },
    { path: "/plates/vec/logo_[01-24].ai", sequence: true, missing: false },
    { path: "/plates/vec/burst_[001-024].eps", sequence: true, missing: false },
    { path: "/plates/jpe/frame.[0001-0024].jpe", sequence: true, missing: false },
    { path: "/plates/hdr/sky.[0000-0023].rgbe", sequence: true, missing: false },
    { path: "/plates/bmp/old_[0000-0023].rle", sequence: true, missing: false },
    { path: "/plates/bmp/win_[0000-0023].dib", sequence: true, missing: false },
    { path: "/plates/tga/t_[0000-0023].vda", sequence: true, missing: false },
    { path: "/plates/sgi/s_[0000-0023].rgb", sequence: true, missing: false },
    { path: "/plates/raw/still_0001.dng", sequence: false, missing: false },
    { path: "/plates/clip_0001.mxf", sequence: false, missing: false },
  ]);
});

test("output kind comes from the output module's Format, not the extension; frame numbering, render rate and skip-existing exported", () => {
  const { data } = result("output_settings");
  const [fifteen, ntsc] = data.renderQueue;
  assert.deepEqual(
    fifteen.outputModules.map((om) => [om.path, om.kind, om.useCompFrameNumber, om.startingNumber]),
    [
      ["/renders/o/loop.gif", "movie", true, 0],
      ["/renders/o/sky.rgbe", "sequence", true, 0],
      ["/renders/o/take_[####].exr", "sequence", false, 1001],
    ],
  );
  assert.equal(fifteen.renderFrameRate, 15);
  assert.equal(fifteen.comp.frameRate, 30);
  assert.equal(fifteen.skipExistingFiles, true);
  // The rate as a number, not the settings dialog's rounded "29.97".
  assert.equal(ntsc.renderFrameRate, 30000 / 1001);
  assert.equal(ntsc.skipExistingFiles, false);
  assert.equal(ntsc.outputModules[0].kind, "movie");
});

test("settings are read the way AE reports them (setSettings changes the export); without getSettings the path decides", () => {
  const om = m.outputModule("/renders/x/x.mov", "Lossless");
  const rq = m.rqItem({ comp: m.comp({ frameRate: 24 }), outputs: [om] });
  om.setSettings({ Format: "TIFF Sequence", "Use Comp Frame Number": false, "Starting #": 7 });
  rq.setSettings({ "Frame Rate": "Use this frame rate", "Use this frame rate": 12, "Skip Existing Files": true });
  const env = m.makeContext({ project: m.project({ rq: [rq] }) });
  env.load("stmpo_export.jsx");
  const item = JSON.parse(env.run("stmpoExport.toJson(stmpoExport.collect())")).renderQueue[0];
  assert.deepEqual([item.renderFrameRate, item.skipExistingFiles], [12, true]);
  assert.deepEqual(
    [item.outputModules[0].kind, item.outputModules[0].useCompFrameNumber, item.outputModules[0].startingNumber],
    ["sequence", false, 7],
  );
  // AE before getSettings (and GetSettingsFormat): the fields are left out, the path decides.
  const oldEnv = m.makeContext({
    getSettingsGlobal: false,
    project: m.project({
      rq: [
        m.rqItem({
          comp: m.comp({}),
          renderFrameRate: 12,
          outputs: [m.outputModule("/r/a_[#####].png"), m.outputModule("/r/b.gif", "GIF", { format: "Animated GIF" })],
        }),
      ],
    }),
  });
  oldEnv.load("stmpo_export.jsx");
  const oldItem = JSON.parse(oldEnv.run("stmpoExport.toJson(stmpoExport.collect())")).renderQueue[0];
  assert.equal("renderFrameRate" in oldItem, false);
  assert.equal("skipExistingFiles" in oldItem, false);
  assert.deepEqual(oldItem.outputModules.map((om) => [om.kind, "useCompFrameNumber" in om, "startingNumber" in om]), [
    ["sequence", false, false],
    ["sequence", false, false],
  ]);
});

test("proxies the render uses are exported with proxy: true; switched-off proxies are not", () => {
  const { data } = result("proxies");
  assert.deepEqual(data.footage, [
    { path: "/plates/plate.[0000-0047].exr", sequence: true, missing: false },
    { path: "/proxies/plate_half.[0000-0047].jpg", sequence: true, missing: false, proxy: true },
    { path: "/plates/interview.mov", sequence: false, missing: false },
    { path: "/plates/logo.ai", sequence: false, missing: false },
    { path: "/proxies/logo.png", sequence: false, missing: true, proxy: true },
    { path: "/proxies/heavy.png", sequence: false, missing: false, proxy: true },
  ]);
  assert.deepEqual(data.warnings, ['Missing proxy: "logo" (/proxies/logo.png).']);
});

test("render setting Proxy Use decides: Use No Proxies exports none, Use All Proxies every one", () => {
  const proxied = (proxyUse) => {
    const c = m.comp({ name: "c" });
    const items = [
      m.footage({ name: "on", path: "/f/on.mov", proxy: { path: "/p/on.mov", isStill: true } }),
      m.footage({ name: "off", path: "/f/off.mov", proxy: { path: "/p/off.mov", isStill: true, useProxy: false } }),
      c,
    ];
    const env = m.makeContext({
      project: m.project({ items, rq: [m.rqItem({ comp: c, proxyUse, outputs: [m.outputModule("/r/x.mov")] })] }),
    });
    env.load("stmpo_export.jsx");
    const data = JSON.parse(env.run("stmpoExport.toJson(stmpoExport.collect())"));
    return data.footage.filter((f) => f.proxy).map((f) => f.path);
  };
  assert.deepEqual(proxied("Use No Proxies"), []);
  assert.deepEqual(proxied("Current Settings"), ["/p/on.mov"]);
  assert.deepEqual(proxied("Use All Proxies"), ["/p/on.mov", "/p/off.mov"]);
});

test("AE 24.5+: fonts come from project.usedFonts, substitutes flagged and warned", () => {
  const { data } = result("fonts_used_fonts");
  assert.deepEqual(data.fonts, [
    {
      postScriptName: "Inter-Bold",
      familyName: "Inter",
      styleName: "Bold",
      location: "/Users/artist/Library/Fonts/Inter-Bold.ttf",
      isSubstitute: false,
    },
    { postScriptName: "Roboto-Regular", familyName: "Roboto", styleName: "Regular", isSubstitute: false },
    { postScriptName: "Brand-Black", familyName: "Brand", styleName: "Black", isSubstitute: true },
    { postScriptName: "Orphan-Italic", familyName: "Orphan", styleName: "Italic", isSubstitute: true },
  ]);
  assert.equal(data.warnings.length, 2);
  assert.match(data.warnings[0], /"Brand-Black" is missing/);
  assert.match(data.warnings[1], /"Orphan-Italic" is missing/);
});

test("before AE 24.5: fonts from text layers' Source Text, value and keyframes", () => {
  const { data } = result("fonts_text_layers");
  assert.deepEqual(data.fonts, [
    { postScriptName: "Inter-Bold", familyName: "Inter", styleName: "Bold", location: "/fonts/Inter-Bold.ttf", isSubstitute: false },
    { postScriptName: "Lora-Italic", familyName: "Lora", styleName: "Italic", location: "/fonts/Lora-Italic.ttf", isSubstitute: false },
    { postScriptName: "Inter-Regular", familyName: "Inter", styleName: "Regular", location: "/fonts/Inter-Regular.ttf", isSubstitute: false },
  ]);
  assert.deepEqual(data.warnings, []);
});

test("AE 24.0-24.4: text layer fonts marked substitute from app.fonts.missingOrSubstitutedFonts", () => {
  const { data } = result("fonts_text_layers_substituted");
  assert.deepEqual(
    data.fonts.map((f) => [f.postScriptName, f.isSubstitute]),
    [
      ["Futura-Medium", true],
      ["Inter-Bold", false],
    ],
  );
  assert.equal(data.warnings.length, 1);
  assert.match(data.warnings[0], /"Futura-Medium" is missing/);
});

test("an empty render queue is a valid export", () => {
  const { data } = result("empty_queue");
  assert.deepEqual(data.renderQueue, []);
});

test("an unsaved project is refused with a clear message and nothing is written", () => {
  const env = m.makeContext({ project: m.project({ path: null }) });
  env.load("stmpo_export.jsx");
  const target = path.join(outDir, "never.json.tmp");
  assert.throws(() => env.run(`stmpoExport(${JSON.stringify(target)})`), /never been saved/);
  assert.equal(fs.existsSync(target), false);
});

test("an output folder that does not exist gives an error naming the path", () => {
  const env = m.makeContext({ project: m.project() });
  env.load("stmpo_export.jsx");
  const target = path.join(outDir, "no", "such", "dir", "x.json");
  assert.throws(() => env.run(`stmpoExport(${JSON.stringify(target)})`), /cannot write .*x\.json/);
});

test("status names come from the RQItemStatus global, or AE's numbers without it", () => {
  for (const rqStatusGlobal of [true, false]) {
    const env = m.makeContext({ rqStatusGlobal });
    env.load("stmpo_export.jsx");
    for (const [name, code] of Object.entries(m.RQ)) {
      assert.equal(env.run(`stmpoExport.statusName(${code})`), name);
    }
    assert.equal(env.run("stmpoExport.statusName(42)"), null);
  }
});

test("before AE 17.1 the start frame comes from FramesCountType", () => {
  const env = m.makeContext({
    framesCountTypeGlobal: true,
    project: m.project({
      displayStartFrame: undefined,
      framesCountType: 2601,
      rq: [m.rqItem({ comp: m.comp({}), outputs: [m.outputModule("/r/a_[#####].png")] })],
    }),
  });
  env.load("stmpo_export.jsx");
  const data = JSON.parse(env.run("stmpoExport.toJson(stmpoExport.collect())"));
  assert.equal(data.project.displayStartFrame, 1);
  assert.deepEqual(data.renderQueue[0].frames, { start: 1, end: 250, step: 1 });
});

test("the harness really is ES3-like: no JSON, no ES5 array helpers", () => {
  const env = m.makeContext({});
  assert.equal(env.run("typeof JSON"), "undefined");
  assert.equal(env.run("typeof [].forEach + typeof [].indexOf + typeof Object.keys"), "undefinedundefinedundefined");
  assert.equal(env.run("typeof ''.trim + typeof Array.isArray"), "undefinedundefined");
});
