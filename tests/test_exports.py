"""Every export opened with a real reader: nbformat and a kernel for the notebook,
pandoc and the zip for the DOCX, poppler for the PDFs."""
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from build_tools.export import parse_formats, tools
from build_tools.site.build import SiteOptions, build_site

from conftest import chromium_or_skip, require_module, require_tool
from helpers import exports_demo_project

DOC = "exports-demo"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    exports_demo_project(root)
    return root


@pytest.fixture(scope="module")
def site(project):
    chromium_or_skip()
    options = SiteOptions(talks=[str(project / "talks" / f"{DOC}.md")], project=str(project),
                          out=str(project / "_build/site"), exports=parse_formats("all"))
    report = build_site(options)
    assert report.ok, (report.failed, [d.format() for r in report.exports for d in r.diagnostics])
    return project / "_build/site", report


def test_index_links_every_export(site):
    out, _ = site
    index = (out / "index.html").read_text(encoding="utf-8")
    for suffix in (".ipynb", ".docx", ".pdf", ".slides.pdf"):
        link = f"exports/{DOC}{suffix}"
        assert f'href="{link}"' in index
        assert (out / link).is_file()


def test_each_talk_page_links_its_exports(site):
    """Before the tests below rebuild this site with fewer formats."""
    out, _ = site
    pages = {variant: (out / variant / f"{DOC}.html").read_text(encoding="utf-8")
             for variant in ("handout", "speaker-notes", "slides")}
    for variant, page in pages.items():
        for suffix in (".ipynb", ".docx", ".pdf", ".slides.pdf"):
            link = f"../exports/{DOC}{suffix}"
            assert f'href="{link}"' in page, (variant, suffix)
            assert (out / variant / link).resolve().is_file()
    title_slide = pages["slides"].split("<section", 2)[2].split("</section>")[0]
    assert "talks-exports" in title_slide  # on the deck's title slide, not a later one


