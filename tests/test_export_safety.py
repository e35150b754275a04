"""A hostile talk through every export: it names a secret file outside the project and a
service on the loopback interface in every way a talk can name a resource.  No exported
file may hold the secret, and the service must see no request.

(A path the engine sees that climbs out of the project, ``![](../../x.svg)``, is already an
error that fails the talk, so it never reaches an export: ``test_robustness`` covers it.)

One build of one talk makes all four exports (real Sphinx, real Chromium, real pandoc);
the exports are read back with real readers (zip, nbformat, pdftotext).
"""
import http.server
import json
import re
import shutil
import subprocess
import socket
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from build_tools.diagnostics import Severity
from build_tools.export import parse_formats
from build_tools.site.build import SiteOptions, build_site

from conftest import ROOT, chromium_or_skip, require_tool
from helpers import Listeners

DOC = "hostile"
TOKEN = f"SECRET-{uuid.uuid4().hex}"
"""In every secret file and in every answer of the loopback service."""


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers anything with the secret, and remembers what was asked."""

    seen: list[str] = []

    def do_GET(self):
        Recorder.seen.append(self.path)
        body = {".svg": f'<svg xmlns="http://www.w3.org/2000/svg"><text y="20">{TOKEN}</text></svg>',
                ".css": f'body::before {{ content: "{TOKEN}"; }}',
                ".js": f"document.body.append('{TOKEN}');",
                ".vtt": f"WEBVTT\n\n00:00.000 --> 00:10.000\n{TOKEN}\n"}.get(Path(self.path).suffix,
                                                                        f"<p>{TOKEN}</p>")
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET

    def log_message(self, *args):
        pass


class HTTPServerV6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


@pytest.fixture(scope="module")
def loopback():
    """Services on 127.0.0.1 and ::1 for the module's build (HTTP, and raw TCP and UDP
    listeners); they stop themselves after fifteen minutes."""
    Recorder.seen = []
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder),
               HTTPServerV6(("::1", 0), Recorder)]
    stops = []
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
        stop = threading.Timer(900, server.shutdown)
        stop.daemon = True
        stop.start()
        stops.append(stop)
    raw = Listeners()
    web, web6 = (f"http://127.0.0.1:{servers[0].server_address[1]}",
                 f"http://[::1]:{servers[1].server_address[1]}")
    yield Loopback(web, web6, raw), Recorder.seen
    for stop, server in zip(stops, servers, strict=True):
        stop.cancel()
        server.shutdown()
        server.server_close()
    raw.close()


@dataclass
class Loopback:
    web: str
    web6: str
    raw: Listeners

    def __str__(self) -> str:
        return self.web

    def webrtc(self) -> str:
        """A script that asks WebRTC to reach every raw listener (STUN over UDP, TURN over TCP)."""
        urls = [f"stun:127.0.0.1:{self.raw.port('127.0.0.1', socket.SOCK_DGRAM)}",
                f"stun:[::1]:{self.raw.port('::1', socket.SOCK_DGRAM)}",
                f"turn:127.0.0.1:{self.raw.port('127.0.0.1', socket.SOCK_STREAM)}?transport=tcp",
                f"turn:[::1]:{self.raw.port('::1', socket.SOCK_STREAM)}?transport=tcp"]
        return ("<script>for (const url of " + json.dumps(urls) + ") { try {"
                " const pc = new (window.RTCPeerConnection || window.webkitRTCPeerConnection)("
                "{iceServers: [{urls: url, username: 'u', credential: 'c'}]});"
                " pc.createDataChannel('x'); pc.createOffer().then(o => pc.setLocalDescription(o));"
                " } catch (e) {} }</script>")


def secret_files(outside: Path) -> None:
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{TOKEN}\n")
    (outside / "secret.svg").write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40">'
        f'<text x="5" y="25">{TOKEN}</text></svg>')
    (outside / "secret.css").write_text(f'body::before {{ content: "{TOKEN}"; }}')
    (outside / "secret.html").write_text(f"<p>{TOKEN}</p>")
    (outside / "secret.js").write_text(f"document.body.append('{TOKEN}');")


def hostile_svg(out: str, web: str) -> str:
    """A diagram inside the project that names an outside file and a URL."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="300" height="120"><style>@import url("{web}/svg-import.css");</style>'
            f'<image href="file://{out}/secret.svg" width="100" height="100"/>'
            f'<image xlink:href="{web}/svg-image.svg" x="100" width="100" height="100"/>'
            f'<image href="../../outside/secret.svg" x="200" width="100" height="100"/>'
            f'<rect width="10" height="10" fill="url({web}/svg-fill.svg#p)"/></svg>')


