"""``talks serve``: a live preview of the site on the loopback interface.

The site is built once, served from its folder, and rebuilt whenever a talk,
fragment, macro file or image changes.  Sphinx's own dependency tracking
(every include, macro file and image is a noted dependency) makes each
rebuild re-read only the talks that use what changed.  Pages get a small
script that polls ``/__talks/status``: after a rebuild it reloads the page
where the reader was (reveal.js keeps the slide in the URL hash; handouts
keep their scroll position), and it shows build errors over the page.  A
failing rebuild never stops the server.
"""
from __future__ import annotations

import functools
import http.server
import ipaddress
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from watchfiles import watch

from ..diagnostics import Diagnostic
from ..site.build import KeptVariants, SiteReport, build_site
from ..site.options import SiteOptions
from ..site.publish import SiteBusy, TrackedState
from ..site.summary import summary

RELOAD_JS = """(function () {
  var key = "talks-scroll:" + location.pathname, version = null;
  var saved = sessionStorage.getItem(key);
  if (saved !== null) {
    sessionStorage.removeItem(key);
    addEventListener("load", function () { scrollTo(0, +saved); });
  }
  function overlay(errors) {
    var box = document.getElementById("talks-preview-errors");
    if (!errors.length) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("pre"); box.id = "talks-preview-errors";
      box.style.cssText = "position:fixed;z-index:99999;left:1em;right:1em;bottom:1em;max-height:40vh;" +
        "overflow:auto;margin:0;padding:1em;background:#fff0f0;color:#900;border:2px solid #c00;" +
        "font:13px/1.4 monospace;white-space:pre-wrap;text-align:left";
      document.body.appendChild(box);
    }
    box.textContent = "Build problems (the preview shows the last good pages):\\n\\n" + errors.join("\\n");
  }
  // a variant's page reloads once its variant is published, which may be before the others
  var variant = location.pathname.split("/")[1];
  function seen(s) {
    return s.versions && variant in s.versions ? s.versions[variant] : (s.building ? null : s.version);
  }
  function poll() {
    fetch("/__talks/status", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      var now = seen(s);
      if (version !== null && now !== null && now !== version) {
        sessionStorage.setItem(key, String(scrollY)); location.reload(); return;
      }
      if (now !== null) version = now;
      overlay(s.errors);
    }).catch(function () {}).finally(function () { setTimeout(poll, 700); });
  }
  poll();
})();
"""


@dataclass
class PreviewState:
    version: int = 0
    """Rebuilds finished, every variant published."""
    versions: dict[str, int] = field(default_factory=dict)
    """Per variant, the number of times its pages were published: a page reloads when its
    own variant's count moves, which may be before the other variants are built."""
    building: bool = False
    rebuilt: dict[str, list[str]] = field(default_factory=dict)
    """Per variant, the documents the last build re-read."""
    fresh: dict[str, bool] = field(default_factory=dict)
    """Per variant, whether the last build made a new Sphinx application (the first build,
    or after a change to conf.py, the settings or a crash) or used the one it kept."""
    errors: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def as_json(self) -> bytes:
        return json.dumps({"version": self.version, "versions": self.versions,
                           "building": self.building,
                           "rebuilt": self.rebuilt, "fresh": self.fresh, "errors": self.errors,
                           "changed": self.changed}).encode()


def _errors(report: SiteReport) -> list[str]:
    lines = [f"{doc}: {p}" for doc, problems in report.failed.items() for p in problems]
    lines += [f"{v} build stopped: {r.crash}" for v, r in report.results.items() if not r.ok]
    return lines


def _own_warnings(report: SiteReport) -> set[str]:
    """The warnings of the documents this build read or wrote, not those it said again for
    the others: a rebuild shows the talks it rebuilt, not the whole course's each time."""
    own: set[str] = set()
    for result in report.results.values():
        start, end = result.said_again
        own.update(result.warnings[:start], result.warnings[end:])
    return own


def _others_said(count: int) -> list[str]:
    return [f"{count} more warning(s), of talks not rebuilt this time, as before"] if count else []


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback interface only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _PreviewHTTPServer(http.server.ThreadingHTTPServer):
    request_queue_size = 128
    """Pending connections the listen backlog holds (the default 5 drops a browser's bursts)."""


