"""The README's family table is the catalogue's, generated (so the two never drift)."""

from pathlib import Path

import mlekit as mk
from mlekit._families.catalogue import markdown

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- families:start -->", "<!-- families:end -->"


def test_readme_family_table_is_the_catalogue():
    text = README.read_text()
    table = text[text.index(START) + len(START):text.index(END)].strip()
    expected = markdown(mk.families())
    assert table == expected, (
        "README family table is stale; regenerate it with "
        "`.venv/bin/python -m mlekit._families.catalogue` and paste it between the markers:\n"
        + expected)


def test_every_family_states_its_formula_and_description():
    for info in mk.families():
        assert info.formula and info.description, info.name
