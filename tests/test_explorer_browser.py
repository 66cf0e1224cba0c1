"""The explorer page in a real headless browser (Playwright driving the system's Chromium).

Skipped, with the reason, when Playwright or a Chromium executable is missing
(``pip install playwright``; ``apt-get install chromium``: ``scripts/test.sh`` does both as
root). The page is driven with real mouse events, and every sample it draws is checked against
``mapper.inverse_transform`` at the point it asked for.
"""

from __future__ import annotations

import base64
import io
import struct

import numpy as np
import pytest

from umapx.explorer import explore, export_html
from umapx.explorer._browser import chromium, open_explorer, unavailable_reason

_REASON = unavailable_reason()
pytestmark = [pytest.mark.skipif(_REASON is not None, reason=f"no headless browser: {_REASON}"),
              pytest.mark.filterwarnings("ignore:.*far outside the support")]

# Chromium 10 categorical colours of the page (tab10), drawn opaque and exact.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def digits_explorer(fitted_digits):
    mapper, _, labels = fitted_digits
    running = explore(mapper, labels=labels[:1500], image_shape=(8, 8), open_browser=False)
    yield mapper, labels[:1500], running
    running.stop()


@pytest.fixture
def page(browser, digits_explorer):
    opened = open_explorer(browser, digits_explorer[2].url)
    yield opened
    opened.close()


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------


def overlay_origin(page):
    box = page.locator("#overlay").bounding_box()
    return box["x"], box["y"]


def screen_of(page, point):
    """Page coordinates of an embedding point."""
    x0, y0 = overlay_origin(page)
    px, py = page.evaluate("([x, y]) => umapxExplorer.toScreen(x, y)", list(map(float, point)))
    return x0 + px, y0 + py


def wait_for_hover_at(page, x, y):
    """Wait until the drawn hover sample is the one for page position (x, y); return it."""
    x0, y0 = overlay_origin(page)
    page.wait_for_function(
        """([px, py]) => {
            const e = umapxExplorer, h = e.last.hover;
            if (!h) return false;
            const [x, y] = e.toData(px, py);
            return Math.hypot(h.points[0] - x, h.points[1] - y) * e.view.scale < 0.6;
        }""", arg=[x - x0, y - y0])
    return result(page, "umapxExplorer.last.hover")


def result(page, expression):
    """A result object of the page as numpy arrays."""
    raw = page.evaluate(f"""() => {{
        const r = {expression};
        return {{n: r.n, d: r.d, k: r.k, points: Array.from(r.points),
                 samples: Array.from(r.samples), confidence: Array.from(r.confidence),
                 neighbours: Array.from(r.neighbours || [])}};
    }}""")
    n, d = raw["n"], raw["d"]
    return {"points": np.array(raw["points"], np.float32).reshape(n, 2),
            "samples": np.array(raw["samples"], np.float32).reshape(n, d),
            "confidence": np.array(raw["confidence"], np.float32),
            "neighbours": np.array(raw["neighbours"], np.int64).reshape(n, -1)}


def assert_matches_inverse(mapper, shown):
    samples, confidence = mapper.inverse_transform(shown["points"].astype(np.float64),
                                                   return_confidence=True)
    np.testing.assert_array_equal(shown["samples"], samples)
    np.testing.assert_array_equal(shown["confidence"], confidence.astype(np.float32))


def canvas_pixels(page, selector):
    """RGBA pixels of a canvas, shape (height, width, 4) (sent as base64: fast)."""
    width, height, encoded = page.evaluate("""(selector) => {
        const c = document.querySelector(selector);
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let text = "";
        for (let i = 0; i < d.length; i += 32768) {
            text += String.fromCharCode.apply(null, d.subarray(i, i + 32768));
        }
        return [c.width, c.height, btoa(text)];
    }""", selector)
    return np.frombuffer(base64.b64decode(encoded), np.uint8).reshape(height, width, 4)


def drag(page, start, end, steps):
    """Press at ``start``, move in ``steps`` straight steps to ``end``, release."""
    page.mouse.move(*start)
    page.mouse.down()
    for f in np.linspace(1 / steps, 1.0, steps):
        page.mouse.move(start[0] + f * (end[0] - start[0]), start[1] + f * (end[1] - start[1]))
    page.mouse.up()


def png_size(raw):
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", raw[16:24])


# ------------------------------------------------------------------------------------------
# Hover, grid, path, pins
# ------------------------------------------------------------------------------------------