class PreviewServer:
    def __init__(self, options: SiteOptions, host: str = "127.0.0.1", port: int = 8000,
                 watch_paths: list[str] | None = None, log: Callable[[str], object] = print):
        self.options = replace(options, preview=True)  # the pages show the build's warnings
        self.state = PreviewState()
        self.log = log
        self.site = Path(options.out).resolve()
        self.watch_paths = [p for p in (watch_paths or []) if os.path.exists(p)]
        self.stop = threading.Event()
        self.kept = KeptVariants()
        self.viewing: str | None = None
        """The variant of the page the browser asked for last."""
        handler = functools.partial(_Handler, self)
        self.httpd = _PreviewHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True

    def answers_host(self, header: str | None) -> bool:
        """Whether a request's ``Host`` names this server.  A page elsewhere can make a name
        of its own resolve to 127.0.0.1 (DNS rebinding) and read the preview through it:
        a server on loopback answers only the names of loopback, at its own port."""
        host, port = self.bound
        if not is_loopback(host):
            return True  # --allow-remote: whoever reaches the machine may read, as said there
        names = {host, "localhost", "127.0.0.1", "[::1]", f"[{host}]"}
        return (header or "").strip().lower() in {f"{n}:{port}" for n in names} | names

    @property
    def bound(self) -> tuple[str, int]:
        """The address and port the server listens on."""
        host, port = self.httpd.server_address[:2]
        return (host if isinstance(host, str) else bytes(host).decode()), int(port)

    @property
    def url(self) -> str:
        host, port = self.bound
        return f"http://{host}:{port}/"

    def rebuild(self, changed: list[str]) -> None:
        """Build what ``changed`` affects: the variant the reader looked at last first, then
        (published, so its page reloads) the others."""
        self.state.building = True
        self.state.changed = [os.path.relpath(c) for c in changed]
        started = time.perf_counter()
        self.state.rebuilt, self.state.fresh = {}, {}
        errors: list[str] = []
        warnings: dict[str, None] = {}
        own: set[str] = set()
        exported: list[Diagnostic] = []
        steps = self.build_order()
        try:
            for step in steps:
                report = build_site(replace(self.options, variants=step), kept=self.kept)
                self._published(report)
                errors += [e for e in _errors(report) if e not in errors]
                self.state.errors = list(errors)  # over the page that reloads now
                warnings.update(dict.fromkeys(report.warnings()))
                own.update(_own_warnings(report))
                exported += [d for e in report.exports for d in e.diagnostics]
                if len(steps) > 1 and step is steps[0]:
                    self.log(f"rebuilt {', '.join(step)} in {time.perf_counter() - started:.1f} s")
        except (SiteBusy, TrackedState) as exc:  # nothing was built: say what to do
            self.state.errors = [*errors, f"{exc.strerror} ({exc.filename})"]
        except Exception as exc:  # noqa: BLE001 - a preview must survive anything a build does
            self.state.errors = [*errors, f"the build failed: {exc!r}"]
        finally:
            self.state.version += 1
            self.state.building = False
        shown = [w for w in warnings if w in own]
        for line in [*shown, *_others_said(len(warnings) - len(shown)),
                     *summary(list(warnings), exported)]:
            self.log(line)
        read = ", ".join(f"{v}: {len(d)}" for v, d in self.state.rebuilt.items())
        self.log(f"rebuilt in {time.perf_counter() - started:.1f} s (documents re-read: {read})")
        for line in self.state.errors:
            self.log(f"error: {line}")

    def build_order(self) -> list[tuple[str, ...]]:
        """The variants to build, in turns: the one of the page served last alone first."""
        variants = self.options.variants
        if self.viewing not in variants or len(variants) == 1 or not self.state.version:
            return [variants]
        return [(self.viewing,), tuple(v for v in variants if v != self.viewing)]

    def _published(self, report: SiteReport) -> None:
        for variant, result in report.results.items():
            self.state.rebuilt[variant] = result.read
            self.state.fresh[variant] = result.fresh
            self.state.versions[variant] = self.state.versions.get(variant, 0) + 1

    def note_viewed(self, path: str) -> None:
        """The variant of a page the browser asked for: its next rebuild comes first."""
        variant = path.lstrip("/").split("/", 1)[0]
        if variant in self.options.variants:
            self.viewing = variant

    def _watch(self) -> None:
        # what the build itself writes; a folder beside them (the project, when the site is
        # written outside it) is watched
        written = tuple(str(f) + os.sep for f in self.options.folders())
        for changes in watch(*self.watch_paths, stop_event=self.stop, debounce=300, step=50,
                             rust_timeout=500, yield_on_timeout=False):
            paths = sorted({p for _, p in changes if not (p + os.sep).startswith(written)
                            and not os.path.basename(p).startswith((".", "#")) and not p.endswith("~")})
            if paths:
                self.log("changed: " + ", ".join(os.path.relpath(p) for p in paths))
                self.rebuild(paths)

    def serve_forever(self) -> None:
        self.rebuild([])
        watcher = threading.Thread(target=self._watch, daemon=True)
        watcher.start()
        self.log(f"serving {self.url} (Ctrl-C stops)")
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self.stop.set()
            self.httpd.server_close()
            self.kept.close()


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, server: PreviewServer, *args: Any, **kwargs: Any) -> None:
        self.preview = server
        super().__init__(*args, directory=str(server.site), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:  # the terminal is for build news
        pass

    def do_GET(self) -> None:
        if not self.preview.answers_host(self.headers.get("Host")):
            return self.send_error(421, "this preview answers only its own address")
        if self.path.startswith("/__talks/status"):
            return self._send(self.preview.state.as_json(), "application/json")
        if self.path.startswith("/__talks/reload.js"):
            return self._send(RELOAD_JS.encode(), "text/javascript")
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            path = os.path.join(path, "index.html")
        if path.endswith(".html") and os.path.isfile(path):
            self.preview.note_viewed(self.path)
            with open(path, "rb") as fh:
                page = fh.read()
            script = b'<script src="/__talks/reload.js"></script>'
            page = page.replace(b"</body>", script + b"</body>", 1) if b"</body>" in page else page + script
            return self._send(page, "text/html; charset=utf-8")
        return super().do_GET()

    def do_HEAD(self) -> None:
        if not self.preview.answers_host(self.headers.get("Host")):
            return self.send_error(421, "this preview answers only its own address")
        return super().do_HEAD()

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
