"""A large file shown as the regions around the symbols a task names, the rest outlined."""

from __future__ import annotations

from orchestrate.engine.excerpts import GAP, excerpt
from orchestrate.engine.symbols import symbol_spans

from .big_module import big_module, function

BIG = big_module()
LINES = BIG.splitlines(keepends=True)


def test_a_small_file_is_shown_whole_with_nothing_to_say() -> None:
    shown = excerpt("a.py", "x = 1\n", "anything", 100)
    assert (shown.text, shown.note) == ("x = 1\n", "")


def test_the_named_functions_are_shown_exactly_and_the_rest_outlined() -> None:
    shown = excerpt("pipeline.py", BIG, "Fix `func_123` and func_300 (they overflow).", 8_000)

    assert len(shown.text) <= 8_000
    assert function(123) in shown.text and function(300) in shown.text  # byte for byte
    assert "def func_124" not in shown.text.replace(f"{GAP}   def func_124", "")
    assert '"""The pipeline."""\n\nimport math\n' in shown.text  # the file's head
    gaps = [line for line in shown.text.splitlines() if line.startswith(GAP)]
    assert any("not shown; they define:" in line for line in gaps)
    assert any(line == f"{GAP}   def func_130(value: int) -> int" for line in gaps)
    assert any(line.startswith(f"{GAP}   … ") and line.endswith(" more") for line in gaps)
    assert shown.note.startswith("pipeline.py: ") and f"of {len(LINES):,} lines shown" in shown.note
    assert "around func_123, func_300" in shown.note
    # Every line that is not a marker is the file's own line, so SEARCH blocks can copy it.
    kept = [line for line in shown.text.splitlines(keepends=True) if not line.startswith(GAP)]
    assert all(line in LINES for line in kept)


def test_a_named_method_comes_with_its_class_line() -> None:
    shown = excerpt("pipeline.py", BIG, "method_42 returns the wrong number", 3_000)
    assert "class Pipeline:\n" in shown.text
    assert "    def method_42(self) -> int:\n        return 42\n" in shown.text
    assert "around method_42" in shown.note


def test_with_no_symbol_named_the_head_is_shown_and_that_is_said() -> None:
    shown = excerpt("pipeline.py", BIG, "make it faster", 2_000)
    assert shown.text.startswith('"""The pipeline."""')
    assert "no symbol the task names was found" in shown.note


def test_spans_cover_functions_methods_and_decorators() -> None:
    source = (
        "import x\n\n\n@cache\n@other(1)\ndef f():\n    return 1\n\n\n"
        "class C:\n    @property\n    def p(self):\n        return 2\n"
    )
    spans = {(s.name, s.parent): (s.start, s.end) for s in symbol_spans("m.py", source)}
    assert spans == {("f", ""): (4, 7), ("C", ""): (10, 13), ("p", "C"): (11, 13)}
    js = "import a from 'b';\nexport function render(p) {\n  return p;\n}\nclass W {\n}\n"
    assert [(s.name, s.start, s.end) for s in symbol_spans("w.js", js)] == [
        ("render", 2, 4),
        ("W", 5, 6),
    ]
