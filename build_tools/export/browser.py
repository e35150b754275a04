"""One headless Chromium per worker process, driven by Playwright, printing built pages to PDF.

Chromium lays out the built HTML exactly as readers see it (figures, MathJax,
reveal.js's print mode) and needs no TeX installation; Playwright waits for the
page to be ready, which a bare ``chromium --print-to-pdf`` cannot.  The browser
is the Debian one: nothing is downloaded.

A talk is untrusted, and its raw HTML may name anything (``<iframe
src="file:///...">``, ``<img src="http://127.0.0.1:...">``).  So the browser
never sees the disk or the network: pages are loaded from made-up origins
(``http://pageN.talks.invalid/``, one per page) and every request is answered by
``SiteServer`` from the built site's own folder (real paths, symlinks followed,
must stay inside); anything else is refused before it leaves the process and
reported.  Chromium has no file access from pages, service workers (which would
bypass the routing) are blocked, and its host resolver resolves no name at all,
so even a request that escaped the routing could reach nothing.
"""
from __future__ import annotations

import mimetypes
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from . import tools

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, WebSocketRoute

HOST = "talks.invalid"
"""A name that can never resolve (RFC 2606): the pages' origin, answered by us alone."""
ORIGIN = f"http://{HOST}"

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-pings", "--disable-domain-reliability",
                "--force-webrtc-ip-handling-policy=disable_non_proxied_udp"]
"""No ``--allow-file-access-from-files``, no ``--disable-web-security``: pages get the
web's ordinary rules, and no name resolves (the site's requests never reach the network).
WebRTC sends UDP (STUN) to any address it is given, past the request routing: with no
proxy, ``disable_non_proxied_udp`` leaves it no way out."""

NO_WEBRTC = """(() => {
  for (const name of ['RTCPeerConnection', 'webkitRTCPeerConnection', 'RTCDataChannel',
                      'RTCSessionDescription', 'RTCIceCandidate']) {
    try { Object.defineProperty(window, name, { value: undefined, configurable: false }); }
    catch (e) {}
  }
})();"""
"""Run before every page's own scripts: a deck has no use for WebRTC, and without the API a
page cannot even try (the browser's policy above stops what an escaped frame tries)."""


LOCAL_REFUSED = "Not allowed to load local resource: "
"""How Chromium says it refused a page's ``file:`` URL (no request is ever made)."""

MATHJAX_DONE = """() => {
  const startup = window.MathJax && window.MathJax.startup;
  if (!startup || !startup.promise) return true;
  if (!window.__talksMath) {
    window.__talksMath = 'waiting';
    startup.promise.then(() => { window.__talksMath = 'done'; });
  }
  return window.__talksMath === 'done';
}"""
"""After the load event (MathJax's script is deferred, so it has run by then): true once
MathJax has typeset the page, at once on a page without it.  Polled, never awaited: a page
that never settles must not hold the printer past its time limit."""


@dataclass
class SiteServer:
    """Answers a browser's requests from one folder only; remembers every URL it refused."""

    root: Path
    host: str = HOST
    """The made-up host the folder is served at (a name under ``HOST``)."""
    refused: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(os.path.realpath(self.root))

    def url_of(self, page: Path) -> str:
        """The page's URL on the made-up origin (``page`` lies inside ``root``)."""
        rel = Path(os.path.realpath(page)).relative_to(self.root)
        return f"http://{self.host}/{rel.as_posix()}"

    def answer(self, url: str) -> tuple[str, Path | None]:
        """``("file", path)`` for a file of the folder, ``("missing", None)`` for a name on the
        site's origin with no file, ``("refused", None)`` for anything else (another scheme,
        another host, a path that resolves outside the folder)."""
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.netloc.lower() != self.host:
            return "refused", None
        rel = unquote(parts.path).lstrip("/")
        if "\x00" in rel:
            return "refused", None
        found = os.path.realpath(os.path.join(self.root, rel))
        if os.path.commonpath([found, str(self.root)]) != str(self.root):
            return "refused", None
        return ("file", Path(found)) if os.path.isfile(found) else ("missing", None)

    def refuse(self, url: str) -> None:
        if url not in self.refused:
            self.refused.append(url)

    def handle(self, route: Route) -> None:
        """Playwright's route handler: fulfil from the folder, else abort (nothing is sent)."""
        url = route.request.url
        kind, found = self.answer(url)
        if kind == "file" and found is not None:
            route.fulfill(status=200, body=found.read_bytes(),
                          content_type=mimetypes.guess_type(found.name)[0] or "application/octet-stream")
        elif kind == "missing":
            route.fulfill(status=404, body="")
        else:
            self.refuse(url)
            route.abort("blockedbyclient")

    def refuse_socket(self, socket: WebSocketRoute) -> None:
        self.refuse(socket.url)
        socket.close()

    def console(self, message: ConsoleMessage) -> None:
        if message.text.startswith(LOCAL_REFUSED):
            self.refuse(message.text[len(LOCAL_REFUSED):].strip())


@dataclass
class Printed:
    """What printing a page gave: the ready value (the deck's slide count, say) and every URL
    the page asked for that was refused."""

    value: object
    refused: list[str]


