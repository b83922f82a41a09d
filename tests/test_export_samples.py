from pathlib import Path

import pytest
from stmpo.export import load_export
from stmpo.locations import examples_dir

SAMPLES = sorted(examples_dir().glob("*.json"))


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_sample_export_loads(path: Path) -> None:
    export = load_export(path)
    assert export.format == "stmpo-ae-export"
    assert export.render_queue, "a sample should have render queue items"
