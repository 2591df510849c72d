"""No module in src/ is over 600 lines: a module that grows past that holds several things
and is split along them (docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

MAX_LINES = 600
SRC = Path(__file__).resolve().parents[1] / "src" / "holochain"


def module_lengths() -> dict[str, int]:
    return {
        path.relative_to(SRC).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in SRC.rglob("*.py")
        if "templates" not in path.relative_to(SRC).parts
    }


def test_no_module_is_over_600_lines():
    lengths = module_lengths()
    assert len(lengths) > 50  # the walk found the package
    too_long = {name: n for name, n in lengths.items() if n > MAX_LINES}
    assert too_long == {}, f"modules over {MAX_LINES} lines (split them along what they hold): {too_long}"
