/* qdx report: builds every section from the JSON block with DOM calls and textContent only.
   Project text (names, quotes, memos) is never parsed as HTML: no innerHTML, no href from data. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('qdx-data').textContent);
  var PAGE = 50;

  function el(tag, props) {
    var e = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === null || v === undefined) return;
        if (k === 'text') e.textContent = String(v);
        else if (k === 'cls') e.className = v;
        else e.setAttribute(k, String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }
  function $(id) { return document.getElementById(id); }
  function fmt(n) { return n === null || n === undefined ? 'n/a' : String(n); }
  function pct(x) { return x === null || x === undefined ? 'n/a' : (100 * x).toFixed(1) + ' %'; }
  function heat(td, value, max) {
    if (!max || !value) return;
    var a = Math.min(1, value / max);
    td.style.backgroundColor = 'rgba(47, 93, 138, ' + (0.08 + 0.62 * a).toFixed(3) + ')';
    if (a > 0.6) td.style.color = '#fff';
  }
  function swatch(color) {
    if (!color || !/^#[0-9A-Fa-f]{6}$/.test(color)) return null;
    var s = el('span', {cls: 'swatch', 'aria-hidden': 'true'});
    s.style.backgroundColor = color;
    return s;
  }

  var codes = D.codes;
  // Pre-order: a code's subtree is the index range [i, end[i]).
  var end = codes.map(function (c, i) {
    var j = i + 1;
    while (j < codes.length && codes[j].depth > c.depth) j++;
    return j;
  });
  function path(i) {
    var names = [];
    for (var k = i; k >= 0; k = codes[k].parent) names.unshift(codes[k].name);
    return names.join(' › ');
  }

  /* ---------------------------------------------------------------- overview */
  function overview() {
    var sub = 'Report made by qdx ' + D.version + ' on ' + D.generated + (D.input ? ' from ' + D.input : '');
    $('subtitle').textContent = sub;
    $('footer').textContent = sub + '. One self-contained file: it loads nothing from the network.';
    var head = $('headline');
    Object.keys(D.headline).forEach(function (k) {
      head.appendChild(el('div', {cls: 'stat'}, el('span', {cls: 'n', text: D.headline[k]}),
        el('span', {cls: 'l', text: k})));
    });
    var body = $('overview-table').tBodies[0];
    D.overview.forEach(function (row) {
      body.appendChild(el('tr', null, el('th', {scope: 'row', text: row[0]}), el('td', {text: row[1]})));
    });
    if (D.notes.length) {
      var ul = el('ul', {cls: 'note'});
      D.notes.forEach(function (n) { ul.appendChild(el('li', {text: n})); });
      $('notes').appendChild(ul);
    }
  }

  /* ---------------------------------------------------------------- codebook tree */
  function definition(c) {
    var box = el('div', {cls: 'def'});
    if (c.fields.length) {
      var dl = el('dl');
      c.fields.forEach(function (f) { dl.appendChild(el('dt', {text: f[0]})); dl.appendChild(el('dd', {text: f[1]})); });
      box.appendChild(dl);
    }
    if (c.example) {
      box.appendChild(el('blockquote', {text: c.example.text}));
      box.appendChild(el('p', {cls: 'muted', text: '— example from ' + c.example.source +
        (c.example.start !== null ? ', characters ' + c.example.start + '–' + c.example.end : '')}));
    }
    c.memos.forEach(function (m) {
      box.appendChild(el('div', {cls: 'memo'}, el('strong', {text: memoTitle(m[0])}), '\n' + m[1]));
    });
    return box.childNodes.length ? box : null;
  }
  function memoTitle(name) { return /^memo\b/i.test(name) ? name : 'Memo: ' + name; }
  function tree() {
    $('quote-rule').textContent = D.quoteRule;
    var lists = {'-1': $('tree')};
    codes.forEach(function (c, i) {
      var summary = el('summary', null, swatch(c.color), el('span', {cls: 'name', text: c.name}),
        el('span', {cls: 'level', text: c.level}),
        el('span', {cls: 'count', text: c.refsTotal === null ? 'counts n/a (no coding data)' :
          c.refsTotal + ' refs' + (c.srcsTotal === null ? '' : ' · ' + c.srcsTotal + ' sources')}));
      var details = el('details', null, summary, definition(c));
      if (c.depth < 2) details.open = true;
      var li = el('li', {id: 'code-' + i, 'data-code': i, 'data-depth': c.depth}, details);
      if (end[i] > i + 1) {
        var ul = el('ul', {'aria-label': 'Subcodes of ' + c.name});
        details.appendChild(ul);
        lists[i] = ul;
      }
      lists[c.parent].appendChild(li);
    });
    function all(open) {
      Array.prototype.forEach.call($('tree').querySelectorAll('details'), function (d) { d.open = open; });
    }
    $('tree-expand').addEventListener('click', function () { all(true); });
    $('tree-collapse').addEventListener('click', function () { all(false); });
  }
  function reveal(i) {
    for (var k = i; k >= 0; k = codes[k].parent) {
      var d = document.querySelector('#code-' + k + ' > details');
      if (d) d.open = true;
    }
  }

  /* ---------------------------------------------------------------- quotes */
  var Q = D.quotes, N = Q.text.length, lower = null, page = 0, hits = [];
  function options(select, items, all) {
    select.appendChild(el('option', {value: '', text: all}));
    items.forEach(function (item) { select.appendChild(el('option', {value: item[0], text: item[1]})); });
  }
  // Variable names and values are data: prototype-free maps and own-property checks only.
  function own(obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); }
  function variables() {
    var names = Object.create(null);
    D.caseValues.concat(D.sourceValues).forEach(function (vals) { Object.keys(vals).forEach(function (k) { names[k] = 1; }); });
    return Object.keys(names).sort();
  }
  function valuesOf(name) {
    var seen = Object.create(null);
    D.caseValues.concat(D.sourceValues).forEach(function (vals) { if (own(vals, name)) seen[vals[name]] = 1; });
    return Object.keys(seen).sort();
  }
  function filters() {
    options($('q-code'), codes.map(function (c, i) {
      return [String(i), '\u00a0\u00a0'.repeat(c.depth) + c.name + ' (' + fmt(c.refsTotal) + ')'];
    }), 'All codes');
    options($('q-source'), D.sources.map(function (s, i) { return [String(i), s]; }), 'All sources');
    options($('q-var'), variables().map(function (v) { return [v, v]; }), 'Any variable');
    options($('q-coder'), D.coders.map(function (c, i) { return [String(i), c]; }), 'All coders');
    $('q-var').addEventListener('change', function () {
      var sel = $('q-value');
      while (sel.firstChild) sel.removeChild(sel.firstChild);
      var name = $('q-var').value;
      sel.disabled = !name;
      if (name) options(sel, valuesOf(name).map(function (v) { return [v, v === '' ? '(empty)' : v]; }), 'Any value');
      run();
    });
    var timer = null;
    $('q-text').addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(run, 150); });
    ['q-code', 'q-sub', 'q-source', 'q-value', 'q-coder'].forEach(function (id) { $(id).addEventListener('change', run); });
    $('quote-filters').addEventListener('reset', function () {
      setTimeout(function () { $('q-value').disabled = true; run(); }, 0);
    });
    $('quote-filters').addEventListener('submit', function (e) { e.preventDefault(); run(); });
    $('q-prev').addEventListener('click', function () { if (page > 0) { page--; show(); } });
    $('q-next').addEventListener('click', function () { if ((page + 1) * PAGE < hits.length) { page++; show(); } });
  }
  function matcher() {
    var text = $('q-text').value.trim().toLowerCase();
    var code = $('q-code').value, source = $('q-source').value, coder = $('q-coder').value;
    var vname = $('q-var').value, vvalue = $('q-value').value;
    var lo = -1, hi = -1;
    if (code !== '') { lo = +code; hi = $('q-sub').checked ? end[lo] : lo + 1; }
    if (text && lower === null) lower = Q.text.map(function (t) { return t === null ? '' : t.toLowerCase(); });
    var src = source === '' ? -1 : +source, cod = coder === '' ? -1 : +coder;
    return function (i) {
      if (lo >= 0 && (Q.code[i] < lo || Q.code[i] >= hi)) return false;
      if (src >= 0 && Q.source[i] !== src) return false;
      if (cod >= 0 && Q.coder[i] !== cod) return false;
      if (vname && vvalue !== '' && !hasValue(i, vname, vvalue)) return false;
      if (vname && vvalue === '' && !hasVariable(i, vname)) return false;
      return !text || lower[i].indexOf(text) >= 0;
    };
  }
  function hasValue(i, name, value) {
    var sv = D.sourceValues[Q.source[i]];
    if (sv && own(sv, name) && sv[name] === value) return true;
    return Q.cases[i].some(function (c) { var cv = D.caseValues[c]; return own(cv, name) && cv[name] === value; });
  }
  function hasVariable(i, name) {
    var sv = D.sourceValues[Q.source[i]];
    if (sv && own(sv, name)) return true;
    return Q.cases[i].some(function (c) { return own(D.caseValues[c], name); });
  }
  function run() {
    var test = matcher();
    hits = [];
    for (var i = 0; i < N; i++) if (test(i)) hits.push(i);
    page = 0;
    show();
  }
  function show() {
    var list = $('quote-list');
    while (list.firstChild) list.removeChild(list.firstChild);
    var from = page * PAGE, to = Math.min(hits.length, from + PAGE);
    list.start = from + 1;
    for (var k = from; k < to; k++) {
      var i = hits[k];
      var where = D.sources[Q.source[i]] + (Q.start[i] !== null ? ', ' + Q.start[i] + '–' + Q.end[i] : '');
      var who = Q.coder[i] >= 0 ? ' · ' + D.coders[Q.coder[i]] : '';
      var cases = Q.cases[i].length ? ' · case ' + Q.cases[i].map(function (c) { return D.cases[c]; }).join(', ') : '';
      list.appendChild(el('li', {'data-quote': i},
        el('blockquote', {text: Q.text[i] === null ? '(not text: ' + where + ')' : Q.text[i]}),
        el('div', {cls: 'meta', text: path(Q.code[i]) + ' · ' + where + who + cases})));
    }
    var pages = Math.max(1, Math.ceil(hits.length / PAGE));
    $('quote-count').textContent = hits.length + ' of ' + N + ' coded passages' +
      (hits.length ? ' — showing ' + (from + 1) + '–' + to : '');
    $('q-page').textContent = 'page ' + (page + 1) + ' of ' + pages;
    $('q-prev').disabled = page === 0;
    $('q-next').disabled = to >= hits.length;
  }

  /* ---------------------------------------------------------------- matrix */
  // Rows are built when first shown: a big matrix (2,000 codes x 200 sources) opens with its
  // top levels only, and the cells of a collapsed branch cost nothing until it is opened.
  var MAX_CELLS = 40000;
  function matrix() {
    var M = D.matrix, table = $('matrix-table');
    var head = el('tr', null, el('th', {scope: 'col', text: 'Code'}));
    M.cols.forEach(function (s) { head.appendChild(el('th', {scope: 'col', cls: 'num', text: D.sources[s]})); });
    head.appendChild(el('th', {scope: 'col', cls: 'num', text: 'Total'}));
    table.appendChild(el('thead', null, head));
    var most = {};
    M.rows.forEach(function (c, r) {
      var d = codes[c].depth;
      M.values[r].forEach(function (v) { most[d] = Math.max(most[d] || 0, v); });
    });
    var body = el('tbody'), rows = [], collapsed = {};
    M.rows.forEach(function (c, r) { rows.push({code: c, r: r, tr: null, toggle: null}); });
    function build(row) {
      var c = row.code, code = codes[c];
      var label = el('td', null);
      label.style.paddingLeft = (0.4 + code.depth * 1.1) + 'rem';
      if (end[c] > c + 1) {
        row.toggle = el('button', {type: 'button', cls: 'toggle'});
        row.toggle.addEventListener('click', function () { setCollapsed(c, !collapsed[c]); refresh(); });
        label.appendChild(row.toggle);
        paintToggle(row);
      }
      label.appendChild(document.createTextNode(code.name));
      var tr = el('tr', {'data-code': c, 'data-depth': code.depth, cls: end[c] > c + 1 ? 'cat' : null}, label);
      var total = 0;
      M.values[row.r].forEach(function (v) {
        total += v;
        var td = el('td', {cls: 'num', text: v});
        heat(td, v, most[code.depth]);
        tr.appendChild(td);
      });
      tr.appendChild(el('td', {cls: 'num', text: total}));
      row.tr = tr;
    }
    function paintToggle(row) {
      var shut = !!collapsed[row.code], name = codes[row.code].name;
      row.toggle.setAttribute('aria-expanded', String(!shut));
      row.toggle.setAttribute('aria-label', (shut ? 'Expand ' : 'Collapse ') + name);
      row.toggle.textContent = shut ? '▸' : '▾';
    }
    function setCollapsed(c, value) {
      collapsed[c] = value;
      rows.forEach(function (row) { if (row.code === c && row.toggle) paintToggle(row); });
    }
    function hiddenRow(row) {
      for (var k = codes[row.code].parent; k >= 0; k = codes[k].parent) if (collapsed[k]) return true;
      return false;
    }
    function refresh() {
      var next = null;  // rows are placed in tree order: insert before the next built row
      for (var i = rows.length - 1; i >= 0; i--) {
        var row = rows[i], hidden = hiddenRow(row);
        if (!hidden && !row.tr) { build(row); body.insertBefore(row.tr, next); }
        if (row.tr) { row.tr.hidden = hidden; next = row.tr; }
      }
    }
    if (M.rows.length * (M.cols.length + 1) > MAX_CELLS) {
      M.rows.forEach(function (c) { if (codes[c].depth >= 1 && end[c] > c + 1) collapsed[c] = true; });
    }
    refresh();
    table.appendChild(body);
    var sums = M.cols.map(function () { return 0; });
    M.rows.forEach(function (c, r) {
      if (codes[c].parent < 0) M.values[r].forEach(function (v, j) { sums[j] += v; });
    });
    var foot = el('tr', {id: 'matrix-total'}, el('th', {scope: 'row', text: 'Total (every coding once)'}));
    sums.forEach(function (v) { foot.appendChild(el('td', {cls: 'num', text: v})); });
    foot.appendChild(el('td', {cls: 'num', id: 'matrix-grand-total',
      text: sums.reduce(function (a, b) { return a + b; }, 0)}));
    table.appendChild(el('tfoot', null, foot));
    var depths = {}, names = ['core', 'main categories', 'subcategories', 'concepts'];
    codes.forEach(function (c) { depths[c.depth] = c.level; });
    var bar = $('matrix-levels');
    bar.appendChild(document.createTextNode('Show down to: '));
    Object.keys(depths).map(Number).sort(function (a, b) { return a - b; }).forEach(function (d) {
      var b = el('button', {type: 'button', text: depths[d] || names[d] || 'level ' + (d + 1)});
      b.addEventListener('click', function () {
        rows.forEach(function (row) { if (end[row.code] > row.code + 1) setCollapsed(row.code, codes[row.code].depth >= d); });
        refresh();
      });
      bar.appendChild(b);
      bar.appendChild(document.createTextNode(' '));
    });
  }

  /* ---------------------------------------------------------------- co-occurrence */
  function cooccurrence() {
    var C = D.cooccurrence, table = $('cooc-table');
    if (!C || !C.pairs.length) { $('cooc-text').textContent = 'No two codes were applied to overlapping passages.'; return; }
    var shown = C.pairs;
    $('cooc-text').textContent = 'Pairs of ' + C.level + ' codes applied to overlapping passages (codings rolled up to ' +
      'the level): n AB pairs of passages; c = n AB / (n A + n B − n AB) (ATLAS.ti\u2019s c-coefficient). ' +
      (C.total > shown.length ? 'The ' + shown.length + ' strongest of ' + C.total + ' pairs.' : '');
    var head = el('tr');
    ['Code A', 'Code B', 'n A', 'n B', 'n AB', 'c'].forEach(function (h, i) {
      head.appendChild(el('th', {scope: 'col', cls: i > 1 ? 'num' : null, text: h}));
    });
    table.appendChild(el('thead', null, head));
    var body = el('tbody');
    shown.forEach(function (p) {
      var tr = el('tr', null, el('td', {text: p[0]}), el('td', {text: p[1]}));
      [p[2], p[3], p[4]].forEach(function (v) { tr.appendChild(el('td', {cls: 'num', text: v})); });
      var c = el('td', {cls: 'num', text: p[5].toFixed(3)});
      heat(c, p[5], 1);
      tr.appendChild(c);
      body.appendChild(tr);
    });
    table.appendChild(body);
  }

  /* ---------------------------------------------------------------- agreement */
  function agreement() {
    var A = D.agreement, box = $('agreement-body');
    if (!A) {
      box.appendChild(el('p', {text: 'Not computed: the project has fewer than two coders. Run qdx report with ' +
        '--compare OTHER.qdpx (a second coder\u2019s project of the same sources) to add this section.'}));
      return;
    }
    box.appendChild(el('p', {text: A.a + ' against ' + A.b + ' (' + A.unit + ' units): pooled kappa ' + fmt(A.kappa) +
      ', agreement ' + pct(A.agreement) + ', Krippendorff\u2019s alpha ' + fmt(A.alpha) + '.'}));
    A.warnings.forEach(function (w) { box.appendChild(el('p', {cls: 'note', text: w})); });
    var table = el('table'), head = el('tr');
    ['Code', 'Sources', 'Kappa (pooled)', 'Agreement', 'Units only ' + A.a, 'Units only ' + A.b].forEach(function (h, i) {
      head.appendChild(el('th', {scope: 'col', cls: i ? 'num' : null, text: h}));
    });
    table.appendChild(el('thead', null, head));
    var body = el('tbody');
    A.perCode.forEach(function (r) {
      body.appendChild(el('tr', null, el('td', {text: r[0]}), el('td', {cls: 'num', text: r[1]}),
        el('td', {cls: 'num', text: fmt(r[2])}), el('td', {cls: 'num', text: pct(r[3])}),
        el('td', {cls: 'num', text: r[4]}), el('td', {cls: 'num', text: r[5]})));
    });
    table.appendChild(body);
    box.appendChild(el('div', {cls: 'scroll'}, table));
    box.appendChild(el('h3', {text: 'Disagreements side by side'}));
    var groups = Object.create(null), order = [];
    A.disagreements.forEach(function (d) {
      var key = d[0] + '\u0000' + d[1];
      if (!(key in groups)) { groups[key] = {code: d[0], source: d[1], A: [], B: []}; order.push(key); }
      groups[key][d[4] === 'A' ? 'A' : 'B'].push(d);
    });
    if (!order.length) box.appendChild(el('p', {text: 'None: both coders coded the same passages.'}));
    if (A.disagreementsTotal > A.disagreements.length) {
      box.appendChild(el('p', {cls: 'muted', text: 'The first ' + A.disagreements.length + ' of ' +
        A.disagreementsTotal + ' passages coded by one side only.'}));
    }
    order.slice(0, 200).forEach(function (key) {
      var g = groups[key];
      var cols = el('div', {cls: 'side'});
      [['A', A.a], ['B', A.b]].forEach(function (side) {
        var col = el('div', null, el('h4', {text: 'Only ' + side[1]}));
        if (!g[side[0]].length) col.appendChild(el('p', {cls: 'muted', text: '—'}));
        g[side[0]].forEach(function (d) {
          col.appendChild(el('blockquote', {text: d[5]}));
          col.appendChild(el('div', {cls: 'muted', text: 'characters ' + d[2] + '–' + d[3]}));
        });
        cols.appendChild(col);
      });
      box.appendChild(el('details', {cls: 'disagreement'}, el('summary', {text: g.code + ' — ' + g.source +
        ': ' + g.A.length + ' passage(s) only ' + A.a + ', ' + g.B.length + ' only ' + A.b}), cols));
    });
    if (order.length > 200) box.appendChild(el('p', {cls: 'muted', text: 'The first 200 of ' + order.length + ' code × source pairs.'}));
  }

  /* ---------------------------------------------------------------- saturation */
  function saturation() {
    var S = D.saturation, p = $('saturation-text');
    if (!S) { p.textContent = 'Not computed (see the notes in the overview).'; return; }
    var last = S.points.length ? S.points[S.points.length - 1] : null;
    var text = 'Directly coded codes found as documents are added (' + S.how + '): ' +
      (last ? last[2] + ' of ' + S.total + ' after ' + S.points.length + ' documents. ' : '') +
      'Guest et al. 2020 saturation point: ' + S.guest + '. Francis et al. 2010 stopping rule: ' +
      (S.francis === null ? 'not reached' : 'document ' + S.francis) + '.';
    if (S.holdout) text += S.holdout.saturated ? ' Held-out test: no new codes (saturated).' :
      ' Held-out test: new codes ' + S.holdout.newCodes.join('; ') + '.';
    p.textContent = text;
  }

  /* ---------------------------------------------------------------- findings */
  function findings() {
    var F = D.findings, box = $('findings-body');
    if (!F.length) { box.appendChild(el('p', {text: 'No findings: the structure check and the audit passed every rule.'})); return; }
    var table = el('table'), head = el('tr');
    ['Check', 'Rule', 'Severity', 'Code', 'Finding'].forEach(function (h) { head.appendChild(el('th', {scope: 'col', text: h})); });
    table.appendChild(el('thead', null, head));
    var body = el('tbody');
    F.forEach(function (f) {
      var where = el('td');
      if (f[3] >= 0) {
        var a = el('a', {href: '#code-' + Number(f[3]), text: f[4]});
        a.addEventListener('click', function () { reveal(Number(f[3])); });
        where.appendChild(a);
      } else where.textContent = f[4] || '(project)';
      body.appendChild(el('tr', null, el('td', {text: f[0]}), el('td', {text: f[1]}),
        el('td', {cls: 'sev-' + String(f[2]).replace(/[^a-z]/g, ''), text: f[2]}), where, el('td', {text: f[5]})));
    });
    table.appendChild(body);
    box.appendChild(el('div', {cls: 'scroll'}, table));
  }

  /* ---------------------------------------------------------------- memos */
  function memos() {
    var box = $('memos-body');
    if (!D.memos.length) { box.appendChild(el('p', {text: 'The project has no memos.'})); return; }
    D.memos.forEach(function (m) {
      var art = el('article', {cls: 'memo-entry'}, el('h3', {text: m.name}));
      if (m.codes.length) {
        var p = el('p', {cls: 'muted'}, 'About: ');
        m.codes.forEach(function (c, k) {
          if (k) p.appendChild(document.createTextNode(', '));
          var a = el('a', {href: '#code-' + Number(c), text: codes[c].name});
          a.addEventListener('click', function () { reveal(Number(c)); });
          p.appendChild(a);
        });
        art.appendChild(p);
      }
      art.appendChild(el('div', {cls: 'memo', text: m.text}));
      box.appendChild(art);
    });
  }

  /* ---------------------------------------------------------------- print */
  var reopened = [];
  window.addEventListener('beforeprint', function () {
    reopened = Array.prototype.filter.call(document.querySelectorAll('details'), function (d) { return !d.open; });
    reopened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener('afterprint', function () { reopened.forEach(function (d) { d.open = false; }); });

  overview();
  tree();
  filters();
  run();
  matrix();
  cooccurrence();
  agreement();
  saturation();
  findings();
  memos();
  document.documentElement.setAttribute('data-ready', 'true');
})();
