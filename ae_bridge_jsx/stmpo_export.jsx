#target aftereffects
/*
 * STMPO for After Effects: the export half of the AE bridge.
 *
 * Defines the global function stmpoExport(outputPath), which writes the open, saved
 * project's render queue, comps, footage and fonts as a `stmpo-ae-export` version 1 file
 * (docs/export-format.md) and returns the written file's OS path. StmpoSubmitter.jsx
 * #includes this file; running it on its own only defines the function.
 *
 * ExtendScript is ECMAScript 3: there is no JSON object and no ES5 array methods, so this
 * file carries its own JSON writer and plain for-loops. Everything it reads comes from the
 * AE scripting DOM; it changes nothing in the project.
 *
 * The written file is pure ASCII (every other character is a \uXXXX escape), so it is
 * valid UTF-8 whatever encoding ExtendScript's File object ends up using, and a lone
 * UTF-16 surrogate in a layer or file name becomes U+FFFD instead of invalid bytes.
 */

var stmpoExport = (function () {
    var FORMAT_NAME = "stmpo-ae-export";
    var FORMAT_VERSION = 1;

    /* AE's RQItemStatus enum. AE exposes it as a global; the numbers are the fallback
       for hosts where the global is missing (and what the values are in AE). */
    var STATUS_NAMES = ["WILL_CONTINUE", "NEEDS_OUTPUT", "UNQUEUED", "QUEUED", "RENDERING",
        "USER_STOPPED", "ERR_STOPPED", "DONE"];
    var STATUS_CODES = [3012, 3013, 3014, 3015, 3016, 3017, 3018, 3019];

    /* Output fallback only (the output module's Format decides when AE tells it): same list
       as stmpo.export.model.STILL_IMAGE_EXTENSIONS, the formats that write one file a frame. */
    var STILL_EXTENSIONS = {
        ".png": true, ".exr": true, ".tif": true, ".tiff": true, ".jpg": true, ".jpeg": true,
        ".dpx": true, ".cin": true, ".tga": true, ".bmp": true, ".psd": true, ".iff": true,
        ".hdr": true, ".sgi": true, ".rla": true, ".rpf": true, ".pxr": true, ".gif": true
    };

    /* Every still-image format After Effects imports, and so can import as a sequence
       ("You can import files of any still-image format as a sequence"): Adobe's "Supported
       import formats" list (After Effects Help, help.adobe.com/en_US/AfterEffects/9.0 and
       helpx.adobe.com/after-effects/using/supported-file-formats.html): Adobe Illustrator
       (AI, AI4, AI5, EPS, PS), PDF, Photoshop (PSD), Bitmap (BMP, RLE, DIB), Camera raw (TIF,
       CRW, NEF, RAF, ORF, MRW, DCR, MOS, RAW, PEF, SRF, DNG, X3F, CR2, ERF and the newer CR3,
       ARW, NRW, RW2, SRW, 3FR, KDC, IIQ, FFF), Cineon/DPX (CIN, DPX), Discreet RLA/RPF, GIF,
       HEIF (HEIC, HEIF), JPEG (JPG, JPE, JPEG), Maya IFF (IFF, TDI), OpenEXR (EXR, SXR, MXR),
       PCX, PICT (PCT), Pixar (PXR), PNG, Radiance (HDR, RGBE, XYZE), SGI (SGI, BW, RGB),
       Softimage (PIC), Targa (TGA, VDA, ICB, VST), TIFF (TIF, TIFF). A footage item from one
       of these whose source is not a still (FileSource.isStill false) is an image sequence.
       GIF is also a movie format (animated GIF); as before, a non-still GIF whose name ends
       in digits is taken for a sequence. */
    var IMPORT_STILL_EXTENSIONS = {};
    (function () {
        var list = ("ai ai4 ai5 eps ps pdf psd bmp rle dib tif tiff crw nef raf orf mrw dcr mos " +
            "raw pef srf dng x3f cr2 cr3 erf arw nrw rw2 srw 3fr kdc iiq fff cin dpx rla rpf " +
            "gif heic heif jpg jpe jpeg iff tdi exr sxr mxr pcx pct pict pxr png hdr rgbe xyze " +
            "sgi bw rgb pic tga vda icb vst").split(" ");
        for (var i = 0; i < list.length; i++) {
            IMPORT_STILL_EXTENSIONS["." + list[i]] = true;
        }
    })();

    /* Times are whole frames in AE, but time * frameRate is not: 29.97 is stored as a
       binary fraction (sometimes single precision), so frame 100 may come out as 99.9999955.
       A value this close to a whole frame IS that frame; nothing AE makes is nearer than
       this to a frame boundary without being on it. */
    var FRAME_SNAP = 0.01;

    var HEX = "0123456789abcdef";

    /* ---------- JSON writer (ES3: no native JSON) ---------- */

    function hex4(code) {
        return HEX.charAt((code >> 12) & 15) + HEX.charAt((code >> 8) & 15) +
            HEX.charAt((code >> 4) & 15) + HEX.charAt(code & 15);
    }

    var SHORT_ESCAPES = { 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r", 34: "\\\"", 92: "\\\\" };
    var PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

    function jsonString(text) {
        var s = String(text);
        if (PLAIN_ASCII.test(s)) {
            return "\"" + s + "\"";
        }
        var parts = ["\""];
        var n = s.length;
        for (var i = 0; i < n; i++) {
            var c = s.charCodeAt(i);
            if (SHORT_ESCAPES[c] !== undefined) {
                parts.push(SHORT_ESCAPES[c]);
            } else if (c >= 0x20 && c <= 0x7e) {
                parts.push(s.charAt(i));
            } else if (c >= 0xd800 && c <= 0xdbff) {
                var next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
                if (next >= 0xdc00 && next <= 0xdfff) {
                    parts.push("\\u" + hex4(c) + "\\u" + hex4(next));
                    i++;
                } else {
                    parts.push("\\ufffd");
                }
            } else if (c >= 0xdc00 && c <= 0xdfff) {
                parts.push("\\ufffd");
            } else {
                parts.push("\\u" + hex4(c));
            }
        }
        parts.push("\"");
        return parts.join("");
    }

    function isArray(value) {
        return Object.prototype.toString.call(value) === "[object Array]";
    }

    function jsonNumber(value, where) {
        if (isNaN(value) || value === Infinity || value === -Infinity) {
            throw new Error("STMPO export: " + where + " is not a finite number (" + value + ")");
        }
        if (value === 0) {
            return "0"; /* also -0 */
        }
        return String(value);
    }

    function repeat(text, count) {
        var out = "";
        for (var i = 0; i < count; i++) {
            out += text;
        }
        return out;
    }

    /* Keys whose value is undefined are left out; null is written as null. */
    function toJson(value, where, depth) {
        var path = where || "(top level)";
        var level = depth || 0;
        if (value === null) {
            return "null";
        }
        var kind = typeof value;
        if (kind === "boolean") {
            return value ? "true" : "false";
        }
        if (kind === "number") {
            return jsonNumber(value, path);
        }
        if (kind === "string") {
            return jsonString(value);
        }
        if (kind === "undefined" || kind === "function") {
            throw new Error("STMPO export: " + path + " has no JSON value (" + kind + ")");
        }
        var inner = repeat("  ", level + 1);
        var outer = repeat("  ", level);
        var items = [];
        if (isArray(value)) {
            for (var i = 0; i < value.length; i++) {
                items.push(inner + toJson(value[i], path + "[" + i + "]", level + 1));
            }
            return items.length ? "[\n" + items.join(",\n") + "\n" + outer + "]" : "[]";
        }
        for (var key in value) {
            if (Object.prototype.hasOwnProperty.call(value, key) && value[key] !== undefined) {
                var childPath = where ? where + "." + key : key;
                items.push(inner + jsonString(key) + ": " + toJson(value[key], childPath, level + 1));
            }
        }
        return items.length ? "{\n" + items.join(",\n") + "\n" + outer + "}" : "{}";
    }

    /* ---------- pure helpers ---------- */

    function snapToFrame(frames) {
        var whole = Math.round(frames);
        return Math.abs(frames - whole) < FRAME_SNAP ? whole : frames;
    }

    /* aerender's -s/-e: displayed frame numbers, inclusive. Times are counted in
       comp.frameDuration, as aerender's own driver turns -s/-e back into time
       (frame * frameDuration): AE runs a 29.97 comp on frames of exactly 100/2997 s, while
       comp.frameRate reads back as the 16.16 value 29.970001220703125, 0.013 frames off
       after three hours. compStartFrame is the comp's first frame (comp.displayStartFrame,
       AE 17.1+), displayStartFrame the project's 0 or 1. */
    function frameRange(compStartFrame, timeSpanStart, timeSpanDuration, frameDuration,
            displayStartFrame) {
        var start = compStartFrame + Math.floor(snapToFrame(timeSpanStart / frameDuration)) +
            displayStartFrame;
        var count = Math.ceil(snapToFrame(timeSpanDuration / frameDuration));
        if (count < 1) {
            count = 1;
        }
        return { start: start, end: start + count - 1 };
    }

    /* The comp's frame grid: CompItem.frameDuration when AE gives it (always, in every
       version the bridge runs in), else 1 / frameRate. */
    function compFrameDuration(comp) {
        var duration = Number(optional(comp, "frameDuration"));
        return duration > 0 && isFinite(duration) ? duration : 1 / comp.frameRate;
    }

    /* CompItem.displayStartFrame (AE 17.1+) is the frame AE shows for the comp's start;
       before 17.1 it is displayStartTime on the frame grid. */
    function compStartFrame(comp, displayStartTime, frameDuration) {
        var frame = optional(comp, "displayStartFrame");
        if (frame !== undefined && frame !== null && isFinite(Number(frame))) {
            return Math.round(Number(frame));
        }
        return Math.floor(snapToFrame(displayStartTime / frameDuration));
    }

    function statusName(code) {
        var i;
        if (typeof RQItemStatus !== "undefined" && RQItemStatus) {
            for (i = 0; i < STATUS_NAMES.length; i++) {
                if (RQItemStatus[STATUS_NAMES[i]] !== undefined && RQItemStatus[STATUS_NAMES[i]] == code) {
                    return STATUS_NAMES[i];
                }
            }
        }
        for (i = 0; i < STATUS_CODES.length; i++) {
            if (STATUS_CODES[i] == code) {
                return STATUS_NAMES[i];
            }
        }
        return null;
    }

    function extension(path) {
        var dot = path.lastIndexOf(".");
        var slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
        return dot > slash ? path.substring(dot).toLowerCase() : "";
    }

    function isStillImage(path) {
        return STILL_EXTENSIONS[extension(path)] === true;
    }

    function isImportableStill(path) {
        return IMPORT_STILL_EXTENSIONS[extension(path)] === true;
    }

    /* The output module's Format decides what AE writes: every one-file-a-frame format in
       AE's Format menu is named "... Sequence" ("PNG Sequence", "DPX/Cineon Sequence"); every
       other ("QuickTime", "H.264", "AVI", "Animated GIF", "WAV") writes one file. Only when AE
       does not say (no getSettings) does the path decide. */
    function outputKind(path, format) {
        if (format !== undefined && format !== null && String(format) !== "") {
            return /\bsequence\b/i.test(String(format)) ? "sequence" : "movie";
        }
        return path.indexOf("[#") >= 0 || isStillImage(path) ? "sequence" : "movie";
    }

    function hostOs(osText) {
        var s = String(osText || "");
        if (/windows/i.test(s)) {
            return "windows";
        }
        if (/mac/i.test(s)) {
            return "macos";
        }
        if (/linux/i.test(s)) {
            return "linux";
        }
        return undefined;
    }

    function pad(number, width) {
        var s = String(number);
        while (s.length < width) {
            s = "0" + s;
        }
        return s;
    }

    function isoUtc(date) {
        return pad(date.getUTCFullYear(), 4) + "-" + pad(date.getUTCMonth() + 1, 2) + "-" +
            pad(date.getUTCDate(), 2) + "T" + pad(date.getUTCHours(), 2) + ":" +
            pad(date.getUTCMinutes(), 2) + ":" + pad(date.getUTCSeconds(), 2) + "Z";
    }

    /* "plate.0000.exr" + 48 frames -> "plate.[0000-0047].exr", as AE's Project panel shows it. */
    function sequencePattern(path, frameCount) {
        var slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
        var name = path.substring(slash + 1);
        /* The frame number is the last digits before the extension: "shot_0001.CR2" and
           "scan_0001.3fr" have digits in the extension too. */
        var ext = extension(name);
        var stem = name.substring(0, name.length - ext.length);
        var match = /^(.*?)(\d+)(\D*)$/.exec(stem);
        if (!match || !(frameCount >= 1)) {
            return path;
        }
        var digits = match[2];
        var first = parseInt(digits, 10);
        var last = pad(first + frameCount - 1, digits.length);
        return path.substring(0, slash + 1) + match[1] + "[" + digits + "-" + last + "]" + match[3] +
            name.substring(stem.length);
    }

    /* Reads a DOM attribute that may not exist in this AE version (or may throw). */
    function optional(object, name) {
        try {
            return object[name];
        } catch (e) {
            return undefined;
        }
    }

    /* getSettings(GetSettingsFormat.X) of a RenderQueueItem or OutputModule (AE 13+; Adobe's
       Scripting Guide, "RenderQueueItem.getSettings()", "OutputModule.getSettings()"), or null
       where this AE has no such call or it fails: the export then leaves the fields out. */
    function settings(object, formatName) {
        if (typeof GetSettingsFormat === "undefined" || !GetSettingsFormat ||
                GetSettingsFormat[formatName] === undefined) {
            return null;
        }
        try {
            /* Not typeof === "function": a host object's method need not report that. */
            if (!object.getSettings) {
                return null;
            }
            return object.getSettings(GetSettingsFormat[formatName]) || null;
        } catch (e) {
            return null;
        }
    }

    /* A switch as getSettings gives it: true/false, "true"/"false", "On"/"Off", 1/0. */
    function settingSwitch(values, key) {
        if (!values || values[key] === undefined || values[key] === null) {
            return undefined;
        }
        var text = String(values[key]).toLowerCase();
        if (text === "true" || text === "on" || text === "1") {
            return true;
        }
        if (text === "false" || text === "off" || text === "0") {
            return false;
        }
        return undefined;
    }

    function settingNumber(values, key) {
        if (!values || values[key] === undefined || values[key] === null || values[key] === "") {
            return undefined;
        }
        var number = Number(values[key]);
        return isNaN(number) || number === Infinity || number === -Infinity ? undefined : number;
    }

    function settingText(values, key) {
        if (!values || values[key] === undefined || values[key] === null) {
            return undefined;
        }
        return String(values[key]);
    }

    function textOrNull(value) {
        return value === undefined || value === null ? null : String(value);
    }

    /* ---------- reading the DOM ---------- */

    function projectDisplayStartFrame(project) {
        var value = optional(project, "displayStartFrame");
        if (value !== undefined && value !== null) {
            return Number(value) === 1 ? 1 : 0;
        }
        /* Before AE 17.1 the same setting was FramesCountType. */
        var countType = optional(project, "framesCountType");
        if (countType !== undefined && typeof FramesCountType !== "undefined" &&
                countType == FramesCountType.FC_START_1) {
            return 1;
        }
        return 0;
    }

    function readOutputModules(rqItem, rqIndex, warnings) {
        var modules = [];
        var count = rqItem.numOutputModules;
        for (var j = 1; j <= count; j++) {
            var om = rqItem.outputModule(j);
            var file = optional(om, "file");
            if (!file) {
                warnings.push("Render queue item " + rqIndex + ", output module " + j +
                    " has no output file; it is left out.");
                continue;
            }
            var path = String(file.fsName);
            var text = settings(om, "STRING");
            var numbers = settings(om, "NUMBER");
            var startingNumber = settingNumber(numbers, "Starting #");
            if (startingNumber === undefined) {
                startingNumber = settingNumber(text, "Starting #");
            }
            var useCompFrameNumber = settingSwitch(numbers, "Use Comp Frame Number");
            if (useCompFrameNumber === undefined) {
                useCompFrameNumber = settingSwitch(text, "Use Comp Frame Number");
            }
            modules.push({
                index: j,
                path: path,
                template: textOrNull(optional(om, "name")),
                kind: outputKind(path, settingText(text, "Format")),
                useCompFrameNumber: useCompFrameNumber,
                startingNumber: startingNumber === undefined ? undefined : Math.round(startingNumber)
            });
        }
        return modules;
    }

    /* Render settings "Frame Rate": the comp's, or "Use this frame rate" (AE then writes
       files at that rate). The rate is read as a number: the display string rounds 29.97. */
    function renderFrameRate(text, numbers, compRate) {
        if (text === null && numbers === null) {
            return undefined;
        }
        var mode = settingText(text, "Frame Rate");
        var custom = mode !== undefined ? /this/i.test(mode) : settingNumber(numbers, "Frame Rate") === 1;
        if (!custom) {
            return compRate;
        }
        var rate = settingNumber(numbers, "Use this frame rate");
        if (rate === undefined) {
            rate = settingNumber(text, "Use this frame rate");
        }
        return rate !== undefined && rate > 0 ? rate : compRate;
    }

    function readRenderQueue(project, displayStartFrame, warnings) {
        var queue = project.renderQueue;
        var items = [];
        for (var i = 1; i <= queue.numItems; i++) {
            var rq = queue.item(i);
            var comp = rq.comp;
            var displayStart = Number(optional(comp, "displayStartTime") || 0);
            var frameDuration = compFrameDuration(comp);
            /* The export's rate is the grid's (1 / frameDuration: 29.97002997 for 29.97),
               so seconds * frameRate downstream counts the frames aerender renders. */
            var rate = 1 / frameDuration;
            var range = frameRange(compStartFrame(comp, displayStart, frameDuration),
                rq.timeSpanStart, rq.timeSpanDuration, frameDuration, displayStartFrame);
            var skip = optional(rq, "skipFrames");
            var status = statusName(rq.status);
            if (status === null) {
                warnings.push("Render queue item " + i + " has an unknown status (" + rq.status + ").");
            }
            var renderSettings = settings(rq, "STRING");
            var renderNumbers = settings(rq, "NUMBER");
            items.push({
                index: i,
                render: rq.render === true,
                status: status === null ? undefined : status,
                comp: {
                    name: String(comp.name),
                    width: comp.width,
                    height: comp.height,
                    frameRate: rate,
                    duration: comp.duration,
                    displayStartTime: displayStart
                },
                frames: { start: range.start, end: range.end, step: skip > 0 ? skip + 1 : 1 },
                renderFrameRate: renderFrameRate(renderSettings, renderNumbers, rate),
                skipExistingFiles: settingSwitch(renderNumbers, "Skip Existing Files") !== undefined ?
                    settingSwitch(renderNumbers, "Skip Existing Files") :
                    settingSwitch(renderSettings, "Skip Existing Files"),
                outputModules: readOutputModules(rq, i, warnings)
            });
        }
        return items;
    }

    /* Render settings "Proxy Use" of every queued item decides which proxies a render reads
       (After Effects Help, "Render settings": Current Settings follows each item's proxy
       switch, Use All Proxies takes every proxy, Use Comp Proxies Only the comps' proxies,
       Use No Proxies none). The farm may render any item, so the union counts. */
    function proxyUses(project) {
        var uses = { current: false, all: false, comps: false };
        var queue = project.renderQueue;
        for (var i = 1; i <= queue.numItems; i++) {
            var mode = settingText(settings(queue.item(i), "STRING"), "Proxy Use");
            if (mode === undefined || /current/i.test(mode)) {
                uses.current = true;
            } else if (/all/i.test(mode)) {
                uses.all = true;
            } else if (/comp/i.test(mode)) {
                uses.comps = true;
            }
        }
        return uses;
    }

    function rendersProxy(item, uses) {
        var source = optional(item, "proxySource");
        if (!source || typeof FileSource === "undefined" || !(source instanceof FileSource)) {
            return false;
        }
        var isComp = typeof CompItem !== "undefined" && item instanceof CompItem;
        return uses.all || (uses.comps && isComp) || (uses.current && optional(item, "useProxy") === true);
    }

    /* One footage entry; a still-format source that is not a still is a sequence. The pattern's
       length is the item's: AE stretches a proxy over its item's duration. */
    function footageEntry(source, file, missing, item) {
        var path = file ? String(file.fsName) : String(optional(source, "missingFootagePath") || "");
        if (!path) {
            return null;
        }
        var sequence = optional(source, "isStill") === false && isImportableStill(path);
        if (sequence) {
            path = sequencePattern(path, Math.round(item.duration * item.frameRate));
        }
        return { path: path, sequence: sequence, missing: missing };
    }

    function readFootage(project, warnings) {
        var footage = [];
        var seen = {};
        if (typeof FootageItem === "undefined" || typeof FileSource === "undefined") {
            return footage;
        }
        var uses = proxyUses(project);
        function add(entry, item, proxy) {
            if (!entry || seen["$" + entry.path]) {
                return;
            }
            seen["$" + entry.path] = true;
            if (proxy) {
                entry.proxy = true;
            }
            footage.push(entry);
            if (entry.missing) {
                warnings.push("Missing " + (proxy ? "proxy" : "footage") + ": \"" + item.name + "\" (" +
                    entry.path + ").");
            }
        }
        for (var i = 1; i <= project.numItems; i++) {
            var item = project.item(i);
            if (item instanceof FootageItem && item.mainSource instanceof FileSource) {
                add(footageEntry(item.mainSource, optional(item, "file"),
                    optional(item, "footageMissing") === true, item), item, false);
            }
            if (rendersProxy(item, uses)) {
                var proxyFile = optional(item.proxySource, "file");
                add(footageEntry(item.proxySource, proxyFile, !proxyFile, item), item, true);
            }
        }
        return footage;
    }

    function FontList(substitutes) {
        this.fonts = [];
        this.seen = {};
        this.substitutes = substitutes;
    }

    FontList.prototype.add = function (postScriptName, familyName, styleName, location, isSubstitute) {
        var name = postScriptName === undefined || postScriptName === null ? "" : String(postScriptName);
        if (!name || this.seen["$" + name]) {
            return;
        }
        this.seen["$" + name] = true;
        var font = {
            postScriptName: name,
            familyName: textOrNull(familyName),
            styleName: textOrNull(styleName)
        };
        if (location !== undefined && location !== null && String(location) !== "") {
            font.location = String(location);
        }
        font.isSubstitute = isSubstitute === true || this.substitutes["$" + name] === true;
        this.fonts.push(font);
    };

    FontList.prototype.addFontObject = function (font, forceSubstitute) {
        if (!font) {
            return;
        }
        this.add(optional(font, "postScriptName"), optional(font, "familyName"),
            optional(font, "styleName"), optional(font, "location"),
            forceSubstitute === true || optional(font, "isSubstitute") === true);
    };

    FontList.prototype.addTextDocument = function (doc) {
        if (!doc) {
            return;
        }
        this.add(optional(doc, "font"), optional(doc, "fontFamily"), optional(doc, "fontStyle"),
            optional(doc, "fontLocation"), false);
    };

    /* Before AE 24.5 there is no project-wide font list: read every text layer's Source
       Text (its value and every keyframe). TextDocument only describes the first character. */
    function readTextLayerFonts(project, list) {
        if (typeof CompItem === "undefined" || typeof TextLayer === "undefined") {
            return;
        }
        for (var i = 1; i <= project.numItems; i++) {
            var comp = project.item(i);
            if (!(comp instanceof CompItem)) {
                continue;
            }
            for (var l = 1; l <= comp.numLayers; l++) {
                var layer = comp.layer(l);
                if (!(layer instanceof TextLayer)) {
                    continue;
                }
                var textGroup = layer.property("ADBE Text Properties");
                var sourceText = textGroup ? textGroup.property("ADBE Text Document") : null;
                if (!sourceText) {
                    continue;
                }
                for (var k = 1; k <= sourceText.numKeys; k++) {
                    list.addTextDocument(sourceText.keyValue(k));
                }
                list.addTextDocument(sourceText.value);
            }
        }
    }

    function readFonts(application, project, warnings) {
        var fontsApi = optional(application, "fonts");
        var missing = fontsApi ? optional(fontsApi, "missingOrSubstitutedFonts") : undefined;
        var substitutes = {};
        var i;
        if (missing) {
            for (i = 0; i < missing.length; i++) {
                substitutes["$" + optional(missing[i], "postScriptName")] = true;
            }
        }
        var list = new FontList(substitutes);
        var used = optional(project, "usedFonts");
        if (used !== undefined && used !== null) {
            for (i = 0; i < used.length; i++) {
                list.addFontObject(optional(used[i], "font"), false);
            }
        } else {
            readTextLayerFonts(project, list);
        }
        if (missing) {
            for (i = 0; i < missing.length; i++) {
                list.addFontObject(missing[i], true);
            }
        }
        for (i = 0; i < list.fonts.length; i++) {
            if (list.fonts[i].isSubstitute) {
                warnings.push("Font \"" + list.fonts[i].postScriptName + "\" is missing on this " +
                    "computer and After Effects substitutes another font; install it or the " +
                    "render will not match.");
            }
        }
        return list.fonts;
    }

    /* The whole export as plain data; stmpoExport() writes it. */
    function collect() {
        var project = app.project;
        var projectFile = project.file;
        if (!projectFile) {
            throw new Error("STMPO export: the project has never been saved. Save it first: " +
                "the render nodes open the saved file.");
        }
        var warnings = [];
        if (optional(project, "dirty") === true) {
            warnings.push("The project has unsaved changes; the farm renders the saved file.");
        }
        var displayStartFrame = projectDisplayStartFrame(project);
        var renderQueue = readRenderQueue(project, displayStartFrame, warnings);
        var footage = readFootage(project, warnings);
        var fonts = readFonts(app, project, warnings);
        return {
            format: FORMAT_NAME,
            version: FORMAT_VERSION,
            exportedAt: isoUtc(new Date()),
            host: { app: "After Effects", version: textOrNull(optional(app, "version")), os: hostOs($.os) },
            project: { path: String(projectFile.fsName), displayStartFrame: displayStartFrame },
            renderQueue: renderQueue,
            footage: footage,
            fonts: fonts,
            warnings: warnings
        };
    }

    function stmpoExport(outputPath) {
        if (outputPath === undefined || outputPath === null || String(outputPath) === "") {
            throw new Error("STMPO export: no output path given.");
        }
        var text = toJson(collect()) + "\n";
        var file = new File(String(outputPath));
        file.encoding = "UTF-8";
        file.lineFeed = "Unix";
        if (!file.open("w")) {
            throw new Error("STMPO export: cannot write " + file.fsName + " (" + file.error + "). " +
                "Check Preferences > Scripting & Expressions > Allow Scripts to Write Files " +
                "and Access Network.");
        }
        var written = file.write(text);
        var error = file.error;
        file.close();
        if (!written) {
            throw new Error("STMPO export: writing " + file.fsName + " failed (" + error + ").");
        }
        return file.fsName;
    }

    /* Exposed for the bridge's tests and for StmpoSubmitter.jsx. */
    stmpoExport.collect = collect;
    stmpoExport.toJson = toJson;
    stmpoExport.frameRange = frameRange;
    stmpoExport.statusName = statusName;
    stmpoExport.outputKind = outputKind;
    stmpoExport.hostOs = hostOs;
    stmpoExport.sequencePattern = sequencePattern;
    return stmpoExport;
})();