def hostile_html(out: str, web: str) -> str:
    """Every HTML element and CSS construct that names a resource, twice: the secret file
    and the loopback service."""
    file = f"file://{out}"
    return f"""
<iframe src="{file}/secret.txt"></iframe>
<iframe src="{web}/iframe.html"></iframe>
<object data="{file}/secret.svg" type="image/svg+xml"></object>
<object data="{web}/object.svg" type="image/svg+xml"></object>
<embed src="{file}/secret.svg" type="image/svg+xml">
<embed src="{web}/embed.svg" type="image/svg+xml">
<img src="{file}/secret.svg" alt="file img">
<img src="{web}/img.svg" alt="web img">
<img srcset="{file}/secret.svg 1x, {web}/srcset.svg 2x" alt="srcset">
<picture><source srcset="{web}/picture.svg" type="image/svg+xml"><source srcset="{file}/secret.svg">
<img src="{web}/picture-img.svg" alt="picture"></picture>
<video src="{web}/video.mp4" poster="{file}/secret.svg" controls>
<track src="{web}/track.vtt" kind="captions" default></video>
<video controls poster="{web}/poster.svg"><source src="{file}/secret.txt">
<track src="{file}/secret.txt" kind="subtitles" default></video>
<audio src="{web}/audio.mp3" controls></audio>
<link rel="stylesheet" href="{web}/link.css">
<link rel="stylesheet" href="{file}/secret.css">
<link rel="prefetch" href="{web}/prefetch.html">
<script src="{web}/script.js"></script>
<script src="{file}/secret.js"></script>
<script>fetch("{web}/fetch").catch(() => null); fetch("{file}/secret.txt").catch(() => null);
new Image().src = "{web}/script-image.png"; navigator.sendBeacon && navigator.sendBeacon("{web}/beacon");
try {{ new WebSocket("{web.replace('http', 'ws')}/socket"); }} catch (e) {{}}</script>
<style>@import url("{web}/import.css"); @import "{file}/secret.css";
.hostile-bg {{ background-image: url("{web}/background.svg"); }}
.hostile-file {{ background-image: url("{file}/secret.svg"); }}</style>
<div class="hostile-bg hostile-file" style="width:50px;height:50px;background:url('{web}/inline.svg')">styled</div>
<span style="background-image:url({file}/secret.svg)">inline file</span>
"""


def hostile_ipv6(web6: str) -> str:
    """The same kinds of request, to the service on IPv6 loopback."""
    return (f'<iframe src="{web6}/iframe6.html"></iframe><img src="{web6}/img6.svg" alt="v6">'
            f'<link rel="stylesheet" href="{web6}/link6.css"><script>fetch("{web6}/fetch6")'
            '.catch(() => null);</script>')


def hostile_talk(out: str, web: str, extra_html: str = "") -> str:
    return f"""---
title: Hostile Resources
author:
- given: Mallory
  family: Hacker
date: 2025-01-15
---

\\include{{talk-macros.gpp}}

\\section{{Resources Everywhere}}

{hostile_html(out, web)}
{extra_html}

\\notes{{A paragraph of the handout.

<meta http-equiv="refresh" content="3;url={web}/refresh">
<base href="{web}/base/">

![absolute path]({out}/secret.svg)

![file url](file://{out}/secret.svg)

![loopback]({web}/markdown.svg)

![the checkout's settings](../.git/config)

<img src="../.git/config" alt="git config"> <object data="../conf.py"></object>

Typeset [in red]{{typst:text:fill="red)[INJECTED] #text(fill: red"}} and styled
[as a title]{{custom-style="Title"}}, with `<a:t>OPENXML</a:t>`{{=openxml}} inline.
}}

\\slides{{* [A point]{{typst:text:fill="blue)[SLIDEINJECTED] #text(fill: blue"}}
* `<a:t>SLIDEOPENXML</a:t>`{{=openxml}}}}

\\figure{{\\includediagram{{\\diagramsDir/hostile}}{{60%}}}}{{A diagram that names things outside.}}{{hostile-diagram}}

\\section{{The Diagram as an Object}}

<object data="/diagrams/hostile.svg" type="image/svg+xml"></object>

\\notes{{The end.}}
"""


