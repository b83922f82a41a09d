"use strict";
// A mock of the parts of the After Effects scripting DOM and ExtendScript host objects that
// the bridge reads, and a `vm` context that behaves like ExtendScript's ECMAScript 3: no JSON,
// no ES5 array/object helpers. Scripts are loaded from disk exactly as AE would load them,
// minus the `#target`/`#include` preprocessor lines that only ExtendScript understands.

const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const BRIDGE_DIR = path.resolve(__dirname, "..");

// AE's RQItemStatus values.
const RQ = Object.freeze({
  WILL_CONTINUE: 3012,
  NEEDS_OUTPUT: 3013,
  UNQUEUED: 3014,
  QUEUED: 3015,
  RENDERING: 3016,
  USER_STOPPED: 3017,
  ERR_STOPPED: 3018,
  DONE: 3019,
});

// ES5+ features that ExtendScript does not have. Deleting them from the context's own
// built-ins makes any use by the bridge fail in the tests the way it would fail in AE.
const REMOVE_ES5 = `
  delete this.JSON;
  (function () {
    var arrayMethods = ["forEach", "map", "filter", "indexOf", "lastIndexOf", "reduce",
      "reduceRight", "some", "every", "find", "findIndex", "includes", "fill", "flat",
      "flatMap", "keys", "values", "entries", "at"];
    for (var i = 0; i < arrayMethods.length; i++) { delete Array.prototype[arrayMethods[i]]; }
    var stringMethods = ["trim", "trimStart", "trimEnd", "trimLeft", "trimRight", "includes",
      "startsWith", "endsWith", "padStart", "padEnd", "repeat", "codePointAt", "at",
      "replaceAll", "normalize"];
    for (i = 0; i < stringMethods.length; i++) { delete String.prototype[stringMethods[i]]; }
    delete Array.isArray; delete Array.from; delete Array.of;
    delete Object.keys; delete Object.create; delete Object.defineProperty;
    delete Object.defineProperties; delete Object.getPrototypeOf; delete Object.assign;
    delete Object.entries; delete Object.values; delete Object.freeze;
    delete Object.getOwnPropertyNames;
    delete Function.prototype.bind;
    delete Date.now; delete Date.prototype.toISOString; delete Date.prototype.toJSON;
    delete String.fromCodePoint;
  })();
`;

// --- ExtendScript host objects -------------------------------------------------------------

/** Files either live on the real disk (tests that write) or in a virtual set of paths. */
function makeFileClass(state) {
  // Windows-style paths ("C:\\Temp\\x.json") that tests want on the real disk are mapped
  // into a real folder: state.windowsDrive is that folder.
  const disk = (p) => {
    if (state.windowsDrive && /^[A-Za-z]:\\/.test(p)) {
      return path.join(state.windowsDrive, ...p.slice(3).split("\\"));
    }
    return p;
  };
  class File {
    constructor(p) {
      this._path = String(p);
      this.encoding = "BINARY"; // ExtendScript's default is the system code page, not UTF-8
      this.lineFeed = "Unix";
      this.error = "";
      this._buffer = null;
    }
    get fsName() {
      return this._path;
    }
    get name() {
      return this._path.split(/[\\/]/).pop();
    }
    get exists() {
      if (state.virtualFiles && state.virtualFiles.has(this._path)) return true;
      return state.realDisk !== false && fs.existsSync(disk(this._path));
    }
    open(mode) {
      if (mode !== "w") throw new Error(`mock File.open: mode ${mode} not supported`);
      const dir = path.dirname(disk(this._path));
      if (!fs.existsSync(dir)) {
        this.error = "I/O error";
        return false;
      }
      this._buffer = "";
      return true;
    }
    write(text) {
      if (this._buffer === null) {
        this.error = "file not open";
        return false;
      }
      this._buffer += String(text);
      return true;
    }
    close() {
      if (this._buffer === null) return false;
      const encoding = String(this.encoding).toUpperCase() === "UTF-8" ? "utf8" : "latin1";
      fs.writeFileSync(disk(this._path), Buffer.from(this._buffer, encoding));
      state.written.push(this._path);
      this._buffer = null;
      return true;
    }
    // File.execute(): "Opens this file using the appropriate application, as if it had been
    // double-clicked in a file browser" and returns at once (Scripting Guide, File object).
    execute() {
      state.calls.execute.push(this._path);
      return this.exists;
    }
    remove() {
      if (fs.existsSync(disk(this._path))) fs.unlinkSync(disk(this._path));
      return true;
    }
  }
  // File.decode: "Decodes the specified string as required by RFC 2396" (Scripting Guide).
  File.decode = (text) => decodeURIComponent(String(text));
  File.openDialog = function (prompt) {
    state.calls.openDialog.push(String(prompt));
    return state.openDialogResult ? new File(state.openDialogResult) : null;
  };
  return File;
}

