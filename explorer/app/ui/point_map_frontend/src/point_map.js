// The map of a large workspace: every point drawn by regl-scatterplot (WebGL), cluster names placed on top and
// refined as one zooms, a legend, a tooltip with the point's category, and the selection (click, lasso) sent back
// to Python as the drawn points' indices. Built into ../point_map.js by `npm run build`; see README "Every point
// on the map". User text only ever reaches the page through textContent, never as HTML.
import createScatterplot from 'regl-scatterplot';

const MAX_LABELS = 40;
const LABEL_PADDING_PX = 4;

const SVG = 'http://www.w3.org/2000/svg';
const instances = new WeakMap();

export default function mount({ data, parentElement, setStateValue }) {
  let map = instances.get(parentElement);
  if (!map) {
    map = new PointMap(parentElement, setStateValue);
    instances.set(parentElement, map);
  }
  map.update(data);
  return () => {
    map.destroy();
    instances.delete(parentElement);
  };
}

function element(tag, className, parent) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (parent) parent.appendChild(node);
  return node;
}

function numberText(value) {
  return Number(value).toLocaleString('en-US');
}

class PointMap {
  constructor(parent, setStateValue) {
    this.setStateValue = setStateValue;
    this.root = element('div', 'pm-root', parent);
    this.root.dataset.testid = 'pointMap';
    this.title = element('div', 'pm-title', this.root);
    const body = element('div', 'pm-body', this.root);
    this.plot = element('div', 'pm-plot', body);
    this.canvas = element('canvas', 'pm-canvas', this.plot);
    this.marksLayer = document.createElementNS(SVG, 'svg');
    this.marksLayer.setAttribute('class', 'pm-marks');
    this.plot.appendChild(this.marksLayer);
    this.labelLayer = element('div', 'pm-labels', this.plot);
    this.tooltip = element('div', 'pm-tooltip', this.plot);
    const toolbar = element('div', 'pm-toolbar', this.plot);
    this.panButton = this.button(toolbar, 'Pan', 'Drag to pan, scroll to zoom', () => this.setMode('panZoom'));
    this.lassoButton = this.button(toolbar, 'Lasso', 'Drag to lasso points (or hold Shift while dragging)',
      () => this.setMode('lasso'));
    this.button(toolbar, 'Fit', 'Back to the whole map', () => this.fit());
    this.legend = element('div', 'pm-legend', body);
    this.status = element('div', 'pm-status', this.root);
    this.hidden = new Set();
    this.selected = [];
    this.lasso = null;
    this.mouse = [0, 0];
    this.canvas.addEventListener('mousemove', (event) => {
      const box = this.canvas.getBoundingClientRect();
      this.mouse = [event.clientX - box.left, event.clientY - box.top];
    });
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.plot);
  }

  button(parent, text, help, onClick) {
    const node = element('button', 'pm-button', parent);
    node.type = 'button';
    node.textContent = text;
    node.title = help;
    node.addEventListener('click', onClick);
    return node;
  }

  update(data) {
    this.data = data;
    this.title.textContent = data.title;
    this.plot.style.height = `${data.height}px`;
    this.labels = data.labels || [];
    this.marks = data.marks || null;
    if (!this.scatterplot) this.create(data);
    this.scatterplot.set({ opacity: data.opacity });
    this.drawLegend(data.legend);
    if (data.points_id !== this.pointsId) this.drawPoints(data);
    else this.placeLabels();
  }

  create(data) {
    const { width, height } = this.plot.getBoundingClientRect();
    this.width = Math.max(width, 100);
    this.height = data.height;
    this.scatterplot = createScatterplot({
      canvas: this.canvas,
      width: this.width,
      height: this.height,
      backgroundColor: '#ffffff',
      pointSize: data.point_size,
      opacity: data.opacity,
      pointOutlineWidth: 1,
      pointColorActive: '#000000',
      lassoColor: '#0068c9',
      lassoMinDelay: 10,
      lassoMinDist: 2,
      showReticle: false,
    });
    this.setMode('panZoom');
    this.scatterplot.subscribe('view', ({ view }) => this.scheduleLabels(view));
    // When the last frame was drawn, for the renderer benchmark and the browser tests.
    this.scatterplot.subscribe('draw', () => { this.root.dataset.frameAt = String(performance.now()); });
    this.scatterplot.subscribe('lassoStart', () => { this.lasso = null; });
    this.scatterplot.subscribe('lassoEnd', ({ coordinates }) => {
      this.lasso = coordinates.map(([x, y]) => this.toData(x, y));
    });
    // regl-scatterplot announces a lasso's selection before the lasso's end: sent once both are in.
    this.scatterplot.subscribe('select', ({ points }) => {
      setTimeout(() => this.sendSelection(Array.from(points)), 0);
    });
    this.scatterplot.subscribe('deselect', () => this.sendSelection([]));
    this.scatterplot.subscribe('pointOver', (index) => this.showTooltip(index));
    this.scatterplot.subscribe('pointOut', () => { this.tooltip.style.display = 'none'; });
  }

  async drawPoints(data) {
    const started = performance.now();
    const table = data.points;
    const x = table.getChild('x').toArray();
    const y = table.getChild('y').toArray();
    const codes = table.getChild('c').toArray();
    this.codes = codes;
    const continuous = data.legend.kind === 'scale';
    let valueA = codes;
    if (continuous) {
      valueA = new Float32Array(codes.length);
      for (let i = 0; i < codes.length; i += 1) valueA[i] = codes[i] / 65535;
    }
    this.scatterplot.set({ colorBy: 'valueA', pointColor: data.colours });
    const samePositions = data.positions_id === this.positionsId;
    const options = { zDataType: continuous ? 'continuous' : 'categorical' };
    if (samePositions) options.spatialIndex = this.scatterplot.get('spatialIndex');
    this.pointsId = data.points_id;
    this.root.dataset.drawn = '';
    await this.scatterplot.draw({ x, y, valueA }, options);
    this.hidden.clear();
    if (!samePositions) {
      this.positionsId = data.positions_id;
      this.selected = [];
      this.fit();
    }
    this.root.dataset.drawn = String(codes.length);
    this.root.dataset.drawMs = String(Math.round(performance.now() - started));
    this.status.textContent = `${numberText(codes.length)} points drawn. Drag to pan, scroll to zoom; click a point `
      + 'or lasso some (Lasso, or Shift + drag) to list them below; double-click an empty spot to clear.';
    this.placeLabels();
  }

  setMode(mode) {
    this.scatterplot.set({ mouseMode: mode });
    this.panButton.classList.toggle('pm-active', mode === 'panZoom');
    this.lassoButton.classList.toggle('pm-active', mode === 'lasso');
  }

  fit() {
    const { x0, x1, y0, y1 } = this.data.frame;
    this.scatterplot.zoomToArea({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, { transition: false });
  }

  resize() {
    if (!this.scatterplot) return;
    const { width } = this.plot.getBoundingClientRect();
    if (Math.abs(width - this.width) < 1 || width < 100) return;
    this.width = width;
    this.scatterplot.set({ width: this.width, height: this.height });
    this.placeLabels();
  }

  toData(x, y) {
    const { cx, cy, scale } = this.data.to_data;
    return [cx + x * scale, cy + y * scale];
  }

  sendSelection(indices) {
    this.selected = indices;
    const lasso = this.lasso;
    this.lasso = null;
    this.root.dataset.selected = String(indices.length);
    this.root.dataset.lasso = lasso ? JSON.stringify(lasso) : '';
    this.setStateValue('selection', { indices, lasso });
  }

  showTooltip(index) {
    const { legend } = this.data;
    const code = this.codes[index];
    let text;
    if (legend.kind === 'scale') {
      text = `${legend.title}: ${(legend.low + (legend.high - legend.low) * (code / 65535)).toPrecision(3)}`;
    } else {
      text = legend.items[code] ? legend.items[code].name : '';
    }
    this.tooltip.textContent = `${text} (click to read the text)`;
    this.tooltip.style.left = `${this.mouse[0] + 12}px`;
    this.tooltip.style.top = `${this.mouse[1] + 12}px`;
    this.tooltip.style.display = 'block';
  }

  drawLegend(legend) {
    this.legend.replaceChildren();
    if (legend.kind === 'scale') {
      const title = element('div', 'pm-legend-title', this.legend);
      title.textContent = legend.title;
      const bar = element('div', 'pm-scale', this.legend);
      bar.style.background = `linear-gradient(to top, ${legend.colours.join(', ')})`;
      const high = element('div', 'pm-scale-high', this.legend);
      high.textContent = legend.high.toPrecision(3);
      const low = element('div', 'pm-scale-low', this.legend);
      low.textContent = legend.low.toPrecision(3);
      return;
    }
    const title = element('div', 'pm-legend-title', this.legend);
    title.textContent = `${legend.title} (click to hide or show)`;
    legend.items.forEach((item, code) => {
      const row = element('div', 'pm-legend-item', this.legend);
      row.dataset.testid = 'pointMapLegendItem';
      row.classList.toggle('pm-hidden', this.hidden.has(code));
      const swatch = element('span', 'pm-swatch', row);
      swatch.style.background = item.colour;
      const name = element('span', 'pm-legend-name', row);
      name.textContent = item.name;
      const count = element('span', 'pm-legend-count', row);
      count.textContent = numberText(item.count);
      row.addEventListener('click', () => this.toggle(code, row));
    });
  }

  toggle(code, row) {
    if (this.hidden.has(code)) this.hidden.delete(code);
    else this.hidden.add(code);
    row.classList.toggle('pm-hidden', this.hidden.has(code));
    if (this.hidden.size === 0) {
      this.scatterplot.unfilter();
      return;
    }
    const shown = [];
    for (let i = 0; i < this.codes.length; i += 1) if (!this.hidden.has(this.codes[i])) shown.push(i);
    this.scatterplot.filter(shown);
  }

  scheduleLabels(view) {
    this.view = view;
    if (this.labelFrame) return;
    this.labelFrame = requestAnimationFrame(() => {
      this.labelFrame = null;
      this.placeLabels();
    });
  }

  screenPosition(view, x, y) {
    // As regl-scatterplot's getScreenPosition: the camera's view, then the canvas's aspect ratio.
    const aspect = this.width / this.height;
    const clipX = (view[0] * x + view[4] * y + view[12]) / aspect;
    const clipY = view[1] * x + view[5] * y + view[13];
    return [(this.width * (clipX + 1)) / 2, this.height * (0.5 - clipY / 2)];
  }

  // Biggest clusters first, each kept where it overlaps no label already placed: zoomed out, the big names take
  // the room; zoomed in, clusters move apart and smaller ones find space.
  placeLabels() {
    const view = this.view || (this.scatterplot && this.scatterplot.get('cameraView'));
    this.placeMarks(view);
    const layer = this.labelLayer;
    if (!view || !this.labels.length) {
      layer.replaceChildren();
      this.root.dataset.labels = '0';
      return;
    }
    const boxes = [];
    const shown = [];
    for (const label of this.labels) {
      if (shown.length >= MAX_LABELS) break;
      const [px, py] = this.screenPosition(view, label.x, label.y);
      const halfWidth = 0.3 * label.size * label.text.length + LABEL_PADDING_PX;
      const halfHeight = 0.7 * label.size;
      if (px - halfWidth < 0 || px + halfWidth > this.width || py - halfHeight < 0 || py + halfHeight > this.height) {
        continue;
      }
      if (boxes.some(([bx, by, bw, bh]) => Math.abs(px - bx) < halfWidth + bw && Math.abs(py - by) < halfHeight + bh)) {
        continue;
      }
      boxes.push([px, py, halfWidth, halfHeight]);
      shown.push([label, px, py]);
    }
    while (layer.children.length < shown.length) {
      const node = element('div', 'pm-label', layer);
      node.dataset.testid = 'pointMapLabel';
    }
    while (layer.children.length > shown.length) layer.lastChild.remove();
    shown.forEach(([label, px, py], position) => {
      const node = layer.children[position];
      node.textContent = label.text;
      node.style.left = `${px}px`;
      node.style.top = `${py}px`;
      node.style.fontSize = `${label.size}px`;
      node.dataset.cluster = String(label.cluster);
    });
    this.root.dataset.labels = String(shown.length);
  }

  // Search results on top of the map: each result ringed and numbered, joined to the query (or the chosen point),
  // drawn as a star.
  placeMarks(view) {
    const layer = this.marksLayer;
    layer.replaceChildren();
    if (!view || !this.marks) return;
    const svg = (tag, attributes, parent = layer) => {
      const node = document.createElementNS(SVG, tag);
      Object.entries(attributes).forEach(([name, value]) => node.setAttribute(name, value));
      parent.appendChild(node);
      return node;
    };
    const hits = this.marks.hits.map(([x, y]) => this.screenPosition(view, x, y));
    const origin = this.marks.origin && this.screenPosition(view, ...this.marks.origin);
    if (origin) {
      hits.forEach(([x, y]) => svg('line', { x1: origin[0], y1: origin[1], x2: x, y2: y, class: 'pm-link' }));
    }
    hits.forEach(([x, y], position) => {
      const group = svg('g', { class: 'pm-hit', 'data-testid': 'pointMapHit' });
      svg('circle', { cx: x, cy: y, r: 6 }, group);
      svg('text', { x, y: y - 9 }, group).textContent = String(position + 1);
    });
    if (origin) {
      const points = [];
      for (let corner = 0; corner < 10; corner += 1) {
        const radius = corner % 2 ? 4.5 : 11;
        const angle = (Math.PI / 5) * corner - Math.PI / 2;
        points.push(`${origin[0] + radius * Math.cos(angle)},${origin[1] + radius * Math.sin(angle)}`);
      }
      const star = svg('polygon', { points: points.join(' '), class: 'pm-origin', 'data-testid': 'pointMapOrigin' });
      svg('title', {}, star).textContent = this.marks.origin_label;
    }
  }

  destroy() {
    this.resizeObserver.disconnect();
    if (this.scatterplot) this.scatterplot.destroy();
    this.root.remove();
  }
}
