"use strict";
// StmpoSubmitter.jsx: finding stmpo-submitter, building the launch command, and the menu
// flow (save, export, launch). On this POSIX machine the macOS command is run for real by
// /bin/sh, the way AE's system.callSystem runs it, against a fake submitter program.

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const m = require("./mock_ae");

const WIN_OS = "Windows/64 10.0 Service Pack 0";
const MAC_OS = "Macintosh OS 14.5.0/64";

function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stmpo-sub-"));
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Loads both scripts as AE does (#include), without running the menu action. */
function submitterContext(options) {
  const env = m.makeContext(Object.assign({ extraGlobals: { STMPO_SUBMITTER_NO_AUTORUN: true } }, options));
  env.load("stmpo_export.jsx");
  env.load("StmpoSubmitter.jsx");
  return env;
}

function queuedProject(extra = {}) {
  return m.project(
    Object.assign(
      {
        path: "/projects/spot/spot_v012.aep",
        rq: [m.rqItem({ comp: m.comp({ name: "MAIN" }), outputs: [m.outputModule("/renders/MAIN_[#####].png")] })],
      },
      extra,
    ),
  );
}

/**
 * A stand-in for stmpo-submitter: it waits until the test creates `go` (so a launcher that
 * waited for it would hang and fail), then writes its arguments, NUL-separated, to `result`.
 */
function fakeSubmitter(dir) {
  const program = path.join(dir, "stmpo-submitter");
  const go = path.join(os.tmpdir(), `stmpo-go-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const result = `${go}.args`;
  fs.writeFileSync(
    program,
    `#!/bin/sh
i=0
while [ ! -e '${go}' ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
printf '%s\\0' "$@" > '${result}.part' && mv '${result}.part' '${result}'
`,
    { mode: 0o755 },
  );
  test.after(() => {
    for (const f of [go, result]) fs.rmSync(f, { force: true });
  });
  return { program, go, result };
}

/** Runs the command like AE's callSystem on macOS: through sh, returning once output closes. */
function realCallSystem(cmd) {
  return execFileSync("/bin/sh", ["-c", cmd], { stdio: ["ignore", "pipe", "pipe"], timeout: 20000 }).toString();
}

function waitForFile(file) {
  for (let i = 0; i < 400; i++) {
    if (fs.existsSync(file)) return;
    execFileSync("sleep", ["0.025"]);
  }
  assert.fail(`the launched program never wrote ${file}`);
}

function readArgs(file) {
  const parts = fs.readFileSync(file, "utf8").split("\0");
  parts.pop();
  return parts;
}

// --- finding the program -------------------------------------------------------------------

test("the saved setting wins over STMPO_SUBMITTER and PATH", () => {
  const env = submitterContext({
    os: WIN_OS,
    realDisk: false,
    settings: { "STMPO/submitterPath": "D:\\tools\\stmpo\\stmpo-submitter.exe" },
    env: { STMPO_SUBMITTER: "C:\\env\\stmpo-submitter.exe", PATH: "C:\\onpath" },
    virtualFiles: [
      "D:\\tools\\stmpo\\stmpo-submitter.exe",
      "C:\\env\\stmpo-submitter.exe",
      "C:\\onpath\\stmpo-submitter.exe",
    ],
  });
  const found = env.run("stmpoSubmitter.findSubmitter(true)");
  assert.equal(found.path, "D:\\tools\\stmpo\\stmpo-submitter.exe");
  assert.equal(found.source, "setting");
});

test("a stale setting falls through to STMPO_SUBMITTER (quotes stripped)", () => {
  const env = submitterContext({
    os: WIN_OS,
    realDisk: false,
    settings: { "STMPO/submitterPath": "D:\\gone\\stmpo-submitter.exe" },
    env: { STMPO_SUBMITTER: '"C:\\Program Files\\STMPO\\stmpo-submitter.exe"', PATH: "C:\\onpath" },
    virtualFiles: ["C:\\Program Files\\STMPO\\stmpo-submitter.exe", "C:\\onpath\\stmpo-submitter.exe"],
  });
  const found = env.run("stmpoSubmitter.findSubmitter(true)");
  assert.equal(found.path, "C:\\Program Files\\STMPO\\stmpo-submitter.exe");
  assert.equal(found.source, "environment");
});

test("Windows PATH: quoted entries, .exe before .cmd, first folder that has it", () => {
  const env = submitterContext({
    os: WIN_OS,
    realDisk: false,
    env: {
      PATH: 'C:\\Windows\\system32;;"C:\\Program Files\\Python 3.12\\Scripts";C:\\Users\\a\\pipx\\',
    },
    virtualFiles: [
      "C:\\Program Files\\Python 3.12\\Scripts\\stmpo-submitter.cmd",
      "C:\\Program Files\\Python 3.12\\Scripts\\stmpo-submitter.exe",
      "C:\\Users\\a\\pipx\\stmpo-submitter.exe",
    ],
  });
  const found = env.run("stmpoSubmitter.findSubmitter(true)");
  assert.equal(found.path, "C:\\Program Files\\Python 3.12\\Scripts\\stmpo-submitter.exe");
  assert.equal(found.source, "PATH");
});

test("macOS: AE's bare PATH is extended with ~/.local/bin, /usr/local/bin, /opt/homebrew/bin", () => {
  const env = submitterContext({
    os: MAC_OS,
    realDisk: false,
    env: { PATH: "/usr/bin:/bin", HOME: "/Users/o'brien" },
    virtualFiles: ["/Users/o'brien/.local/bin/stmpo-submitter", "/opt/homebrew/bin/stmpo-submitter"],
  });
  const folders = env.run("stmpoSubmitter.searchFolders(false)");
  assert.deepEqual([...folders].slice(0, 5), ["/usr/bin", "/bin", "/Users/o'brien/.local/bin", "/usr/local/bin", "/opt/homebrew/bin"]);
  assert.equal(env.run("stmpoSubmitter.findSubmitter(false)").path, "/Users/o'brien/.local/bin/stmpo-submitter");
});

test("nothing found: the result says where it looked", () => {
  const env = submitterContext({ os: MAC_OS, realDisk: false, env: { PATH: "/usr/bin:/bin" } });
  const found = env.run("stmpoSubmitter.findSubmitter(false)");
  assert.equal(found.path, "");
  assert.deepEqual([...found.looked], [
    "the saved setting STMPO > submitterPath (not set)",
    "STMPO_SUBMITTER (not set)",
    "9 folders on PATH and the usual install folders",
  ]);
});

// --- the launch command --------------------------------------------------------------------

test("Windows launcher: UTF-8 after chcp 65001, start with an empty title, % doubled, deletes itself", () => {
  const env = submitterContext({ os: WIN_OS });
  const text = env.run(
    'stmpoSubmitter.windowsLauncher("C:\\\\Program Files\\\\STMPO (x86) & co 100%\\\\stmpo-submitter.exe", ' +
      '"C:\\\\Users\\\\Zoë O\'Brien\\\\AppData\\\\Local\\\\Temp\\\\stmpo_export_1.json")',
  );
  assert.equal(
    text,
    "@echo off\r\nchcp 65001 >nul\r\n" +
      'start "" "C:\\Program Files\\STMPO (x86) & co 100%%\\stmpo-submitter.exe" ' +
      '"C:\\Users\\Zoë O\'Brien\\AppData\\Local\\Temp\\stmpo_export_1.json"\r\n' +
      '(goto) 2>nul & del "%~f0"\r\n',
  );
});

test("Windows launcher refuses paths cmd.exe cannot quote (\" and line breaks)", () => {
  const env = submitterContext({ os: WIN_OS });
  assert.throws(
    () => env.run('stmpoSubmitter.windowsLauncher("C:\\\\a\\\\stmpo-submitter.exe", "C:\\\\t\\\\\\"e.json")'),
    /cannot pass this path to cmd\.exe/,
  );
  assert.throws(
    () => env.run('stmpoSubmitter.windowsLauncher("C:\\\\a\\nb\\\\stmpo-submitter.exe", "C:\\\\t\\\\e.json")'),
    /cannot pass this path/,
  );
});

test("macOS command: single-quoted, detached, backgrounded; .app bundles go through open", () => {
  const env = submitterContext({ os: MAC_OS });
  assert.equal(
    env.run(`stmpoSubmitter.launchCommand("/Users/o'brien/My \\"Apps\\"/stmpo-submitter", "/tmp/e $x.json")`),
    `'/Users/o'\\''brien/My "Apps"/stmpo-submitter' '/tmp/e $x.json' </dev/null >/dev/null 2>&1 &`,
  );
  assert.equal(
    env.run('stmpoSubmitter.launchCommand("/Applications/STMPO Submitter.app", "/tmp/e.json")'),
    "open -n -a '/Applications/STMPO Submitter.app' --args '/tmp/e.json' </dev/null >/dev/null 2>&1 &",
  );
});

test("the POSIX command really runs: sh returns at once, the program gets the exact path", () => {
  const dir = path.join(scratch(), `My "Apps" o'brien $(touch pwned) \`id\` ; & |`);
  fs.mkdirSync(dir);
  const fake = fakeSubmitter(dir);
  const exportFile = path.join(dir, "export 'q' \"x\" $HOME.json");
  const env = submitterContext({ os: MAC_OS });
  const cmd = env.run(`stmpoSubmitter.launchCommand(${JSON.stringify(fake.program)}, ${JSON.stringify(exportFile)})`);
  realCallSystem(cmd); // returns although the program is still waiting for `go`
  assert.equal(fs.existsSync(fake.result), false);
  fs.writeFileSync(fake.go, "");
  waitForFile(fake.result);
  assert.deepEqual(readArgs(fake.result), [exportFile]);
  assert.equal(fs.existsSync(path.join(process.cwd(), "pwned")), false);
});

// --- the menu flow -------------------------------------------------------------------------

test("menu flow on macOS: asks to save a dirty project, exports, launches without blocking", () => {
  const dir = scratch();
  const fake = fakeSubmitter(dir);
  const proj = queuedProject({ dirty: true });
  const env = submitterContext({
    os: MAC_OS,
    project: proj,
    tempDir: dir,
    confirmAnswers: [true],
    env: { STMPO_SUBMITTER: fake.program },
    callSystem: realCallSystem,
  });
  const outcome = env.run("stmpoSubmitter.run()");
  assert.equal(outcome.status, "launched", JSON.stringify(outcome));
  assert.equal(fs.existsSync(fake.result), false, "run() waited for the submitter to finish");
  assert.equal(proj.saves, 1);
  assert.match(env.state.calls.confirm[0], /Save the changes to "spot_v012\.aep"/);
  assert.equal(path.dirname(outcome.exportPath), dir);
  assert.match(path.basename(outcome.exportPath), /^stmpo_export_\d{8}_\d{6}_\d+\.json$/);
  const data = JSON.parse(fs.readFileSync(outcome.exportPath, "utf8"));
  assert.equal(data.project.path, "/projects/spot/spot_v012.aep");
  assert.deepEqual(data.warnings, []); // saved before exporting
  fs.writeFileSync(fake.go, "");
  waitForFile(fake.result);
  assert.deepEqual(readArgs(fake.result), [outcome.exportPath]);
  assert.deepEqual(env.state.calls.alert, []);
});

test("menu flow: declining to save cancels; nothing is exported or started", () => {
  const dir = scratch();
  const proj = queuedProject({ dirty: true });
  const env = submitterContext({ os: MAC_OS, project: proj, tempDir: dir, confirmAnswers: [false] });
  const outcome = env.run("stmpoSubmitter.run()");
  assert.equal(outcome.status, "cancelled");
  assert.equal(proj.saves, 0);
  assert.deepEqual(fs.readdirSync(dir), []);
  assert.deepEqual(env.state.calls.callSystem, []);
});

test("menu flow: a never-saved project goes through Save As; cancelling it stops", () => {
  const env = submitterContext({ os: MAC_OS, project: queuedProject({ path: null }), confirmAnswers: [true] });
  assert.equal(env.run("stmpoSubmitter.run()").status, "cancelled");
  assert.match(env.state.calls.confirm[0], /never been saved/);
  assert.deepEqual(env.state.calls.callSystem, []);
});

test("menu flow: nothing found shows a clear alert and starts nothing", () => {
  const dir = scratch();
  const env = submitterContext({
    os: MAC_OS,
    realDisk: false,
    project: queuedProject(),
    tempDir: dir,
    env: { PATH: "/usr/bin:/bin" },
    confirmAnswers: [false],
  });
  const outcome = env.run("stmpoSubmitter.run()");
  assert.equal(outcome.status, "not-found");
  assert.equal(env.state.calls.alert.length, 1);
  const message = env.state.calls.alert[0];
  assert.match(message, /Cannot find the STMPO submitter program \(stmpo-submitter\)/);
  assert.match(message, /environment variable STMPO_SUBMITTER/);
  assert.match(message, /folder on PATH/);
  assert.match(message, /STMPO > submitterPath \(not set\)/);
  assert.deepEqual(env.state.calls.callSystem, []);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("menu flow: the artist picks the program once and it is saved in AE's settings", () => {
  const dir = scratch();
  const env = submitterContext({
    os: MAC_OS,
    project: queuedProject(),
    tempDir: dir,
    env: { PATH: "" },
    confirmAnswers: [true],
    openDialogResult: "/Applications/STMPO Submitter.app",
  });
  const outcome = env.run("stmpoSubmitter.run()");
  assert.equal(outcome.status, "launched");
  assert.deepEqual(env.state.calls.saveSetting, [["STMPO", "submitterPath", "/Applications/STMPO Submitter.app"]]);
  assert.equal(env.state.calls.callSystem.length, 1);
  assert.match(env.state.calls.callSystem[0], /^open -n -a '\/Applications\/STMPO Submitter\.app' --args '/);
});

test("menu flow on Windows: nothing blocking is called; a UTF-8 launcher is File.execute()d", () => {
  const drive = scratch();
  fs.mkdirSync(path.join(drive, "Temp", "Zoë", "日本"), { recursive: true });
  const tempDir = "C:\\Temp\\Zoë\\日本";
  const env = submitterContext({
    os: WIN_OS,
    project: queuedProject({ path: "C:\\projects\\spot.aep" }),
    tempDir,
    windowsDrive: drive,
    realDisk: true,
    virtualFiles: ["C:\\Program Files\\STMPO\\stmpo-submitter.exe"],
    env: { PATH: "C:\\Windows;C:\\Program Files\\STMPO" },
  });
  const outcome = env.run("stmpoSubmitter.run()");
  assert.equal(outcome.status, "launched", JSON.stringify(outcome));
  // system.callSystem waits on Windows until what it started ends: it must not be used.
  assert.deepEqual(env.state.calls.callSystem, []);
  const exportName = outcome.exportPath.slice(tempDir.length + 1);
  assert.match(exportName, /^stmpo_export_\d{8}_\d{6}_\d+\.json$/);
  const launcher = `${tempDir}\\${exportName.replace(/\.json$/, "")}_launch.cmd`;
  assert.deepEqual(env.state.calls.execute, [launcher]);
  const onDisk = (p) => path.join(drive, ...p.slice(3).split("\\"));
  const bytes = fs.readFileSync(onDisk(launcher));
  assert.notEqual(bytes[0], 0xef, "no byte-order mark before @echo off");
  assert.equal(
    bytes.toString("utf8"),
    '@echo off\r\nchcp 65001 >nul\r\nstart "" "C:\\Program Files\\STMPO\\stmpo-submitter.exe" ' +
      `"${outcome.exportPath}"\r\n(goto) 2>nul & del "%~f0"\r\n`,
  );
  assert.equal(JSON.parse(fs.readFileSync(onDisk(outcome.exportPath), "utf8")).host.os, "windows");
});

test("Windows: pip --user and python.org folders are searched after PATH", () => {
  const env = submitterContext({
    os: WIN_OS,
    realDisk: false,
    env: {
      PATH: "C:\\Windows",
      USERPROFILE: "C:\\Users\\zoë",
      APPDATA: "C:\\Users\\zoë\\AppData\\Roaming",
      LOCALAPPDATA: "C:\\Users\\zoë\\AppData\\Local",
    },
    virtualFiles: ["C:\\Users\\zoë\\AppData\\Local\\Programs\\Python\\Python312\\Scripts\\stmpo-submitter.exe"],
  });
  const folders = [...env.run("stmpoSubmitter.searchFolders(true)")];
  assert.ok(folders.includes("C:\\Users\\zoë\\AppData\\Roaming\\Python\\Python313\\Scripts"), folders.join("\n"));
  assert.ok(folders.includes("C:\\Users\\zoë\\AppData\\Roaming\\Python\\Python310\\Scripts"));
  assert.equal(
    env.run("stmpoSubmitter.findSubmitter(true)").path,
    "C:\\Users\\zoë\\AppData\\Local\\Programs\\Python\\Python312\\Scripts\\stmpo-submitter.exe",
  );
});

test("macOS: pip --user (~/Library/Python/X.Y/bin) and python.org framework folders are searched", () => {
  const env = submitterContext({
    os: MAC_OS,
    realDisk: false,
    env: { PATH: "/usr/bin:/bin", HOME: "/Users/zoe" },
    virtualFiles: ["/Users/zoe/Library/Python/3.11/bin/stmpo-submitter"],
  });
  const folders = [...env.run("stmpoSubmitter.searchFolders(false)")];
  assert.ok(folders.includes("/Library/Frameworks/Python.framework/Versions/3.12/bin"), folders.join("\n"));
  assert.equal(env.run("stmpoSubmitter.findSubmitter(false)").path, "/Users/zoe/Library/Python/3.11/bin/stmpo-submitter");
});

test("menu flow: an export that cannot be written is reported, nothing started", () => {
  const env = submitterContext({
    os: MAC_OS,
    project: queuedProject(),
    tempDir: "/nonexistent/stmpo/temp",
    virtualFiles: ["/opt/stmpo/stmpo-submitter"],
    env: { STMPO_SUBMITTER: "/opt/stmpo/stmpo-submitter" },
  });
  const outcome = env.run("stmpoSubmitter.run()");
  assert.equal(outcome.status, "error");
  assert.equal(env.state.calls.alert.length, 1);
  assert.match(env.state.calls.alert[0], /cannot write \/nonexistent\/stmpo\/temp\/stmpo_export_/);
  assert.match(env.state.calls.alert[0], /Allow Scripts to Write Files and Access Network/);
  assert.deepEqual(env.state.calls.callSystem, []);
});

test("running the script (no test flag) runs the menu action at once", () => {
  const dir = scratch();
  const env = m.makeContext({ os: MAC_OS, realDisk: false, project: queuedProject(), tempDir: dir, env: { PATH: "" } });
  env.load("stmpo_export.jsx");
  env.load("StmpoSubmitter.jsx");
  assert.equal(env.state.calls.alert.length, 1);
  assert.match(env.state.calls.alert[0], /Cannot find the STMPO submitter/);
});

// --- saving really happened (issue 10 point 10) ----------------------------------------------

for (const [outcome, why] of [
  ["cancelled", /did not save "My Spot\.aep" \(the save was cancelled or failed\)/],
  ["throws", /could not save "My Spot\.aep": After Effects error: Unable to save the project \(disk full\)/],
]) {
  test(`menu flow: a save that ${outcome === "throws" ? "throws" : "leaves the project dirty"} writes no export and says why`, () => {
    const dir = scratch();
    const proj = queuedProject({ path: "/projects/spot/My Spot.aep", dirty: true, saveOutcome: outcome });
    const env = submitterContext({
      os: MAC_OS,
      project: proj,
      tempDir: dir,
      confirmAnswers: [true],
      virtualFiles: ["/opt/stmpo/stmpo-submitter"],
      env: { STMPO_SUBMITTER: "/opt/stmpo/stmpo-submitter" },
    });
    const result = env.run("stmpoSubmitter.run()");
    assert.equal(result.status, "not-saved");
    assert.equal(proj.saves, 1);
    assert.equal(env.state.calls.alert.length, 1);
    assert.match(env.state.calls.alert[0], why);
    assert.match(env.state.calls.alert[0], /Nothing was submitted/);
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.deepEqual(env.state.calls.callSystem, []);
  });
}

test("menu flow: a project whose saved file is not on disk writes no export", () => {
  const dir = scratch();
  const proj = queuedProject({ path: "/projects/spot/Zo%C3%AB Spot.aep", onDisk: false });
  const env = submitterContext({
    os: MAC_OS,
    project: proj,
    tempDir: dir,
    virtualFiles: ["/opt/stmpo/stmpo-submitter"],
    env: { STMPO_SUBMITTER: "/opt/stmpo/stmpo-submitter" },
  });
  const result = env.run("stmpoSubmitter.run()");
  assert.equal(result.status, "not-saved");
  assert.match(env.state.calls.alert[0], /The saved project "Zo%C3%AB Spot\.aep" is not on disk at \/projects\/spot\/Zo%C3%AB Spot\.aep\./);
  assert.deepEqual(fs.readdirSync(dir), []);
  assert.deepEqual(env.state.calls.callSystem, []);
});

test("the save question names the project decoded, as the artist knows it", () => {
  const dir = scratch();
  const proj = queuedProject({ path: "/projects/spot/My Spot é.aep", dirty: true });
  const env = submitterContext({ os: MAC_OS, project: proj, tempDir: dir, confirmAnswers: [false] });
  assert.equal(env.run("stmpoSubmitter.run()").status, "cancelled");
  assert.match(env.state.calls.confirm[0], /Save the changes to "My Spot é\.aep"/);
});

// --- finished items are duplicated, not exported as renderable (issue 10 point 1) ------------

function finishedQueueProject() {
  const main = m.comp({ name: "MAIN" });
  const alt = m.comp({ name: "ALT", frameRate: 24, duration: 5 });
  return m.project({
    path: "/projects/spot/spot_v012.aep",
    rq: [
      m.rqItem({ comp: main, status: m.RQ.DONE, render: false, outputs: [m.outputModule("/renders/MAIN_[#####].png", "PNG")] }),
      m.rqItem({ comp: main, outputs: [m.outputModule("/renders/MAIN.mov", "ProRes")] }),
      m.rqItem({
        comp: alt,
        status: m.RQ.USER_STOPPED,
        render: false,
        timeSpanStart: 1,
        timeSpanDuration: 2,
        skipFrames: 1,
        outputs: [m.outputModule("/renders/ALT_[####].exr", "EXR"), m.outputModule("/renders/ALT.mov", "ProRes")],
      }),
      m.rqItem({ comp: alt, status: m.RQ.ERR_STOPPED, render: false, outputs: [] }),
    ],
  });
}

function launchedExport(proj, confirmAnswers) {
  const dir = scratch();
  const env = submitterContext({
    os: MAC_OS,
    project: proj,
    tempDir: dir,
    confirmAnswers,
    virtualFiles: ["/opt/stmpo/stmpo-submitter"],
    env: { STMPO_SUBMITTER: "/opt/stmpo/stmpo-submitter" },
  });
  const outcome = env.run("stmpoSubmitter.run()");
  assert.equal(outcome.status, "launched", JSON.stringify(outcome));
  return { env, outcome, data: JSON.parse(fs.readFileSync(outcome.exportPath, "utf8")) };
}

test("AE refuses to set Render on a finished item (the mock models it)", () => {
  const proj = finishedQueueProject();
  const done = proj.renderQueue.item(1);
  assert.throws(() => {
    done.render = true;
  }, /can not change the render state/);
  assert.equal(done.status, m.RQ.DONE);
});

test("menu flow: finished items the artist picks are duplicated, saved, and the copies exported", () => {
  const proj = finishedQueueProject();
  const { env, outcome, data } = launchedExport(proj, [true]);
  // one question: which finished items to duplicate; saving follows without a second one
  assert.equal(env.state.calls.confirm.length, 1);
  assert.match(env.state.calls.confirm[0], /1\. MAIN \(DONE\)\n {2}3\. ALT \(USER_STOPPED\)\n\n/);
  assert.doesNotMatch(env.state.calls.confirm[0], /4\. ALT/); // no output module: nothing to render
  assert.equal(proj.saves, 1);
  assert.equal(proj.dirty, false);
  assert.deepEqual([...outcome.duplicated], [5, 6]);
  const byIndex = Object.fromEntries(data.renderQueue.map((i) => [i.index, i]));
  assert.deepEqual(data.renderQueue.map((i) => [i.index, i.status, i.render]), [
    [1, "DONE", false],
    [2, "QUEUED", true],
    [3, "USER_STOPPED", false],
    [4, "ERR_STOPPED", false],
    [5, "QUEUED", true],
    [6, "QUEUED", true],
  ]);
  // the copies carry the originals' settings and output modules
  for (const [copy, original] of [[5, 1], [6, 3]]) {
    assert.deepEqual(byIndex[copy].comp, byIndex[original].comp);
    assert.deepEqual(byIndex[copy].frames, byIndex[original].frames);
    assert.deepEqual(byIndex[copy].outputModules, byIndex[original].outputModules);
  }
  assert.deepEqual(byIndex[6].frames, { start: 24, end: 71, step: 2 });
  assert.deepEqual(data.warnings, []);
});

test("menu flow: declining the duplicates changes nothing in the project", () => {
  const proj = finishedQueueProject();
  const { outcome, data } = launchedExport(proj, [false]);
  assert.equal(proj.saves, 0);
  assert.equal(proj.renderQueue.item(1).duplicates + proj.renderQueue.item(3).duplicates, 0);
  assert.deepEqual([...outcome.duplicated], []);
  assert.deepEqual(data.renderQueue.map((i) => i.index), [1, 2, 3, 4]);
});

test("menu flow: duplicates that cannot be saved are not exported", () => {
  const proj = finishedQueueProject();
  const dir = scratch();
  const env = submitterContext({
    os: MAC_OS,
    project: m.project({ path: "/projects/spot/spot_v012.aep", saveOutcome: "cancelled", rq: [proj.renderQueue.item(1)] }),
    tempDir: dir,
    confirmAnswers: [true],
    virtualFiles: ["/opt/stmpo/stmpo-submitter"],
    env: { STMPO_SUBMITTER: "/opt/stmpo/stmpo-submitter" },
  });
  assert.equal(env.run("stmpoSubmitter.run()").status, "not-saved");
  assert.match(env.state.calls.alert[0], /did not save "spot_v012\.aep"/);
  assert.deepEqual(fs.readdirSync(dir), []);
});
