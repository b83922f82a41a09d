"""How long the submitter takes to index a font folder: cold, from the cache file, warm.

Builds N real fonts with fontTools (a mix of TTF, CFF and collections) in a temp folder,
then times `FontIndex` three ways. Run: `.venv/bin/python bench/bench_font_index.py [N]`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fontgen import build_font, write_collection
from stmpo.fonts.index import FontIndex, FontNameCache


def main(count: int = 800) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "fonts"
        folder.mkdir()
        for i in range(count):
            if i % 10 == 9:
                write_collection(folder / f"C{i}.ttc", [f"C{i}-A", f"C{i}-B"])
            else:
                cff = i % 3 == 0
                ext = "otf" if cff else "ttf"
                build_font(f"F{i}-Regular", cff=cff, size=100 + i).save(str(folder / f"F{i}.{ext}"))
        cache_file = Path(tmp) / "cache.json"

        t0 = time.perf_counter()
        cold = FontIndex([folder], FontNameCache(cache_file))
        names = len(cold)
        t1 = time.perf_counter()
        from_file = FontIndex([folder], FontNameCache(cache_file))
        len(from_file)
        t2 = time.perf_counter()
        warm_cache = from_file.cache
        warm = FontIndex([folder], warm_cache)
        len(warm)
        t3 = time.perf_counter()
    print(f"{count} font files, {names} PostScript names")
    print(f"cold (fontTools reads every file): {t1 - t0:.3f} s")
    print(f"new process, cache file:          {t2 - t1:.3f} s")
    print(f"same process, in-memory cache:    {t3 - t2:.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 800)
