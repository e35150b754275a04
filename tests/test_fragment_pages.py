"""The site's pages for maintainers: each shared fragment and the talks that use it."""
import re
import shutil
from pathlib import Path

from build_tools.site.build import SiteOptions, build_site

ROOTS = Path(__file__).parent / "roots"


def test_fragment_pages_list_the_talks_that_use_each_fragment(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    out = tmp_path / "site"
    report = build_site(SiteOptions(variants=("handout",), out=str(out), project=str(project)))
    assert report.ok
    index = (out / "fragments/index.html").read_text()
    rows = re.findall(r'<a href="([^"]+)"><code>([^<]+)</code></a></td><td>(\d+)</td>', index)
    counts = {name: int(n) for _, name, n in rows}
    assert counts == {"_shared/includes/common.md": 3, "_shared/includes/ab.md": 2,
                      "_shared/includes/c-only.md": 1}
    page = (out / "fragments" / dict((n, h) for h, n, _ in rows)["_shared/includes/ab.md"]).read_text()
    links = re.findall(r'href="(\.\./handout/[^"]+)"', page)
    assert links == ["../handout/alpha.html", "../handout/beta.html"]
    assert all((out / "fragments" / link).resolve().is_file() for link in links)
    assert 'href="fragments/index.html"' in (out / "index.html").read_text()


def test_a_rebuild_reads_again_only_the_files_whose_includes_may_have_changed(tmp_path, monkeypatch):
    """Each file's include lines are kept with its stamp: a rebuild reads only the files
    that changed, and the pages follow an include added to one of them."""
    from build_tools.engine import graph
    from build_tools.site import fragments

    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    out = tmp_path / "site"
    assert build_site(SiteOptions(variants=("handout",), out=str(out), project=str(project))).ok
    read = []
    monkeypatch.setattr(fragments, "include_lines",
                        lambda path: read.append(Path(path).name) or graph.include_lines(path))
    c_only = project / "includes/_shared/includes/c-only.md"
    c_only.write_text(c_only.read_text() + "\n\\include{_shared/includes/ab.md}\n")
    assert build_site(SiteOptions(variants=("handout",), out=str(out), project=str(project))).ok
    assert read == ["c-only.md"]
    index = (out / "fragments/index.html").read_text()
    counts = {name: int(n) for name, n in re.findall(r"<code>([^<]+)</code></a></td><td>(\d+)</td>", index)}
    assert counts["_shared/includes/ab.md"] == 3, "gamma now reaches it through c-only.md"


def test_a_damaged_record_of_include_lines_is_read_anew(tmp_path):
    import pickle

    from build_tools.engine.source import file_stamp

    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    out = tmp_path / "site"
    assert build_site(SiteOptions(variants=("handout",), out=str(out), project=str(project))).ok
    before = (out / "fragments/index.html").read_text()
    record = next((tmp_path / ".work").rglob("fragment-includes.pickle"))
    alpha = str(project / "talks/alpha.md")
    record.write_bytes(pickle.dumps({alpha: (file_stamp(alpha), 5), "x": "junk"}))
    assert build_site(SiteOptions(variants=("handout",), out=str(out), project=str(project))).ok
    assert (out / "fragments/index.html").read_text() == before


def test_a_rebuild_renders_again_only_the_pages_whose_contents_changed(tmp_path, monkeypatch):
    """Each page's HTML is kept with what it shows: after an include is added, only the
    pages it changes are rendered, and every page is the one a build from scratch makes.
    A damaged record renders every page again."""
    from build_tools.site import fragments

    project = tmp_path / "project"
    shutil.copytree(ROOTS / "test-three-talks", project)
    out = tmp_path / "site"
    options = SiteOptions(variants=("handout",), out=str(out), project=str(project))
    assert build_site(options).ok
    rendered = []
    real = fragments.render_template
    monkeypatch.setattr(fragments, "render_template",
                        lambda template, name, value: rendered.append(
                            value["name"] if name == "fragment" else template)
                        or real(template, name, value))
    c_only = project / "includes/_shared/includes/c-only.md"
    c_only.write_text(c_only.read_text() + "\n\\include{_shared/includes/ab.md}\n")
    assert build_site(options).ok
    assert sorted(rendered) == ["_shared/includes/ab.md", "fragments.html"]

    fresh = tmp_path / "fresh"
    assert build_site(SiteOptions(variants=("handout",), out=str(fresh), project=str(project),
                                  work=str(tmp_path / "fresh-work"))).ok
    pages = sorted(p.name for p in (out / "fragments").iterdir())
    assert pages == sorted(p.name for p in (fresh / "fragments").iterdir())
    for name in pages:
        assert (out / "fragments" / name).read_bytes() == (fresh / "fragments" / name).read_bytes()

    record = next((tmp_path / ".work").rglob("fragment-pages.pickle"))
    record.write_bytes(b"not a record")
    rendered.clear()
    assert build_site(options).ok
    assert len(rendered) == len(pages) - 1  # every page but the style sheet
