"""The explorer's local web server (standard library only) and the handle that controls it.

Routes (all responses carry a Content-Length, so one keep-alive connection serves a whole
session):

==========================  ===============================================================
``GET /``                   the page (``static/index.html``)
``GET /static/NAME``        the page's script and style sheet, from the package folder
``GET /api/meta``           JSON: sizes, names, bounds, sample ranges, default grid corners
``GET /api/points``         float32 (n, 2) embedding, little-endian
``GET /api/labels``         uint16 category codes or float32 values (empty without labels)
``GET /api/support``        float32 confidence raster (row-major, bottom row first)
``POST /api/inverse``       body: float32 (x, y) pairs -> see :func:`.session.encode_inverse`
``GET /api/ws``             WebSocket: each binary message is an inverse request body, each
                            answer a binary message as above (errors: a text message), in order
==========================  ===============================================================

Safety: binds 127.0.0.1 by default. Bound to any other address, a random token is required
(``?token=`` in the page's URL; the page sends it back in the ``X-Umapx-Token`` header, or as
``?token=`` on the WebSocket). Without a token, API requests must name a loopback host (defeats
DNS rebinding); a WebSocket must come from the page's own origin. Request bodies and
batches are bounded, static paths cannot leave their folder, every bad request gets a 4xx with a
message, and an unexpected error in a request is a 500 for that request only.
"""

from __future__ import annotations

import hmac
import http.server
import ipaddress
import logging
import os
import secrets
import socket
import sys
import threading
import time
import urllib.parse
import webbrowser
from pathlib import Path

from . import websocket
from .session import MAX_BATCH, decode_points, encode_inverse

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Largest request body accepted (a full batch of float32 points, and some slack).
MAX_BODY = MAX_BATCH * 8 + 1024
#: Seconds a connection may stay silent before the server drops it (slow clients).
IDLE_TIMEOUT = 60
#: The same for a WebSocket (an open page that nobody uses); the page reconnects on demand.
WEBSOCKET_IDLE_TIMEOUT = 600
TOKEN_HEADER = "X-Umapx-Token"
_CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                  ".css": "text/css; charset=utf-8", ".png": "image/png",
                  ".svg": "image/svg+xml"}
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
#: The page loads and talks to this server only (no inline script; it may be framed, e.g. by
#: Jupyter).
_PAGE_POLICY = ("Content-Security-Policy: default-src 'self'; img-src 'self' data: blob:; "
                "connect-src 'self'; object-src 'none'; base-uri 'none'")
_log = logging.getLogger("umapx.explorer")