STEP_SECONDS = 20
"""The project's limit on each outside step: the talk whose deck never loads waits that long."""

NEVER_READY = """---
title: A Deck That Never Loads
date: 2025-01-16
---

\\section{The Base}

<base href="file:///">

\\notes{reveal.js is named relative to the page, so the base sends it to the disk.}
"""

SETTINGS_REACH_OUT = """---
title: Settings That Reach Out
date: 2025-01-17
---

\\section{Figures}

\\figure{\\includediagram{\\diagramsDir/secret}{60%}}{From the settings' folder.}{secret}
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory, loopback):
    """The hostile talk, a deck that never becomes ready and a folder whose settings name the
    secret folder, built with every export; the report and how long the build took."""
    chromium_or_skip()
    net, _seen = loopback
    web = net.web
    base = tmp_path_factory.mktemp("hostile")
    project, outside = base / "project", base / "outside"
    secret_files(outside)
    project.mkdir()
    (project / "conf.py").write_text((ROOT / "conf.py").read_text(encoding="utf-8")
                                     + f"\ntalks_step_timeout = {STEP_SECONDS}\n# {TOKEN}\n")
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text(f"[http]\n\textraheader = AUTHORIZATION: {TOKEN}\n")
    for folder in ("includes", "macros"):
        shutil.copytree(ROOT / folder, project / folder)
    (project / "diagrams").mkdir()
    (project / "diagrams" / "hostile.svg").write_text(hostile_svg(str(outside), web))
    (project / "talks").mkdir()
    (project / "talks" / "references.bib").write_text("")
    talk = project / "talks" / f"{DOC}.md"
    talk.write_text(hostile_talk(str(outside), web, hostile_ipv6(net.web6) + net.webrtc()))
    (project / "talks" / "never-ready.md").write_text(NEVER_READY)
    (project / "talks" / "reach").mkdir()
    (project / "talks" / "reach" / "_lamd.yml").write_text(
        "diagramsdir: ../../../outside\nbibdir: ../../../outside\n")
    (project / "talks" / "reach" / "settings.md").write_text(SETTINGS_REACH_OUT)
    talks = [str(talk), str(project / "talks" / "never-ready.md"),
             str(project / "talks" / "reach" / "settings.md")]
    start = time.monotonic()
    report = build_site(SiteOptions(talks=talks, project=str(project),
                                    out=str(project / "_build" / "site"),
                                    exports=parse_formats("all")))
    report.seconds = time.monotonic() - start
    # every file written, those the completeness check set aside too
    return project / "_build" / ".work" / "site" / "exports", report, outside


def made(folder: Path, suffix: str) -> Path:
    """The export written, or set aside as incomplete: the talk's raw HTML pictures (an
    ``<object>``, an ``<embed>``) are not part of a document, and the build says so."""
    whole = folder / f"{DOC}{suffix}"
    return whole if whole.is_file() else folder / f"{DOC}.incomplete{suffix}"


def result_of(report, doc: str = DOC):
    return next(r for r in report.exports if r.doc.endswith(doc))


def test_every_format_was_exported(exported):
    folder, report, _ = exported
    result = result_of(report)
    assert sorted(result.written + result.incomplete) == sorted(parse_formats("all")), \
        [d.format() for d in result.diagnostics]
    for suffix in (".ipynb", ".docx", ".pdf", ".slides.pdf"):
        assert made(folder, suffix).is_file()


def test_no_exported_file_holds_the_secret(exported):
    folder, _, _ = exported
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path.name


def test_the_docx_holds_no_secret_inside(exported):
    folder, _, _ = exported
    with zipfile.ZipFile(made(folder, ".docx")) as archive:
        for name in archive.namelist():
            assert TOKEN.encode() not in archive.read(name), name
        document = archive.read("word/document.xml").decode("utf-8")
    assert "A paragraph of the handout" in document  # the export is real, not empty


@pytest.mark.parametrize("suffix", [".pdf", ".slides.pdf"])
def test_the_pdfs_show_no_secret(exported, suffix):
    pdftotext = require_tool("pdftotext", "poppler-utils")
    folder, _, _ = exported
    text = subprocess.run([pdftotext, str(made(folder, suffix)), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Resources Everywhere" in text.replace("RESOURCES EVERYWHERE", "Resources Everywhere")
    assert TOKEN not in text


def test_the_notebook_names_nothing_outside_the_project(exported):
    import nbformat

    folder, _, outside = exported
    notebook = nbformat.read(made(folder, ".ipynb"), as_version=4)
    text = json.dumps(notebook)
    assert TOKEN not in text
    assert str(outside) not in text and "file:" not in text and "../outside" not in text
    assert "A paragraph of the handout" in text
    copied = folder / f"{DOC}_files"
    for path in copied.rglob("*") if copied.is_dir() else []:
        assert path.resolve().is_relative_to(folder.resolve())


def test_the_loopback_service_saw_no_request(exported, loopback):
    net, seen = loopback
    assert seen == []  # HTTP on 127.0.0.1 and ::1
    assert net.raw.seen == []  # TCP and UDP (WebRTC's STUN and TURN) on both


def test_the_whole_tree_holds_no_secret(exported):
    """The site, the work folder and every export: nothing from outside, from ``.git`` or
    from conf.py reaches any of them."""
    folder, _, _ = exported
    build = folder.parent.parent
    leaked = sorted(str(p.relative_to(build)) for p in build.rglob("*")
                    if p.is_file() and TOKEN.encode() in p.read_bytes())
    assert leaked == []


def test_no_writer_obeys_the_talk(exported):
    folder, report, _ = exported
    pdftotext = require_tool("pdftotext", "poppler-utils")
    text = subprocess.run([pdftotext, str(made(folder, ".pdf")), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "in red" in text and "INJECTED" not in text
    with zipfile.ZipFile(made(folder, ".pptx")) as deck:
        xml = " ".join(deck.read(n).decode("utf-8", "replace") for n in deck.namelist()
                       if n.endswith(".xml"))
    assert "A point" in xml and "SLIDEINJECTED" not in xml and "OPENXML" not in xml
    with zipfile.ZipFile(made(folder, ".docx")) as docx:
        document = docx.read("word/document.xml").decode("utf-8")
    assert "as a title" in document and "OPENXML" not in document
    said = {d.message.split(" left out")[0] for d in result_of(report).diagnostics
            if d.code == "W-EXPORT-ATTRIBUTE"}
    assert said == {"attribute typst:text:fill", "attribute custom-style"}


def test_a_deck_that_never_loads_fails_at_its_limit_and_the_rest_is_built(exported):
    folder, report, _ = exported
    never = result_of(report, "never-ready")
    [problem] = [d for d in never.diagnostics if d.severity >= Severity.ERROR]
    assert problem.location.file.endswith("never-ready.md")
    assert f"waited {STEP_SECONDS} s for reveal.js" in problem.message
    assert "slides-pdf" not in never.written and "pdf" in never.written
    assert (folder.parents[2] / "site" / "handout" / "never-ready.html").is_file()
    assert report.seconds < 600  # a limit per step, not a hang


def test_settings_naming_the_secret_folder_fail_the_talk_at_their_line(exported):
    _, report, _ = exported
    [doc] = [d for d in report.failed if d.endswith("settings")]
    problems = " ".join(report.failed[doc])
    assert re.search(r"_lamd\.yml:1:1: error: diagramsdir \.\./\.\./\.\./outside resolves", problems)
    assert "bibdir ../../../outside" in problems


def test_refused_urls_are_warnings_at_the_talks_line(exported, loopback):
    web = loopback[0].web
    _, report, outside = exported
    result = result_of(report)
    refused = [d for d in result.diagnostics if d.code == "W-EXPORT-REFUSED"]
    messages = " ".join(d.message for d in refused)
    for name in ("iframe.html", "object.svg", "img.svg", "link.css", "script.js", "import.css"):
        assert f"{web}/{name}" in messages, name
    assert f"file://{outside}/secret.txt" in messages
    talk_lines = Path(refused[0].location.file).read_text().splitlines()
    located = [d for d in refused if "iframe.html" in d.message]
    assert "iframe.html" in talk_lines[located[0].location.line - 1]
    assert len({d.message for d in refused}) == len(refused)  # each once, for both PDFs


def test_the_server_answers_only_from_its_folder(tmp_path):
    """The browser's file server on its own: symlinks out, other hosts and schemes refused."""
    from build_tools.export.browser import ORIGIN, SiteServer

    site = tmp_path / "site"
    (site / "sub").mkdir(parents=True)
    (site / "sub" / "page.html").write_text("<p>page</p>")
    (tmp_path / "secret.txt").write_text(TOKEN)
    (site / "link.txt").symlink_to(tmp_path / "secret.txt")
    server = SiteServer(site)
    assert server.answer(f"{ORIGIN}/sub/page.html")[0] == "file"
    assert server.answer(f"{ORIGIN}/sub/../sub/page.html?print-pdf")[0] == "file"
    assert server.answer(f"{ORIGIN}/nothing.html") == ("missing", None)
    for url in (f"{ORIGIN}/link.txt", f"{ORIGIN}/%2e%2e/secret.txt", "http://TALKS.invalid.evil/x",
                "http://127.0.0.1/", "http://[::ffff:127.0.0.1]/", f"file://{tmp_path}/secret.txt",
                f"https://{ORIGIN[7:]}/sub/page.html", "ftp://talks.invalid/sub/page.html",
                f"{ORIGIN}:8080/sub/page.html", f"http://user@{ORIGIN[7:]}/sub/page.html"):
        assert server.answer(url) == ("refused", None), url