function makeFolderClass(state) {
  class Folder {
    constructor(p) {
      this._path = String(p);
    }
    get fsName() {
      return this._path;
    }
    get exists() {
      if (state.virtualFiles && state.virtualFiles.has(this._path)) return true;
      return state.realDisk !== false && fs.existsSync(this._path);
    }
  }
  Object.defineProperty(Folder, "temp", { get: () => new Folder(state.tempDir) });
  return Folder;
}

// --- AE DOM classes (the bridge tells items and layers apart with instanceof) ------------

class Item {
  constructor(props) {
    Object.assign(this, props);
  }
}
class CompItem extends Item {
  get numLayers() {
    return this.layers.length;
  }
  layer(i) {
    return this.layers[i - 1];
  }
}
class FootageItem extends Item {}
class FolderItem extends Item {}
class FileSource {
  constructor(props) {
    Object.assign(this, props);
  }
}
class SolidSource {
  constructor(props) {
    Object.assign(this, props);
  }
}
class AVLayer {
  constructor(props) {
    Object.assign(this, props);
  }
}
class TextLayer extends AVLayer {
  property(matchName) {
    if (matchName !== "ADBE Text Properties") return null;
    const sourceText = this.sourceText;
    return {
      property(inner) {
        return inner === "ADBE Text Document" ? sourceText : null;
      },
    };
  }
}

// --- builders for test projects ----------------------------------------------------------

/** The 16.16 fixed-point value AE stores a frame rate as, and reads `frameRate` back as. */
function fixed16(value) {
  return Math.round(value * 65536) / 65536;
}

