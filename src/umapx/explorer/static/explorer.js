/* umapx explorer page.
 *
 * Live: talks to the local server (api/meta, api/points, api/labels, api/support and POST
 * api/inverse, all binary little-endian arrays but the metadata). Static (an exported file):
 * reads the same arrays from the embedded JSON and answers "inverse" requests with the samples
 * precomputed on a grid. No dependencies; nothing is fetched from anywhere else.
 *
 * window.umapxExplorer exposes the state for tests and benchmarks (last results, pins,
 * hover latencies, render times, coordinate conversions).
 */
(function () {
  "use strict";

  const LOW_TINT = [232, 137, 29];          // orange: samples generated off the data
  const SHADE = [96, 104, 124];             // the low-confidence overlay's colour
  const BACKGROUND = [255, 255, 255];
  const PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
  ];
  const RAMP = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];  // perceptual, dark to light
  const SINGLE = "#3c6fb4";
  const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  const MAX_LATENCIES = 200000;
  const MAX_NPY_VALUES = 1 << 24;           // most values a .npy export holds (64 MB)
  const RAW_POINTER_EVENTS = "onpointerrawupdate" in window;  // Chromium, secure contexts

  const $ = (id) => document.getElementById(id);
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  // ----------------------------------------------------------------------------------------
  // Data sources
  // ----------------------------------------------------------------------------------------

  async function fetchOk(url, options) {
    const response = await fetch(url, options);
    if (!response.ok) {
      throw new Error(`${url}: ${response.status} ${(await response.text()).trim()}`);
    }
    return response;
  }

  function decodeInverse(buffer, points) {
    const [n, d, k] = new Uint32Array(buffer, 0, 3);
    const serverTime = new Float32Array(buffer, 12, 1)[0];
    let offset = 16;
    const samples = new Float32Array(buffer, offset, n * d);
    offset += 4 * n * d;
    const confidence = new Float32Array(buffer, offset, n);
    offset += 4 * n;
    const neighbours = new Int32Array(buffer, offset, n * k);
    return { n, d, k, points, samples, confidence, neighbours, cells: null, serverTime };
  }

  class LiveSource {
    constructor() {
      this.token = new URLSearchParams(window.location.search).get("token");
      this.description = "live";
      this.socket = null;          // a Promise of an open WebSocket, or of null (use fetch)
      this.socketFailed = false;
      this.waiting = [];           // answers expected on the socket, in order
    }
    headers(extra) {
      return Object.assign(this.token ? { "X-Umapx-Token": this.token } : {}, extra || {});
    }
    async binary(path) {
      return (await fetchOk(path, { headers: this.headers() })).arrayBuffer();
    }
    async load() {
      const meta = await (await fetchOk("api/meta", { headers: this.headers() })).json();
      const [points, labels, support] = await Promise.all(
        [this.binary("api/points"), this.binary("api/labels"), this.binary("api/support")]);
      return { meta, points: new Float32Array(points), labels, support: new Float32Array(support) };
    }
    /** The WebSocket for inverse requests (about 1 ms a round trip against 5 for fetch). */
    openSocket() {
      if (this.socket) return this.socket;
      this.socket = new Promise((resolve) => {
        const url = new URL("api/ws", window.location.href);
        url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
        if (this.token) url.searchParams.set("token", this.token);
        let opened = false, ws;
        try {
          ws = new WebSocket(url.href);
        } catch (error) {
          this.socketFailed = true;
          resolve(null);
          return;
        }
        ws.binaryType = "arraybuffer";
        ws.onopen = () => { opened = true; resolve(ws); };
        ws.onmessage = (event) => {
          const waiter = this.waiting.shift();
          if (!waiter) return;
          if (typeof event.data === "string") waiter.reject(new Error(`api/ws: ${event.data}`));
          else waiter.resolve(event.data);
        };
        ws.onclose = () => {
          this.socket = null;  // reconnect on the next request (an idle page is dropped)
          if (!opened) this.socketFailed = true;  // no WebSocket here: fetch from now on
          this.waiting.splice(0).forEach((w) => w.reject(new Error("api/ws: connection closed")));
          resolve(null);
        };
      });
      return this.socket;
    }
    async inverse(points) {
      const ws = this.socketFailed ? null : await this.openSocket();
      let buffer;
      if (ws && ws.readyState === WebSocket.OPEN) {
        buffer = await new Promise((resolve, reject) => {
          this.waiting.push({ resolve, reject });
          ws.send(points);
        });
      } else {
        const response = await fetchOk("api/inverse", {
          method: "POST", body: points,
          headers: this.headers({ "Content-Type": "application/octet-stream" }),
        });
        buffer = await response.arrayBuffer();
      }
      return decodeInverse(buffer, points);
    }
  }

  function base64Bytes(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  class StaticSource {
    constructor(data) {
      this.data = data;
      const grid = data.grid;
      this.side = grid.side;
      this.bounds = grid.bounds;
      this.k = grid.k;
      this.quantised = base64Bytes(grid.samples);
      this.low = Float32Array.from(grid.low);
      this.step = Float32Array.from(grid.step);
      this.confidence = new Float32Array(base64Bytes(grid.confidence).buffer);
      this.neighbours = new Int32Array(base64Bytes(grid.neighbours).buffer);
      // top terms of a sparse model: the columns of each cell's values, kept exact
      this.columns = grid.columns ? new Int32Array(base64Bytes(grid.columns).buffer) : null;
      this.description = `static file: samples precomputed on a ${grid.side} × ${grid.side} grid`;
    }
    async load() {
      const data = this.data;
      return {
        meta: data.meta,
        points: new Float32Array(base64Bytes(data.points).buffer),
        labels: base64Bytes(data.labels).buffer,
        support: new Float32Array(base64Bytes(data.support).buffer),
      };
    }
    /** The sample of the grid point nearest to each point (the cell containing it). */
    async inverse(points) {
      const n = points.length / 2, values = this.low.length, k = this.k, side = this.side;
      const d = this.columns ? 2 * values : values;
      const [xmin, xmax, ymin, ymax] = this.bounds;
      const samples = new Float32Array(n * d), confidence = new Float32Array(n);
      const neighbours = new Int32Array(n * k), cells = new Float32Array(2 * n);
      for (let p = 0; p < n; p++) {
        const i = clamp(Math.floor((points[2 * p] - xmin) / (xmax - xmin) * side), 0, side - 1);
        const j = clamp(Math.floor((points[2 * p + 1] - ymin) / (ymax - ymin) * side), 0, side - 1);
        const cell = j * side + i;
        for (let f = 0; f < values; f++) {
          samples[p * d + f] = this.low[f] + this.quantised[cell * values + f] * this.step[f];
        }
        if (this.columns) {
          for (let f = 0; f < values; f++) samples[p * d + values + f] = this.columns[cell * values + f];
        }
        confidence[p] = this.confidence[cell];
        neighbours.set(this.neighbours.subarray(cell * k, cell * k + k), p * k);
        cells[2 * p] = xmin + (i + 0.5) * (xmax - xmin) / side;
        cells[2 * p + 1] = ymin + (j + 0.5) * (ymax - ymin) / side;
      }
      return { n, d, k, points, samples, confidence, neighbours, cells };
    }
  }

  /** One request in flight per channel; while it runs, only the latest request waits. */
  class Channel {
    constructor(source, onResult, onError) {
      this.source = source;
      this.onResult = onResult;
      this.onError = onError;
      this.busy = false;
      this.next = null;
      this.sent = 0;
    }
    request(points, tag) {
      this.next = { points, tag };
      if (!this.busy) this.pump();
    }
    async pump() {
      this.busy = true;
      while (this.next) {
        const job = this.next;
        this.next = null;
        this.sent++;
        try {
          const began = performance.now();
          const result = await this.source.inverse(job.points);
          result.requestTime = performance.now() - began;
          this.onResult(result, job.tag);
        } catch (error) {
          this.onError(error);
        }
      }
      this.busy = false;
    }
  }

  // ----------------------------------------------------------------------------------------
  // Colours
  // ----------------------------------------------------------------------------------------

  function hexRgb(hex) {
    const v = parseInt(hex.slice(1), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }

  function packRgb(rgb) {
    const [r, g, b] = rgb;
    return (LITTLE_ENDIAN ? ((255 << 24) | (b << 16) | (g << 8) | r)
                          : ((r << 24) | (g << 16) | (b << 8) | 255)) >>> 0;
  }

  function categoryColour(index) {
    if (index < PALETTE.length) return hexRgb(PALETTE[index]);
    const hue = (index * 137.508) % 360;  // golden angle: distinct hues for many categories
    return hslRgb(hue, 0.55, 0.5);
  }

  function hslRgb(h, s, l) {
    const a = s * Math.min(l, 1 - l);
    const f = (n) => {
      const k = (n + h / 30) % 12;
      return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
    };
    return [f(0), f(8), f(4)];
  }

  function rampColour(t) {
    if (!Number.isFinite(t)) return [190, 190, 190];
    const stops = RAMP.map(hexRgb);
    const x = clamp(t, 0, 1) * (stops.length - 1);
    const i = Math.min(Math.floor(x), stops.length - 2), f = x - i;
    return stops[i].map((c, ch) => Math.round(c + f * (stops[i + 1][ch] - c)));
  }

  const css = (rgb, alpha) => `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${alpha === undefined ? 1 : alpha})`;

  // ----------------------------------------------------------------------------------------
  // The scatter: points rasterised straight into an ImageData (no per-point canvas calls)
  // ----------------------------------------------------------------------------------------

  class Scatter {
    constructor(canvas) {
      this.canvas = canvas;
      this.ctx = canvas.getContext("2d");
      this.image = null;
      this.background = packRgb(BACKGROUND);
    }
    /** Points in a shuffled order, so that no class is always drawn over another. */
    setPoints(points, colours) {
      const n = colours.length;
      const order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      let state = 2463534242;
      for (let i = n - 1; i > 0; i--) {  // Fisher-Yates with a fixed xorshift stream
        state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
        const j = (state >>> 0) % (i + 1);
        const t = order[i]; order[i] = order[j]; order[j] = t;
      }
      this.xs = new Float32Array(n);
      this.ys = new Float32Array(n);
      this.colours = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const o = order[i];
        this.xs[i] = points[2 * o];
        this.ys[i] = points[2 * o + 1];
        this.colours[i] = colours[o];
      }
    }
    render(view, size) {
      const canvas = this.canvas, W = canvas.width, H = canvas.height;
      if (!this.image || this.image.width !== W || this.image.height !== H) {
        this.image = this.ctx.createImageData(W, H);
        this.pixels = new Uint32Array(this.image.data.buffer);
      }
      const pixels = this.pixels, xs = this.xs, ys = this.ys, colours = this.colours;
      pixels.fill(this.background);
      const k = view.scale * view.dpr, half = (size - 1) / 2;
      const ox = W / 2 - view.cx * k - half, oy = H / 2 + view.cy * k - half;
      const maxX = W - size, maxY = H - size, n = xs.length;
      for (let i = 0; i < n; i++) {
        const fx = xs[i] * k + ox, fy = oy - ys[i] * k;
        if (!(fx >= 0 && fy >= 0 && fx <= maxX && fy <= maxY)) continue;
        let o = (fy | 0) * W + (fx | 0);
        const c = colours[i];
        if (size === 1) {
          pixels[o] = c;
        } else {
          for (let r = 0; r < size; r++, o += W) pixels.fill(c, o, o + size);
        }
      }
      this.ctx.putImageData(this.image, 0, 0);
    }
  }

  // ----------------------------------------------------------------------------------------
  // Drawing generated samples: images (grey or RGB) or charts of the features
  // ----------------------------------------------------------------------------------------

  class SamplePainter {
    constructor(meta) {
      this.meta = meta;
      this.shape = meta.image_shape;
      // a sparse model's samples: its top terms' values, then their columns
      this.terms = meta.terms || 0;
      this.d = this.terms ? 2 * this.terms : meta.n_features;
      this.low = Float32Array.from(meta.sample_low);
      this.high = Float32Array.from(meta.sample_high);
      [this.imageLow, this.imageHigh] = meta.image_range;
      if (this.shape) {
        this.tile = document.createElement("canvas");
        this.tile.width = this.shape[1];
        this.tile.height = this.shape[0];
        this.tileCtx = this.tile.getContext("2d");
        this.tileImage = this.tileCtx.createImageData(this.shape[1], this.shape[0]);
      }
    }
    /** The 0-255 grey (ink dark) or RGB value of an image sample's value. */
    level(v) {
      const span = this.imageHigh - this.imageLow || 1;
      return clamp(Math.round(255 * (v - this.imageLow) / span), 0, 255);
    }
    draw(ctx, samples, index, x, y, w, h, detail) {
      const sample = samples.subarray(index * this.d, (index + 1) * this.d);
      if (this.terms) this.drawTerms(ctx, sample, x, y, w, h, detail);
      else if (this.shape) this.drawImage(ctx, sample, x, y, w, h);
      else this.drawChart(ctx, sample, x, y, w, h, detail);
    }
    drawImage(ctx, sample, x, y, w, h) {
      const data = this.tileImage.data, rgb = this.shape.length === 3;
      const pixels = this.shape[0] * this.shape[1];
      for (let p = 0; p < pixels; p++) {
        if (rgb) {
          data[4 * p] = this.level(sample[3 * p]);
          data[4 * p + 1] = this.level(sample[3 * p + 1]);
          data[4 * p + 2] = this.level(sample[3 * p + 2]);
        } else {
          const g = 255 - this.level(sample[p]);
          data[4 * p] = g; data[4 * p + 1] = g; data[4 * p + 2] = g;
        }
        data[4 * p + 3] = 255;
      }
      this.tileCtx.putImageData(this.tileImage, 0, 0);
      const scale = Math.min(w / this.shape[1], h / this.shape[0]);
      const dw = this.shape[1] * scale, dh = this.shape[0] * scale;
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(this.tile, x + (w - dw) / 2, y + (h - dh) / 2, dw, dh);
    }
    /** Each feature as a fraction of its range over the generated samples. */
    fraction(sample, f) {
      const span = this.high[f] - this.low[f];
      return span > 0 ? clamp((sample[f] - this.low[f]) / span, 0, 1) : 0.5;
    }
    drawChart(ctx, sample, x, y, w, h, detail) {
      const d = this.d, names = this.meta.feature_names;
      const labelled = detail && names && d <= 24;
      const bottom = labelled ? 46 : (detail ? 4 : 1);
      const top = detail ? 4 : 1, left = detail ? 4 : 1;
      const cw = w - 2 * left, ch = h - top - bottom;
      ctx.fillStyle = "#fff";
      ctx.fillRect(x, y, w, h);
      ctx.strokeStyle = "#d8dce3";
      ctx.lineWidth = 1;
      ctx.strokeRect(x + left + 0.5, y + top + 0.5, cw - 1, ch - 1);
      ctx.fillStyle = ctx.strokeStyle = "#3c6fb4";
      if (d <= 64) {
        const bw = cw / d;
        for (let f = 0; f < d; f++) {
          const bh = Math.max(1, this.fraction(sample, f) * (ch - 2));
          ctx.fillRect(x + left + f * bw + bw * 0.12, y + top + ch - 1 - bh, Math.max(1, bw * 0.76), bh);
        }
      } else {
        ctx.beginPath();
        for (let f = 0; f < d; f++) {
          const px = x + left + (f + 0.5) * cw / d;
          const py = y + top + ch - 1 - this.fraction(sample, f) * (ch - 2);
          if (f === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
        }
        ctx.lineWidth = detail ? 1.2 : 0.8;
        ctx.stroke();
      }
      if (labelled) {
        ctx.save();
        ctx.fillStyle = "#4a5260";
        ctx.font = "10px system-ui, sans-serif";
        const bw = cw / d;
        for (let f = 0; f < d; f++) {
          ctx.save();
          ctx.translate(x + left + (f + 0.5) * bw + 3, y + top + ch + 3);
          ctx.rotate(-Math.PI / 2.6);
          ctx.textAlign = "right";
          ctx.fillText(names[f].slice(0, 10), 0, 0);
          ctx.restore();
        }
        ctx.restore();
      }
    }
    termName(column) {
      const names = this.meta.feature_names;
      return names ? names[column] : `column ${column}`;
    }
    /** Top terms as horizontal bars, largest first; named where the cell has room. */
    drawTerms(ctx, sample, x, y, w, h, detail) {
      const t = this.terms, high = this.high.length ? Math.max(...this.high) : 1;
      ctx.fillStyle = "#fff";
      ctx.fillRect(x, y, w, h);
      const shown = detail ? t : Math.min(t, Math.max(1, Math.floor(h / 9)));
      const rowH = h / shown, named = rowH >= 9;
      ctx.font = `${Math.min(12, Math.floor(rowH - 1))}px system-ui, sans-serif`;
      ctx.textBaseline = "middle";
      for (let i = 0; i < shown; i++) {
        const column = sample[t + i];
        if (column < 0) break;
        const bw = Math.max(1, clamp(sample[i] / (high || 1), 0, 1) * (w - 2));
        ctx.fillStyle = "#c9d7ee";
        ctx.fillRect(x + 1, y + i * rowH + 1, bw, Math.max(1, rowH - 2));
        if (named) {
          ctx.fillStyle = "#1d2330";
          ctx.textAlign = "left";
          ctx.fillText(this.termName(column).slice(0, 24), x + 3, y + (i + 0.5) * rowH);
        }
      }
    }
    /** What the pointer is on in a detailed sample: "name = value". */
    describeAt(sample, offsetX, offsetY, width, height) {
      if (this.terms) {
        const i = clamp(Math.floor(offsetY / height * this.terms), 0, this.terms - 1);
        if (sample[this.terms + i] < 0) return "";
        return `${this.termName(sample[this.terms + i])} = ${sample[i].toPrecision(4)}`;
      }
      const f = this.featureAt(offsetX, width);
      const name = this.meta.feature_names ? this.meta.feature_names[f] : `feature ${f}`;
      return `${name} = ${sample[f].toPrecision(4)}`;
    }
    /** Dense rows (n x n_features) of samples (top terms scattered into their columns). */
    denseRows(samples, n) {
      if (!this.terms) return samples;
      const t = this.terms, width = this.meta.n_features, out = new Float32Array(n * width);
      for (let p = 0; p < n; p++) {
        for (let i = 0; i < t; i++) {
          const column = samples[p * 2 * t + t + i];
          if (column >= 0) out[p * width + column] = samples[p * 2 * t + i];
        }
      }
      return out;
    }
    featureAt(offsetX, width) {
      return clamp(Math.floor(offsetX / width * this.d), 0, this.d - 1);
    }
  }

  /** A set of samples as cells in rows; low-confidence cells framed in orange. */
  function drawSampleSet(canvas, painter, result, columns, cell, threshold) {
    const n = result ? result.n : 0;
    const rows = Math.max(1, Math.ceil(n / columns));
    canvas.width = columns * cell;
    canvas.height = rows * cell;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    for (let i = 0; i < n; i++) {
      const x = (i % columns) * cell, y = Math.floor(i / columns) * cell;
      painter.draw(ctx, result.samples, i, x + 1, y + 1, cell - 2, cell - 2, false);
      if (result.confidence[i] < threshold) {
        ctx.strokeStyle = css(LOW_TINT);
        ctx.lineWidth = 2;
        ctx.strokeRect(x + 1, y + 1, cell - 2, cell - 2);
      }
    }
  }

  /** A filled circle with a number in it (pins, grid corners). */
  function numberedMarker(ctx, x, y, number, radius, fill, stroke, text) {
    ctx.fillStyle = fill;
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, 2 * Math.PI);
    ctx.fill();
    if (stroke) {
      ctx.strokeStyle = stroke;
      ctx.lineWidth = 2;
      ctx.stroke();
    }
    ctx.fillStyle = text;
    ctx.font = `bold ${radius + 2}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(String(number), x, y + 0.5);
  }

  // ----------------------------------------------------------------------------------------
  // Exports: PNG of a panel, NumPy .npy of its samples
  // ----------------------------------------------------------------------------------------

  function npyBytes(samples, n, d) {
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`;
    const total = 10 + header.length + 1;
    header += " ".repeat((64 - (total % 64)) % 64) + "\n";  // data aligned to 64 bytes
    const bytes = new Uint8Array(10 + header.length + 4 * n * d);
    bytes.set([0x93, 78, 85, 77, 80, 89, 1, 0], 0);  // magic "\x93NUMPY", version 1.0
    bytes[8] = header.length & 255;
    bytes[9] = header.length >> 8;
    for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
    const values = new DataView(bytes.buffer, 10 + header.length);
    for (let i = 0; i < n * d; i++) values.setFloat32(4 * i, samples[i], true);
    return bytes;
  }

  function download(blob, name) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  // ----------------------------------------------------------------------------------------
  // The page
  // ----------------------------------------------------------------------------------------

  class Explorer {
    constructor(source) {
      this.source = source;
      this.mode = "explore";
      this.view = { cx: 0, cy: 0, scale: 1, dpr: window.devicePixelRatio || 1 };
      this.last = { hover: null, grid: null, path: null };
      this.pins = [];
      this.path = [];
      this.latencies = [];
      this.latencyParts = [];
      this.renderTimes = [];
      this.errors = [];
      this.pendingHovers = [];
      this.hoverSeq = 0;
      this.drag = null;
      this.renderQueued = false;
      this.ready = false;
    }

    async start() {
      const { meta, points, labels, support } = await this.source.load();
      this.meta = meta;
      this.points = points;
      this.threshold = meta.support.low_confidence;
      this.painter = new SamplePainter(meta);
      this.scatter = new Scatter($("scatter"));
      this.scatter.setPoints(points, this.pointColours(labels));
      this.labelCodes = meta.labels.kind === "categories" ? new Uint16Array(labels) : null;
      this.labelValues = meta.labels.kind === "values" ? new Float32Array(labels) : null;
      this.supportCanvas = this.supportImage(support);
      this.corners = meta.default_corners.map((c) => c.slice());
      this.hoverChannel = new Channel(this.source, (r, seq) => this.showHover(r, seq), (e) => this.fail(e));
      this.gridChannel = new Channel(this.source, (r) => this.showGrid(r), (e) => this.fail(e));
      this.pathChannel = new Channel(this.source, (r) => this.showPath(r), (e) => this.fail(e));
      this.bindControls();
      this.legend();
      this.resize();
      this.resetView();
      new ResizeObserver(() => { this.resize(); this.requestRender(); }).observe($("scatter-panel"));
      this.requestGrid();
      this.showPath(null);
      this.renderPins();
      const n = meta.n_points.toLocaleString("en");
      this.setStatus(`${n} points · ${meta.n_features} features · ${this.source.description}`);
      this.ready = true;
      document.body.dataset.ready = "true";
    }

    fail(error) {
      this.errors.push(String(error && error.message || error));
      this.setStatus(`error: ${this.errors[this.errors.length - 1]}`);
    }

    setStatus(text) { $("status").textContent = text; }

    pointColours(buffer) {
      const labels = this.meta.labels, n = this.meta.n_points;
      const colours = new Uint32Array(n);
      if (labels.kind === "categories") {
        const codes = new Uint16Array(buffer);
        const table = labels.names.map((_, i) => packRgb(categoryColour(i)));
        for (let i = 0; i < n; i++) colours[i] = table[codes[i]];
      } else if (labels.kind === "values") {
        const values = new Float32Array(buffer), span = labels.high - labels.low || 1;
        const table = Array.from({ length: 256 }, (_, i) => packRgb(rampColour(i / 255)));
        const missing = packRgb(rampColour(NaN));
        for (let i = 0; i < n; i++) {
          const t = (values[i] - labels.low) / span;
          colours[i] = Number.isFinite(t) ? table[clamp(Math.round(t * 255), 0, 255)] : missing;
        }
      } else {
        colours.fill(packRgb(hexRgb(SINGLE)));
      }
      return colours;
    }

    /** The confidence raster as a small translucent image (row 0 of the raster is the bottom). */
    supportImage(support) {
      const { width, height } = this.meta.support;
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext("2d"), image = ctx.createImageData(width, height);
      for (let row = 0; row < height; row++) {
        for (let col = 0; col < width; col++) {
          const c = support[row * width + col];
          const o = 4 * ((height - 1 - row) * width + col);
          image.data[o] = SHADE[0]; image.data[o + 1] = SHADE[1]; image.data[o + 2] = SHADE[2];
          image.data[o + 3] = Math.round(255 * this.shadeAlpha(c));
        }
      }
      ctx.putImageData(image, 0, 0);
      return canvas;
    }

    shadeAlpha(confidence) { return 0.4 * clamp(1 - confidence / 0.6, 0, 1); }

    legend() {
      const box = $("legend"), labels = this.meta.labels;
      box.textContent = "";
      if (labels.kind === "categories") {
        labels.names.slice(0, 40).forEach((name, i) => {
          const entry = document.createElement("div");
          entry.className = "entry";
          const swatch = document.createElement("span");
          swatch.className = "swatch";
          swatch.style.background = css(categoryColour(i));
          const text = document.createElement("span");
          text.textContent = name;
          entry.append(swatch, text);
          box.append(entry);
        });
        if (labels.names.length > 40) {
          const more = document.createElement("div");
          more.textContent = `… ${labels.names.length - 40} more`;
          box.append(more);
        }
      } else if (labels.kind === "values") {
        const ramp = document.createElement("div");
        ramp.className = "ramp";
        ramp.style.background = `linear-gradient(to right, ${RAMP.join(", ")})`;
        const range = document.createElement("div");
        range.textContent = `${labels.low.toPrecision(3)} … ${labels.high.toPrecision(3)}`;
        box.append(ramp, range);
      }
    }

    // ------------------------------------------------------------------------------------
    // View: pan, zoom, conversions (CSS pixels of the scatter <-> embedding coordinates)
    // ------------------------------------------------------------------------------------

    resize() {
      const panel = $("scatter-panel"), dpr = window.devicePixelRatio || 1;
      this.width = panel.clientWidth;
      this.height = panel.clientHeight;
      this.view.dpr = dpr;
      for (const canvas of [$("scatter"), $("overlay")]) {
        canvas.width = Math.max(1, Math.round(this.width * dpr));
        canvas.height = Math.max(1, Math.round(this.height * dpr));
      }
    }

    resetView() {
      const [xmin, xmax, ymin, ymax] = this.meta.bounds;
      this.view.cx = (xmin + xmax) / 2;
      this.view.cy = (ymin + ymax) / 2;
      this.view.scale = 0.92 * Math.min(Math.max(this.width, 1) / Math.max(xmax - xmin, 1e-9),
                                        Math.max(this.height, 1) / Math.max(ymax - ymin, 1e-9));
      this.homeScale = this.view.scale;
      this.requestRender();
    }

    toScreen(x, y) {
      return [this.width / 2 + (x - this.view.cx) * this.view.scale,
              this.height / 2 - (y - this.view.cy) * this.view.scale];
    }

    toData(px, py) {
      return [this.view.cx + (px - this.width / 2) / this.view.scale,
              this.view.cy - (py - this.height / 2) / this.view.scale];
    }

    zoomAt(px, py, factor) {
      const [x, y] = this.toData(px, py);
      const scale = clamp(this.view.scale * factor, this.homeScale / 20, this.homeScale * 5000);
      this.view.scale = scale;
      this.view.cx = x - (px - this.width / 2) / scale;
      this.view.cy = y + (py - this.height / 2) / scale;
      this.requestRender();
    }

    pointSize() {
      const n = this.meta.n_points;
      const base = n > 400000 ? 1 : n > 30000 ? 2 : n > 3000 ? 3 : 4;
      const zoom = Math.max(1, this.view.scale / this.homeScale);
      return clamp(Math.round(base * Math.sqrt(zoom) * this.view.dpr), 1, 12);
    }

    requestRender() {
      if (this.renderQueued) return;
      this.renderQueued = true;
      requestAnimationFrame(() => {
        this.renderQueued = false;
        this.render();
      });
    }

    render() {
      const began = performance.now();
      this.scatter.render(this.view, this.pointSize());
      if ($("support-toggle").checked) this.drawSupport();
      this.drawOverlay();
      this.renderTimes.push(performance.now() - began);
      if (this.renderTimes.length > 10000) this.renderTimes.splice(0, 5000);
    }

    drawSupport() {
      const ctx = this.scatter.ctx, dpr = this.view.dpr;  // device pixels, no transform
      const [xmin, xmax, ymin, ymax] = this.meta.support.bounds;
      // Whole device pixels, so the raster and the shade beyond it meet without a seam.
      const [x0, y0] = this.toScreen(xmin, ymax).map((v) => Math.round(v * dpr));
      const [x1, y1] = this.toScreen(xmax, ymin).map((v) => Math.round(v * dpr));
      const W = this.scatter.canvas.width, H = this.scatter.canvas.height;
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(this.supportCanvas, x0, y0, x1 - x0, y1 - y0);
      ctx.fillStyle = css(SHADE, this.shadeAlpha(0));  // no data at all beyond the raster
      ctx.beginPath();
      ctx.rect(0, 0, W, H);
      ctx.rect(x0, y0, x1 - x0, y1 - y0);
      ctx.fill("evenodd");
    }

    // ------------------------------------------------------------------------------------
    // Overlay: cursor, nearest training points, grid corners, path, pins
    // ------------------------------------------------------------------------------------

    drawOverlay() {
      const canvas = $("overlay"), ctx = canvas.getContext("2d"), dpr = this.view.dpr;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, this.width, this.height);
      if (this.mode === "grid") this.drawGridOverlay(ctx);
      if (this.path.length > 1) this.drawPathOverlay(ctx);
      this.pins.forEach((pin, i) => {
        const [px, py] = this.toScreen(pin.point[0], pin.point[1]);
        numberedMarker(ctx, px, py, i + 1, 8, "#1d2330", null, "#fff");
      });
      const hover = this.last.hover;
      if (hover) {
        ctx.strokeStyle = "rgba(20, 20, 20, 0.85)";
        ctx.lineWidth = 1;
        for (let i = 0; i < hover.k; i++) {
          const index = hover.neighbours[i];
          const [px, py] = this.toScreen(this.points[2 * index], this.points[2 * index + 1]);
          ctx.beginPath();
          ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
          ctx.stroke();
        }
        const at = hover.cells ? hover.cells : hover.points;
        const [cx, cy] = this.toScreen(at[0], at[1]);
        ctx.strokeStyle = hover.confidence[0] < this.threshold ? css(LOW_TINT) : "#1d2330";
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.arc(cx, cy, 6, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }

    drawGridOverlay(ctx) {
      const screen = this.corners.map((c) => this.toScreen(c[0], c[1]));
      ctx.strokeStyle = "rgba(29, 35, 48, 0.8)";
      ctx.lineWidth = 1.2;
      ctx.beginPath();
      ctx.moveTo(...screen[0]); ctx.lineTo(...screen[1]); ctx.lineTo(...screen[3]);
      ctx.lineTo(...screen[2]); ctx.closePath();
      ctx.stroke();
      const grid = this.last.grid;
      if (grid) {
        for (let i = 0; i < grid.n; i++) {
          const [px, py] = this.toScreen(grid.points[2 * i], grid.points[2 * i + 1]);
          ctx.fillStyle = grid.confidence[i] < this.threshold ? css(LOW_TINT) : "#1d2330";
          ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
        }
      }
      screen.forEach(([px, py], i) => numberedMarker(ctx, px, py, i + 1, 7, "#fff", "#2b5fab", "#2b5fab"));
    }

    drawPathOverlay(ctx) {
      ctx.strokeStyle = this.mode === "path" ? "#2b5fab" : "rgba(43, 95, 171, 0.55)";
      ctx.lineWidth = 2;
      ctx.beginPath();
      this.path.forEach(([x, y], i) => {
        const [px, py] = this.toScreen(x, y);
        if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      });
      ctx.stroke();
      const result = this.last.path;
      if (result) {
        for (let i = 0; i < result.n; i++) {
          const [px, py] = this.toScreen(result.points[2 * i], result.points[2 * i + 1]);
          ctx.fillStyle = result.confidence[i] < this.threshold ? css(LOW_TINT) : "#2b5fab";
          ctx.beginPath();
          ctx.arc(px, py, 3, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
    }

    // ------------------------------------------------------------------------------------
    // Results
    // ------------------------------------------------------------------------------------

    showHover(result, seq) {
      this.last.hover = result;
      const ctx = $("cursor-sample").getContext("2d"), canvas = $("cursor-sample");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      this.painter.draw(ctx, result.samples, 0, 0, 0, canvas.width, canvas.height, true);
      const at = result.cells ? result.cells : result.points;
      $("cursor-point").textContent = (result.cells ? "nearest grid point " : "") +
        `(${at[0].toFixed(3)}, ${at[1].toFixed(3)})`;
      const confidence = result.confidence[0], low = confidence < this.threshold;
      const line = $("cursor-confidence");
      line.textContent = `confidence ${confidence.toFixed(3)}` + (low ? " — no training data here" : "");
      line.classList.toggle("low", low);
      $("cursor-neighbours").textContent = this.neighbourSummary(result.neighbours.subarray(0, result.k));
      this.drawOverlay();
      const now = performance.now(), pending = this.pendingHovers;
      let drawn = 0;
      while (drawn < pending.length && pending[drawn].seq <= seq) {
        const event = pending[drawn];
        if (this.latencies.length < MAX_LATENCIES) {
          this.latencies.push(now - event.time);
          // Where the time went (for benchmarks): event to handler, the request, waiting
          // for an earlier request and drawing, and the server's share of the request.
          this.latencyParts.push([event.handled - event.time, result.requestTime,
                                  now - event.handled - result.requestTime,
                                  result.serverTime]);
        }
        drawn++;
      }
      pending.splice(0, drawn);
    }

    neighbourSummary(indices) {
      const k = indices.length;
      if (this.labelCodes) {
        const counts = new Map();
        for (const i of indices) {
          const name = this.meta.labels.names[this.labelCodes[i]];
          counts.set(name, (counts.get(name) || 0) + 1);
        }
        const parts = [...counts.entries()].sort((a, b) => b[1] - a[1])
          .map(([name, count]) => `${name} ×${count}`);
        return `nearest ${k} training points: ${parts.join(", ")}`;
      }
      if (this.labelValues) {
        let sum = 0, lo = Infinity, hi = -Infinity;
        for (const i of indices) {
          const v = this.labelValues[i];
          sum += v; lo = Math.min(lo, v); hi = Math.max(hi, v);
        }
        return `nearest ${k} training points: mean ${(sum / k).toPrecision(4)} ` +
               `(${lo.toPrecision(3)} … ${hi.toPrecision(3)})`;
      }
      return `nearest training points: #${Array.from(indices.slice(0, 6)).join(", #")}` +
             (k > 6 ? ", …" : "");
    }

    gridPoints() {
      const n = Number($("grid-size").value), points = new Float32Array(2 * n * n);
      const [c0, c1, c2, c3] = this.corners;
      for (let i = 0; i < n; i++) {
        const y = n > 1 ? i / (n - 1) : 0;
        for (let j = 0; j < n; j++) {
          const x = n > 1 ? j / (n - 1) : 0, o = 2 * (i * n + j);
          for (let a = 0; a < 2; a++) {
            points[o + a] = (c0[a] * (1 - x) + c1[a] * x) * (1 - y) + (c2[a] * (1 - x) + c3[a] * x) * y;
          }
        }
      }
      return points;
    }

    requestGrid() { this.gridChannel.request(this.gridPoints()); }

    showGrid(result) {
      this.last.grid = result;
      const n = Math.round(Math.sqrt(result.n));
      drawSampleSet($("grid-samples"), this.painter, result, n, Math.floor(392 / n), this.threshold);
      this.drawOverlay();
    }

    /** ``count`` points spaced evenly along the drawn path (by length). */
    pathPoints() {
      const count = Number($("path-size").value), path = this.path;
      const lengths = [0];
      for (let i = 1; i < path.length; i++) {
        lengths.push(lengths[i - 1] + Math.hypot(path[i][0] - path[i - 1][0], path[i][1] - path[i - 1][1]));
      }
      const total = lengths[lengths.length - 1], points = new Float32Array(2 * count);
      let segment = 1;
      for (let s = 0; s < count; s++) {
        const target = total * s / (count - 1);
        while (segment < path.length - 1 && lengths[segment] < target) segment++;
        const span = lengths[segment] - lengths[segment - 1];
        const f = span > 0 ? clamp((target - lengths[segment - 1]) / span, 0, 1) : 0;
        points[2 * s] = path[segment - 1][0] + f * (path[segment][0] - path[segment - 1][0]);
        points[2 * s + 1] = path[segment - 1][1] + f * (path[segment][1] - path[segment - 1][1]);
      }
      return points;
    }

    showPath(result) {
      this.last.path = result;
      drawSampleSet($("path-samples"), this.painter, result, 8, 49, this.threshold);
      this.drawOverlay();
    }

    async pin(point) {
      try {
        const result = await this.source.inverse(Float32Array.from(point));
        this.pins.push({
          point: result.cells ? Array.from(result.cells) : point,
          sample: Float32Array.from(result.samples),
          confidence: result.confidence[0],
          neighbours: Int32Array.from(result.neighbours),
        });
        this.renderPins();
        this.drawOverlay();
      } catch (error) {
        this.fail(error);
      }
    }

    renderPins() {
      const box = $("pins");
      box.textContent = "";
      this.pins.forEach((pin, i) => {
        const card = document.createElement("div");
        card.className = "pin" + (pin.confidence < this.threshold ? " low" : "");
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = 88;
        const ctx = canvas.getContext("2d");
        ctx.fillStyle = "#fff";
        ctx.fillRect(0, 0, 88, 88);
        this.painter.draw(ctx, pin.sample, 0, 0, 0, 88, 88, false);
        const caption = document.createElement("div");
        caption.className = "caption";
        caption.textContent = `#${i + 1} conf ${pin.confidence.toFixed(2)}`;
        card.title = `(${pin.point[0].toFixed(3)}, ${pin.point[1].toFixed(3)})\n` +
                     this.neighbourSummary(pin.neighbours);
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "remove";
        remove.textContent = "×";
        remove.title = "Unpin";
        remove.addEventListener("click", () => {
          this.pins.splice(i, 1);
          this.renderPins();
          this.drawOverlay();
        });
        card.append(canvas, caption, remove);
        box.append(card);
      });
    }

    /** The samples of a panel as one result-like object (pins are gathered from their cards). */
    panelResult(panel) {
      if (panel !== "pins") return this.last[panel];
      const n = this.pins.length, d = this.painter.d;
      const samples = new Float32Array(n * d), confidence = new Float32Array(n);
      this.pins.forEach((pin, i) => { samples.set(pin.sample, i * d); confidence[i] = pin.confidence; });
      return { n, d, samples, confidence };
    }

    exportPanel(panel, format) {
      const result = this.panelResult(panel);
      if (!result || result.n === 0) {
        this.setStatus(`nothing to export: the ${panel} is empty`);
        return;
      }
      const name = `umapx-${panel}`;
      if (format === "npy") {
        const width = this.meta.n_features;
        if (result.n * width > MAX_NPY_VALUES) {
          this.setStatus(`too large to export as .npy: ${result.n} samples x ${width} features`);
          return;
        }
        download(new Blob([npyBytes(this.painter.denseRows(result.samples, result.n), result.n, width)],
                          { type: "application/octet-stream" }), `${name}.npy`);
        return;
      }
      const shape = this.meta.image_shape;
      const cell = shape ? Math.max(48, 2 * Math.max(shape[0], shape[1]) + 4) : 120;
      const columns = panel === "grid" ? Math.round(Math.sqrt(result.n)) : Math.min(result.n, 10);
      const canvas = document.createElement("canvas");
      drawSampleSet(canvas, this.painter, result, columns, cell, this.threshold);
      canvas.toBlob((blob) => download(blob, `${name}.png`), "image/png");
    }

    // ------------------------------------------------------------------------------------
    // Input
    // ------------------------------------------------------------------------------------

    setMode(mode) {
      this.mode = mode;
      document.body.className = `mode-${mode}`;
      document.querySelectorAll(".modes button").forEach((b) => {
        b.classList.toggle("active", b.dataset.mode === mode);
      });
      this.drawOverlay();
    }

    hover(event, px, py) {
      const seq = ++this.hoverSeq;
      this.pendingHovers.push({ seq, time: event.timeStamp, handled: performance.now() });
      if (this.pendingHovers.length > 1000) this.pendingHovers.splice(0, 500);
      this.hoverChannel.request(Float32Array.from(this.toData(px, py)), seq);
    }

    nearCorner(px, py) {
      let best = -1, bestDistance = 12;
      this.corners.forEach((c, i) => {
        const [sx, sy] = this.toScreen(c[0], c[1]);
        const distance = Math.hypot(sx - px, sy - py);
        if (distance < bestDistance) { best = i; bestDistance = distance; }
      });
      return best;
    }

    bindControls() {
      const overlay = $("overlay");
      overlay.addEventListener("pointerdown", (event) => {
        if (event.button !== 0) return;
        overlay.setPointerCapture(event.pointerId);
        const px = event.offsetX, py = event.offsetY;
        const corner = this.mode === "grid" ? this.nearCorner(px, py) : -1;
        let kind = "pan";
        if (corner >= 0) kind = "corner";
        else if (this.mode === "path" && !event.shiftKey) kind = "path";
        this.drag = { kind, corner, startX: px, startY: py, lastX: px, lastY: py, moved: false,
                      startTime: event.timeStamp };
        if (kind === "path") {
          this.path = [this.toData(px, py)];
        } else if (kind === "pan") {
          overlay.classList.add("dragging");
        }
      });
      overlay.addEventListener("pointermove", (event) => {
        const px = event.offsetX, py = event.offsetY, drag = this.drag;
        if (drag) {
          drag.moved = drag.moved || Math.hypot(px - drag.startX, py - drag.startY) > 4;
          if (drag.kind === "pan") {
            this.view.cx -= (px - drag.lastX) / this.view.scale;
            this.view.cy += (py - drag.lastY) / this.view.scale;
            this.requestRender();
          } else if (drag.kind === "corner") {
            this.corners[drag.corner] = this.toData(px, py);
            this.requestGrid();
            this.drawOverlay();
          } else if (drag.kind === "path" && Math.hypot(px - drag.lastX, py - drag.lastY) >= 2) {
            this.path.push(this.toData(px, py));
            this.pathChannel.request(this.pathPoints());
            this.drawOverlay();
          }
          if (drag.kind !== "path" || Math.hypot(px - drag.lastX, py - drag.lastY) >= 2) {
            drag.lastX = px;
            drag.lastY = py;
          }
        }
        if (!RAW_POINTER_EVENTS) this.hover(event, px, py);
      });
      if (RAW_POINTER_EVENTS) {
        // Delivered as soon as the pointer moves, not aligned to the next animation frame
        // (pointermove is): up to a frame less latency per hover.
        overlay.addEventListener("pointerrawupdate", (event) => {
          this.hover(event, event.offsetX, event.offsetY);
        });
      }
      const finish = (event) => {
        const drag = this.drag;
        if (!drag) return;
        this.drag = null;
        overlay.classList.remove("dragging");
        if (drag.kind === "pan" && !drag.moved && this.mode === "explore" && event.type === "pointerup") {
          this.pin(this.toData(event.offsetX, event.offsetY));
        }
        if (drag.kind === "path" && this.path.length > 1) this.pathChannel.request(this.pathPoints());
      };
      overlay.addEventListener("pointerup", finish);
      overlay.addEventListener("pointercancel", finish);
      overlay.addEventListener("wheel", (event) => {
        event.preventDefault();
        const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
        this.zoomAt(event.offsetX, event.offsetY, Math.exp(-delta * 0.0015));
      }, { passive: false });
      document.querySelectorAll(".modes button").forEach((button) => {
        button.addEventListener("click", () => this.setMode(button.dataset.mode));
      });
      $("support-toggle").addEventListener("change", () => this.requestRender());
      $("reset-view").addEventListener("click", () => this.resetView());
      $("grid-size").addEventListener("change", () => this.requestGrid());
      $("path-size").addEventListener("change", () => {
        if (this.path.length > 1) this.pathChannel.request(this.pathPoints());
      });
      $("clear-pins").addEventListener("click", () => {
        this.pins = [];
        this.renderPins();
        this.drawOverlay();
      });
      document.querySelectorAll("[data-export]").forEach((button) => {
        button.addEventListener("click", () => this.exportPanel(button.dataset.export, button.dataset.format));
      });
      $("cursor-sample").addEventListener("mousemove", (event) => {
        const hover = this.last.hover;
        if (!hover || (this.meta.image_shape && !this.painter.terms)) return;
        $("cursor-feature").textContent = this.painter.describeAt(
          hover.samples, event.offsetX, event.offsetY, event.target.clientWidth, event.target.clientHeight);
      });
    }

    /** Animate ``frames`` pan and zoom steps, one per animation frame; for benchmarks. */
    benchmarkPanZoom(frames) {
      return new Promise((resolve) => {
        const intervals = [], renders = [];
        let previous = null, frame = 0;
        const step = (now) => {
          if (previous !== null) intervals.push(now - previous);
          previous = now;
          if (frame >= frames) { resolve({ intervals, renders }); return; }
          const phase = frame / 30;
          this.view.cx += Math.cos(phase) * 3 / this.view.scale;
          this.view.cy += Math.sin(phase) * 3 / this.view.scale;
          this.view.scale *= frame % 60 < 30 ? 1.01 : 1 / 1.01;
          const began = performance.now();
          this.render();
          renders.push(performance.now() - began);
          frame++;
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      });
    }
  }

  async function main() {
    const embedded = document.getElementById("umapx-data");
    const source = embedded ? new StaticSource(JSON.parse(embedded.textContent)) : new LiveSource();
    const explorer = new Explorer(source);
    window.umapxExplorer = explorer;
    try {
      await explorer.start();
    } catch (error) {
      explorer.fail(error);
    }
  }

  main();
})();