def test_notebook_and_docx_links_are_rewritten_or_dropped():
    from build_tools.export.markdown import rewrite_references

    kept = []

    def link(url):
        kept.append(url)
        return "ok.png" if url == "inside.png" else None

    text = ('![a](inside.png) ![b](file:///x/secret.svg) <img src="/etc/x" srcset="inside.png 1x, '
            'b.png 2x"> <div style="background:url(\'../x.png\')"></div> <style>@import "y.css";</style>'
            ' <meta http-equiv="refresh" content="0;url=file:///z">')
    out = rewrite_references(text, link)
    assert "![a](ok.png)" in out and "secret" not in out and "/etc/x" not in out
    assert 'srcset="ok.png 1x"' in out and "../x.png" not in out and "y.css" not in out
    assert "file:///z" not in out
    assert re.search(r"!\[b\]", out) is None and " b " in f" {out} "


STORING = """<p id="wrote">nothing written</p>
<script>
localStorage.setItem("leak", "LEAKLOCAL"); sessionStorage.setItem("leak", "LEAKSESSION");
document.cookie = "leak=LEAKCOOKIE; domain=talks.invalid; path=/";
document.cookie = "leakhere=LEAKHOSTCOOKIE; path=/";
document.getElementById("wrote").textContent = "wrote " + localStorage.getItem("leak") + " "
  + sessionStorage.getItem("leak") + " " + document.cookie.replace(/[=;]/g, " ");
</script>"""