function gcd(a, b) {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * After Effects' time grid for a comp rate. AE reads the rate to the thousandth as a
 * reduced fraction p/q and runs the comp on frames of exactly q/p seconds (py-aep 0.18,
 * `binary/composition_chunks.frame_grid`, measured on AE 2026 over 90 rates: 29.97 ->
 * timebase 23976, 800 units a frame, i.e. 100/2997 s; 23.976 -> 125/2997; 59.94 -> 50/2997).
 * `comp.frameDuration` hands that out as a double (Scripting Guide, CompItem object: "the
 * inverse of the frameRate value"), while `comp.frameRate` reads back as the 16.16 value
 * AE stores (29.97 -> 29.970001220703125), which drifts off the grid over hours. A rate
 * typed as 30000/1001 is read as 29.97 like any other.
 */
function timeGrid(rate) {
  const p = Math.floor(rate * 1000 + 0.5);
  const g = gcd(p, 1000);
  const num = p / g;
  const den = 1000 / g;
  return { frameDuration: den / num, readBack: fixed16(num / den) };
}

// `frameRate` is the rate the artist typed (29.97, or 30000/1001). `frameRateReadBack`
// overrides what comp.frameRate reads back (older projects gave single precision).
// `displayStartFrame: null` models AE before 17.1, which has no CompItem.displayStartFrame.
function comp({
  name = "Comp 1",
  width = 1920,
  height = 1080,
  frameRate = 25,
  frameRateReadBack,
  duration = 10,
  displayStartTime = 0,
  displayStartFrame,
  layers = [],
  proxy,
} = {}) {
  const grid = timeGrid(frameRate);
  const props = {
    name,
    width,
    height,
    frameRate: frameRateReadBack === undefined ? grid.readBack : frameRateReadBack,
    frameDuration: grid.frameDuration,
    duration,
    displayStartTime,
    layers,
  };
  if (displayStartFrame !== null) {
    // AE 17.1+: "The frame value of the beginning of the composition" (CompItem object).
    props.displayStartFrame =
      displayStartFrame === undefined ? Math.round(displayStartTime / grid.frameDuration) : displayStartFrame;
  }
  return setProxy(new CompItem(props), proxy);
}

function textDocument(font, fontFamily, fontStyle, fontLocation) {
  return { text: "Hello", font, fontFamily, fontStyle, fontLocation };
}

/** A text layer; `keys` are keyframed Source Text values (TextDocuments). */
function textLayer(value, keys = []) {
  return new TextLayer({
    name: "Text",
    sourceText: {
      value,
      numKeys: keys.length,
      keyValue: (k) => keys[k - 1],
    },
  });
}

function solidLayer() {
  return new AVLayer({ name: "Solid" });
}

// GetSettingsFormat: AE defines the names; the numbers here are the mock's own (the bridge
// only ever passes the global's members through).
const GET_SETTINGS_FORMAT = Object.freeze({ STRING: 1, STRING_SETTABLE: 2, NUMBER: 3, NUMBER_SETTABLE: 4, SPEC: 5 });

// The Format AE picks for an output file's extension when a test does not name one (AE's
// output module Format menu: "PNG Sequence", "QuickTime", ...).
const FORMAT_BY_EXTENSION = {
  png: "PNG Sequence", exr: "OpenEXR Sequence", tif: "TIFF Sequence", tiff: "TIFF Sequence",
  jpg: "JPEG Sequence", dpx: "DPX/Cineon Sequence", cin: "DPX/Cineon Sequence",
  tga: "Targa Sequence", psd: "Photoshop Sequence", iff: "IFF Sequence", hdr: "Radiance Sequence",
  sgi: "SGI Sequence", mov: "QuickTime", mp4: "H.264", avi: "AVI", wav: "WAV", gif: "Animated GIF",
};

/** A display string the way AE's Settings dialogs print a number ("29.97", "25"). */
function displayNumber(value) {
  return String(Math.round(value * 1000) / 1000);
}

// Statuses whose Render flag AE refuses to set (Scripting Guide, RenderQueueItem.render:
// setting it on a finished or rendering item throws); aerender -rqindex cannot render them.
const FINISHED = new Set([RQ.DONE, RQ.USER_STOPPED, RQ.ERR_STOPPED, RQ.RENDERING]);

/**
 * A settings object as `getSettings(format)` returns it: Adobe's After Effects Scripting Guide,
 * "RenderQueueItem.getSettings()" / "OutputModule.getSettings()": with
 * GetSettingsFormat.STRING every value is its display string ("true", "29.97",
 * "PNG Sequence"); with GetSettingsFormat.NUMBER numbers and switches are numbers.
 * `spec` maps each key to [display string, number].
 */
function settingsReader(spec) {
  return (format) => {
    if (format === undefined) format = GET_SETTINGS_FORMAT.STRING;
    const asNumber = format === GET_SETTINGS_FORMAT.NUMBER || format === GET_SETTINGS_FORMAT.NUMBER_SETTABLE;
    if (!asNumber && format !== GET_SETTINGS_FORMAT.STRING && format !== GET_SETTINGS_FORMAT.STRING_SETTABLE) {
      throw new Error(`mock getSettings: format ${format} not modelled`);
    }
    const out = {};
    for (const [key, [text, number]] of Object.entries(spec())) out[key] = asNumber ? number : text;
    return out;
  };
}

/**
 * An output module; `path: null` is an output module with no file set. Its settings are the
 * Scripting Guide's OutputModule keys: "Format", "Use Comp Frame Number", "Starting #".
 * `format` defaults to what AE picks for the path's extension.
 */
function outputModule(p, template = "Lossless", { format, useCompFrameNumber = true, startingNumber = 0 } = {}) {
  const ext = p === null ? "" : (/\.([^.\\/]+)$/.exec(p) || ["", ""])[1].toLowerCase();
  const om = {
    file: p === null ? null : { fsName: p },
    name: template,
    settings: {
      Format: format || FORMAT_BY_EXTENSION[ext] || "QuickTime",
      "Use Comp Frame Number": useCompFrameNumber,
      "Starting #": startingNumber,
    },
  };
  om.getSettings = settingsReader(() => ({
    Format: [om.settings.Format, om.settings.Format],
    "Use Comp Frame Number": [String(om.settings["Use Comp Frame Number"]), om.settings["Use Comp Frame Number"] ? 1 : 0],
    "Starting #": [String(om.settings["Starting #"]), om.settings["Starting #"]],
  }));
  om.setSettings = (values) => Object.assign(om.settings, values);
  return om;
}

/**
 * A render queue item. Render settings are the Scripting Guide's RenderQueueItem keys:
 * "Frame Rate" ("Use comp's frame rate" / "Use this frame rate"), "Use this frame rate" (the
 * custom rate), "Skip Existing Files", "Proxy Use" ("Current Settings", "Use All Proxies",
 * "Use Comp Proxies Only", "Use No Proxies"). `renderFrameRate` set means "Use this frame rate".
 */
function rqItem({
  comp: c,
  timeSpanStart = 0,
  timeSpanDuration,
  status = RQ.QUEUED,
  render = true,
  outputs = [],
  skipFrames = 0,
  renderFrameRate,
  skipExistingFiles = false,
  proxyUse = "Current Settings",
}) {
  let renderFlag = render;
  const item = {
    comp: c,
    timeSpanStart,
    timeSpanDuration: timeSpanDuration === undefined ? c.duration : timeSpanDuration,
    status,
    skipFrames,
    numOutputModules: outputs.length,
    outputModule: (j) => outputs[j - 1],
    duplicates: 0,
    // RenderQueueItem.duplicate(): "Creates a duplicate of this item and adds it this render
    // queue", with the same settings and output modules; the copy is QUEUED whatever the
    // original's status, and the project becomes dirty. project() sets _queue.
    duplicate() {
      item.duplicates += 1;
      const copy = rqItem({
        comp: c,
        timeSpanStart: item.timeSpanStart,
        timeSpanDuration: item.timeSpanDuration,
        status: RQ.QUEUED,
        render: true,
        outputs: outputs.map((om) => Object.assign({}, om)),
        skipFrames: item.skipFrames,
      });
      Object.assign(copy.settings, item.settings);
      if (item._queue) item._queue.add(copy);
      return copy;
    },
    settings: {
      "Frame Rate": renderFrameRate === undefined ? "Use comp's frame rate" : "Use this frame rate",
      "Use this frame rate": renderFrameRate === undefined ? c.frameRate : renderFrameRate,
      "Skip Existing Files": skipExistingFiles,
      "Proxy Use": proxyUse,
    },
  };
  Object.defineProperty(item, "render", {
    enumerable: true,
    get: () => renderFlag,
    set: (value) => {
      if (value && FINISHED.has(item.status)) {
        throw new Error("After Effects error: can not change the render state of an item that is done or rendering.");
      }
      renderFlag = Boolean(value);
      item.status = renderFlag ? RQ.QUEUED : RQ.UNQUEUED;
    },
  });
  const PROXY_USE = ["Current Settings", "Use All Proxies", "Use Comp Proxies Only", "Use No Proxies"];
  item.getSettings = settingsReader(() => ({
    "Frame Rate": [item.settings["Frame Rate"], item.settings["Frame Rate"] === "Use this frame rate" ? 1 : 0],
    "Use this frame rate": [displayNumber(item.settings["Use this frame rate"]), item.settings["Use this frame rate"]],
    "Skip Existing Files": [String(item.settings["Skip Existing Files"]), item.settings["Skip Existing Files"] ? 1 : 0],
    "Proxy Use": [item.settings["Proxy Use"], PROXY_USE.indexOf(item.settings["Proxy Use"])],
  }));
  item.setSettings = (values) => Object.assign(item.settings, values);
  return item;
}

/**
 * A footage item. `proxy: {path, isStill, useProxy, missing}` sets a file proxy (AVItem.setProxy()):
 * AVItem.proxySource is a FileSource whose `file` is the proxy, and AVItem.useProxy is the
 * Project panel's proxy switch (Scripting Guide, "AVItem object").
 */
function footage({ name, path: p, isStill = false, missing = false, duration = 0, frameRate = 25, proxy }) {
  const item = new FootageItem({
    name,
    file: missing ? null : { fsName: p },
    footageMissing: missing,
    duration,
    frameRate,
    mainSource: new FileSource({ isStill, missingFootagePath: missing ? p : "" }),
  });
  setProxy(item, proxy);
  return item;
}

function setProxy(item, proxy) {
  item.useProxy = false;
  item.proxySource = null;
  if (proxy) {
    item.proxySource = new FileSource({
      file: proxy.missing ? null : { fsName: proxy.path },
      isStill: proxy.isStill === true,
      missingFootagePath: proxy.missing ? proxy.path : "",
    });
    item.useProxy = proxy.useProxy !== false;
  }
  return item;
}

function solid(name) {
  return new FootageItem({ name, file: null, mainSource: new SolidSource({ isStill: true }) });
}

function fontObject(postScriptName, familyName, styleName, location = "", isSubstitute = false) {
  return { postScriptName, familyName, styleName, location, isSubstitute };
}

/**
 * A project. `usedFonts: undefined` is AE before 24.5 (no such attribute); `rq` items are
 * the render queue in order; `items` is the Project panel (comps, footage, folders).
 */
function project(opts = {}) {
  const { path: p = "/projects/spot/spot_v012.aep", items = [], rq = [], dirty = false } = opts;
  const { usedFonts, framesCountType } = opts;
  // Passing displayStartFrame: undefined models AE before 17.1, which has no such attribute.
  const displayStartFrame = "displayStartFrame" in opts ? opts.displayStartFrame : 0;
  // ExtendScript's File: `name` is URI-encoded ("My%20Spot.aep", Scripting Guide, File
  // object: "name: the file name, URI-encoded"), `exists` asks the disk; `onDisk: false`
  // models a save that left no file behind.
  const fileOf = (fsName) => ({
    fsName,
    name: encodeURI(fsName.split(/[\\/]/).pop()),
    get exists() {
      return opts.onDisk !== false;
    },
  });
  // saveOutcome models Project.save() (Scripting Guide, Project.save()): "saved" (default);
  // "cancelled": a dialog AE shows (e.g. saving an older version's project) was cancelled,
  // the project stays dirty and save() returns normally; "throws": a failed write throws
  // like AE's "Unable to save" error.
  const saveOutcome = opts.saveOutcome || "saved";
  const proj = {
    file: p === null ? null : fileOf(p),
    dirty,
    numItems: items.length,
    item: (i) => items[i - 1],
    renderQueue: {
      get numItems() {
        return rq.length;
      },
      item: (i) => rq[i - 1],
    },
    saves: 0,
    save() {
      this.saves += 1;
      if (saveOutcome === "throws") {
        throw new Error("After Effects error: Unable to save the project (disk full).");
      }
      if (saveOutcome === "cancelled") return undefined;
      this.dirty = false;
      return undefined; // AE's save() returns nothing
    },
    // saveAs: where "Save As" puts the project, or null for an artist who cancels it.
    saveWithDialog() {
      this.saves += 1;
      if (!opts.saveAs) return false;
      this.file = fileOf(opts.saveAs);
      this.dirty = false;
      return true;
    },
  };
  const queue = {
    add(copy) {
      copy._queue = queue;
      rq.push(copy);
      proj.dirty = true;
    },
  };
  for (const item of rq) item._queue = queue;
  if (displayStartFrame !== undefined) proj.displayStartFrame = displayStartFrame;
  if (framesCountType !== undefined) proj.framesCountType = framesCountType;
  if (usedFonts !== undefined) proj.usedFonts = usedFonts.map((font) => ({ font, usedAt: [] }));
  return proj;
}

// --- the context --------------------------------------------------------------------------

/**
 * Build an ExtendScript-like context.
 *   project: from project(); os: the `$.os` string; version: app.version
 *   missingFonts: app.fonts.missingOrSubstitutedFonts (undefined = AE before 24, no app.fonts)
 *   env: $.getenv values; settings: app.settings {"Section/key": value}
 *   rqStatusGlobal: define the RQItemStatus global (AE does); false to test the fallback
 *   virtualFiles: paths that File.exists reports; realDisk: false to ignore the real disk
 *   confirmAnswers: what confirm() returns, in order; callSystem: function(cmd) -> string
 *   tempDir: Folder.temp; windowsDrive: a real folder that "X:\\..." paths are written into
 */
function makeContext(options = {}) {
  const state = {
    written: [],
    virtualFiles: new Set(options.virtualFiles || []),
    realDisk: options.realDisk,
    windowsDrive: options.windowsDrive,
    tempDir: options.tempDir || "/tmp",
    openDialogResult: options.openDialogResult,
    calls: { alert: [], confirm: [], callSystem: [], execute: [], openDialog: [], saveSetting: [] },
  };
  const settings = Object.assign({}, options.settings || {});
  const confirmAnswers = (options.confirmAnswers || []).slice();
  const env = options.env || {};

  const ctx = vm.createContext({});
  const CtxArray = vm.runInContext("Array", ctx);
  const ctxArray = (list) => {
    const out = new CtxArray();
    for (const x of list) out.push(x);
    return out;
  };

  const proj = options.project || project();
  if (proj.usedFonts) proj.usedFonts = ctxArray(proj.usedFonts);
  const app = {
    version: options.version || "24.6.2x3",
    project: proj,
    settings: {
      haveSetting: (section, key) => Object.prototype.hasOwnProperty.call(settings, `${section}/${key}`),
      getSetting: (section, key) => {
        const k = `${section}/${key}`;
        if (!Object.prototype.hasOwnProperty.call(settings, k)) throw new Error(`no setting ${k}`);
        return settings[k];
      },
      saveSetting: (section, key, value) => {
        state.calls.saveSetting.push([section, key, String(value)]);
        settings[`${section}/${key}`] = String(value);
      },
    },
  };
  if (options.missingFonts !== undefined) {
    app.fonts = { missingOrSubstitutedFonts: ctxArray(options.missingFonts) };
  }

  const globals = {
    app,
    $: {
      os: options.os || "Macintosh OS 14.5.0/64",
      getenv: (name) => (Object.prototype.hasOwnProperty.call(env, name) ? env[name] : null),
      fileName: path.join(BRIDGE_DIR, "StmpoSubmitter.jsx"),
    },
    File: makeFileClass(state),
    Folder: makeFolderClass(state),
    system: {
      callSystem: (cmd) => {
        state.calls.callSystem.push(cmd);
        return options.callSystem ? options.callSystem(cmd) : "";
      },
    },
    alert: (msg) => {
      state.calls.alert.push(String(msg));
    },
    confirm: (msg) => {
      state.calls.confirm.push(String(msg));
      return confirmAnswers.length ? confirmAnswers.shift() : false;
    },
    CompItem,
    FootageItem,
    FolderItem,
    FileSource,
    SolidSource,
    AVLayer,
    TextLayer,
  };
  if (options.rqStatusGlobal !== false) globals.RQItemStatus = Object.assign({}, RQ);
  // AE before 13 has no getSettings and no GetSettingsFormat: getSettingsGlobal: false models it.
  if (options.getSettingsGlobal !== false) globals.GetSettingsFormat = Object.assign({}, GET_SETTINGS_FORMAT);
  if (options.framesCountTypeGlobal) globals.FramesCountType = { FC_START_0: 2600, FC_START_1: 2601 };
  for (const [k, v] of Object.entries(globals)) ctx[k] = v;
  for (const [k, v] of Object.entries(options.extraGlobals || {})) ctx[k] = v;
  vm.runInContext(REMOVE_ES5, ctx);

  return {
    ctx,
    state,
    settings,
    run: (code) => vm.runInContext(code, ctx),
    load: (file) => loadJsx(ctx, file),
  };
}

/** ExtendScript preprocessor lines become blank lines, so error line numbers still match. */
function stripDirectives(source) {
  return source.replace(/^[ \t]*#[a-z]+\b.*$/gm, "");
}

function loadJsx(ctx, file) {
  const full = path.isAbsolute(file) ? file : path.join(BRIDGE_DIR, file);
  const source = stripDirectives(fs.readFileSync(full, "utf8"));
  return vm.runInContext(source, ctx, { filename: full });
}

function jsxFiles() {
  return fs
    .readdirSync(BRIDGE_DIR)
    .filter((f) => f.endsWith(".jsx"))
    .map((f) => path.join(BRIDGE_DIR, f));
}

module.exports = {
  BRIDGE_DIR,
  fixed16,
  timeGrid,
  RQ,
  GET_SETTINGS_FORMAT,
  makeContext,
  stripDirectives,
  jsxFiles,
  comp,
  textDocument,
  textLayer,
  solidLayer,
  outputModule,
  rqItem,
  footage,
  solid,
  fontObject,
  project,
  FolderItem,
};
