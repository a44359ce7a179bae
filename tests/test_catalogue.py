"""The catalogue loads, and a broken entry fails with one line naming the file and the field."""

import pytest

from creditlake.catalogue import CatalogueError, load_catalogue


def test_catalogue_loads_slice_sources():
    cat = load_catalogue()
    assert {(s.code, d.code) for s, d in cat.datasets()} >= {("samr", "registrations"), ("power", "consumption")}
    # Personal columns are always pseudonymised (the model refuses otherwise).
    for _, d in cat.datasets():
        assert all(c.pseudonymise for c in d.columns if c.sensitivity == "personal")


def test_broken_entry_names_file_and_field(tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "code: bad\nname_zh: 坏\nname_en: Bad\nkind: department\ndatasets:\n"
        "  - code: d\n    name_zh: 数据\n    name_en: D\n    key: id\n    unique: [id]\n"
        "    columns:\n      - {name: id, type: string}\n      - {name: idno, type: string, sensitivity: personal}\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(tmp_path)
    message = str(exc.value)
    assert "bad.yaml" in message and "datasets.0.columns.1" in message and "pseudonymise" in message
    assert "\n" not in message