READING = """<p id="seen">nothing read</p>
<script>
document.getElementById("seen").textContent = "seen " + localStorage.length + " "
  + sessionStorage.length + " [" + document.cookie + "]";
</script>"""


def deck_talk(title: str, html: str) -> str:
    return f"""---
title: {title}
author:
- given: Ada
  family: Lovelace
date: 2025-01-15
---

\\section{{Storage}}

{html}
"""


def test_a_printed_deck_sees_nothing_an_earlier_talk_stored(tmp_path):
    """Both decks are printed by one browser tab, one after the other: what the first
    stores (local and session storage, cookies for its host and for the parent domain)
    must not reach the second."""
    chromium_or_skip()
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "conf.py", project / "conf.py")
    for folder in ("includes", "macros"):
        shutil.copytree(ROOT / folder, project / folder)
    (project / "talks").mkdir()
    talks = [project / "talks" / "a-stores.md", project / "talks" / "b-reads.md"]
    talks[0].write_text(deck_talk("Stores", STORING))
    talks[1].write_text(deck_talk("Reads", READING))
    report = build_site(SiteOptions(talks=[str(t) for t in talks], project=str(project),
                                    out=str(project / "_build" / "site"), jobs=1,
                                    exports=parse_formats("slides-pdf")))
    assert [sorted(r.written) for r in report.exports] == [["slides-pdf"]] * 2
    folder = project / "_build" / "site" / "exports"

    def text(doc: str) -> str:
        return subprocess.run([require_tool("pdftotext", "poppler-utils"),
                               str(folder / f"{doc}.slides.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout

    stored, read = text("a-stores"), text("b-reads")
    for value in ("LEAKLOCAL", "LEAKSESSION", "LEAKCOOKIE", "LEAKHOSTCOOKIE"):
        assert value in stored  # the first deck could store it...
        assert value not in read  # ...and the second cannot see it
    assert "seen 0 0 []" in read