class RequestError(Exception):
    """A bad request: answered with ``status`` and the message, never a crash."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def is_loopback(host):
    """Whether ``host`` (an address or ``localhost``) only accepts connections from this machine."""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(header):
    """The host part of a Host header (``name:port``, ``[v6]:port`` or just a name)."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class _Handler(http.server.BaseHTTPRequestHandler):
    """One request; the server's ``session`` and ``token`` say what to answer."""

    protocol_version = "HTTP/1.1"  # keep-alive: one connection for all hover requests
    server_version = "umapx-explorer"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True  # small answers go out at once, no 40 ms delayed-ACK stall

    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path == "/api/ws":
            self._websocket()
        else:
            self._answer(self._route_get)

    def do_HEAD(self):
        self._answer(self._route_get, head=True)

    def do_POST(self):
        self._answer(self._route_post)

    def _method_not_allowed(self):
        self._answer(self._refuse_method)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    # ---------------------------------------------------------------------------------------

    def _answer(self, route, head=False):
        self._body_read = False
        try:
            path, query = self._split_target()
            status, content_type, body = route(path, query)
        except RequestError as error:
            status, content_type = error.status, "text/plain; charset=utf-8"
            body = f"{error}\n".encode()
        except Exception as error:  # an internal error stays one request's problem
            _log.exception("explorer: internal error on %s %s", self.command, self.path)
            status, content_type = 500, "text/plain; charset=utf-8"
            body = f"internal error: {type(error).__name__}: {error}\n".encode()
        has_body = self.headers.get("Content-Length") or self.headers.get("Transfer-Encoding")
        if has_body and not self._body_read:
            self.close_connection = True  # an unread body would be taken for the next request
        self._send(status, content_type, body, head)

    def _send(self, status, content_type, body, head=False):
        headers = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}",
                   f"Content-Type: {content_type}", f"Content-Length: {len(body)}",
                   "Cache-Control: no-store", "X-Content-Type-Options: nosniff",
                   "Referrer-Policy: no-referrer"]
        if content_type.startswith("text/html"):
            headers.append(_PAGE_POLICY)
        if self.close_connection:
            headers.append("Connection: close")
        payload = ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(payload if head else payload + body)  # one write: one packet or few
        self.log_request(status, len(body))

    def _split_target(self):
        parts = urllib.parse.urlsplit(self.path)
        return urllib.parse.unquote(parts.path), urllib.parse.parse_qs(parts.query)

    # ---------------------------------------------------------------------------------------

    def _route_get(self, path, query):
        if path in ("/", "/index.html"):
            return self._static("index.html")
        if path.startswith("/static/"):
            return self._static(path[len("/static/"):])
        if path == "/favicon.ico":
            return 204, "text/plain", b""
        if path.startswith("/api/"):
            self._check_access(query)
            session = self.server.session
            answers = {"/api/meta": ("application/json", session.meta_json),
                       "/api/points": ("application/octet-stream", session.points_bytes),
                       "/api/labels": ("application/octet-stream", session.labels_bytes),
                       "/api/support": ("application/octet-stream", session.support_bytes)}
            if path in answers:
                content_type, make = answers[path]
                return 200, content_type, make()
            if path == "/api/inverse":
                raise RequestError(405, "/api/inverse takes a POST of float32 (x, y) pairs")
        raise RequestError(404, f"no such resource: {path}")

    def _refuse_method(self, path, query):
        raise RequestError(405, f"{self.command} is not supported")

    def _route_post(self, path, query):
        if path != "/api/inverse":
            raise RequestError(404 if not path.startswith("/api/") else 405,
                               f"POST is only accepted at /api/inverse, not {path}")
        self._check_access(query)
        return 200, "application/octet-stream", self._inverse_answer(self._read_body())

    def _inverse_answer(self, body):
        """The binary answer to an inverse request body (RequestError when it is bad)."""
        try:
            points = decode_points(body)
        except ValueError as error:
            raise RequestError(413 if "at most" in str(error) else 400, str(error)) from error
        began = time.perf_counter()
        samples, confidence, neighbours = self.server.session.inverse(points)
        return encode_inverse(samples, confidence, neighbours,
                              compute_ms=1000 * (time.perf_counter() - began))

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if length is None:
            raise RequestError(411, "a Content-Length header is required")
        try:
            length = int(length)
        except ValueError:
            raise RequestError(400, f"bad Content-Length: {length!r}") from None
        if length < 0 or length > MAX_BODY:
            raise RequestError(413, f"request body of {length} bytes; at most {MAX_BODY} "
                                    f"({MAX_BATCH} points) are accepted")
        body = self.rfile.read(length)
        self._body_read = True
        if len(body) != length:
            raise RequestError(400, "the request body ended early")
        return body

    # ---------------------------------------------------------------------------------------
    # WebSocket: inverse requests as binary messages, answered in order

    def _websocket(self):
        try:
            _, query = self._split_target()
            self._check_access(query)
            self._check_same_origin()
            problem = websocket.handshake_error(self.headers)
            if problem:
                raise RequestError(400, problem)
        except RequestError as error:
            self._send(error.status, "text/plain; charset=utf-8", f"{error}\n".encode())
            return
        self.close_connection = True  # after the WebSocket, this connection is done
        self.wfile.write(websocket.accept_response(self.headers["Sec-WebSocket-Key"]))
        self.log_request(101)
        self.connection.settimeout(WEBSOCKET_IDLE_TIMEOUT)  # the page reconnects when needed
        try:
            self._websocket_messages()
        except websocket.ProtocolError as error:
            try:
                self.wfile.write(websocket.close_frame(error.code, str(error)))
            except OSError:
                pass
        except (EOFError, OSError):
            pass  # the page went away, the connection idled out, or the server stopped

    def _websocket_messages(self):
        while True:
            opcode, payload = websocket.read_message(self.rfile, MAX_BODY)
            if opcode == websocket.BINARY:
                try:
                    answer = websocket.frame(websocket.BINARY, self._inverse_answer(payload))
                except RequestError as error:
                    answer = websocket.frame(websocket.TEXT, f"{error.status} {error}".encode())
                except Exception as error:  # one request's problem, as over HTTP
                    _log.exception("explorer: internal error on a WebSocket request")
                    answer = websocket.frame(
                        websocket.TEXT, f"500 internal error: {type(error).__name__}".encode())
                self.wfile.write(answer)
            elif opcode == websocket.PING:
                self.wfile.write(websocket.frame(websocket.PONG, payload))
            elif opcode == websocket.CLOSE:
                self.wfile.write(websocket.close_frame(websocket.NORMAL))
                return
            elif opcode != websocket.PONG:
                raise websocket.ProtocolError(websocket.UNACCEPTABLE,
                                              "only binary messages are accepted")

    def _check_same_origin(self):
        """Browsers send Origin on WebSocket requests: only the page's own origin may connect."""
        origin = self.headers.get("Origin")
        if origin is not None and urllib.parse.urlsplit(origin).netloc != self.headers.get("Host"):
            raise RequestError(403, f"WebSocket from another origin ({origin}) refused")

    def _check_access(self, query):
        token = self.server.token
        if token is None:
            if not is_loopback(_host_name(self.headers.get("Host") or "")):
                raise RequestError(403, f"Host {self.headers.get('Host')!r} is not this machine; "
                                        "open the explorer at its printed URL")
            return
        given = self.headers.get(TOKEN_HEADER) or (query.get("token") or [""])[0]
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise RequestError(403, "a valid token is required (open the URL with ?token= "
                                    "that the explorer printed)")

    def _static(self, name):
        if "\x00" in name:
            raise RequestError(404, "no such file")
        target = (STATIC_DIR / name).resolve()
        if not target.is_relative_to(STATIC_DIR) or not target.is_file():
            raise RequestError(404, f"no such file: {name}")
        content_type = _CONTENT_TYPES.get(target.suffix)
        if content_type is None:
            raise RequestError(404, f"no such file: {name}")
        return 200, content_type, target.read_bytes()

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        if self.server.verbose:
            sys.stderr.write(f"umapx explorer: {self.address_string()} {format % args}\n")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, session, token, verbose):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.session, self.token, self.verbose = session, token, verbose
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request_thread(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def close_connections(self):
        """Hang up on every open (keep-alive) connection, so a stopped server answers no one."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # Connection-level errors (a client that hung up, a timeout): not the user's problem.
        _log.debug("explorer: connection error from %s", client_address, exc_info=True)


class Explorer:
    """A running explorer: the page at :attr:`url`, served until :meth:`stop`.

    Made by :func:`umapx.explore`; also a context manager (``with umapx.explore(m) as e:``).
    In Jupyter, the handle shows the page inline (``_repr_html_``, or :meth:`show`).
    """

    def __init__(self, session, host="127.0.0.1", port=0, token=None, verbose=False):
        if not hasattr(port, "__index__") or not 0 <= port.__index__() <= 65535:
            raise ValueError(f"port must be an integer from 0 (a free port) to 65535, got "
                             f"{port!r}")
        port = port.__index__()
        if token is None and not is_loopback(host):
            token = True
        if token is True:
            token = secrets.token_urlsafe(24)
        self.session = session
        self.token = token or None
        self._server = _Server((host, port), session, self.token, verbose)
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        name=f"umapx-explorer-{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self):
        """The page's address (with the token when one is required)."""
        host = self.host
        if host in ("0.0.0.0", "", "::"):
            host = socket.gethostname()
        elif ":" in host:
            host = f"[{host}]"
        query = f"?token={self.token}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"

    @property
    def running(self):
        return self._thread.is_alive()

    def stop(self):
        """Stop serving and free the port; the model is untouched. Safe to call twice."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.close_connections()
        self._server.server_close()

    def wait(self):
        """Block until the server stops (Ctrl-C stops it); what the command line does."""
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def open_browser(self):
        """Open :attr:`url` in the default browser; False when there is no graphical one."""
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                     or os.environ.get("WAYLAND_DISPLAY")):
            return False  # a console browser would take over the terminal
        try:
            return bool(webbrowser.open(self.url))
        except webbrowser.Error:
            return False

    def show(self, width="100%", height=720):
        """Display the page inline in Jupyter (an IFrame)."""
        from IPython.display import HTML, display

        display(HTML(self._iframe(width, height)))

    def _iframe(self, width="100%", height=720):
        from html import escape

        width = f"{width}px" if isinstance(width, int) else width
        return (f'<iframe src="{escape(self.url)}" style="width:{escape(str(width))};'
                f'height:{int(height)}px;border:1px solid #ddd" '
                'title="umapx explorer"></iframe>')

    def _repr_html_(self):
        return self._iframe()

    def __repr__(self):
        state = "running" if self.running else "stopped"
        return f"<umapx Explorer {state} at {self.url}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
