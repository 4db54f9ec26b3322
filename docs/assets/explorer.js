// Stride explorer: cs231n's six-dimensional window view, live in the page.
//
// The page holds <div data-stride-explorer></div>; this script fills it with a
// form and redraws sizes, byte strides, the padded image grid, the flat buffer
// and the im2col bill on every input. Pages without the container are left
// alone. Plain JavaScript, no libraries, nothing fetched.
//
// The arithmetic is im2col's (src/im2col/_checks.py output_size and
// _view.py window_view); tests/browser/test_explorer.py checks the page
// against the package on a table of cases generated in the test run.
(function () {
  "use strict";

  // Largest value of a field (pad: MAX_PAD). With these, every byte offset
  // stays below 2**53, so plain JS numbers hold it exactly; byte counts of
  // whole buffers use BigInt.
  var MAX_VALUE = 4096;
  var MAX_PAD = 1024;
  var BUFFER_CAP = 1024; // cells of the flat buffer drawn at most
  var NUMBERED_CAP = 400; // above this, buffer cells are drawn without numbers
  var GRID_CAP = 32; // rows and columns of one padded image drawn at most
  var CHANNEL_CAP = 8; // channel grids drawn at most in "all channels"
  var LIST_CAP = 2000; // window offsets listed at most

  var DTYPES = [
    ["float64", 8], ["float32", 4], ["float16", 2], ["int64", 8],
    ["int32", 4], ["int16", 2], ["int8", 1], ["uint8", 1],
  ];

  // name, label, description, minimum, default value
  var SHAPE_FIELDS = [
    ["N", "N", "images in the batch", 1, 2],
    ["C", "C", "channels", 1, 3],
    ["H", "H", "input height", 1, 5],
    ["W", "W", "input width", 1, 5],
    ["HH", "HH", "kernel height", 1, 3],
    ["WW", "WW", "kernel width", 1, 3],
    ["stride", "stride", "step between windows", 1, 2],
    ["pad", "pad", "zeros on each side", 0, 1, MAX_PAD],
    ["dilation", "dilation", "step between kernel taps (1: none)", 1, 1],
  ];
  var WINDOW_FIELDS = [
    ["n", "n", "image of the window", 0, 0],
    ["oy", "out_y", "window row", 0, 1],
    ["ox", "out_x", "window column", 0, 1],
  ];
  var AXES = ["c", "i", "j", "n", "y", "x"];
  var AXIS_TEXT = [
    "channel", "kernel row", "kernel column", "image", "window row",
    "window column",
  ];

  // ------------------------------------------------------------------ DOM

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") node.textContent = value;
        else if (key === "className") node.className = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function fmt(value) {
    // Integer (number or BigInt) with thousands separators.
    return value.toLocaleString("en-US");
  }

  function tuple(values) {
    // Python's repr of a tuple of ints: "(3, 3, 3, 2, 3, 3)", "(5,)".
    return "(" + values.join(", ") + (values.length === 1 ? ",)" : ")");
  }

  function humanBytes(big) {
    var value = Number(big);
    var units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    var k = 0;
    while (value >= 1024 && k < units.length - 1) {
      value /= 1024;
      k += 1;
    }
    return k === 0 ? fmt(big) + " B" : value.toFixed(1) + " " + units[k];
  }

  // ----------------------------------------------------------- arithmetic

  function parseField(raw, name, minimum, maximum) {
    var text = String(raw).trim();
    if (text === "") {
      return { error: name + " is empty or not a number: enter a whole number." };
    }
    if (!/^[+-]?\d+$/.test(text)) {
      return { error: name + " must be a whole number, got " + text + "." };
    }
    var value = parseInt(text, 10);
    if (value < minimum) {
      var why = "";
      if (name === "stride") why = " (stride 0 would put every window at the same place)";
      if (name === "pad") why = " (padding cannot be negative)";
      if (name === "dilation") why = " (dilation 1 means a dense kernel; 0 is not a dilation)";
      return { error: name + " must be at least " + minimum + ", got " + value + why + "." };
    }
    if (value > maximum) {
      return { error: name + " must be at most " + fmt(maximum) + " in this explorer, got " + fmt(value) + "." };
    }
    return { value: value };
  }

  // The geometry of one setting, or {errors: [...], invalid: [field names]}.
  function compute(raw) {
    var errors = [];
    var invalid = [];
    var p = {};
    SHAPE_FIELDS.concat(WINDOW_FIELDS).forEach(function (f) {
      var r = parseField(raw[f[0]], f[1], f[3], f[5] || MAX_VALUE);
      if (r.error) {
        errors.push(r.error);
        invalid.push(f[0]);
      } else {
        p[f[0]] = r.value;
      }
    });
    if (errors.length) return { errors: errors, invalid: invalid };
    var itemsize = raw.itemsize;
    var nhwc = raw.layout === "NHWC";
    var Hp = p.H + 2 * p.pad;
    var Wp = p.W + 2 * p.pad;
    var spanH = p.dilation * (p.HH - 1) + 1;
    var spanW = p.dilation * (p.WW - 1) + 1;
    if (spanH > Hp) {
      invalid.push("HH");
      errors.push(
        "No window fits: the kernel spans dilation·(HH−1)+1 = " + spanH +
        " rows, more than the padded height Hp = H + 2·pad = " + Hp +
        ". (im2col.conv_output_size raises ValueError here.)");
    }
    if (spanW > Wp) {
      invalid.push("WW");
      errors.push(
        "No window fits: the kernel spans dilation·(WW−1)+1 = " + spanW +
        " columns, more than the padded width Wp = W + 2·pad = " + Wp +
        ". (im2col.conv_output_size raises ValueError here.)");
    }
    if (errors.length) return { errors: errors, invalid: invalid };
    var oh = Math.floor((Hp - spanH) / p.stride) + 1;
    var ow = Math.floor((Wp - spanW) / p.stride) + 1;
    if (p.n >= p.N) {
      invalid.push("n");
      errors.push("n must be below N = " + p.N + ", got " + p.n + ".");
    }
    if (p.oy >= oh) {
      invalid.push("oy");
      errors.push("out_y must be below out_h = " + oh + ", got " + p.oy + ".");
    }
    if (p.ox >= ow) {
      invalid.push("ox");
      errors.push("out_x must be below out_w = " + ow + ", got " + p.ox + ".");
    }
    if (errors.length) return { errors: errors, invalid: invalid };

    // Byte strides of the padded array in NCHW axis order (sN, sC, sH, sW).
    var s = nhwc
      ? [Hp * Wp * p.C * itemsize, itemsize, Wp * p.C * itemsize, p.C * itemsize]
      : [p.C * Hp * Wp * itemsize, Hp * Wp * itemsize, Wp * itemsize, itemsize];
    var view = [s[1], p.dilation * s[2], p.dilation * s[3], s[0], p.stride * s[2], p.stride * s[3]];
    var shape = [p.C, p.HH, p.WW, p.N, oh, ow];
    var B = BigInt;
    var it = B(itemsize);
    return {
      p: p, itemsize: itemsize, dtype: raw.dtype, nhwc: nhwc, Hp: Hp, Wp: Wp,
      spanH: spanH, spanW: spanW, oh: oh, ow: ow, xpStrides: s, strides: view,
      shape: shape, total: p.N * p.C * Hp * Wp,
      inputBytes: B(p.N) * B(p.C) * B(p.H) * B(p.W) * it,
      paddedBytes: B(p.N) * B(p.C) * B(Hp) * B(Wp) * it,
      columnBytes: B(p.C) * B(p.HH) * B(p.WW) * B(p.N) * B(oh) * B(ow) * it,
    };
  }

  // Byte offset of view element idx = [c, i, j, n, y, x].
  function byteOffset(g, idx) {
    var total = 0;
    for (var k = 0; k < 6; k += 1) total += idx[k] * g.strides[k];
    return total;
  }

  // (n, c, h, w) of the element at flat element offset e of the padded buffer.
  function position(g, e) {
    var C = g.p.C;
    if (g.nhwc) {
      return [Math.floor(e / (C * g.Wp * g.Hp)), e % C, Math.floor(e / (C * g.Wp)) % g.Hp, Math.floor(e / C) % g.Wp];
    }
    return [Math.floor(e / (C * g.Hp * g.Wp)), Math.floor(e / (g.Hp * g.Wp)) % C, Math.floor(e / g.Wp) % g.Hp, e % g.Wp];
  }

  function isPadding(g, h, w) {
    var q = g.p.pad;
    return h < q || h >= q + g.p.H || w < q || w >= q + g.p.W;
  }

  // Whether padded row h is read by kernel row i of window row oy.
  function tapIndex(h, start, step, count) {
    var d = h - start;
    if (d < 0 || d % step !== 0 || d / step >= count) return -1;
    return d / step;
  }

  function inWindow(g, pos) {
    var p = g.p;
    return pos[0] === p.n &&
      tapIndex(pos[2], p.oy * p.stride, p.dilation, p.HH) >= 0 &&
      tapIndex(pos[3], p.ox * p.stride, p.dilation, p.WW) >= 0;
  }

  // ------------------------------------------------------------ the widget

  function Explorer(root) {
    this.root = root;
    this.tap = [0, 0, 0]; // cursor (c, i, j) inside the window
    this.lastStep = null;
    this.build();
    this.update(null);
  }

  Explorer.prototype.field = function (f, group) {
    var id = "sx-" + f[0] + "-" + Explorer.count;
    var input = el("input", {
      id: id, name: f[0], type: "number", inputmode: "numeric", step: 1,
      min: f[3], max: f[5] || MAX_VALUE, value: f[4], "data-group": group,
      "aria-describedby": id + "-help",
    });
    this.inputs[f[0]] = input;
    return el("div", { className: "sx-field" }, [
      el("label", { for: id }, [el("code", { text: f[1] })]),
      input,
      el("small", { id: id + "-help", text: f[2] }),
    ]);
  };

  Explorer.prototype.build = function () {
    var self = this;
    Explorer.count = (Explorer.count || 0) + 1;
    this.inputs = {};
    var root = this.root;
    root.textContent = "";
    root.classList.add("sx");

    var dtype = el("select", { name: "dtype", id: "sx-dtype-" + Explorer.count },
      DTYPES.map(function (d) {
        return el("option", { value: d[0], text: d[0] });
      }));
    var layout = el("select", { name: "layout", id: "sx-layout-" + Explorer.count }, [
      el("option", { value: "NCHW", text: "NCHW" }),
      el("option", { value: "NHWC", text: "NHWC" }),
    ]);
    this.inputs.dtype = dtype;
    this.inputs.layout = layout;

    var form = el("form", { className: "sx-form", "aria-label": "Explorer settings" }, [
      el("fieldset", {}, [el("legend", { text: "Input and kernel" })].concat(
        SHAPE_FIELDS.slice(0, 6).map(function (f) { return self.field(f, "shape"); }))),
      el("fieldset", {}, [el("legend", { text: "Sweep" })].concat(
        SHAPE_FIELDS.slice(6).map(function (f) { return self.field(f, "shape"); }))),
      el("fieldset", { className: "sx-memory" }, [
        el("legend", { text: "Memory" }),
        el("div", { className: "sx-field" }, [
          el("label", { for: dtype.id, text: "dtype" }), dtype,
          this.itemsizeNote = el("small", { "data-key": "itemsize-note" })]),
        el("div", { className: "sx-field" }, [
          el("label", { for: layout.id, text: "layout" }), layout,
          el("small", { text: "memory order (NHWC: channels last)" })]),
      ]),
      el("fieldset", {}, [el("legend", { text: "Chosen window" })].concat(
        WINDOW_FIELDS.map(function (f) { return self.field(f, "window"); }))),
    ]);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("input", function (event) { self.update(event.target); });
    form.addEventListener("change", function (event) { self.update(event.target); });

    this.message = el("div", {
      className: "sx-message", role: "alert", "aria-live": "polite",
      "data-key": "message", hidden: true,
    });
    this.results = el("div", { className: "sx-results", "data-key": "results" });
    root.appendChild(form);
    root.appendChild(this.message);
    root.appendChild(this.results);

    // Result panels: filled in by render().
    this.sizes = el("div", { className: "sx-scroll" });
    this.stridesBox = el("div", { className: "sx-scroll" });
    this.stepBox = el("div", { className: "sx-step" });
    this.channel = el("select", { name: "channel", id: "sx-channel-" + Explorer.count });
    this.channel.addEventListener("change", function () { self.update(null); });
    this.gridBox = el("div", { className: "sx-grids" });
    this.gridNote = el("p", { className: "sx-note", "data-key": "grid-note" });
    this.bufferBox = el("div", { className: "sx-buffer", "data-key": "buffer" });
    this.bufferNote = el("p", { className: "sx-note", "data-key": "buffer-note" });
    this.offsets = el("code", { "data-key": "window-offsets" });
    this.offsetsNote = el("span", { "data-key": "window-offsets-note" });
    this.memory = el("div", { className: "sx-scroll" });

    [
      el("h3", { text: "Sizes" }), this.sizes,
      el("h3", { text: "The six byte strides" }), this.stridesBox,
      el("h3", { text: "Step through the view" }), this.stepBox,
      el("h3", { text: "The window on the padded image" }),
      el("div", { className: "sx-field sx-inline" }, [
        el("label", { for: this.channel.id, text: "show" }), this.channel]),
      this.gridBox, this.gridNote,
      el("h3", { text: "The flat memory buffer" }),
      el("p", { className: "sx-legend" }, [
        el("span", { className: "sx-swatch is-window" }), " the window ",
        el("span", { className: "sx-swatch is-cursor" }), " view element at the cursor ",
        el("span", { className: "sx-swatch is-pad" }), " padding zero",
      ]),
      this.bufferBox, this.bufferNote,
      el("details", { className: "sx-details" }, [
        el("summary", { text: "Element offsets of the window, in view order (c, i, j)" }),
        el("p", {}, [this.offsets, " ", this.offsetsNote]),
      ]),
      el("h3", { text: "The im2col copy against the input" }), this.memory,
    ].forEach(function (node) { self.results.appendChild(node); });
  };

  Explorer.prototype.read = function () {
    var raw = {};
    var inputs = this.inputs;
    SHAPE_FIELDS.concat(WINDOW_FIELDS).forEach(function (f) { raw[f[0]] = inputs[f[0]].value; });
    raw.dtype = inputs.dtype.value;
    raw.itemsize = DTYPES.filter(function (d) { return d[0] === raw.dtype; })[0][1];
    raw.layout = inputs.layout.value;
    return raw;
  };

  // Keep the chosen window inside the view when a size changes.
  Explorer.prototype.clampWindow = function (raw) {
    var probe = compute(Object.assign({}, raw, { n: "0", oy: "0", ox: "0" }));
    if (probe.errors) return raw;
    var limits = { n: probe.p.N - 1, oy: probe.oh - 1, ox: probe.ow - 1 };
    var inputs = this.inputs;
    Object.keys(limits).forEach(function (key) {
      inputs[key].max = limits[key];
      var text = String(raw[key]).trim();
      if (/^\d+$/.test(text) && parseInt(text, 10) > limits[key]) {
        inputs[key].value = limits[key];
        raw[key] = String(limits[key]);
      }
    });
    return raw;
  };

  Explorer.prototype.update = function (target) {
    var raw = this.read();
    if (!target || target.getAttribute("data-group") !== "window") raw = this.clampWindow(raw);
    if (target && target !== this.channel) this.lastStep = null;
    var g = compute(raw);
    var inputs = this.inputs;
    SHAPE_FIELDS.concat(WINDOW_FIELDS).forEach(function (f) {
      if (g.errors && g.invalid.indexOf(f[0]) >= 0) inputs[f[0]].setAttribute("aria-invalid", "true");
      else inputs[f[0]].removeAttribute("aria-invalid");
    });
    if (g.errors) {
      this.message.textContent = "";
      var self = this;
      g.errors.forEach(function (text) { self.message.appendChild(el("p", { text: text })); });
      this.message.hidden = false;
      this.results.hidden = true;
      return;
    }
    this.message.hidden = true;
    this.results.hidden = false;
    for (var k = 0; k < 3; k += 1) this.tap[k] = Math.min(this.tap[k], g.shape[k] - 1);
    this.render(g);
  };

  Explorer.prototype.cursor = function (g) {
    return [this.tap[0], this.tap[1], this.tap[2], g.p.n, g.p.oy, g.p.ox];
  };

  Explorer.prototype.step = function (axis) {
    var g = compute(this.read());
    if (g.errors) return;
    var idx = this.cursor(g);
    if (idx[axis] + 1 >= g.shape[axis]) return;
    var before = byteOffset(g, idx);
    idx[axis] += 1;
    if (axis < 3) this.tap[axis] = idx[axis];
    else this.inputs[["n", "oy", "ox"][axis - 3]].value = idx[axis];
    this.lastStep = { axis: axis, before: before, after: byteOffset(g, idx) };
    this.update(null); // a null target keeps lastStep
  };

  Explorer.prototype.render = function (g) {
    this.renderSizes(g);
    this.renderStrides(g);
    this.renderStep(g);
    this.renderGrid(g);
    this.renderBuffer(g);
    this.renderMemory(g);
  };

  function table(head, rows) {
    return el("table", { className: "sx-table" }, [
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { text: h }); }))]),
      el("tbody", {}, rows.map(function (row) {
        return el("tr", {}, row.map(function (cell) {
          if (cell instanceof Node) return el("td", {}, [cell]);
          if (typeof cell === "object") return el("td", { className: cell.cls }, [cell.content]);
          return el("td", { text: cell });
        }));
      })),
    ]);
  }

  function value(key, text) {
    return el("span", { "data-key": key, className: "sx-value", text: text });
  }

  Explorer.prototype.renderSizes = function (g) {
    var p = g.p;
    this.itemsizeNote.textContent = "itemsize " + g.itemsize + " B: all that matters here";
    var d = p.dilation;
    this.sizes.textContent = "";
    this.sizes.appendChild(table(["size", "formula", "value"], [
      ["Hp (padded H)", "H + 2·pad = " + p.H + " + 2·" + p.pad, value("Hp", String(g.Hp))],
      ["Wp (padded W)", "W + 2·pad = " + p.W + " + 2·" + p.pad, value("Wp", String(g.Wp))],
      ["out_h", "⌊(Hp − dilation·(HH−1) − 1) / stride⌋ + 1 = ⌊(" + g.Hp + " − " + d + "·" +
        (p.HH - 1) + " − 1) / " + p.stride + "⌋ + 1", value("out_h", String(g.oh))],
      ["out_w", "⌊(Wp − dilation·(WW−1) − 1) / stride⌋ + 1 = ⌊(" + g.Wp + " − " + d + "·" +
        (p.WW - 1) + " − 1) / " + p.stride + "⌋ + 1", value("out_w", String(g.ow))],
      ["view shape", "(C, HH, WW, N, out_h, out_w)", value("shape", tuple(g.shape))],
      ["itemsize", g.dtype, value("itemsize", String(g.itemsize))],
      ["xp.strides", g.nhwc
        ? "NHWC padded array, read in (N, C, H, W) axis order"
        : "C-ordered (N, C, Hp, Wp) padded array", value("xp-strides", tuple(g.xpStrides))],
    ]));
  };

  Explorer.prototype.renderStrides = function (g) {
    var p = g.p;
    var it = g.itemsize;
    var d = p.dilation;
    var s = p.stride;
    var formulas = g.nhwc ? [
      ["itemsize", [it]],
      ["dilation·Wp·C·itemsize", [d, g.Wp, p.C, it]],
      ["dilation·C·itemsize", [d, p.C, it]],
      ["Hp·Wp·C·itemsize", [g.Hp, g.Wp, p.C, it]],
      ["stride·Wp·C·itemsize", [s, g.Wp, p.C, it]],
      ["stride·C·itemsize", [s, p.C, it]],
    ] : [
      ["Hp·Wp·itemsize", [g.Hp, g.Wp, it]],
      ["dilation·Wp·itemsize", [d, g.Wp, it]],
      ["dilation·itemsize", [d, it]],
      ["C·Hp·Wp·itemsize", [p.C, g.Hp, g.Wp, it]],
      ["stride·Wp·itemsize", [s, g.Wp, it]],
      ["stride·itemsize", [s, it]],
    ];
    var cs231nTerms = ["H*W", "W", "1", "C*H*W", "stride*W", "stride"];
    var rows = formulas.map(function (f, k) {
      return [
        el("code", { text: AXES[k] }),
        AXIS_TEXT[k],
        String(g.shape[k]),
        { cls: g.nhwc ? "does-not-apply" : "", content: el("code", { text: cs231nTerms[k] + " * itemsize" }) },
        { cls: "sx-formula", content: f[0] + (f[1].length > 1 ? " = " + f[1].join("·") : "") },
        value("stride-" + k, fmt(g.strides[k])),
      ];
    });
    this.stridesBox.textContent = "";
    this.stridesBox.appendChild(table(
      ["axis", "walks", "extent", "cs231n's term (C order)", "formula", "bytes"], rows));
    this.stridesBox.appendChild(el("p", { className: "sx-note" }, [
      "view.strides = ", value("strides", tuple(g.strides)),
      g.nhwc
        ? ". NHWC: cs231n's terms assume C order and do not apply; the strides come from the padded NHWC array's layout."
        : ". Hp and Wp are cs231n's H and W after H += 2*pad.",
    ]));
  };

  Explorer.prototype.renderStep = function (g) {
    var self = this;
    var idx = this.cursor(g);
    var off = byteOffset(g, idx);
    var e = off / g.itemsize;
    var pos = position(g, e);
    if (!this.stepButtons) {
      // Built once, so a button keeps the keyboard focus between presses.
      this.stepWhere = el("p", {});
      this.stepButtons = AXES.map(function (name, k) {
        var button = el("button", { type: "button", className: "sx-button", "data-axis": k });
        button.addEventListener("click", function () { self.step(k); });
        return button;
      });
      this.stepLast = el("p", { className: "sx-note", "data-key": "last-step" });
      this.stepBox.appendChild(this.stepWhere);
      this.stepBox.appendChild(el("div", { className: "sx-buttons" }, this.stepButtons));
      this.stepBox.appendChild(this.stepLast);
      this.stepBox.appendChild(el("p", { className: "sx-note" }, [
        "c, i, j walk inside the window; n, y, x move the window (they are the chosen window's n, out_y, out_x).",
      ]));
    }
    this.stepWhere.textContent = "";
    [
      "view[", value("cursor-index", idx.join(", ")), "] is byte ",
      value("cursor-offset", fmt(off)), " = element ", value("cursor-element", fmt(e)),
      " = xp[" + pos.join(", ") + "]" + (isPadding(g, pos[2], pos[3]) ? ", a padding zero." : "."),
    ].forEach(function (child) {
      self.stepWhere.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    this.stepButtons.forEach(function (button, k) {
      var last = idx[k] + 1 >= g.shape[k];
      button.disabled = last;
      button.title = last ? AXES[k] + " is at its last index, " + idx[k] : "view index " + AXES[k] + " + 1";
      button.textContent = "+1 " + AXES[k] + " (+" + fmt(g.strides[k]) + " B)";
    });
    var step = this.lastStep;
    var last = this.stepLast;
    ["data-axis", "data-before", "data-after"].forEach(function (a) { last.removeAttribute(a); });
    if (step) {
      last.setAttribute("data-axis", step.axis);
      last.setAttribute("data-before", step.before);
      last.setAttribute("data-after", step.after);
      last.textContent = "+1 along " + AXES[step.axis] + ": byte " + fmt(step.before) + " → " +
        fmt(step.after) + " (+" + fmt(step.after - step.before) + ", the stride of " +
        AXES[step.axis] + ").";
    } else {
      last.textContent = "Press a button: the cursor moves by that axis's stride.";
    }
  };

  Explorer.prototype.renderGrid = function (g) {
    var p = g.p;
    var select = this.channel;
    var chosen = select.value || "all";
    var options = ["all"];
    for (var c = 0; c < Math.min(p.C, 64); c += 1) options.push(String(c));
    if (options.indexOf(chosen) < 0) chosen = "all";
    select.textContent = "";
    options.forEach(function (o) {
      select.appendChild(el("option", {
        value: o, text: o === "all" ? "all channels of image n = " + p.n : "channel c = " + o + " of image n = " + p.n,
      }));
    });
    select.value = chosen;
    var channels = [];
    if (chosen === "all") for (c = 0; c < Math.min(p.C, CHANNEL_CAP); c += 1) channels.push(c);
    else channels.push(parseInt(chosen, 10));

    // Rows and columns drawn: everything, or a crop that starts at the window.
    function range(size, start) {
      if (size <= GRID_CAP) return [0, size];
      var lo = Math.max(0, Math.min(start - 1, size - GRID_CAP));
      return [lo, lo + GRID_CAP];
    }
    var rows = range(g.Hp, p.oy * p.stride);
    var cols = range(g.Wp, p.ox * p.stride);
    var numbered = (cols[1] - cols[0]) <= 16 && g.total < 100000;
    var cursor = this.cursor(g);
    var cursorE = byteOffset(g, cursor) / g.itemsize;
    var box = this.gridBox;
    box.textContent = "";
    channels.forEach(function (ch) {
      var grid = el("div", {
        className: "sx-grid" + (numbered ? " is-numbered" : ""),
        style: "grid-template-columns: repeat(" + (cols[1] - cols[0]) + ", var(--sx-cell))",
        "data-channel": ch,
      });
      var frag = document.createDocumentFragment();
      for (var h = rows[0]; h < rows[1]; h += 1) {
        for (var w = cols[0]; w < cols[1]; w += 1) {
          var idx = g.nhwc
            ? ((p.n * g.Hp + h) * g.Wp + w) * p.C + ch
            : ((p.n * p.C + ch) * g.Hp + h) * g.Wp + w;
          var pos = [p.n, ch, h, w];
          var cls = "sx-gcell";
          if (isPadding(g, h, w)) cls += " is-pad";
          if (inWindow(g, pos)) cls += " is-window";
          if (idx === cursorE) cls += " is-cursor";
          frag.appendChild(el("span", {
            className: cls, "data-h": h, "data-w": w, "data-offset": idx,
            title: "xp[" + pos.join(", ") + "], element " + idx,
            text: numbered ? String(idx) : null,
          }));
        }
      }
      grid.appendChild(frag);
      box.appendChild(el("figure", { className: "sx-figure" }, [
        grid, el("figcaption", { text: "c = " + ch }),
      ]));
    });
    var notes = [numbered ? "Each cell shows its element offset in the buffer." : "Hover a cell for its element offset."];
    if (chosen === "all" && p.C > CHANNEL_CAP) notes.push("Drawing the first " + CHANNEL_CAP + " of " + p.C + " channels.");
    if (rows[1] - rows[0] < g.Hp || cols[1] - cols[0] < g.Wp) {
      notes.push("The padded image is " + g.Hp + " × " + g.Wp + "; drawing rows " + rows[0] + "–" + (rows[1] - 1) +
        " and columns " + cols[0] + "–" + (cols[1] - 1) + ".");
    }
    this.gridNote.textContent = notes.join(" ");
  };

  Explorer.prototype.windowOffsets = function (g, limit) {
    // Element offsets of the chosen window in view order (c, i, j).
    var out = [];
    var p = g.p;
    var base = byteOffset(g, [0, 0, 0, p.n, p.oy, p.ox]);
    for (var c = 0; c < p.C && out.length < limit; c += 1) {
      for (var i = 0; i < p.HH && out.length < limit; i += 1) {
        for (var j = 0; j < p.WW && out.length < limit; j += 1) {
          out.push((base + c * g.strides[0] + i * g.strides[1] + j * g.strides[2]) / g.itemsize);
        }
      }
    }
    return out;
  };

  Explorer.prototype.renderBuffer = function (g) {
    var p = g.p;
    var count = p.C * p.HH * p.WW;
    var lo = byteOffset(g, [0, 0, 0, p.n, p.oy, p.ox]) / g.itemsize;
    var hi = byteOffset(g, [p.C - 1, p.HH - 1, p.WW - 1, p.n, p.oy, p.ox]) / g.itemsize;
    var rowLength = g.nhwc ? g.Wp * p.C : g.Wp;
    var start = 0;
    var end = g.total;
    if (g.total > BUFFER_CAP) {
      start = Math.max(0, Math.min(Math.floor(lo / rowLength) * rowLength, g.total - BUFFER_CAP));
      end = start + BUFFER_CAP;
    }
    var numbered = end - start <= NUMBERED_CAP;
    var cursorE = byteOffset(g, this.cursor(g)) / g.itemsize;
    var run = g.nhwc ? p.C : g.Wp; // contiguous run: one pixel (NHWC) or one row (NCHW)
    var block = g.nhwc ? g.Wp * p.C : g.Hp * g.Wp; // one image row (NHWC) or one channel (NCHW)
    var box = this.bufferBox;
    box.textContent = "";
    box.className = "sx-buffer" + (numbered ? " is-numbered" : "");
    var frag = document.createDocumentFragment();
    var group = null;
    for (var e = start; e < end; e += 1) {
      var pos = position(g, e);
      if (group === null || e % block === 0) {
        // A new line, with a label, for each channel (NCHW) or image row (NHWC).
        frag.appendChild(el("span", {
          className: "sx-block-label",
          text: (g.nhwc ? "n = " + pos[0] + ", h = " + pos[2] : "n = " + pos[0] + ", c = " + pos[1]) +
            (e % block === 0 ? "" : " (continued)") + ": elements from " + fmt(e),
        }));
      }
      if (group === null || e % run === 0) {
        // One contiguous run per group: the buffer wraps between runs.
        group = el("span", { className: "sx-run" });
        frag.appendChild(group);
      }
      var cls = "sx-cell";
      if (isPadding(g, pos[2], pos[3])) cls += " is-pad";
      if (inWindow(g, pos)) cls += " is-window";
      if (e === cursorE) cls += " is-cursor";
      group.appendChild(el("span", {
        className: cls, "data-offset": e,
        title: "element " + e + " (byte " + e * g.itemsize + "): xp[" + pos.join(", ") + "]",
        text: numbered ? String(e) : null,
      }));
    }
    box.appendChild(frag);
    var note = "The padded buffer holds " + fmt(g.total) + " elements of " + g.itemsize +
      " bytes, in " + (g.nhwc ? "(n, h, w, c)" : "(n, c, h, w)") + " order, one group of cells per " +
      (g.nhwc ? "pixel (its C channels), a new line per image row." : "image row (Wp elements), a new line per channel.") +
      " The window's " + fmt(count) + " elements lie between elements " + fmt(lo) + " and " + fmt(hi) + ".";
    if (start > 0 || end < g.total) {
      note += " Only elements " + fmt(start) + "–" + fmt(end - 1) + " are drawn (at most " + fmt(BUFFER_CAP) + " cells)";
      note += lo >= start && hi < end ? "." : "; part of the window lies outside them.";
    }
    this.bufferNote.textContent = note;
    var list = this.windowOffsets(g, LIST_CAP);
    this.offsets.textContent = list.join(", ");
    this.offsetsNote.textContent = count > LIST_CAP
      ? "(the first " + fmt(LIST_CAP) + " of " + fmt(count) + ")" : "(" + fmt(count) + " elements)";
  };

  Explorer.prototype.renderMemory = function (g) {
    var p = g.p;
    var ratio = Number(g.columnBytes) / Number(g.inputBytes);
    var approx = (p.HH * p.WW) / (p.stride * p.stride);
    this.memory.textContent = "";
    this.memory.appendChild(table(["buffer", "formula", "bytes", ""], [
      ["input x", "N·C·H·W·itemsize", value("input-bytes", fmt(g.inputBytes)), humanBytes(g.inputBytes)],
      ["padded xp", "N·C·Hp·Wp·itemsize", value("padded-bytes", fmt(g.paddedBytes)), humanBytes(g.paddedBytes)],
      ["6-D view", "strides only: no bytes allocated", "0", ""],
      ["im2col copy", "C·HH·WW · N·out_h·out_w · itemsize", value("columns-bytes", fmt(g.columnBytes)),
        humanBytes(g.columnBytes)],
    ]));
    this.memory.appendChild(el("p", {}, [
      "The copy is ", value("ratio", ratio.toFixed(2)), "× the input (about HH·WW / stride² = " +
      approx.toFixed(2) + "× when out_h·out_w ≈ H·W / stride²).",
    ]));
  };

  function setup() {
    var roots = document.querySelectorAll("[data-stride-explorer]");
    Array.prototype.forEach.call(roots, function (root) {
      if (root.sxExplorer) return;
      root.sxExplorer = new Explorer(root);
    });
  }

  if (typeof window.document$ !== "undefined" && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(setup);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
