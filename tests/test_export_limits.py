"""Every outside step of an export ends: Typst and the printing browser are stopped at their
time limit with an error that names the step, Typst reads no package, a talk cannot program
a document writer through attributes or raw content, and WebRTC sends nothing from the
printing browser."""
from __future__ import annotations

import socket
import time
import zipfile
from pathlib import Path

import pytest

from build_tools.config import build_config
from build_tools.export import tools
from build_tools.export.typst_process import CompileError, compile_typst

from conftest import chromium_or_skip, require_module
from helpers import Listeners, write_repo


def test_a_typst_document_that_never_ends_is_stopped_at_its_limit(tmp_path):
    require_module("typst")
    start = time.monotonic()
    with pytest.raises(tools.StepTimeout, match="Typst ran past its time limit of 2 s"):
        compile_typst(b"#for i in range(100000) { for j in range(100000) { } }", str(tmp_path),
                      timeout=2)
    assert time.monotonic() - start < 10
    # the next document gets a fresh compiler
    assert compile_typst(b"Hello", str(tmp_path), timeout=60).startswith(b"%PDF")


def test_a_typst_document_that_takes_all_memory_is_stopped(tmp_path):
    """An array of a billion numbers: the child's memory ceiling stops it (or, on a machine
    that fills memory slowly, the time limit), never the machine."""
    require_module("typst")
    start = time.monotonic()
    with pytest.raises(tools.ToolFailure, match="memory|time limit"):
        compile_typst(b"#let a = range(1000000000)\n#a.len()", str(tmp_path), timeout=20)
    assert time.monotonic() - start < 30
    assert compile_typst(b"Hello", str(tmp_path), timeout=60).startswith(b"%PDF")


def test_typst_reads_no_package(tmp_path):
    require_module("typst")
    start = time.monotonic()
    with pytest.raises(CompileError):
        compile_typst(b'#import "@preview/cetz:0.2.2": canvas\nHello', str(tmp_path), timeout=60)
    assert time.monotonic() - start < 30


TALK = """---
title: Writers
date: 2025-01-15
---

\\section{Attributes}

\\notes{Plain [X]{typst:text:fill="red)[INJECTED] #text(fill: red"} and
[Y]{custom-style="Title"} and `<a:t>OPENXML</a:t>`{=openxml} and `#text[RAWTYPST]`{=typst}.}

\\slides{* A point [Z]{typst:text:fill="blue)[SLIDEINJECTED] #text(fill: blue"}
* `<a:t>SLIDEOPENXML</a:t>`{=openxml}}
"""


def test_no_writer_is_programmed_by_a_talk(tmp_path, monkeypatch):
    require_module("typst")
    from build_tools.export.shared import handout_tree
    from build_tools.export.pptx import write_pptx
    from build_tools.export.typeset import write_handout_pdf

    project = write_repo(tmp_path, {"includes/.keep": "", "talks/w.md": TALK})
    talk = project / "talks" / "w.md"
    monkeypatch.chdir(project)
    config = build_config(talk)
    handout = handout_tree(str(talk), config)
    said = [(w.code, str(w.location), w.message.split(" left out")[0]) for w in handout.warnings]
    assert said == [("W-EXPORT-ATTRIBUTE", "talks/w.md:8:8", "attribute typst:text:fill"),
                    ("W-EXPORT-ATTRIBUTE", "talks/w.md:9:1", "attribute custom-style")], said
    pdf = tmp_path / "w.pdf"
    _inputs, errors, _warnings = write_handout_pdf(str(talk), pdf, config, None, handout=handout)
    assert not errors
    text = _pdf_text(pdf)
    assert "Plain" in text and "INJECTED" not in text and "RAWTYPST" not in text
    deck = tmp_path / "w.pptx"
    _inputs, errors, warnings = write_pptx(str(talk), deck, config, None)
    assert not errors and any(w.code == "W-EXPORT-ATTRIBUTE" for w in warnings)
    with zipfile.ZipFile(deck) as z:
        xml = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()
                       if n.endswith(".xml"))
    assert "A point" in xml and "SLIDEOPENXML" not in xml and "SLIDEINJECTED" not in xml


METADATA_TALK = """---
title: Metadata
date: 2025-01-15
---

\\section{Metadata}

\\notes{A paragraph before the block.

---
header-includes: '`#text[HEADERINJECTED]`{=typst}'
subtitle: '`#text[SUBTITLEINJECTED]`{=typst} kept as text'
---

A paragraph after the block.}
"""


def test_a_yaml_block_in_the_body_sets_no_metadata_a_writer_obeys(tmp_path, monkeypatch):
    require_module("typst")
    from build_tools.export.typeset import write_handout_pdf

    project = write_repo(tmp_path, {"includes/.keep": "", "talks/m.md": METADATA_TALK})
    talk = project / "talks" / "m.md"
    monkeypatch.chdir(project)
    pdf = tmp_path / "m.pdf"
    _inputs, errors, warnings = write_handout_pdf(str(talk), pdf, build_config(talk), None)
    assert not errors
    said = [(str(w.location), w.message.split(" left out")[0]) for w in warnings
            if w.code == "W-EXPORT-ATTRIBUTE"]
    assert said == [("talks/m.md:11:1", "metadata header-includes")], said
    text = _pdf_text(pdf)
    assert "A paragraph after the block" in text
    assert "HEADERINJECTED" not in text and "SUBTITLEINJECTED" not in text


