"""The explorer's server, session and static export, without a browser (see
test_explorer_browser.py for the page itself)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

import numpy as np
import pytest

from umapx.explorer import ExplorerSession, explore, export_html
from umapx.explorer.server import MAX_BODY
from umapx.explorer.session import MAX_BATCH, encode_labels, read_labels

pytestmark = pytest.mark.filterwarnings("ignore:.*far outside the support")


@pytest.fixture(scope="module")
def model(fitted_digits):
    mapper, _, labels = fitted_digits
    return mapper, labels[:1500]


@pytest.fixture(scope="module")
def explorer(model):
    mapper, labels = model
    running = explore(mapper, labels=labels, image_shape=(8, 8), open_browser=False)
    yield running
    running.stop()


def request(explorer, method, path, body=None, headers=None):
    """``(status, headers, body)`` of one request on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", explorer.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def decode_inverse(raw):
    n, d, k = np.frombuffer(raw[:12], dtype="<u4")
    assert np.frombuffer(raw[12:16], dtype="<f4")[0] >= 0  # the server's compute time
    samples = np.frombuffer(raw, dtype="<f4", count=n * d, offset=16).reshape(n, d)
    confidence = np.frombuffer(raw, dtype="<f4", count=n, offset=16 + 4 * n * d)
    neighbours = np.frombuffer(raw, dtype="<i4", count=n * k,
                               offset=16 + 4 * n * d + 4 * n).reshape(n, k)
    return samples, confidence, neighbours


# ------------------------------------------------------------------------------------------
# What the server answers
# ------------------------------------------------------------------------------------------


def test_page_and_arrays_are_served(explorer, model):
    mapper, labels = model
    status, headers, page = request(explorer, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"static/explorer.js" in page
    status, _, raw = request(explorer, "GET", "/api/points")
    assert status == 200
    np.testing.assert_array_equal(np.frombuffer(raw, "<f4").reshape(-1, 2), mapper.embedding_)
    status, _, raw = request(explorer, "GET", "/api/labels")
    meta = json.loads(request(explorer, "GET", "/api/meta")[2])
    names = np.array(meta["labels"]["names"])
    np.testing.assert_array_equal(names[np.frombuffer(raw, "<u2")], labels.astype(str))
    assert meta["n_points"] == 1500 and meta["n_features"] == 64
    assert meta["image_shape"] == [8, 8]
    support = np.frombuffer(request(explorer, "GET", "/api/support")[2], "<f4")
    assert support.shape == (meta["support"]["width"] * meta["support"]["height"],)
    assert 0 <= support.min() < 0.1 and support.max() > 0.9  # gaps and clusters both present


def test_inverse_endpoint_matches_inverse_transform(explorer, model):
    mapper, _ = model
    rng = np.random.default_rng(0)
    low, high = mapper.embedding_.min(axis=0), mapper.embedding_.max(axis=0)
    points = rng.uniform(low - 2, high + 2, size=(37, 2)).astype("<f4")
    status, headers, raw = request(explorer, "POST", "/api/inverse", body=points.tobytes())
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    samples, confidence, neighbours = decode_inverse(raw)
    expected, expected_confidence = mapper.inverse_transform(points.astype(np.float64),
                                                             return_confidence=True)
    np.testing.assert_array_equal(samples, expected)
    np.testing.assert_array_equal(confidence, expected_confidence.astype(np.float32))
    # The reported neighbours are the training points embedded nearest, nearest first.
    distances = np.linalg.norm(mapper.embedding_[neighbours] - points[:, None, :], axis=2)
    assert neighbours.shape == (37, mapper.n_neighbors)
    assert np.all(np.diff(distances, axis=1) >= -1e-6)
    all_distances = np.linalg.norm(mapper.embedding_[None] - points[:, None, :], axis=2)
    np.testing.assert_allclose(distances[:, 0], all_distances.min(axis=1), rtol=1e-5)


def test_keep_alive_serves_many_requests_on_one_connection(explorer):
    connection = http.client.HTTPConnection("127.0.0.1", explorer.port, timeout=30)
    try:
        for i in range(20):
            connection.request("POST", "/api/inverse",
                               body=np.array([i * 0.1, 0.5], "<f4").tobytes())
            response = connection.getresponse()
            assert response.status == 200
            assert decode_inverse(response.read())[0].shape == (1, 64)
    finally:
        connection.close()


# ------------------------------------------------------------------------------------------
# Safety: bad requests get a 4xx with a message and the server keeps serving
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/static/../session.py", "/static/%2e%2e/session.py", "/static/..%2fsession.py",
    "/static/%2e%2e%2f%2e%2e%2fpyproject.toml", "/static//etc/passwd",
    "/static/../../../../etc/passwd",
    "/static/", "/static/missing.js", "/static/x%00.js", "/../../etc/passwd", "/etc/passwd",
])
def test_static_files_cannot_escape_their_folder(explorer, path):
    status, _, body = request(explorer, "GET", path)
    assert status == 404
    assert b"root:" not in body and b"import" not in body