def test_notebook_is_valid_and_keeps_code_in_order(site):
    import nbformat

    out, _ = site
    notebook = nbformat.read(out / "exports" / f"{DOC}.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert code == ["total = 40", "print(1+1)", "total = total + 2\nprint(total)"]
    prose = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "## Checking the Count" in prose or "### Checking the Count" in prose
    assert "$$" in prose and "\\newcommand{\\dataVector}" in prose
    assert "(The Royal Society, 2024)" in prose  # citations read as text
    assert "a bullet only the deck shows" not in prose
    image = next(line for line in prose.splitlines() if line.startswith("![]("))
    target = image[4:-1]
    assert (out / "exports" / target).is_file(), target  # copied next to the notebook


def test_notebook_runs(site):
    require_module("ipykernel")
    nbclient = require_module("nbclient")
    import nbformat

    out, _ = site
    notebook = nbformat.read(out / "exports" / f"{DOC}.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = [o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert "2\n" in outputs and "42\n" in outputs


def test_docx_has_headings_equations_citations_and_an_image(site):
    out, _ = site
    docx = out / "exports" / f"{DOC}.docx"
    with zipfile.ZipFile(docx) as archive:
        names = archive.namelist()
        document = archive.read("word/document.xml").decode("utf-8")
    assert any(n.startswith("word/media/") for n in names), names
    assert "<m:oMath" in document  # a Word equation, not TeX source
    text = subprocess.run([tools.pandoc(), str(docx), "-t", "plain"],
                          capture_output=True, text=True, check=True).stdout
    for heading in ("Counting Zanzibar Pelicans", "Checking the Count", "References"):
        assert heading in text
    assert "Royal Society" in text and "@RoyalSociety" not in text


def pdf_pages(path: Path) -> int:
    info = subprocess.run([require_tool("pdfinfo", "poppler-utils"), str(path)],
                          capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def pdf_text(path: Path) -> str:
    return subprocess.run([require_tool("pdftotext", "poppler-utils"), str(path), "-"],
                          capture_output=True, text=True, check=True).stdout


def leaf_slides(html: str) -> int:
    """Slides reveal.js shows: sections with no section inside them."""
    import re

    count, depth_has_child = 0, []
    for tag in re.finditer(r"<(/?)section\b", html):
        if not tag.group(1):
            if depth_has_child:
                depth_has_child[-1] = True
            depth_has_child.append(False)
        else:
            count += not depth_has_child.pop()
    return count


def test_slides_pdf_has_one_page_per_slide(site, project):
    out, _ = site
    pdf = out / "exports" / f"{DOC}.slides.pdf"
    deck = (out / "slides" / f"{DOC}.html").read_text(encoding="utf-8")
    assert pdf_pages(pdf) == leaf_slides(deck)
    text = pdf_text(pdf)
    assert "Zanzibar" in text.replace("ZANZIBAR", "Zanzibar")
    assert "a bullet only the deck shows" in text


def test_rendered_slide_page_is_not_blank(site, tmp_path):
    out, _ = site
    prefix = tmp_path / "page"
    subprocess.run([require_tool("pdftoppm", "poppler-utils"), "-png", "-r", "30", "-f", "2",
                    "-l", "2", "-singlefile", str(out / "exports" / f"{DOC}.slides.pdf"),
                    str(prefix)], check=True)
    assert png_variance(prefix.with_suffix(".png")) > 10


def test_handout_pdf_has_the_talks_words(site):
    out, _ = site
    pdf = out / "exports" / f"{DOC}.pdf"
    assert pdf_pages(pdf) >= 1
    text = pdf_text(pdf)
    assert "Zanzibar pelicans are counted" in " ".join(text.split())
    assert "a bullet only the deck shows" not in text


def test_exports_are_incremental_and_keep_the_last_good_file(site, project):
    out, report = site
    talk = project / "talks" / f"{DOC}.md"
    again = build_site(SiteOptions(talks=[str(talk)], project=str(project), out=str(out),
                                   exports=parse_formats("ipynb,docx")))
    assert [r.written for r in again.exports] == [[]]
    assert sorted(again.exports[0].up_to_date) == ["docx", "ipynb"]
    good = (out / "exports" / f"{DOC}.ipynb").read_bytes()
    text = talk.read_text(encoding="utf-8")
    try:
        talk.write_text(text.replace("\\section{Counting", "\\include{no-such-fragment.md}\n\n"
                                     "\\section{Counting"), encoding="utf-8")
        broken = build_site(SiteOptions(talks=[str(talk)], project=str(project), out=str(out),
                                        exports=parse_formats("ipynb")))
        assert not broken.ok
        assert (out / "exports" / f"{DOC}.ipynb").read_bytes() == good
    finally:
        talk.write_text(text, encoding="utf-8")


def test_missing_chromium_is_one_clear_message(site, project, monkeypatch, tmp_path):
    from build_tools.export import tools
    from build_tools.export.run import export_talks
    from build_tools.export.shared import ExportJob
    from build_tools.config import build_config

    monkeypatch.setenv("TALKS_CHROMIUM", "no-such-chromium")
    tools.chromium.cache_clear()
    talk = project / "talks" / f"{DOC}.md"
    out, _ = site
    job = ExportJob(str(talk), DOC, ("pdf", "slides-pdf"), str(tmp_path), build_config(talk),
                    {"handout": str(out / "handout" / f"{DOC}.html"),
                     "slides": str(out / "slides" / f"{DOC}.html")})
    try:
        [result] = export_talks([job])
    finally:
        tools.chromium.cache_clear()
    assert [d.code for d in result.diagnostics] == ["W-EXPORT-TOOL"]
    assert "no-such-chromium" in result.diagnostics[0].message
    assert result.written == ["pdf"]  # the handout is typeset: no browser


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown export odt"):
        parse_formats("ipynb,odt")


def png_variance(path: Path) -> float:
    """Pixel variance of an 8-bit PNG (any colour type, no interlace), read with zlib only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour = header[:4]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(line)
        previous = line
    values = [v for row in rows for v in row[::channels]]
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def test_a_deck_without_slides_is_refused_at_once(tmp_path):
    from build_tools.export.slides_pdf import has_slides

    empty = tmp_path / "empty.html"
    empty.write_text('<div class="reveal"><div class="slides"><p>title: x</p></div></div>')
    deck = tmp_path / "deck.html"
    deck.write_text('<div class="reveal"><div class="slides"><section>A</section></div></div>')
    assert not has_slides(empty) and has_slides(deck)


def test_a_build_without_exports_links_none_and_carries_no_stale_file(project):
    """The site holds and links only the exports this build asked for: older files stay
    in the work folder for a later build to reuse, never in the site."""
    out = project / "_build" / "no-exports"
    talk = str(project / "talks" / f"{DOC}.md")
    first = build_site(SiteOptions(talks=[talk], project=str(project), out=str(out),
                                   variants=("handout",), exports=("ipynb",)))
    assert first.ok and (out / "exports" / f"{DOC}.ipynb").is_file()
    assert 'href="../exports/' in (out / "handout" / f"{DOC}.html").read_text(encoding="utf-8")
    second = build_site(SiteOptions(talks=[talk], project=str(project), out=str(out),
                                    variants=("handout",), exports=()))
    assert second.ok
    assert not (out / "exports").exists()
    assert "exports/" not in (out / "index.html").read_text(encoding="utf-8")
    assert "../exports/" not in (out / "handout" / f"{DOC}.html").read_text(encoding="utf-8")
    assert list((project / "_build" / ".work" / "no-exports" / "exports").glob("*.ipynb"))


def test_pandoc_is_official_and_writes_docx_in_its_sandbox(tmp_path):
    """Debian's pandoc 2.17 cannot write DOCX under --sandbox (its data files are not built
    in); the pandoc the exports use can, and writes Typst (3.1.2 and later)."""
    pandoc = tools.pandoc()
    version = subprocess.run([pandoc, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[1]
    assert tools.version_tuple(version) >= tools.PANDOC_AT_LEAST
    out = tmp_path / "x.docx"
    subprocess.run([pandoc, "--sandbox", "--from=markdown", f"--output={out}"],
                   input="# Title\n\nText $x^2$.\n", text=True, check=True)
    with zipfile.ZipFile(out) as archive:
        assert "<m:oMath" in archive.read("word/document.xml").decode("utf-8")
    typst = subprocess.run([pandoc, "--sandbox", "--from=markdown", "--to=typst"],
                           input="# Title\n", capture_output=True, text=True, check=True).stdout
    assert typst.startswith("= Title")


def test_pandoc_gets_runtime_options_only_when_it_takes_them(tmp_path, monkeypatch):
    """The shipped pandoc takes a larger collector area; a pandoc built without runtime
    options would refuse to start with them, and is run without."""
    tools.pandoc_runtime.cache_clear()
    assert tools.pandoc_runtime() == tools.PANDOC_RUNTIME
    strict = tmp_path / "pandoc"
    strict.write_text('#!/bin/sh\n[ "$1" = "+RTS" ] && { echo "Most RTS options are disabled" >&2; '
                      'exit 1; }\necho "pandoc 3.9"\n')
    strict.chmod(0o755)
    monkeypatch.setattr(tools, "pandoc", lambda: str(strict))
    tools.pandoc_runtime.cache_clear()
    try:
        assert tools.pandoc_runtime() == ()
    finally:
        tools.pandoc_runtime.cache_clear()


def test_a_page_named_with_the_talks_is_published_as_a_page_and_not_exported(tmp_path):
    """A Jekyll page among the talks (``layout:``, no macro) named on the command line, as
    a repository's file list names it: a page of the site, with no exports to fail."""
    from conftest import ROOT
    from helpers import write_repo

    project = write_repo(tmp_path, {
        "conf.py": (ROOT / "conf.py").read_text(), "includes/.keep": "",
        "talks/lecture.md": "---\ntitle: A Lecture\n---\n\n\\section{Start}\n\n\\notes{Words.}\n",
        "talks/evidence.md": "---\ntitle: Evidence\nlayout: talk\n---\n\nA session's page.\n"})
    talks = [str(project / "talks" / name) for name in ("lecture.md", "evidence.md")]
    report = build_site(SiteOptions(talks=talks, project=str(project),
                                    out=str(project / "_build" / "site"),
                                    exports=parse_formats("ipynb")))
    assert [(r.doc, r.written, r.failed) for r in report.exports] == [("lecture", ["ipynb"], False)]
    assert (project / "_build" / "site" / "handout" / "pages" / "evidence.html").is_file()


def test_notebook_code_names_the_diagrams_where_the_notebook_runs(tmp_path):
    """lamd's notebooks name the diagrams folder relative to where they run; '/diagrams' is
    the site's address, which a student does not have.  The folder the notebook's own code
    writes its diagrams to (``writediagramsdir``) is named instead."""
    import nbformat

    from build_tools.config import build_config
    from build_tools.export.notebook import write_notebook

    talk = exports_demo_project(tmp_path)
    talk.write_text("---\ntitle: Plots\nwritediagramsdir: .\n---\n\n\\include{talk-macros.gpp}\n\n"
                    "## Plots\n\n\\displaycode{nu.display_plots('x{sample:0>3}.svg', "
                    "'\\diagramsDir', sample=(0, 3))}\n\n"
                    "\\plotcode{plot.trends(diagrams='\\diagramsDir/ml')}\n", encoding="utf-8")
    out = tmp_path / "plots.ipynb"
    write_notebook(str(talk), out, build_config(talk), None)
    code = "\n".join(c.source for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code")
    assert "display_plots('x{sample:0>3}.svg', '.', sample=(0, 3))" in code
    assert "diagrams='./ml'" in code and "/diagrams" not in code
