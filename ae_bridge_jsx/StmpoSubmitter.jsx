#target aftereffects
#include "stmpo_export.jsx"
/*
 * STMPO for After Effects: File > Scripts > StmpoSubmitter.
 *
 * Offers to duplicate finished render queue items (aerender cannot render them again),
 * saves the project (asking first) and checks that it really saved, exports it with
 * stmpoExport() to a file in the temp folder, and starts the Qt submitter
 * `stmpo-submitter <export.json>` without waiting for it, so After Effects stays usable
 * while the artist works in the submitter.
 *
 * The submitter is looked up in this order:
 *   1. AE's setting STMPO > submitterPath (saved when the artist picks the program here),
 *   2. the environment variable STMPO_SUBMITTER,
 *   3. the folders on PATH, then ~/.local/bin (pipx), pip --user's and python.org's
 *      per-version Scripts/bin folders and, on macOS, /usr/local/bin and
 *      /opt/homebrew/bin, because AE started from the Finder gets a bare PATH.
 *
 * ECMAScript 3 only (see stmpo_export.jsx). Needs Preferences > Scripting & Expressions >
 * "Allow Scripts to Write Files and Access Network".
 */

var stmpoSubmitter = (function () {
    var SETTINGS_SECTION = "STMPO";
    var SETTINGS_KEY = "submitterPath";
    var ENV_VAR = "STMPO_SUBMITTER";
    var PROGRAM = "stmpo-submitter";
    var TITLE = "STMPO";
    /* Pythons stmpo supports (pyproject requires-python >= 3.10), newest first: where pip
       --user and the python.org installer put stmpo-submitter depends on the version. */
    var PYTHON_VERSIONS = ["3.14", "3.13", "3.12", "3.11", "3.10"];

    function isWindows(osText) {
        return /windows/i.test(String(osText || ""));
    }

    function getenv(name) {
        var value = $.getenv(name);
        return value === null || value === undefined ? "" : String(value);
    }

    function stripQuotes(text) {
        var s = String(text);
        if (s.length >= 2 && s.charAt(0) === "\"" && s.charAt(s.length - 1) === "\"") {
            return s.substring(1, s.length - 1);
        }
        return s;
    }

    function joinPath(dir, name, windows) {
        var last = dir.charAt(dir.length - 1);
        if (last === "/" || (windows && last === "\\")) {
            return dir + name;
        }
        return dir + (windows ? "\\" : "/") + name;
    }

    /* A .app bundle is a folder; everything else must be a file. */
    function exists(path) {
        if (/\.app[\\\/]?$/i.test(path)) {
            return new Folder(path).exists;
        }
        return new File(path).exists;
    }

    function savedSetting() {
        try {
            if (app.settings.haveSetting(SETTINGS_SECTION, SETTINGS_KEY)) {
                return String(app.settings.getSetting(SETTINGS_SECTION, SETTINGS_KEY));
            }
        } catch (e) {
            /* no setting */
        }
        return "";
    }

    /* Where to look on PATH and the usual install folders, in order. */
    function searchFolders(windows) {
        var folders = [];
        var entries = getenv("PATH").split(windows ? ";" : ":");
        for (var i = 0; i < entries.length; i++) {
            var dir = stripQuotes(entries[i]);
            if (dir !== "") {
                folders.push(dir);
            }
        }
        var home = getenv(windows ? "USERPROFILE" : "HOME");
        if (home !== "") {
            folders.push(joinPath(joinPath(home, ".local", windows), "bin", windows));
        }
        var v;
        if (windows) {
            /* pip install --user, then the python.org installer's per-user default. */
            var appData = getenv("APPDATA");
            var localAppData = getenv("LOCALAPPDATA");
            for (v = 0; v < PYTHON_VERSIONS.length; v++) {
                var xy = PYTHON_VERSIONS[v].replace(".", "");
                if (appData !== "") {
                    folders.push(appData + "\\Python\\Python" + xy + "\\Scripts");
                }
                if (localAppData !== "") {
                    folders.push(localAppData + "\\Programs\\Python\\Python" + xy + "\\Scripts");
                }
            }
            return folders;
        }
        folders.push("/usr/local/bin");
        folders.push("/opt/homebrew/bin");
        for (v = 0; v < PYTHON_VERSIONS.length; v++) {
            if (home !== "") {
                folders.push(joinPath(home, "Library/Python/" + PYTHON_VERSIONS[v] + "/bin", false));
            }
            folders.push("/Library/Frameworks/Python.framework/Versions/" + PYTHON_VERSIONS[v] + "/bin");
        }
        return folders;
    }

    function programNames(windows) {
        return windows ? [PROGRAM + ".exe", PROGRAM + ".cmd", PROGRAM + ".bat"] : [PROGRAM];
    }

    /*
     * Returns {path, source} for the first submitter found, or {path: "", looked: [...]}
     * describing where it looked, for the message.
     */
    function findSubmitter(windows) {
        var looked = [];
        var setting = savedSetting();
        if (setting !== "") {
            if (exists(setting)) {
                return { path: setting, source: "setting" };
            }
            looked.push("the saved setting " + SETTINGS_SECTION + " > " + SETTINGS_KEY + ": " +
                setting + " (not there any more)");
        } else {
            looked.push("the saved setting " + SETTINGS_SECTION + " > " + SETTINGS_KEY + " (not set)");
        }
        var fromEnv = stripQuotes(getenv(ENV_VAR));
        if (fromEnv !== "") {
            if (exists(fromEnv)) {
                return { path: fromEnv, source: "environment" };
            }
            looked.push(ENV_VAR + " = " + fromEnv + " (no such file)");
        } else {
            looked.push(ENV_VAR + " (not set)");
        }
        var folders = searchFolders(windows);
        var names = programNames(windows);
        for (var i = 0; i < folders.length; i++) {
            for (var n = 0; n < names.length; n++) {
                var candidate = joinPath(folders[i], names[n], windows);
                if (exists(candidate)) {
                    return { path: candidate, source: "PATH" };
                }
            }
        }
        looked.push(folders.length + " folders on PATH and the usual install folders");
        return { path: "", looked: looked };
    }

    function shellQuote(text) {
        return "'" + String(text).replace(/'/g, "'\\''") + "'";
    }

    /*
     * Windows: cmd.exe cannot quote " in a path (Windows forbids it in file names anyway), and
     * a line break would end the command. % is doubled because the command lives in a batch file.
     */
    function batchQuoted(text) {
        var s = String(text);
        if (/["\r\n]/.test(s)) {
            throw new Error("cannot pass this path to cmd.exe (it holds \" or a line break): " + s);
        }
        return "\"" + s.replace(/%/g, "%%") + "\"";
    }

    /*
     * The launcher batch file for Windows. system.callSystem waits there until what it started
     * ends, which froze AE while the submitter was open, so the bridge writes this file and
     * File.execute()s it instead: Windows opens it with cmd.exe and returns at once; `start`
     * hands the submitter to a new process and the batch file deletes itself. It is written as
     * UTF-8 after `chcp 65001`, so a path in any language arrives intact.
     */
    function windowsLauncher(program, exportFile) {
        return [
            "@echo off",
            "chcp 65001 >nul",
            "start \"\" " + batchQuoted(program) + " " + batchQuoted(exportFile),
            "(goto) 2>nul & del \"%~f0\"",
            ""
        ].join("\r\n");
    }

    /* ES3 has no TextEncoder: UTF-8 bytes as one char each, for a File opened as BINARY
       (no byte-order mark, which would break the batch file's first line). */
    function utf8Bytes(text) {
        return unescape(encodeURIComponent(text));
    }

    /* Writes the launcher next to the export and starts it; File.execute does not wait. */
    function launchWindows(program, exportFile) {
        var launcherPath = exportFile.replace(/\.json$/i, "") + "_launch.cmd";
        var launcher = new File(launcherPath);
        var text = utf8Bytes(windowsLauncher(program, exportFile));
        launcher.encoding = "BINARY";
        if (!launcher.open("w")) {
            throw new Error("cannot write " + launcherPath + " (" + launcher.error + ").");
        }
        var written = launcher.write(text);
        launcher.close();
        if (!written || !launcher.execute()) {
            throw new Error("cannot start " + launcherPath + " (" + launcher.error + ").");
        }
        return launcherPath;
    }

    /*
     * The command for system.callSystem() on macOS and Linux. It must return at once: the
     * program runs in the background with its output detached, because callSystem waits until
     * the command's output is closed.
     */
    function launchCommand(program, exportFile) {
        var detach = " </dev/null >/dev/null 2>&1 &";
        if (/\.app\/?$/i.test(program)) {
            return "open -n -a " + shellQuote(program) + " --args " + shellQuote(exportFile) + detach;
        }
        return shellQuote(program) + " " + shellQuote(exportFile) + detach;
    }

    function pad2(n) {
        return n < 10 ? "0" + n : String(n);
    }

    function tempExportPath(windows) {
        var now = new Date();
        var stamp = now.getFullYear() + pad2(now.getMonth() + 1) + pad2(now.getDate()) + "_" +
            pad2(now.getHours()) + pad2(now.getMinutes()) + pad2(now.getSeconds());
        var unique = Math.floor(Math.random() * 1000000);
        return joinPath(Folder.temp.fsName, "stmpo_export_" + stamp + "_" + unique + ".json", windows);
    }

    function notFoundMessage(looked) {
        var lines = [
            "Cannot find the STMPO submitter program (" + PROGRAM + ").",
            "",
            "Install STMPO for After Effects on this computer, then either:",
            "  - set the environment variable " + ENV_VAR + " to the program's full path, or",
            "  - put the program's folder on PATH, or",
            "  - choose the program in the next step (it is remembered).",
            "",
            "Looked at:"
        ];
        for (var i = 0; i < looked.length; i++) {
            lines.push("  - " + looked[i]);
        }
        return lines.join("\n");
    }

    /* Lets the artist point at the program once; AE keeps it in its settings. */
    function askForSubmitter() {
        if (!confirm("Choose the " + PROGRAM + " program now?")) {
            return "";
        }
        var chosen = File.openDialog("Choose " + PROGRAM);
        if (!chosen) {
            return "";
        }
        var path = String(chosen.fsName);
        app.settings.saveSetting(SETTINGS_SECTION, SETTINGS_KEY, path);
        return path;
    }

    /* ExtendScript's File.name is URI-encoded ("My%20Spot.aep"); the artist knows "My Spot.aep". */
    function displayName(file) {
        var name = String(file.name);
        try {
            return String(File.decode(name));
        } catch (e) {
            return name;
        }
    }

    /*
     * save() and saveWithDialog() do not say reliably whether the file was written: a cancelled
     * dialog leaves the project dirty, a failed write may throw or leave no file. The render
     * nodes open the file on disk, so only a clean project whose file exists counts as saved.
     * Returns "" when saved, else why not (a sentence for the artist).
     */
    function notSavedReason(project) {
        var file = project.file;
        if (!file) {
            return "The project was not saved (it still has no file).";
        }
        if (project.dirty) {
            return "After Effects did not save \"" + displayName(file) + "\" (the save was " +
                "cancelled or failed); it still has unsaved changes.";
        }
        if (!file.exists) {
            return "The saved project \"" + displayName(file) + "\" is not on disk at " +
                String(file.fsName) + ".";
        }
        return "";
    }

    /*
     * The project must be saved: the render nodes open the file on disk, not AE's memory.
     * Returns {status: "saved"} or {status: "cancelled"}; a save that did not happen is
     * {status: "not-saved", message}. mustSave: the bridge changed the project (duplicates).
     */
    function ensureSaved(project, mustSave) {
        if (!project.file) {
            if (!confirm("This project has never been saved. The render nodes open the saved " +
                    "file, so it must be saved first.\n\nSave it now?")) {
                return { status: "cancelled" };
            }
            if (project.saveWithDialog() !== true && !project.file) {
                return { status: "cancelled" };
            }
        } else if (project.dirty) {
            if (!mustSave && !confirm("Save the changes to \"" + displayName(project.file) +
                    "\" before submitting? The render nodes open the saved file.")) {
                return { status: "cancelled" };
            }
            try {
                project.save();
            } catch (e) {
                return { status: "not-saved", message: "After Effects could not save \"" +
                    displayName(project.file) + "\": " + (e && e.message ? e.message : e) };
            }
        }
        var reason = notSavedReason(project);
        return reason === "" ? { status: "saved" } : { status: "not-saved", message: reason };
    }

    /* aerender -rqindex cannot render these again: their Render flag cannot be set. */
    var FINISHED_STATUSES = { DONE: true, USER_STOPPED: true, ERR_STOPPED: true };

    /* Finished items that have an output module, i.e. could be rendered again from a copy. */
    function finishedItems(project) {
        var found = [];
        var queue = project.renderQueue;
        for (var i = 1; i <= queue.numItems; i++) {
            var rq = queue.item(i);
            var status = stmpoExport.statusName(rq.status);
            if (status !== null && FINISHED_STATUSES[status] === true && rq.numOutputModules >= 1) {
                found.push({ index: i, item: rq, status: status, comp: String(rq.comp.name) });
            }
        }
        return found;
    }

    /*
     * The artist picks finished items in AE by answering yes here: each is duplicated
     * (RenderQueueItem.duplicate() gives a QUEUED copy with the same settings and output
     * modules, at the end of the queue) and the project must then be saved, so the export
     * lists the copies as renderable. The originals stay as they are and are exported as not
     * renderable. Returns the render queue indexes of the copies.
     */
    function offerDuplicates(project) {
        var finished = finishedItems(project);
        if (finished.length === 0) {
            return [];
        }
        var lines = [];
        for (var i = 0; i < finished.length; i++) {
            lines.push("  " + finished[i].index + ". " + finished[i].comp + " (" + finished[i].status + ")");
        }
        if (!confirm("These render queue items have already rendered or were stopped; the " +
                "farm (aerender) cannot render them again:\n\n" + lines.join("\n") + "\n\n" +
                "Duplicate them at the end of the render queue (the copies are queued, with " +
                "the same settings and output modules) and save the project, so the copies " +
                "can be submitted?")) {
            return [];
        }
        var copies = [];
        for (i = 0; i < finished.length; i++) {
            finished[i].item.duplicate();
            copies.push(project.renderQueue.numItems);
        }
        return copies;
    }

    /* Returns what happened, for the tests: {status, exportPath, command, program}. */
    function run() {
        var windows = isWindows($.os);
        try {
            var saved = { status: "saved" };
            if (!app.project.file) {
                saved = ensureSaved(app.project, false);
            }
            var copies = saved.status === "saved" ? offerDuplicates(app.project) : [];
            if (saved.status === "saved") {
                saved = ensureSaved(app.project, copies.length > 0);
            }
            if (saved.status === "not-saved") {
                alert(saved.message + "\n\nNothing was submitted: the render nodes open the " +
                    "saved file. Save the project, then run STMPO again.", TITLE);
                return saved;
            }
            if (saved.status !== "saved") {
                return saved;
            }
            var found = findSubmitter(windows);
            var program = found.path;
            if (program === "") {
                alert(notFoundMessage(found.looked), TITLE);
                program = askForSubmitter();
                if (program === "") {
                    return { status: "not-found" };
                }
            }
            var exportPath = tempExportPath(windows);
            var written = stmpoExport(exportPath);
            if (windows) {
                var launcherPath = launchWindows(program, written);
                return { status: "launched", exportPath: written, launcher: launcherPath, program: program,
                    duplicated: copies };
            }
            var command = launchCommand(program, written);
            system.callSystem(command);
            return { status: "launched", exportPath: written, command: command, program: program,
                duplicated: copies };
        } catch (e) {
            alert("STMPO could not start the submitter:\n\n" + (e && e.message ? e.message : e) +
                "\n\nIf this mentions file or network access, enable Preferences > Scripting & " +
                "Expressions > Allow Scripts to Write Files and Access Network.", TITLE);
            return { status: "error", message: String(e && e.message ? e.message : e) };
        }
    }

    return {
        run: run,
        findSubmitter: findSubmitter,
        launchCommand: launchCommand,
        windowsLauncher: windowsLauncher,
        searchFolders: searchFolders,
        ensureSaved: ensureSaved,
        tempExportPath: tempExportPath,
        shellQuote: shellQuote
    };
})();

/* Tests load this file with STMPO_SUBMITTER_NO_AUTORUN set to call the parts one by one. */
if (typeof STMPO_SUBMITTER_NO_AUTORUN === "undefined" || !STMPO_SUBMITTER_NO_AUTORUN) {
    stmpoSubmitter.run();
}
