"""benchmarks/results_md.py: one section or block of RESULTS.md is replaced, everything else is kept byte for byte."""

from results_md import read_blocks, write_block, write_section

OTHER = "# Results\n\nIntro.\n\n<!-- section:other -->\n## Other\nkeep me\n<!-- /section:other -->\n"


def test_write_section_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text(OTHER, encoding="utf-8")
    write_section("mine", "## Mine\nfirst", path=path)
    write_section("mine", "## Mine\nsecond", path=path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(OTHER)
    assert "second" in text and "first" not in text
    assert text.count("<!-- section:mine -->") == 1


def test_blocks_are_kept_ordered_and_replaced(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text(OTHER, encoding="utf-8")
    order = ("imdb", "nsmc", "amazon")
    write_block("dv", "amazon", "A1", header="## dv", path=path, order=order)
    write_block("dv", "zzz", "Z", header="## dv", path=path, order=order)
    write_block("dv", "imdb", "I1", header="## dv", path=path, order=order)
    write_block("dv", "amazon", "A2", header="## dv", path=path, order=order, preamble="summary")
    assert read_blocks("dv", path=path) == {"amazon": "A2", "zzz": "Z", "imdb": "I1"}
    text = path.read_text(encoding="utf-8")
    assert text.startswith(OTHER)
    assert text.index("## dv") < text.index("summary") < text.index("I1") < text.index("A2") < text.index("Z")
    assert not list(tmp_path.glob("*.partial-*"))


def test_bad_block_name_is_refused(tmp_path):
    try:
        write_block("dv", "no spaces", "x", header="## dv", path=tmp_path / "R.md")
    except ValueError as error:
        assert "no spaces" in str(error)
    else:
        raise AssertionError("a block name with a space was accepted")
