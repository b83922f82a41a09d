"use strict";
// Mock After Effects projects that the export tests run stmpoExport() on. Each scenario's
// export is also written to $STMPO_JSX_EXPORT_DIR/<name>.json when that is set, and
// tests/test_jsx_bridge.py loads those files with the project's own export loader.

const m = require("./mock_ae");

// One frame at 29.97, 59.94 and 23.976 fps, in seconds, on AE's own grid (see
// mock_ae.timeGrid: AE runs 29.97 at exactly 29.97 fps, timebase 23976, 800 units a frame).
const NTSC = 100 / 2997;
const NTSC_5994 = 50 / 2997;
const NTSC_23976 = 125 / 2997;
// AE hands out 29.97 both as a double and (from older projects) as a single-precision value.
const RATE_2997_DOUBLE = 29.97;
const RATE_2997_SINGLE = Math.fround(29.97);

const HOSTILE_COMP =
  'MAIN "final" {{Param.Frames}} $(touch /tmp/pwned) `id` \\back\\slash ; & | \' ' +
  "日本語 Zoë 😀 \u2028\u2029 nul\u0000 bell\u0007 tab\t nl\n del\u007f lone\ud800 end";
const HOSTILE_DIR = "/Users/o'brien/My \"Projects\"/spot {{Param.X}} $(rm -rf ~)";

