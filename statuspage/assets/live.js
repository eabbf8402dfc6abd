// tally status page: polls the page's JSON every second and updates what
// the server rendered. An element with data-k shows the JSON field it
// names (a dotted path), formatted as data-f says; data-when shows it only
// while a field is set (or equals a value); a tbody with data-list keeps
// one row per item of a list, keyed by data-key, new rows cloned from the
// <template data-row> of the list; the chart redraws from its samples.
// Text is only ever set with textContent, never parsed as HTML.
(function () {
  'use strict';
  var body = document.body;
  // From the origin: a relative URL would carry the user name and password
  // of an address that holds them (http://user:token@host/...), which
  // fetch refuses; the browser sends the credentials it has for the site.
  var api = body.dataset.api && window.location.origin + body.dataset.api;
  var live = document.getElementById('live');
  if (!api) { return; }
  var polls = 0;

  // The same formats as the server's (format.go).
  function fmtBytes(n) {
    if (n < 1000) { return Math.round(n) + ' B'; }
    var units = ['kB', 'MB', 'GB', 'TB', 'PB', 'EB'], i = -1;
    while (n >= 999.5 && i < units.length - 1) { n /= 1000; i++; }
    return String(parseFloat(n.toPrecision(3))) + ' ' + units[i];
  }
  function pad2(n) { return n < 10 ? '0' + n : String(n); }
  function fmtDur(s) {
    var n = Math.floor(s > 0 ? s : 0);
    if (n < 60) { return n + 's'; }
    if (n < 3600) { return Math.floor(n / 60) + 'm' + pad2(n % 60) + 's'; }
    return Math.floor(n / 3600) + 'h' + pad2(Math.floor(n / 60) % 60) + 'm';
  }
  var formats = {
    text: function (v) { return v == null ? '' : String(v); },
    num: function (v) { return v == null ? '' : String(v); },
    bytes: fmtBytes,
    size: function (v) { return v ? fmtBytes(v) : 'unknown'; },
    rate: function (v) { return fmtBytes(v) + '/s'; },
    dur: fmtDur,
    eta: function (v) { return v == null ? '—' : fmtDur(v); },
    pct: function (v) { return v == null ? '—' : Math.floor(v * 100) + '%'; },
    clock: function (v) { return v ? new Date(v).toISOString().substr(11, 8) : ''; },
    onoff: function (v) { return v ? 'on' : 'off'; },
    list: function (v) { return v && v.length ? v.join(', ') : 'none yet'; }
  };

  function get(obj, path) {
    return path.split('.').reduce(function (v, k) { return v == null ? undefined : v[k]; }, obj);
  }
  function set(v) { return Array.isArray(v) ? v.length > 0 : !!v; }
  function when(expr, data) {
    var not = expr.charAt(0) === '!';
    if (not) { expr = expr.slice(1); }
    var eq = expr.indexOf('='), ok;
    if (eq >= 0) { ok = String(get(data, expr.slice(0, eq))) === expr.slice(eq + 1); } else { ok = set(get(data, expr)); }
    return not ? !ok : ok;
  }

  // show sets one element from data.
  function show(el, data) {
    var v = get(data, el.dataset.k), f = el.dataset.f || 'text';
    if (f === 'progress') {
      if (v == null) { el.removeAttribute('value'); } else { el.value = v; }
      return;
    }
    if (f === 'link') {
      el.href = el.dataset.href + encodeURIComponent(v);
      el.textContent = v;
      return;
    }
    if (f === 'state') { el.className = 'state st-' + v; }
    var s = (formats[f] || formats.text)(v);
    if (el.textContent !== s) { el.textContent = s; }
  }

  // inList reports whether el belongs to a row of a list inside root.
  function inList(el, root) {
    var l = el.closest('[data-list]');
    return l !== null && l !== root && root.contains(l);
  }

  // bind sets every element under root (those of list rows aside) from data.
  function bind(root, data) {
    root.querySelectorAll('[data-k]').forEach(function (el) { if (!inList(el, root)) { show(el, data); } });
    root.querySelectorAll('[data-when]').forEach(function (el) { if (!inList(el, root)) { el.hidden = !when(el.dataset.when, data); } });
  }

  // list keeps tbody's rows in line with the items of its list.
  function list(tbody, data) {
    var items = get(data, tbody.dataset.list) || [], key = tbody.dataset.key;
    var tpl = document.querySelector('template[data-row="' + tbody.dataset.list + '"]');
    var rows = {};
    Array.prototype.forEach.call(tbody.rows, function (r) { rows[r.dataset.id] = r; });
    var keep = {};
    items.forEach(function (item) {
      var id = String(item[key]), row = rows[id];
      if (!row) {
        row = tpl.content.firstElementChild.cloneNode(true);
        row.dataset.id = id;
      }
      row.querySelectorAll('[data-k]').forEach(function (el) { show(el, item); });
      row.querySelectorAll('[data-when]').forEach(function (el) { el.hidden = !when(el.dataset.when, item); });
      keep[id] = true;
      tbody.appendChild(row); // appends a new row, or moves one into order
    });
    Object.keys(rows).forEach(function (id) { if (!keep[id]) { rows[id].remove(); } });
  }

  // drawChart draws the samples as steps, as chart.go does.
  function drawChart(svg, samples) {
    var line = svg.querySelector('.line'), area = svg.querySelector('.area');
    var maxLabel = document.querySelector('[data-chart-label="max"]');
    var spanLabel = document.querySelector('[data-chart-label="span"]');
    if (!samples.length) { svg.classList.add('empty'); return; }
    var W = 600, H = 160, headroom = 1.25;
    var span = Math.max(samples[samples.length - 1].at_seconds, 1), peak = 1;
    samples.forEach(function (s) { peak = Math.max(peak, s.bytes_per_second); });
    var x = function (at) { return (at / span * W).toFixed(1); };
    var y = function (r) { return (H - r / (peak * headroom) * H).toFixed(1); };
    var pts = [], prev = 0;
    samples.forEach(function (s) {
      pts.push(x(prev) + ',' + y(s.bytes_per_second), x(s.at_seconds) + ',' + y(s.bytes_per_second));
      prev = s.at_seconds;
    });
    line.setAttribute('points', pts.join(' '));
    area.setAttribute('points', '0,' + y(0) + ' ' + pts.join(' ') + ' ' + x(prev) + ',' + y(0));
    svg.classList.remove('empty');
    if (maxLabel) { maxLabel.textContent = 'peak ' + fmtBytes(peak) + '/s'; }
    if (spanLabel) { spanLabel.textContent = 'over ' + fmtDur(span); }
  }

  function update(data) {
    bind(document.querySelector('main'), data);
    document.querySelectorAll('tbody[data-list]').forEach(function (tb) { list(tb, data); });
    var chart = document.querySelector('svg[data-chart]');
    if (chart) { drawChart(chart, get(data, chart.dataset.chart) || []); }
    // A job that ends gets its result, which only the server renders.
    if (body.dataset.page === 'job' && body.dataset.state === 'running' && data.state !== 'running') {
      body.dataset.state = data.state;
      window.location.reload();
    }
  }

  function poll() {
    fetch(api, { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(function (data) {
        update(data);
        polls++;
        body.dataset.polls = String(polls);
        live.className = 'live ok';
        live.textContent = 'live ' + new Date().toISOString().substr(11, 8);
      })
      .catch(function (e) {
        live.className = 'live down';
        live.textContent = 'not updating (' + e.message + ')';
      })
      .then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