def test_hover_draws_the_inverse_transform_at_the_cursor(page, digits_explorer):
    mapper, labels, _ = digits_explorer
    meta = page.evaluate("umapxExplorer.meta")
    low, high = meta["image_range"]
    shown = []
    for index in (0, int(np.flatnonzero(labels != labels[0])[0])):  # two different digits
        x, y = screen_of(page, mapper.embedding_[index] + 0.05)
        page.mouse.move(x, y)
        hover = wait_for_hover_at(page, x, y)
        assert_matches_inverse(mapper, hover)
        # The neighbours reported are the training points embedded nearest to the cursor.
        distances = np.linalg.norm(mapper.embedding_ - hover["points"][0], axis=1)
        assert hover["neighbours"][0, 0] == np.argmin(distances)
        text = page.locator("#cursor-neighbours").inner_text()
        assert f"{labels[hover['neighbours'][0, 0]]} ×" in text
        # The pixels drawn are the sample, grey ink on white (8 x 8 blocks of 21 pixels).
        pixels = canvas_pixels(page, "#cursor-sample")
        centres = pixels[10::21, 10::21, 0][:8, :8].astype(int)
        expected = 255 - np.clip(np.round(255 * (hover["samples"][0] - low) / (high - low)), 0,
                                 255).reshape(8, 8)
        assert np.abs(centres - expected).max() <= 1
        shown.append(hover["samples"][0])
    assert np.abs(shown[0] - shown[1]).max() > 0.25 * (high - low)  # the drawn sample changed
    assert page.evaluate("umapxExplorer.latencies.length") >= 2
    assert page.evaluate("umapxExplorer.errors") == []
    # The requests went over the WebSocket (the fast path), not the fetch fallback.
    assert page.evaluate("umapxExplorer.source.socketFailed") is False
    assert page.evaluate("umapxExplorer.source.socket !== null")


def test_hover_off_the_data_reports_low_confidence(page, digits_explorer):
    mapper, _, _ = digits_explorer
    far = mapper.embedding_.max(axis=0) + 0.3 * np.ptp(mapper.embedding_, axis=0)
    page.evaluate("umapxExplorer.zoomAt(umapxExplorer.width / 2, umapxExplorer.height / 2, 0.5)")
    x, y = screen_of(page, far)
    page.mouse.move(x, y)
    hover = wait_for_hover_at(page, x, y)
    assert_matches_inverse(mapper, hover)
    assert hover["confidence"][0] < 0.05
    assert "no training data here" in page.locator("#cursor-confidence").inner_text()


def test_dragging_a_corner_updates_the_grid(page, digits_explorer):
    from umapx.plot import grid_points

    mapper, _, _ = digits_explorer
    page.click("button[data-mode=grid]")
    before = result(page, "umapxExplorer.last.grid")
    pixels_before = canvas_pixels(page, "#grid-samples")
    corner = page.evaluate("umapxExplorer.corners[0]")
    start = screen_of(page, corner)
    target = screen_of(page, np.mean(page.evaluate("umapxExplorer.corners"), axis=0))
    drag(page, start, target, 8)
    corners = np.array(page.evaluate("umapxExplorer.corners"))
    x0, y0 = overlay_origin(page)
    moved_to = page.evaluate("([x, y]) => umapxExplorer.toData(x, y)",
                             [target[0] - x0, target[1] - y0])
    # the corner follows the pointer to within float rounding of the screen-to-data mapping
    # (one pixel is ~0.05 data units here; the positions differ by ~1e-7 across CPUs)
    np.testing.assert_allclose(corners[0], moved_to, atol=1e-4)
    page.wait_for_function(
        "([x, y]) => Math.abs(umapxExplorer.last.grid.points[0] - x) < 1e-4 * (1 + Math.abs(x))"
        " && Math.abs(umapxExplorer.last.grid.points[1] - y) < 1e-4 * (1 + Math.abs(y))",
        arg=list(corners[0]))
    grid = result(page, "umapxExplorer.last.grid")
    np.testing.assert_allclose(grid["points"], grid_points(corners, 10), rtol=1e-5, atol=1e-5)
    assert_matches_inverse(mapper, grid)
    assert not np.array_equal(grid["samples"], before["samples"])
    assert not np.array_equal(canvas_pixels(page, "#grid-samples"), pixels_before)