const scenarios = [
  {
    name: "basic_25fps",
    options: () => ({
      os: "Macintosh OS 14.5.0/64",
      version: "24.6.2x3",
      project: m.project({
        path: "/projects/spot/spot_v012.aep",
        rq: [
          m.rqItem({
            comp: m.comp({ name: "MAIN comp", frameRate: 25, duration: 10 }),
            outputs: [m.outputModule("/renders/spot/MAIN_[#####].png", "PNG Sequence")],
          }),
        ],
      }),
    }),
  },
  {
    name: "drop_frame_2997",
    options: () => ({
      os: "Windows/64 10.0 Service Pack 0",
      project: m.project({
        path: "C:\\projects\\ntsc\\ntsc.aep",
        rq: [
          m.rqItem({
            comp: m.comp({
              name: "NTSC single",
              frameRate: 29.97,
              frameRateReadBack: RATE_2997_SINGLE,
              duration: 600 * NTSC,
            }),
            timeSpanStart: 100 * NTSC,
            timeSpanDuration: 300 * NTSC,
            outputs: [m.outputModule("C:\\renders\\ntsc\\single_[#####].tif", "TIFF Sequence with Alpha")],
          }),
          m.rqItem({
            comp: m.comp({
              name: "NTSC double",
              frameRate: 29.97,
              frameRateReadBack: RATE_2997_DOUBLE,
              duration: 36000 * NTSC,
            }),
            timeSpanStart: 17982 * NTSC,
            timeSpanDuration: 1 * NTSC,
            outputs: [m.outputModule("C:\\renders\\ntsc\\double_[#####].tif", "TIFF Sequence with Alpha")],
          }),
          m.rqItem({
            comp: m.comp({ name: "59.94", frameRate: 59.94, frameRateReadBack: Math.fround(59.94), duration: 60 }),
            timeSpanStart: 3 * NTSC_5994,
            timeSpanDuration: 1200 * NTSC_5994,
            outputs: [m.outputModule("C:\\renders\\ntsc\\5994_[#####].png", "PNG Sequence")],
          }),
        ],
      }),
    }),
  },
  {
    // Three hours and more of 29.97 and 59.94 drop-frame, and 23.976 before AE 17.1 (no
    // CompItem.displayStartFrame): every time lies on the frameDuration grid, as in AE.
    name: "ntsc_three_hours",
    options: () => ({
      project: m.project({
        path: "/projects/long/long.aep",
        rq: [
          m.rqItem({
            comp: m.comp({
              name: "29.97 DF 3h",
              frameRate: 29.97,
              duration: 360000 * NTSC,
              displayStartTime: 107892 * NTSC, // 01:00:00;00 drop-frame
            }),
            timeSpanStart: 5 * NTSC,
            timeSpanDuration: 323676 * NTSC, // 03:00:00;00 drop-frame
            outputs: [m.outputModule("/renders/long/df_[######].png", "PNG Sequence")],
          }),
          m.rqItem({
            comp: m.comp({ name: "59.94 4h", frameRate: 60000 / 1001, duration: 863136 * NTSC_5994 }),
            timeSpanDuration: 647352 * NTSC_5994,
            outputs: [m.outputModule("/renders/long/hfr_[######].png", "PNG Sequence")],
          }),
          m.rqItem({
            comp: m.comp({
              name: "23.976 3h, AE 17.0",
              frameRate: 23.976,
              duration: 259200 * NTSC_23976,
              displayStartTime: 86400 * NTSC_23976,
              displayStartFrame: null,
            }),
            timeSpanDuration: 259200 * NTSC_23976,
            outputs: [m.outputModule("/renders/long/film_[######].png", "PNG Sequence")],
          }),
        ],
      }),
    }),
  },
  {
    name: "display_start_frame_1",
    options: () => ({
      project: m.project({
        displayStartFrame: 1,
        dirty: true,
        rq: [
          m.rqItem({
            comp: m.comp({ name: "whole", frameRate: 25, duration: 10 }),
            outputs: [m.outputModule("/renders/one/whole_[####].png")],
          }),
          m.rqItem({
            comp: m.comp({ name: "part", frameRate: 25, duration: 10 }),
            timeSpanStart: 2,
            timeSpanDuration: 1,
            outputs: [m.outputModule("/renders/one/part_[####].png")],
          }),
        ],
      }),
    }),
  },
  {
    name: "comp_display_start_time",
    options: () => ({
      project: m.project({
        rq: [
          m.rqItem({
            comp: m.comp({ name: "starts at 10s", frameRate: 24, duration: 5, displayStartTime: 10 }),
            timeSpanStart: 2,
            timeSpanDuration: 1,
            outputs: [m.outputModule("/renders/late/late_[#####].exr", "EXR")],
          }),
          m.rqItem({
            comp: m.comp({ name: "starts before zero", frameRate: 24, duration: 2, displayStartTime: -1 }),
            outputs: [m.outputModule("/renders/early/early_[#####].exr", "EXR")],
          }),
        ],
      }),
    }),
  },
  {
    name: "hostile_names",
    options: () => ({
      project: m.project({
        path: `${HOSTILE_DIR}/spot_ü_😀.aep`,
        rq: [
          m.rqItem({
            comp: m.comp({ name: HOSTILE_COMP }),
            outputs: [m.outputModule(`${HOSTILE_DIR}/out "q" [#####].png`, 'Tmpl "x" {{y}}')],
          }),
        ],
        usedFonts: [m.fontObject("Noto-日本語", "Noto \"Sans\"", "Bold\\Italic", `${HOSTILE_DIR}/f.otf`)],
      }),
    }),
  },
  {
    name: "windows_paths",
    options: () => ({
      os: "Windows/64 10.0 Service Pack 0",
      version: "23.6x62",
      project: m.project({
        path: "C:\\Users\\artist\\Projects\\spot v2\\spot.aep",
        rq: [
          m.rqItem({
            comp: m.comp({ name: "UNC out" }),
            outputs: [
              m.outputModule("\\\\server\\share\\renders\\MAIN_[####].exr", "EXR"),
              m.outputModule("D:\\review\\MAIN.mov", "H.264"),
            ],
          }),
        ],
      }),
    }),
  },
  {
    name: "several_output_modules",
    options: () => {
      const c = m.comp({ name: "multi", frameRate: 30, duration: 4 });
      return {
        project: m.project({
          rq: [
            m.rqItem({
              comp: c,
              outputs: [
                m.outputModule("/renders/multi/multi_[#####].png", "PNG Sequence"),
                m.outputModule("/renders/multi/multi.mov", "Apple ProRes 422"),
                m.outputModule(null, "Lossless"),
                m.outputModule("/renders/multi/poster.exr", "EXR"),
              ],
            }),
            m.rqItem({ comp: c, status: m.RQ.DONE, outputs: [m.outputModule("/renders/multi/done.mov")] }),
            m.rqItem({ comp: c, status: m.RQ.NEEDS_OUTPUT, render: false, outputs: [] }),
            m.rqItem({
              comp: c,
              status: m.RQ.UNQUEUED,
              render: false,
              outputs: [m.outputModule("/renders/multi/off_[###].jpg", "JPEG")],
            }),
            m.rqItem({
              comp: c,
              skipFrames: 1,
              outputs: [m.outputModule("/renders/multi/twos_[#####].png", "PNG Sequence")],
            }),
            m.rqItem({ comp: c, status: m.RQ.ERR_STOPPED, outputs: [m.outputModule("/renders/multi/err.mp4")] }),
          ],
        }),
      };
    },
  },
  {
    name: "missing_footage",
    options: () => {
      const items = [
        m.footage({ name: "plate", path: "/plates/sh010/plate.0000.exr", duration: 2, frameRate: 24 }),
        m.footage({ name: "plate again", path: "/plates/sh010/plate.0000.exr", duration: 2, frameRate: 24 }),
        m.footage({ name: "logo", path: "/plates/logo.png", isStill: true }),
        m.footage({ name: "reference", path: "/plates/ref.mov", duration: 10, frameRate: 25 }),
        m.footage({ name: "gone", path: "/plates/gone/interview.mov", missing: true }),
        m.solid("Black Solid 1"),
        new m.FolderItem({ name: "Solids" }),
      ];
      const c = m.comp({ name: "with footage" });
      items.push(c);
      return {
        project: m.project({
          items,
          rq: [m.rqItem({ comp: c, outputs: [m.outputModule("/renders/f/f_[#####].png")] })],
        }),
      };
    },
  },
  {
    // Issue 10 point 8: every still format AE imports as a sequence, not only the output list.
    name: "still_format_sequences",
    options: () => {
      const seq = (name, p) => m.footage({ name, path: p, duration: 1, frameRate: 24 });
      const items = [
        seq("raw", "/plates/raw/A001_C002.000100.dng"),
        seq("canon", "/plates/raw/shot_0001.CR2"),
        seq("vector", "/plates/vec/logo_01.ai"),
        seq("eps", "/plates/vec/burst_001.eps"),
        seq("jpe", "/plates/jpe/frame.0001.jpe"),
        seq("rgbe", "/plates/hdr/sky.0000.rgbe"),
        seq("rle", "/plates/bmp/old_0000.rle"),
        seq("dib", "/plates/bmp/win_0000.dib"),
        seq("targa variant", "/plates/tga/t_0000.vda"),
        seq("sgi", "/plates/sgi/s_0000.rgb"),
        m.footage({ name: "one dng", path: "/plates/raw/still_0001.dng", isStill: true }),
        m.footage({ name: "movie", path: "/plates/clip_0001.mxf", duration: 1, frameRate: 24 }),
      ];
      const c = m.comp({ name: "stills" });
      items.push(c);
      return {
        project: m.project({
          items,
          rq: [m.rqItem({ comp: c, outputs: [m.outputModule("/renders/s/s_[#####].png", "PNG Sequence")] })],
        }),
      };
    },
  },
  {
    // Issue 10 points 2, 3, 6, 9: render settings and output module settings via getSettings.
    name: "output_settings",
    options: () => ({
      project: m.project({
        rq: [
          m.rqItem({
            comp: m.comp({ name: "at fifteen", frameRate: 30, duration: 4 }),
            renderFrameRate: 15,
            skipExistingFiles: true,
            outputs: [
              m.outputModule("/renders/o/loop.gif", "Animated GIF", { format: "Animated GIF" }),
              m.outputModule("/renders/o/sky.rgbe", "Radiance", { format: "Radiance Sequence" }),
              m.outputModule("/renders/o/take_[####].exr", "EXR", {
                format: "OpenEXR Sequence",
                useCompFrameNumber: false,
                startingNumber: 1001,
              }),
            ],
          }),
          m.rqItem({
            comp: m.comp({ name: "59.94 at 29.97", frameRate: 60000 / 1001, duration: 2 }),
            renderFrameRate: 30000 / 1001,
            outputs: [m.outputModule("/renders/o/half.mov", "ProRes", { format: "QuickTime" })],
          }),
        ],
      }),
    }),
  },
  {
    // Issue 10 point 7: proxies the render uses ("Proxy Use" render setting + proxy switch).
    name: "proxies",
    options: () => {
      const heavy = m.comp({ name: "heavy precomp", proxy: { path: "/proxies/heavy.png", isStill: true, useProxy: false } });
      const main = m.comp({ name: "main" });
      const items = [
        m.footage({
          name: "plate",
          path: "/plates/plate.0000.exr",
          duration: 2,
          frameRate: 24,
          proxy: { path: "/proxies/plate_half.0000.jpg" },
        }),
        m.footage({
          name: "interview",
          path: "/plates/interview.mov",
          duration: 10,
          proxy: { path: "/proxies/interview_half.mov", isStill: true, useProxy: false },
        }),
        m.footage({ name: "logo", path: "/plates/logo.ai", isStill: true, proxy: { path: "/proxies/logo.png", isStill: true, missing: true } }),
        heavy,
        main,
      ];
      return {
        project: m.project({
          items,
          rq: [
            m.rqItem({ comp: main, outputs: [m.outputModule("/renders/p/main_[#####].png")] }),
            m.rqItem({ comp: main, proxyUse: "Use Comp Proxies Only", outputs: [m.outputModule("/renders/p/draft.mov")] }),
          ],
        }),
      };
    },
  },
  {
    name: "fonts_used_fonts",
    options: () => {
      // A text layer whose font usedFonts does not list: AE 24.5+ must not read layers.
      const c = m.comp({
        name: "titles",
        layers: [m.textLayer(m.textDocument("ShouldNotAppear-Regular", "Nope", "Regular", ""))],
      });
      const substitute = m.fontObject("Brand-Black", "Brand", "Black", "", true);
      return {
        missingFonts: [substitute, m.fontObject("Orphan-Italic", "Orphan", "Italic", "", true)],
        project: m.project({
          items: [c],
          rq: [m.rqItem({ comp: c, outputs: [m.outputModule("/renders/t/t_[#####].png")] })],
          usedFonts: [
            m.fontObject("Inter-Bold", "Inter", "Bold", "/Users/artist/Library/Fonts/Inter-Bold.ttf"),
            m.fontObject("Inter-Bold", "Inter", "Bold", "/Users/artist/Library/Fonts/Inter-Bold.ttf"),
            m.fontObject("Roboto-Regular", "Roboto", "Regular", ""),
            substitute,
          ],
        }),
      };
    },
  },
  {
    name: "fonts_text_layers",
    options: () => {
      const c1 = m.comp({
        name: "lower third",
        layers: [
          m.solidLayer(),
          m.textLayer(m.textDocument("Inter-Bold", "Inter", "Bold", "/fonts/Inter-Bold.ttf")),
          m.textLayer(m.textDocument("Inter-Bold", "Inter", "Bold", "/fonts/Inter-Bold.ttf")),
        ],
      });
      const c2 = m.comp({
        name: "animated",
        layers: [
          m.textLayer(m.textDocument("Inter-Regular", "Inter", "Regular", "/fonts/Inter-Regular.ttf"), [
            m.textDocument("Lora-Italic", "Lora", "Italic", "/fonts/Lora-Italic.ttf"),
            m.textDocument("Inter-Regular", "Inter", "Regular", "/fonts/Inter-Regular.ttf"),
          ]),
        ],
      });
      return {
        version: "23.6x62",
        project: m.project({
          items: [c1, c2],
          rq: [m.rqItem({ comp: c1, outputs: [m.outputModule("/renders/lt/lt_[#####].png")] })],
        }),
      };
    },
  },
  {
    name: "fonts_text_layers_substituted",
    options: () => {
      const c = m.comp({
        name: "credits",
        layers: [
          m.textLayer(m.textDocument("Futura-Medium", "Futura", "Medium", "")),
          m.textLayer(m.textDocument("Inter-Bold", "Inter", "Bold", "/fonts/Inter-Bold.ttf")),
        ],
      });
      return {
        version: "24.2x5",
        missingFonts: [m.fontObject("Futura-Medium", "Futura", "Medium", "", true)],
        project: m.project({
          items: [c],
          rq: [m.rqItem({ comp: c, outputs: [m.outputModule("/renders/c/c_[#####].png")] })],
        }),
      };
    },
  },
  {
    name: "empty_queue",
    options: () => ({ project: m.project({ rq: [] }) }),
  },
];

module.exports = { scenarios, NTSC, RATE_2997_SINGLE, RATE_2997_DOUBLE, HOSTILE_COMP, HOSTILE_DIR };