def kill_renderers() -> None:
    """Kill every page (renderer) process of the browsers this process started: the pages a
    print is stuck in.  The browser lives on, and a killed tab is replaced (``_leave``)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    parent = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    below, found = [os.getpid()], []
    while below:
        for child in children.get(below.pop(), []):
            below.append(child)
            found.append(child)
    for pid in found:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if b"--type=renderer" in fh.read():
                    os.kill(pid, signal.SIGKILL)
        except OSError:
            continue


@contextmanager
def chromium(server: type[SiteServer] = SiteServer, timeout_ms: int = 60000) -> Iterator[Printer]:
    """A launched browser, as a ``Printer`` whose pages are answered by ``server`` and whose
    every wait ends after ``timeout_ms``; closed (with its processes) when the block ends."""
    executable = tools.chromium()
    sync_playwright = tools.playwright()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=BROWSER_ARGS)
        try:
            yield Printer(browser, timeout_ms=timeout_ms, server=server)
        finally:
            browser.close()


class Printer:
    """Prints built pages, one after another, in one browser tab.

    A fresh tab (or browser context) for every page costs Chromium twice the work,
    so one tab goes from page to page.  Each page is served at an origin of its own
    (``pageN.talks.invalid``) by the ``SiteServer`` of its own site folder: what one
    talk's page stores (local and session storage, IndexedDB, caches) belongs to its
    origin, which no later page has; cookies, which a page may set for the parent
    domain, are cleared when it is left, and so is its origin's storage.
    """

    def __init__(self, browser: Browser, timeout_ms: int = 60000, server: type[SiteServer] = SiteServer):
        self.browser, self.timeout_ms, self.server_class = browser, timeout_ms, server
        self.server: SiteServer | None = None
        self.printed = 0
        self._tabs: dict[str, tuple[BrowserContext, Page]] = {}
        """Init script -> (context, page): the script runs before each page's own."""

    def print_page(self, site: Path, page_file: Path, out: Path, *, query: str = "",
                   init_script: str = "", ready: str = "", css_page_size: bool = False) -> Printed:
        """Load ``page_file`` (inside the built site folder ``site``) and print it to ``out``.

        ``ready`` is a JS function polled until it returns a true value (which is
        returned); MathJax is waited for too.  Only files inside ``site`` are served.  Each
        wait ends after the printer's time limit with ``tools.StepTimeout``.
        """
        self.printed += 1
        server = self.server = self.server_class(site, host=f"page{self.printed}.{HOST}")
        context, page = self._tab(init_script)
        context.set_default_timeout(self.timeout_ms)
        try:
            page.goto(server.url_of(page_file) + query, wait_until="load")
            value = self._wait(page, ready, "reveal.js to lay the deck out for printing") \
                if ready else None
            self._wait(page, MATHJAX_DONE, "MathJax to typeset the page")
            tmp = out.with_name(out.name + ".tmp")
            out.parent.mkdir(parents=True, exist_ok=True)
            options = {"path": str(tmp), "print_background": True}
            if css_page_size:
                options["prefer_css_page_size"] = True
            else:
                options.update(format="A4", margin={"top": "18mm", "bottom": "18mm",
                                                    "left": "16mm", "right": "16mm"})
            self._print(page, options)
            tmp.replace(out)
            return Printed(value, list(server.refused))
        finally:
            self._leave(init_script, server)

    def _print(self, page: Page, options: dict[str, Any]) -> None:
        """``page.pdf``, which Playwright lets run for ever (a script looping in the page's
        ``beforeprint`` holds it): past the time limit this browser's pages are killed, and
        the print fails with ``tools.StepTimeout``."""
        fired = threading.Event()

        def stop() -> None:
            fired.set()
            kill_renderers()

        timer = threading.Timer(self.timeout_ms / 1000, stop)
        timer.daemon = True
        timer.start()
        try:
            page.pdf(**options)
        except Exception:
            if fired.is_set():
                raise tools.StepTimeout(f"the browser took more than {self.timeout_ms / 1000:g} s "
                                        "to print the page, and was stopped") from None
            raise
        finally:
            timer.cancel()

    def _wait(self, page: Page, predicate: str, what: str) -> Any:
        """The predicate's first true value, polled in the page, or ``tools.StepTimeout``."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            return page.wait_for_function(predicate, timeout=self.timeout_ms).json_value()
        except PlaywrightTimeout:
            raise tools.StepTimeout(f"the browser waited {self.timeout_ms / 1000:g} s for {what}, "
                                    "which never happened (a page that never loads, or a "
                                    "script that never ends?)") from None

    def _tab(self, init_script: str) -> tuple[BrowserContext, Page]:
        if init_script not in self._tabs:
            context = self.browser.new_context(service_workers="block", accept_downloads=False)
            context.route("**/*", self._answer)
            context.route_web_socket("**/*", self._refuse_socket)
            context.add_init_script(NO_WEBRTC)
            if init_script:
                context.add_init_script(init_script)
            page = context.new_page()
            page.on("console", self._console)
            self._tabs[init_script] = (context, page)
        return self._tabs[init_script]

    def _answer(self, route: Route) -> None:
        if self.server is None:
            route.abort("blockedbyclient")
        else:
            self.server.handle(route)

    def _refuse_socket(self, socket: WebSocketRoute) -> None:
        if self.server is None:
            socket.close()
        else:
            self.server.refuse_socket(socket)

    def _console(self, message: ConsoleMessage) -> None:
        if self.server is not None:
            self.server.console(message)

    def _leave(self, init_script: str, server: SiteServer) -> None:
        """Unload the page (its scripts stop), then clear its cookies and its origin's
        storage; a tab that cannot be left so is closed, and the next page gets a new one."""
        context, page = self._tabs[init_script]
        try:
            page.goto("about:blank")
            self.server = None
            session = context.new_cdp_session(page)
            session.send("Storage.clearDataForOrigin",
                         {"origin": f"http://{server.host}", "storageTypes": "all"})
            session.detach()
            context.clear_cookies()
        except Exception:  # noqa: BLE001 - a crashed or hung page: start afresh
            del self._tabs[init_script]
            try:
                context.close()
            except Exception:  # noqa: BLE001 - already gone with the page
                pass
        finally:
            self.server = None