def test_drawing_a_path_gives_samples_along_it(page, digits_explorer):
    mapper, _, _ = digits_explorer
    page.click("button[data-mode=path]")
    low, high = np.quantile(mapper.embedding_, [0.2, 0.8], axis=0)
    start, end = screen_of(page, low), screen_of(page, high)
    drag(page, start, end, 20)
    x0, y0 = overlay_origin(page)
    first, last = (page.evaluate("([x, y]) => umapxExplorer.toData(x, y)", [x - x0, y - y0])
                   for x, y in (start, end))
    page.wait_for_function(
        "([x, y]) => { const p = umapxExplorer.last.path; return p && p.n === 16 && "
        "Math.hypot(p.points[30] - x, p.points[31] - y) * umapxExplorer.view.scale < 0.6; }",
        arg=last)
    path = result(page, "umapxExplorer.last.path")
    np.testing.assert_allclose(path["points"][0], first, atol=1e-4)
    steps = np.linalg.norm(np.diff(path["points"], axis=0), axis=1)
    np.testing.assert_allclose(steps, steps.mean(), rtol=0.02)  # evenly spaced on a line
    assert_matches_inverse(mapper, path)
    assert canvas_pixels(page, "#path-samples")[..., :3].min() < 128  # something drawn


def test_click_pins_samples_side_by_side(page, digits_explorer):
    mapper, _, _ = digits_explorer
    for index in (0, 10, 20):
        x, y = screen_of(page, mapper.embedding_[index])
        page.mouse.click(x, y)
        page.wait_for_function("n => umapxExplorer.pins.length === n", arg=index // 10 + 1)
    assert page.locator("#pins .pin").count() == 3
    pins = page.evaluate("umapxExplorer.pins.map(p => [p.point, Array.from(p.sample)])")
    for point, sample in pins:
        expected = mapper.inverse_transform(np.array([point], np.float32).astype(np.float64))
        np.testing.assert_array_equal(np.array(sample, np.float32), expected[0])
    page.locator("#pins .pin .remove").first.click()
    assert page.evaluate("umapxExplorer.pins.length") == 2
    # A drag pans instead of pinning.
    cx = page.evaluate("umapxExplorer.view.cx")
    x, y = screen_of(page, mapper.embedding_[30])
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y, steps=4)
    page.mouse.up()
    assert page.evaluate("umapxExplorer.pins.length") == 2
    scale = page.evaluate("umapxExplorer.view.scale")
    assert page.evaluate("umapxExplorer.view.cx") == pytest.approx(cx - 40 / scale, rel=1e-6)


def test_wheel_zooms_about_the_cursor(page):
    x0, y0 = overlay_origin(page)
    px, py = 300, 250
    before = page.evaluate("([x, y]) => umapxExplorer.toData(x, y)", [px, py])
    scale = page.evaluate("umapxExplorer.view.scale")
    page.mouse.move(x0 + px, y0 + py)
    page.mouse.wheel(0, -300)
    page.wait_for_function("s => umapxExplorer.view.scale > s", arg=scale)
    after = page.evaluate("([x, y]) => umapxExplorer.toData(x, y)", [px, py])
    np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-6)


def test_exports_of_grid_and_pins(page, digits_explorer, tmp_path):
    mapper, _, _ = digits_explorer
    with page.expect_download() as download:
        page.click("button[data-export=grid][data-format=npy]")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "umapx-grid.npy"
    grid = result(page, "umapxExplorer.last.grid")
    np.testing.assert_array_equal(np.load(saved), grid["samples"])
    with page.expect_download() as download:
        page.click("button[data-export=grid][data-format=png]")
    raw = open(download.value.path(), "rb").read()
    width, height = png_size(raw)
    assert width == height >= 10 * 8
    x, y = screen_of(page, mapper.embedding_[5])
    page.mouse.click(x, y)
    page.wait_for_function("() => umapxExplorer.pins.length === 1")
    with page.expect_download() as download:
        page.click("button[data-export=pins][data-format=npy]")
    pins = np.load(io.BytesIO(open(download.value.path(), "rb").read()))
    assert pins.shape == (1, 64) and pins.dtype == np.float32
    point = np.array(page.evaluate("umapxExplorer.pins[0].point"), np.float32)
    np.testing.assert_array_equal(pins[0], mapper.inverse_transform(point[None].astype(float))[0])


# ------------------------------------------------------------------------------------------
# The page as a whole
# ------------------------------------------------------------------------------------------