@pytest.mark.parametrize("body, status, message", [
    (b"", 400, b"multiple of 8"),
    (b"\x00" * 12, 400, b"multiple of 8"),
    (np.array([np.nan, 0.0], "<f4").tobytes(), 400, b"finite"),
    (np.array([np.inf, 0.0], "<f4").tobytes(), 400, b"finite"),
    (np.zeros((MAX_BATCH + 1, 2), "<f4").tobytes(), 413, b"at most"),
])
def test_malformed_inverse_requests_get_4xx(explorer, body, status, message):
    got, headers, answer = request(explorer, "POST", "/api/inverse", body=body)
    assert got == status and message in answer
    assert headers["Content-Type"].startswith("text/plain")
    assert request(explorer, "GET", "/api/meta")[0] == 200


def test_oversize_body_is_refused_unread(explorer):
    with socket.create_connection(("127.0.0.1", explorer.port), timeout=30) as sock:
        sock.sendall(b"POST /api/inverse HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Length: 100000000\r\n\r\n")  # and never send the body
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413") and b"Connection: close" in answer
    assert MAX_BODY < 100_000_000


@pytest.mark.parametrize("raw, status", [
    (b"POST /api/inverse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"411"),
    (b"POST /api/inverse HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"8\r\n\x00\x00\x00\x00\x00\x00\x00\x00\r\n0\r\n\r\n", b"411"),
    (b"POST /api/inverse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ten\r\n\r\n", b"400"),
    (b"POST /api/inverse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n", b"413"),
    (b"GARBAGE\r\n\r\n", b"400"),
    (b"GET / FOO/1.1\r\n\r\n", b"400"),
    (b"GET /api/inverse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"405"),
    (b"DELETE /api/meta HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"405"),
    (b"POST /api/meta HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc", b"405"),
    (b"GET /api/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"404"),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", b"414"),
])
def test_raw_bad_requests(explorer, raw, status):
    with socket.create_connection(("127.0.0.1", explorer.port), timeout=30) as sock:
        sock.sendall(raw)
        answer = sock.recv(4096)
    # A request line without a version gets an HTTP/0.9 answer: the body alone.
    code = answer.split(b" ")[1] if answer.startswith(b"HTTP/") else \
        re.search(rb"Error code: (\d+)", answer).group(1)
    assert code == status, answer[:200]
    assert request(explorer, "GET", "/api/meta")[0] == 200


def test_a_body_sent_after_an_error_is_not_taken_for_a_request(explorer):
    """A 4xx before the body was read closes the connection: the body is never parsed."""
    smuggled = b"GET /api/meta HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", explorer.port), timeout=30) as sock:
        sock.sendall(b"POST /api/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     + f"Content-Length: {len(smuggled)}\r\n\r\n".encode() + smuggled)
        answers = b""
        while chunk := sock.recv(65536):
            answers += chunk
    assert answers.count(b"HTTP/1.1 ") == 1 and answers.startswith(b"HTTP/1.1 405")


def test_dns_rebinding_is_refused_without_token(explorer):
    status, _, body = request(explorer, "GET", "/api/meta", headers={"Host": "evil.example:80"})
    assert status == 403 and b"not this machine" in body
    for host in (f"localhost:{explorer.port}", f"127.0.0.1:{explorer.port}"):
        assert request(explorer, "GET", "/api/meta", headers={"Host": host})[0] == 200


def test_token_is_required_when_set(model):
    mapper, _ = model
    with explore(mapper, token=True, open_browser=False) as running:
        token = running.token
        assert len(token) >= 24 and f"?token={token}" in running.url
        assert request(running, "GET", "/api/meta")[0] == 403
        assert request(running, "GET", "/api/meta", headers={"X-Umapx-Token": "wrong"})[0] == 403
        assert request(running, "POST", "/api/inverse", body=b"\x00" * 8)[0] == 403
        assert request(running, "GET", "/api/meta", headers={"X-Umapx-Token": token})[0] == 200
        assert request(running, "GET", f"/api/meta?token={urllib.parse.quote(token)}")[0] == 200
        # The page and its script hold no data: they load without the token.
        assert request(running, "GET", "/")[0] == 200


def test_binding_beyond_loopback_requires_a_random_token(model):
    mapper, _ = model
    with explore(mapper, host="0.0.0.0", open_browser=False) as first, \
            explore(mapper, host="0.0.0.0", open_browser=False) as second:
        assert first.token and second.token and first.token != second.token
        assert request(first, "GET", "/api/meta")[0] == 403


def test_stop_frees_the_port_and_drops_open_connections(model):
    mapper, _ = model
    running = explore(mapper, open_browser=False)
    connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
    connection.request("GET", "/api/meta")
    assert connection.getresponse().read()
    running.stop()
    running.stop()  # twice is fine
    assert not running.running
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        connection.request("GET", "/api/meta")
        connection.getresponse().read()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", running.port), timeout=5)
    # The model is untouched and can be explored again.
    with explore(mapper, port=running.port, open_browser=False) as again:
        assert request(again, "GET", "/api/meta")[0] == 200


def test_handle_shows_inline_in_jupyter(explorer):
    html = explorer._repr_html_()
    assert html.startswith("<iframe") and explorer.url in html
    assert "running" in repr(explorer)


def test_mapper_explore_method(model):
    mapper, labels = model
    with mapper.explore(labels=labels, open_browser=False) as running:
        assert running.url.startswith("http://127.0.0.1:")
        assert request(running, "GET", "/api/meta")[0] == 200


# ------------------------------------------------------------------------------------------
# Input checks
# ------------------------------------------------------------------------------------------


def test_bad_arguments_are_named(model, blobs):
    import umapx

    mapper, labels = model
    with pytest.raises(ValueError, match="holds 49 values"):
        ExplorerSession(mapper, image_shape=(7, 7))
    with pytest.raises(ValueError, match="one value per embedded point"):
        ExplorerSession(mapper, labels=labels[:10])
    with pytest.raises(ValueError, match="feature_names has 3 names"):
        ExplorerSession(mapper, feature_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="not fitted"):
        ExplorerSession(umapx.UMAP())
    data, _ = blobs
    three_d = umapx.UMAP(n_components=3, random_state=0, n_epochs=20).fit(data)
    with pytest.raises(ValueError, match="2-d embeddings"):
        ExplorerSession(three_d)


def test_label_kinds():
    assert encode_labels(None, 3) == {"kind": "none"}
    strings = encode_labels(np.array(["b", "a", "b"]), 3)
    assert strings["names"] == ["a", "b"] and strings["codes"].tolist() == [1, 0, 1]
    floats = encode_labels(np.array([1.0, 0.0, 1.0]), 3)
    assert floats["kind"] == "categories" and floats["names"] == ["0", "1"]
    values = encode_labels(np.linspace(0, 1, 500), 500)
    assert values["kind"] == "values" and values["low"] == 0 and values["high"] == 1
    column = encode_labels(np.arange(4)[:, None], 4)
    assert column["names"] == ["0", "1", "2", "3"]


def test_read_labels(tmp_path):
    (tmp_path / "names.txt").write_text("cat\ndog\ncat\n")
    assert read_labels(tmp_path / "names.txt").tolist() == ["cat", "dog", "cat"]
    (tmp_path / "numbers.csv").write_text("1\n2\n3\n")
    assert read_labels(tmp_path / "numbers.csv").tolist() == [1.0, 2.0, 3.0]
    (tmp_path / "header.csv").write_text("class,weight\n4,0.5\n5,0.1\n")
    assert read_labels(tmp_path / "header.csv").tolist() == [4.0, 5.0]
    np.save(tmp_path / "labels.npy", np.array(["x", "y"]))
    assert read_labels(tmp_path / "labels.npy").tolist() == ["x", "y"]


def test_feature_names_from_a_dataframe(blobs):
    pandas = pytest.importorskip("pandas")
    import umapx

    data, _ = blobs
    frame = pandas.DataFrame(data, columns=[f"gene_{i}" for i in range(data.shape[1])])
    mapper = umapx.UMAP(random_state=0, n_epochs=30).fit(frame)
    session = ExplorerSession(mapper)
    assert session.meta()["feature_names"] == list(frame.columns)
    assert session.meta()["image_shape"] is None


# ------------------------------------------------------------------------------------------
# Static export
# ------------------------------------------------------------------------------------------


def exported_data(path):
    html = path.read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="umapx-data">(.*?)</script>', html,
                      re.S)
    return html, json.loads(match.group(1))


def test_export_is_self_contained_and_holds_the_grid(model, tmp_path):
    mapper, labels = model
    names = np.array([f"<digit {v}></script>" for v in range(10)])[labels]  # hostile names
    path = export_html(mapper, tmp_path / "page.html", labels=names, image_shape=(8, 8), grid=16)
    html, data = exported_data(path)
    assert "src=" not in html and "href=" not in html  # script and styles inline
    assert not re.search(r"https?://", html)
    assert html.count("</script>") == 2  # the data and the script, nothing closed early
    assert data["meta"]["labels"]["names"][0] == "<digit 0></script>"
    grid = data["grid"]
    quantised = np.frombuffer(base64.b64decode(grid["samples"]), np.uint8).reshape(256, 64)
    samples = np.asarray(grid["low"]) + quantised * np.asarray(grid["step"])
    expected = mapper.inverse_transform(grid_points(grid["bounds"], 16))
    np.testing.assert_allclose(samples, expected, atol=np.max(grid["step"]) / 2 + 1e-5)


# ------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_files(model, tmp_path_factory):
    mapper, labels = model
    folder = tmp_path_factory.mktemp("explore-cli")
    mapper.save(folder / "digits.umapx")
    np.save(folder / "labels.npy", labels)
    return folder


def run_cli(capsys, *args):
    """``(exit code, stderr)`` of the umapx command run in this process."""
    from umapx import cli

    code = cli.main([str(a) for a in args])
    return code, capsys.readouterr().err


def test_cli_export(model_files, capsys):
    page = model_files / "page.html"
    code, stderr = run_cli(capsys, "explore", model_files / "digits.umapx", "--labels",
                           model_files / "labels.npy", "--image-shape", "8x8", "--export", page,
                           "--export-grid", "12")
    assert code == 0, stderr
    assert f"wrote {page}" in stderr
    _, data = exported_data(page)
    assert data["grid"]["side"] == 12 and data["meta"]["n_points"] == 1500


@pytest.mark.parametrize("args, message", [
    (["--image-shape", "7x7"], "holds 49 values"),
    (["--image-shape", "big"], "--image-shape"),
    (["--labels", "missing.npy"], "no such labels file"),
    (["--export-grid", "1"], "grid must be between 2"),
])
def test_cli_input_errors(model_files, capsys, args, message):
    code, stderr = run_cli(capsys, "explore", model_files / "digits.umapx", *args, "--export",
                           model_files / "x.html")
    assert code == 3 and message in stderr


def test_cli_missing_model(capsys):
    code, stderr = run_cli(capsys, "explore", "no-such-model.umapx", "--no-browser")
    assert code == 3 and "no-such-model.umapx: no such file" in stderr


def test_cli_port_in_use(model_files, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, stderr = run_cli(capsys, "explore", model_files / "digits.umapx", "--no-browser",
                               "--port", port)
    assert code == 3 and "cannot listen" in stderr


def test_cli_serves_until_interrupted(model_files):
    process = subprocess.Popen(
        [sys.executable, "-m", "umapx.cli", "explore", str(model_files / "digits.umapx"),
         "--no-browser", "--image-shape", "8x8"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "DISPLAY": ":99"},  # a display, yet --no-browser opens nothing
        # A shell's background job (`pytest ... &`) ignores SIGINT, and a child inherits that;
        # the command must see Ctrl-C as a terminal user's would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url), url
        port = int(url.rsplit(":", 1)[1].strip("/"))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/api/meta")
        assert json.loads(connection.getresponse().read())["image_shape"] == [8, 8]
        connection.close()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "stopped" in stderr and "Traceback" not in stderr
    time.sleep(0.1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


# ------------------------------------------------------------------------------------------
# WebSocket (the page's fast path for inverse requests)
# ------------------------------------------------------------------------------------------

WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # the example of RFC 6455, section 1.3


def ws_connect(port, path="/api/ws", origin=None, key=WS_KEY):
    """A raw socket after the handshake, and the server's answer to it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Version: 13"]
    if key:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if origin:
        lines.append(f"Origin: {origin}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return sock, head


def client_frame(opcode, payload, fin=True, masked=True, length=None):
    length = len(payload) if length is None else length
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        head = bytes([first, (0x80 if masked else 0) | length])
    elif length < 1 << 16:
        head = bytes([first, (0x80 if masked else 0) | 126]) + length.to_bytes(2, "big")
    else:
        head = bytes([first, (0x80 if masked else 0) | 127]) + length.to_bytes(8, "big")
    if not masked:
        return head + payload
    mask = b"\x12\x34\x56\x78"
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def server_frame(sock):
    """``(opcode, payload)`` of the next frame from the server."""
    def exactly(size):
        data = b""
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            assert chunk, "connection closed"
            data += chunk
        return data

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(exactly(2), "big")
    elif length == 127:
        length = int.from_bytes(exactly(8), "big")
    return first & 0x0F, exactly(length)


def test_websocket_answers_inverse_requests_in_order(explorer, model):
    mapper, _ = model
    sock, head = ws_connect(explorer.port, origin=f"http://127.0.0.1:{explorer.port}")
    with sock:
        assert head.startswith(b"HTTP/1.1 101")
        assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head  # the RFC's answer
        points = [np.array([[i * 0.3, 1.0 - i * 0.2]], "<f4") for i in range(3)]
        for p in points:
            sock.sendall(client_frame(0x2, p.tobytes()))
        for p in points:
            opcode, payload = server_frame(sock)
            assert opcode == 0x2
            samples = decode_inverse(payload)[0]
            np.testing.assert_array_equal(samples, mapper.inverse_transform(p.astype(float)))
        # A bad request is answered with a text message; the connection stays usable.
        sock.sendall(client_frame(0x2, b"\x00" * 12))
        opcode, payload = server_frame(sock)
        assert opcode == 0x1 and payload.startswith(b"400 ") and b"multiple of 8" in payload
        sock.sendall(client_frame(0x9, b"are you there"))
        assert server_frame(sock) == (0xA, b"are you there")
        sock.sendall(client_frame(0x2, points[0].tobytes()))
        assert server_frame(sock)[0] == 0x2
        sock.sendall(client_frame(0x8, (1000).to_bytes(2, "big")))
        assert server_frame(sock) == (0x8, (1000).to_bytes(2, "big"))


@pytest.mark.parametrize("frame, code", [
    (client_frame(0x2, b"\x00" * 8, masked=False), 1002),
    (client_frame(0x2, b"\x00" * 8, fin=False), 1003),
    (client_frame(0x1, b"hello"), 1003),
    (client_frame(0x2, b"", length=10**9)[:10], 1009),
])
def test_websocket_protocol_errors_close_the_connection(explorer, frame, code):
    sock, head = ws_connect(explorer.port)
    with sock:
        assert head.startswith(b"HTTP/1.1 101")
        sock.sendall(frame)
        opcode, payload = server_frame(sock)
        assert opcode == 0x8 and int.from_bytes(payload[:2], "big") == code
        assert sock.recv(10) == b""  # and the server hangs up
    assert request(explorer, "GET", "/api/meta")[0] == 200


def test_websocket_handshake_checks(explorer, model):
    sock, head = ws_connect(explorer.port, origin="http://evil.example")
    sock.close()
    assert head.startswith(b"HTTP/1.1 403")
    sock, head = ws_connect(explorer.port, key=None)
    sock.close()
    assert head.startswith(b"HTTP/1.1 400")
    mapper, _ = model
    with explore(mapper, token=True, open_browser=False) as running:
        sock, head = ws_connect(running.port)
        sock.close()
        assert head.startswith(b"HTTP/1.1 403")
        sock, head = ws_connect(running.port, path=f"/api/ws?token={running.token}")
        sock.close()
        assert head.startswith(b"HTTP/1.1 101")


def test_stop_closes_open_websockets(model):
    mapper, _ = model
    running = explore(mapper, open_browser=False)
    sock, head = ws_connect(running.port)
    with sock:
        assert head.startswith(b"HTTP/1.1 101")
        running.stop()
        assert sock.recv(10) == b""


# ------------------------------------------------------------------------------------------
# A model fitted on sparse data
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sparse_model():
    """A cosine model of a small TF-IDF corpus, with a vocabulary as feature names."""
    from sklearn.feature_extraction.text import TfidfTransformer

    import umapx
    from umapx.datasets import make_topic_corpus

    counts, topics = make_topic_corpus(n_documents=300, n_words=700, n_topics=3,
                                       document_length=40, words_per_topic=60, random_state=1)
    tfidf = TfidfTransformer().fit_transform(counts).astype(np.float32)
    mapper = umapx.UMAP(metric="cosine", random_state=0, n_epochs=40).fit(tfidf)
    return mapper, topics, [f"word{i}" for i in range(700)]


def test_sparse_model_is_served_as_top_terms(sparse_model):
    from umapx.explorer.session import TOP_TERMS

    mapper, topics, vocabulary = sparse_model
    running = explore(mapper, labels=topics, feature_names=vocabulary, open_browser=False)
    try:
        meta = json.loads(request(running, "GET", "/api/meta")[2])
        assert meta["terms"] == TOP_TERMS and meta["n_features"] == 700
        assert meta["feature_names"][:2] == ["word0", "word1"]
        points = mapper.embedding_[::37].astype("<f4") + 0.1
        status, _, raw = request(running, "POST", "/api/inverse", body=points.tobytes())
        assert status == 200
    finally:
        running.stop()
    samples, confidence, _ = decode_inverse(raw)
    assert samples.shape == (len(points), 2 * TOP_TERMS)
    expected, expected_confidence = mapper.inverse_transform(points.astype(np.float64),
                                                             return_confidence=True)
    np.testing.assert_array_equal(confidence, expected_confidence.astype(np.float32))
    values, columns = samples[:, :TOP_TERMS], samples[:, TOP_TERMS:].astype(np.int64)
    for row, value, column in zip(expected.toarray(), values, columns):
        held = column >= 0
        assert held.sum() == min(TOP_TERMS, np.count_nonzero(row))
        np.testing.assert_array_equal(row[column[held]], value[held])  # each term's value
        assert np.all(np.diff(value[held]) <= 0)  # largest first...
        assert value[held][-1] >= np.sort(row)[-held.sum()]  # ...and the largest there are
        assert np.all(value[~held] == 0)


def test_sparse_model_with_image_shape_gets_dense_rows(sparse_model):
    mapper, _, _ = sparse_model
    session = ExplorerSession(mapper, image_shape=(28, 25))
    assert session.terms == 0
    points = mapper.embedding_[:5].astype(np.float64)
    samples, _, _ = session.inverse(points)
    np.testing.assert_array_equal(samples, mapper.inverse_transform(points).toarray())


def test_sparse_model_export_keeps_the_columns_exact(sparse_model, tmp_path):
    from umapx.explorer.session import TOP_TERMS

    mapper, topics, vocabulary = sparse_model
    path = export_html(mapper, tmp_path / "terms.html", labels=topics,
                       feature_names=vocabulary, grid=6)
    _, data = exported_data(path)
    grid = data["grid"]
    columns = np.frombuffer(base64.b64decode(grid["columns"]), "<i4").reshape(36, TOP_TERMS)
    session = ExplorerSession(mapper, feature_names=vocabulary)
    expected, _, _ = session.inverse(grid_points(grid["bounds"], 6))
    np.testing.assert_array_equal(columns, expected[:, TOP_TERMS:])
    quantised = np.frombuffer(base64.b64decode(grid["samples"]), np.uint8).reshape(36, TOP_TERMS)
    values = np.asarray(grid["low"]) + quantised * np.asarray(grid["step"])
    np.testing.assert_allclose(values, expected[:, :TOP_TERMS],
                               atol=np.max(grid["step"]) / 2 + 1e-5)


def grid_points(bounds, side):
    xmin, xmax, ymin, ymax = bounds
    centres = (np.arange(side) + 0.5) / side
    return np.column_stack([np.tile(xmin + centres * (xmax - xmin), side),
                            np.repeat(ymin + centres * (ymax - ymin), side)])