def _pdf_text(pdf: Path) -> str:
    import subprocess

    from conftest import require_tool

    return subprocess.run([require_tool("pdftotext", "poppler-utils"), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


WEBRTC = """<!doctype html><html><body><p>deck</p><script>
window.tried = [];
for (const url of ['stun:127.0.0.1:{v4}', 'stun:[::1]:{v6}', 'turn:127.0.0.1:{v4}']) {
  try {
    const Peer = window.RTCPeerConnection || window.webkitRTCPeerConnection;
    const pc = new Peer({iceServers: [{urls: url, username: 'u', credential: 'c'}]});
    pc.createDataChannel('x');
    pc.createOffer().then(o => pc.setLocalDescription(o));
    window.tried.push(url);
  } catch (e) { window.tried.push('refused ' + e); }
}
const frame = document.createElement('iframe');
document.body.append(frame);
try {
  const Peer = frame.contentWindow.RTCPeerConnection;
  const pc = new Peer({iceServers: [{urls: 'stun:127.0.0.1:{v4}'}]});
  pc.createDataChannel('y');
  pc.createOffer().then(o => pc.setLocalDescription(o));
} catch (e) {}
setTimeout(() => { window.settled = true; }, 3000);
</script></body></html>"""


def test_webrtc_sends_nothing_from_the_printing_browser(tmp_path):
    chromium_or_skip()
    from build_tools.export.browser import chromium

    listener = Listeners()
    try:
        page = tmp_path / "site" / "deck.html"
        page.parent.mkdir()
        page.write_text(WEBRTC.replace("{v4}", str(listener.port("127.0.0.1", socket.SOCK_DGRAM)))
                        .replace("{v6}", str(listener.port("::1", socket.SOCK_DGRAM))))
        with chromium(timeout_ms=30000) as printer:
            printer.print_page(page.parent, page, tmp_path / "deck.pdf",
                               ready="() => window.settled")
        time.sleep(1)
    finally:
        listener.close()
    assert (tmp_path / "deck.pdf").read_bytes().startswith(b"%PDF")
    assert listener.seen == []


def stopped_then_next_page_prints(tmp_path, html: str, ready: str, message: str) -> None:
    """Printing ``html`` ends with ``StepTimeout`` (matching ``message``) at a 3 s limit, well
    within a minute, and the same printer then prints the next page."""
    from build_tools.export.browser import chromium

    page = tmp_path / "site" / "deck.html"
    page.parent.mkdir()
    page.write_text(html)
    start = time.monotonic()
    with chromium(timeout_ms=3000) as printer:
        with pytest.raises(tools.StepTimeout, match=message):
            printer.print_page(page.parent, page, tmp_path / "deck.pdf", ready=ready)
        good = tmp_path / "site" / "good.html"
        good.write_text("<!doctype html><p>fine</p><script>window.ok = 1;</script>")
        printer.print_page(good.parent, good, tmp_path / "good.pdf", ready="() => window.ok")
    assert time.monotonic() - start < 60
    assert (tmp_path / "good.pdf").read_bytes().startswith(b"%PDF")


def test_a_page_that_is_never_ready_is_stopped_at_the_limit(tmp_path):
    chromium_or_skip()
    stopped_then_next_page_prints(
        tmp_path, '<!doctype html><html><head><base href="file:///"></head><body>'
        '<script src="reveal.js"></script><p>never ready</p></body></html>',
        "() => window.__talksPdfReady", "waited 3 s for reveal.js")


def test_a_deck_over_the_slide_budget_is_refused_and_the_rest_exported(tmp_path, monkeypatch):
    require_module("sphinx.application", "sphinx")
    from click.testing import CliRunner

    from build_tools.cli import main

    conf = Path(__file__).resolve().parent.parent / "build_tools/templates/project/conf.py"
    slides = "\n\n".join(f"\\slides{{## Slide {n}\n\n* point {n}}}" for n in range(8))
    project = write_repo(tmp_path, {
        "conf.py": conf.read_text(encoding="utf-8") + "\ntalks_max_slides = 5\n",
        "includes/.keep": "",
        "talks/long.md": f"---\ntitle: Long\ndate: 2025-01-15\n---\n\n{slides}\n",
        "talks/short.md": "---\ntitle: Short\ndate: 2025-01-16\n---\n\n\\slides{## One\n\n* a}\n",
    })
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "--quiet", "--to", "pptx,ipynb"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "talks/long.md:1:1: error: cannot export as pptx: the deck has" in result.output
    assert "more than the 5 a pptx is made of (talks_max_slides)" in result.output
    exports = {p.name for p in (project / "_build/site/exports").iterdir()}
    assert {"short.pptx", "short.ipynb", "long.ipynb"} <= exports and "long.pptx" not in exports


def test_a_page_that_hangs_while_printing_is_stopped_at_the_limit(tmp_path):
    """``page.pdf`` has no time limit of its own: a script looping in ``beforeprint`` would
    hold the worker for ever."""
    chromium_or_skip()
    stopped_then_next_page_prints(
        tmp_path, "<!doctype html><p>hang</p><script>window.ok = 1;"
        "addEventListener('beforeprint', () => { while (true) {} });</script>",
        "() => window.ok", "more than 3 s to print")