def test_screenshot_shows_the_scatter_and_the_panels(page):
    import matplotlib.image

    for panel in ("#scatter-panel", "#cursor-panel", "#grid-panel", "#path-panel",
                  "#pins-panel", "#legend"):
        assert page.locator(panel).is_visible(), panel
    scatter = page.locator("#scatter-panel").bounding_box()
    sidebar = page.locator("#sidebar").bounding_box()
    assert scatter["width"] > 0.5 * 1280 and sidebar["x"] >= scatter["x"] + scatter["width"] - 1
    assert page.locator("#legend .entry").count() == 10
    image = matplotlib.image.imread(io.BytesIO(page.screenshot()), format="png")
    assert image.shape[:2] == (800, 1280)
    x, y, w, h = (int(scatter[k]) for k in ("x", "y", "width", "height"))
    region = np.round(image[y:y + h, x:x + w, :3] * 255).astype(int)
    colours = {tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in PALETTE}
    present = {colour for colour in colours if np.all(region == colour, axis=2).sum() > 20}
    assert len(present) >= 8  # the clusters, coloured by label
    grid_box = page.locator("#grid-samples").bounding_box()
    grid = image[int(grid_box["y"]):int(grid_box["y"] + grid_box["height"]),
                 int(grid_box["x"]):int(grid_box["x"] + grid_box["width"]), :3]
    assert grid.std() > 0.1  # generated digits, not a blank panel


def test_low_confidence_overlay_toggles(page):
    on = canvas_pixels(page, "#scatter")
    page.click("#support-toggle")
    page.wait_for_timeout(100)
    off = canvas_pixels(page, "#scatter")
    corner_on, corner_off = on[:20, :20, :3].astype(int), off[:20, :20, :3].astype(int)
    assert np.all(corner_off == 255) and corner_on.mean() < 240  # shaded only when on


def test_token_protected_page(browser, digits_explorer):
    mapper, _, _ = digits_explorer
    with explore(mapper, token=True, open_browser=False) as running:
        page = open_explorer(browser, running.url)
        x, y = screen_of(page, mapper.embedding_[3])
        page.mouse.move(x, y)
        assert_matches_inverse(mapper, wait_for_hover_at(page, x, y))
        page.close()
        page = browser.new_page()
        page.goto(running.url.split("?")[0])  # without the token
        page.wait_for_function("() => umapxExplorer.errors.length > 0")
        assert "403" in page.locator("#status").inner_text()
        page.close()


def test_static_export_works_offline(browser, digits_explorer, tmp_path):
    mapper, labels, _ = digits_explorer
    path = export_html(mapper, tmp_path / "digits.html", labels=labels, image_shape=(8, 8),
                       grid=24)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requested = []

    def refuse_network(route):
        requested.append(route.request.url)
        route.abort()

    page.route("http*://**/*", refuse_network)
    page.goto(path.as_uri())
    page.wait_for_function("() => umapxExplorer.ready && umapxExplorer.last.grid !== null")
    assert "static file" in page.locator("#status").inner_text()
    x, y = screen_of(page, mapper.embedding_[7])
    page.mouse.move(x, y)
    page.wait_for_function("() => umapxExplorer.last.hover !== null")
    hover = page.evaluate("({cell: Array.from(umapxExplorer.last.hover.cells), "
                          "sample: Array.from(umapxExplorer.last.hover.samples)})")
    expected = mapper.inverse_transform(np.array([hover["cell"]], np.float64))[0]
    # Quantised to 1/255 of each feature's range over the grid (digits scaled to [0, 1]).
    np.testing.assert_allclose(hover["sample"], expected, atol=0.5 / 255 + 1e-5)
    page.mouse.click(x, y)
    page.wait_for_function("() => umapxExplorer.pins.length === 1")
    assert requested == [] and page.evaluate("umapxExplorer.errors") == []
    page.close()


def test_charts_for_non_image_data_with_feature_names(browser, blobs):
    import umapx

    data, labels = blobs
    mapper = umapx.UMAP(random_state=0, n_epochs=50).fit(data)
    names = [f"gene {i}" for i in range(data.shape[1])]
    values = data[:, 0]  # continuous: coloured by a colour ramp
    with explore(mapper, labels=values, feature_names=names, open_browser=False) as running:
        page = open_explorer(browser, running.url)
        assert page.locator("#legend .ramp").count() == 1
        x, y = screen_of(page, mapper.embedding_[0])
        page.mouse.move(x, y)
        hover = wait_for_hover_at(page, x, y)
        assert_matches_inverse(mapper, hover)
        shown_mean = page.locator("#cursor-neighbours").inner_text().split("mean ")[1].split()[0]
        assert float(shown_mean) == pytest.approx(values[hover["neighbours"][0]].mean(),
                                                  rel=2e-3, abs=1e-3)
        chart = page.locator("#cursor-sample").bounding_box()
        page.mouse.move(chart["x"] + chart["width"] * 0.35, chart["y"] + chart["height"] / 2)
        feature = int(0.35 * data.shape[1])
        text = page.locator("#cursor-feature").inner_text()
        assert text.startswith(f"gene {feature} = ")
        assert float(text.split("= ")[1]) == pytest.approx(hover["samples"][0, feature], rel=1e-3)
        pixels = canvas_pixels(page, "#cursor-sample")
        assert (np.abs(pixels[..., :3].astype(int) - [60, 111, 180]).sum(axis=2) < 10).sum() > 100
        page.close()


def test_rgb_images(browser):
    import umapx

    rng = np.random.default_rng(1)
    centres = rng.uniform(0, 1, size=(3, 12))
    data = np.clip(centres[rng.integers(0, 3, 240)] + rng.normal(0, 0.05, (240, 12)), 0, 1)
    mapper = umapx.UMAP(random_state=0, n_epochs=50, n_neighbors=10).fit(data)
    with explore(mapper, image_shape=(2, 2, 3), open_browser=False) as running:
        page = open_explorer(browser, running.url)
        low, high = page.evaluate("umapxExplorer.meta.image_range")
        x, y = screen_of(page, mapper.embedding_[0])
        page.mouse.move(x, y)
        hover = wait_for_hover_at(page, x, y)
        assert_matches_inverse(mapper, hover)
        pixels = canvas_pixels(page, "#cursor-sample")  # 2 x 2 blocks of 84 pixels
        drawn = pixels[42::84, 42::84, :3].astype(int)
        expected = np.clip(np.round(255 * (hover["samples"][0] - low) / (high - low)), 0, 255)
        assert np.abs(drawn - expected.reshape(2, 2, 3)).max() <= 1
        page.close()


def test_top_terms_of_a_sparse_model(browser):
    """A model fitted on sparse TF-IDF rows: each sample is drawn as its top terms, named by
    the vocabulary; the term under the pointer is reported; no page errors."""
    from sklearn.feature_extraction.text import TfidfTransformer

    import umapx
    from umapx.datasets import make_topic_corpus
    from umapx.explorer.session import TOP_TERMS

    counts, topics = make_topic_corpus(n_documents=300, n_words=700, n_topics=3,
                                       document_length=40, words_per_topic=60, random_state=1)
    tfidf = TfidfTransformer().fit_transform(counts).astype(np.float32)
    mapper = umapx.UMAP(metric="cosine", random_state=0, n_epochs=40).fit(tfidf)
    vocabulary = [f"word{i}" for i in range(700)]
    with explore(mapper, labels=topics, feature_names=vocabulary, open_browser=False) as running:
        page = open_explorer(browser, running.url)
        x, y = (round(v) for v in screen_of(page, mapper.embedding_[0]))  # whole pixels
        page.mouse.move(x, y)
        hover = wait_for_hover_at(page, x, y)
        expected = mapper.inverse_transform(hover["points"].astype(np.float64)).toarray()[0]
        values, columns = hover["samples"][0, :TOP_TERMS], hover["samples"][0, TOP_TERMS:]
        np.testing.assert_array_equal(expected[columns.astype(int)], values)
        chart = page.locator("#cursor-sample").bounding_box()
        page.mouse.move(chart["x"] + chart["width"] / 2, chart["y"] + chart["height"] * 0.5 /
                        TOP_TERMS)  # the first (largest) term's bar
        text = page.locator("#cursor-feature").inner_text()
        assert text.startswith(f"word{int(columns[0])} = ")
        dense = page.evaluate("""() => {
            const e = umapxExplorer, h = e.last.hover;
            return Array.from(e.painter.denseRows(h.samples, 1));
        }""")
        assert len(dense) == 700
        np.testing.assert_array_equal(np.array(dense, np.float32)[columns.astype(int)], values)
        pixels = canvas_pixels(page, "#cursor-sample")
        assert (np.abs(pixels[..., :3].astype(int) - [201, 215, 238]).sum(axis=2) < 10).sum() > 100
        assert page.evaluate("umapxExplorer.errors") == []
        page.close()
