// footfall dashboard: fills the panels of a dashboard page from the reports API.
// Plain script, no dependencies, charts drawn as SVG. Served from /dashboard/assets/ under a
// Content-Security-Policy without inline scripts or styles, so nothing here sets HTML
// style attributes: sizes are SVG attributes, colours are CSS classes or SVG fills.
(function () {
  'use strict';

  var SVG = 'http://www.w3.org/2000/svg';
  var DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  // Viridis in 7 steps: ordered in lightness, readable with the common colour-vision
  // deficiencies and in greyscale. Index 0 is for cells without views.
  var PALETTE = ['#eef0f3', '#fde725', '#90d743', '#35b779', '#21918c', '#31688e', '#443983', '#440154'];

  // ---- formatting -------------------------------------------------------------------

  function trim(n) {
    return n.toFixed(1).replace(/\.0$/, '');
  }

  function count(n) {
    if (n === null || n === undefined || isNaN(n)) return '–';
    var abs = Math.abs(n);
    if (abs >= 1e9) return trim(n / 1e9) + 'b';
    if (abs >= 1e6) return trim(n / 1e6) + 'm';
    if (abs >= 1e3) return trim(n / 1e3) + 'k';
    return Number.isInteger(n) ? String(n) : trim(n);
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return '–';
    if (seconds < 0) return '−' + duration(-seconds);
    var s = Math.round(seconds);
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm' + (s % 60 ? ' ' + (s % 60) + 's' : '');
    var h = Math.floor(m / 60);
    if (h < 48) return h + 'h' + (m % 60 ? ' ' + (m % 60) + 'm' : '');
    var d = Math.floor(h / 24);
    return d + 'd' + (h % 24 ? ' ' + (h % 24) + 'h' : '');
  }

  function hours(h) {
    if (h === null || h === undefined || isNaN(h)) return '–';
    // Viewed before its publish time (a clock or a backdated publish time).
    if (h < 0) return 'before publishing';
    return duration(h * 3600);
  }

  function percent(share) {
    if (share === null || share === undefined || isNaN(share)) return '–';
    return Math.round(share * 100) + '%';
  }

  function when(rfc3339) {
    if (!rfc3339) return '–';
    // The API gives local times with their offset: show the local date and time as sent.
    return rfc3339.slice(0, 10) + ' ' + rfc3339.slice(11, 16);
  }

  function formatAs(format, value) {
    switch (format) {
      case 'duration': return duration(value);
      case 'percent': return percent(value);
      case 'hours': return hours(value);
      case 'text': return value === null || value === undefined ? '–' : String(value);
      default: return count(value);
    }
  }

  // How a table column is shown, from its name.
  function columnFormat(column) {
    if (/_seconds$/.test(column)) return 'duration';
    if (/^hours_/.test(column)) return 'hours';
    if (/_share$/.test(column)) return 'percent';
    if (/_at$/.test(column)) return 'when';
    if (/^(views|visitors|entries|sessions)/.test(column)) return 'count';
    return 'text';
  }

  var HEADINGS = {
    path: 'Page', views: 'Views', visitors: 'Visitors', entries: 'Entries', sessions: 'Visits',
    avg_engaged_seconds: 'Engaged / view', hours_to_first_view: 'Time to first view',
    views_24h: 'Views 24 h', views_7d: 'Views 7 d', visitors_24h: 'Visitors 24 h', visitors_7d: 'Visitors 7 d',
    published_at: 'Published', first_view_at: 'First view', referrer_host: 'Referrer', source_class: 'Source',
    search_share: 'Search', social_share: 'Social', internal_share: 'Internal', other_share: 'Other',
    direct_share: 'Direct', returning_share: 'Returning', browser: 'Browser', os: 'OS', device: 'Device',
    country: 'Country', utm_source: 'utm_source', utm_medium: 'utm_medium', utm_campaign: 'utm_campaign'
  };

  function heading(column) {
    return HEADINGS[column] || column;
  }

  // ---- dates ------------------------------------------------------------------------

  function today(tz) {
    // en-CA formats as YYYY-MM-DD.
    return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })
      .format(new Date());
  }

  function addDays(date, days) {
    var d = new Date(date + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function daysBetween(from, to) {
    return Math.round((Date.parse(to + 'T00:00:00Z') - Date.parse(from + 'T00:00:00Z')) / 86400000);
  }

  function longDate(date) {
    var d = new Date(date + 'T00:00:00Z');
    return d.toLocaleDateString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' });
  }

  // The range of the URL (?range=today|7d|30d or ?from=&to=), default 7 days to today.
  function currentRange(tz) {
    var query = new URLSearchParams(location.search);
    var end = today(tz);
    var from = query.get('from');
    var to = query.get('to');
    var valid = /^\d{4}-\d{2}-\d{2}$/;
    if (from && to && valid.test(from) && valid.test(to) && from <= to) {
      return { key: 'custom', from: from, to: to };
    }
    var key = query.get('range') || '7d';
    if (key === 'today') return { key: key, from: end, to: end };
    if (key === '30d') return { key: key, from: addDays(end, -29), to: end };
    return { key: '7d', from: addDays(end, -6), to: end };
  }

  function previousRange(range) {
    var length = daysBetween(range.from, range.to) + 1;
    return { from: addDays(range.from, -length), to: addDays(range.from, -1) };
  }

  // ---- the API ----------------------------------------------------------------------

  var cache = {};

  function ApiError(status, body) {
    this.status = status;
    this.message = (body && body.error) || ('the server answered ' + status);
  }

  function api(site, report, params, fresh) {
    var query = new URLSearchParams(params).toString();
    var url = '/dashboard/api/sites/' + encodeURIComponent(site) + '/reports/' + encodeURIComponent(report) +
      (query ? '?' + query : '');
    if (!fresh && cache[url]) return cache[url];
    var request = fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          if (!response.ok) throw new ApiError(response.status, body);
          return body;
        });
      });
    cache[url] = request;
    request.catch(function () { delete cache[url]; });
    return request;
  }

  // ---- DOM helpers ------------------------------------------------------------------

  function el(name, attributes, children) {
    var node = document.createElement(name);
    setAll(node, attributes);
    append(node, children);
    return node;
  }

  function svg(name, attributes, children) {
    var node = document.createElementNS(SVG, name);
    setAll(node, attributes);
    append(node, children);
    return node;
  }

  function setAll(node, attributes) {
    Object.keys(attributes || {}).forEach(function (key) {
      if (attributes[key] !== null && attributes[key] !== undefined) node.setAttribute(key, attributes[key]);
    });
  }

  function append(node, children) {
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
  }

  function fill(section, nodes) {
    var content = section.querySelector('.content');
    content.textContent = '';
    append(content, nodes);
    section.setAttribute('aria-busy', 'false');
    section.classList.remove('failed');
  }

  // ---- values -----------------------------------------------------------------------

  function rowsOf(answer) {
    return answer.rows || answer.grid || [];
  }

  // A number panel's value: a field of answers without rows (realtime), else the rows
  // reduced as the panel says.
  function reduce(panel, answer) {
    if (!answer.rows) return Number(answer[panel.value] || 0);
    var rows = answer.rows;
    var sum = function (f) { return rows.reduce(function (acc, row) { return acc + Number(row[f] || 0); }, 0); };
    if (panel.aggregate === 'weighted_mean') {
      var weights = sum(panel.weight);
      if (!weights) return 0;
      var total = rows.reduce(function (acc, row) {
        return acc + Number(row[panel.value] || 0) * Number(row[panel.weight] || 0);
      }, 0);
      return Math.round(total / weights * 10) / 10;
    }
    return sum(panel.value);
  }

  function paramsFor(panel, range) {
    var params = Object.assign({}, panel.params || {});
    if (panel.report !== 'realtime') {
      params.from = range.from;
      params.to = range.to;
    }
    return params;
  }

  // ---- visuals ----------------------------------------------------------------------

  function renderNumber(ctx, section, panel, answer, previous) {
    var value = reduce(panel, answer);
    var big = el('p', { class: 'big', 'data-value': String(value) }, [formatAs(panel.format, value)]);
    var nodes = [big];
    if (previous) {
      var before = reduce(panel, previous);
      var change = el('p', { class: 'change', 'data-previous': String(before) });
      if (before === 0) {
        change.textContent = value === 0 ? 'no change vs previous period' : 'new vs previous period (none before)';
      } else {
        var ratio = (value - before) / before;
        var pct = Math.round(ratio * 100);
        var direction = pct > 0 ? 'up' : pct < 0 ? 'down' : 'flat';
        change.classList.add(direction);
        change.textContent = (pct > 0 ? '▲ +' : pct < 0 ? '▼ ' : '') + pct + '% vs previous period (' +
          formatAs(panel.format, before) + ')';
      }
      nodes.push(change);
    }
    if (panel.refresh_secs) {
      var now = new Date();
      nodes.push(el('p', { class: 'muted small' }, ['updated ' + now.toTimeString().slice(0, 8) +
        ', refreshes every ' + panel.refresh_secs + ' s']));
      big.setAttribute('aria-live', 'polite');
    }
    fill(section, nodes);
  }

  function scale(min, max, from, to) {
    return function (v) { return max === min ? (from + to) / 2 : from + (v - min) / (max - min) * (to - from); };
  }

  function renderLine(ctx, section, panel, answer) {
    var rows = answer.rows;
    var W = 720, H = 220, L = 44, R = 12, T = 12, B = 28;
    var series = [panel.value, panel.value === 'views' ? 'visitors' : 'views'];
    var max = Math.max(1, Math.max.apply(null, rows.map(function (r) { return Math.max(r.views, r.visitors); })));
    var x = scale(0, Math.max(1, rows.length - 1), L, W - R);
    var y = scale(0, max, H - B, T);
    var chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img',
      'aria-label': panel.title + ': ' + series.map(function (s) {
        return heading(s) + ' ' + rows.map(function (r) { return r[s]; }).join(', ');
      }).join('; ') });
    [0, 0.5, 1].forEach(function (f) {
      var v = Math.round(max * f);
      chart.appendChild(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid-line' }));
      chart.appendChild(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, [count(v)]));
    });
    var every = Math.max(1, Math.ceil(rows.length / 8));
    rows.forEach(function (row, i) {
      if (i % every === 0) {
        var label = answer.interval === 'hour' ? row.start.slice(5, 10) + ' ' + row.start.slice(11, 13) + 'h'
          : row.start.slice(5, 10);
        var anchor = rows.length > 1 && i === rows.length - 1 ? 'end' : i === 0 && rows.length > 1 ? 'start' : 'middle';
        chart.appendChild(svg('text', { x: x(i), y: H - 8, 'text-anchor': anchor, class: 'axis' }, [label]));
      }
    });
    series.forEach(function (name, index) {
      var points = rows.map(function (row, i) { return x(i) + ',' + y(row[name]); }).join(' ');
      chart.appendChild(svg('polyline', { points: points, class: 'series s' + index, fill: 'none' }));
      rows.forEach(function (row, i) {
        chart.appendChild(svg('circle', { cx: x(i), cy: y(row[name]), r: rows.length > 60 ? 1.5 : 3, class: 'dot s' + index },
          [svg('title', {}, [when(row.start) + ': ' + row[name] + ' ' + name])]));
      });
    });
    var legend = el('p', { class: 'legend' }, series.map(function (name, index) {
      return el('span', { class: 'key s' + index }, [heading(name)]);
    }));
    fill(section, [chart, legend]);
  }

  function label(panel, row) {
    return panel.label.map(function (column) { return row[column] || '(none)'; }).join(' / ');
  }

  function renderBar(ctx, section, panel, answer) {
    var rows = answer.rows;
    if (!rows.length) return fill(section, [el('p', { class: 'muted' }, ['Nothing in this range.'])]);
    var max = Math.max.apply(null, rows.map(function (r) { return r[panel.value]; })) || 1;
    var list = el('ul', { class: 'bars' }, rows.map(function (row) {
      var value = row[panel.value];
      var bar = svg('svg', { class: 'bar', viewBox: '0 0 100 6', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
        [svg('rect', { x: 0, y: 0, height: 6, width: Math.max(0.5, value / max * 100) })]);
      return el('li', {}, [
        el('span', { class: 'name' }, [label(panel, row)]),
        el('span', { class: 'value', 'data-value': String(value), title: String(value) }, [formatAs(panel.format, value)]),
        bar
      ]);
    }));
    fill(section, [list]);
  }

  function sparkline(ctx, row) {
    var holder = el('span', { class: 'spark', 'aria-label': 'views per day in the first 7 days: loading' });
    var start = (row.published_at || row.first_view_at || '').slice(0, 10);
    if (!start) return holder;
    api(ctx.site, 'timeseries', { from: start, to: addDays(start, 6), path: row.path }).then(function (answer) {
      var values = answer.rows.map(function (r) { return r.views; });
      var max = Math.max.apply(null, values.concat([1]));
      var x = scale(0, 6, 2, 70), y = scale(0, max, 18, 2);
      var line = svg('svg', { viewBox: '0 0 72 20', class: 'sparkline', role: 'img',
        'aria-label': 'views per day in the first 7 days: ' + values.join(', ') }, [
        svg('polyline', { points: values.map(function (v, i) { return x(i) + ',' + y(v); }).join(' '), fill: 'none' })
      ]);
      holder.replaceWith(line);
    }).catch(function () { holder.textContent = '–'; });
    return holder;
  }

  function renderTable(ctx, section, panel, answer) {
    var rows = answer.rows;
    if (!rows.length) {
      var empty = panel.report === 'content-discovery' ? 'No page was first published or viewed in this range.'
        : 'Nothing in this range.';
      return fill(section, [el('p', { class: 'muted' }, [empty])]);
    }
    var columns = panel.columns;
    var head = el('tr', {}, columns.map(function (c) {
      return el('th', { scope: 'col', class: columnFormat(c) === 'text' ? '' : 'num' }, [heading(c)]);
    }).concat(panel.curve ? [el('th', { scope: 'col' }, ['First 7 days'])] : []));
    var body = rows.map(function (row) {
      var cells = columns.map(function (c, i) {
        var format = columnFormat(c);
        var value = row[c];
        var shown = format === 'when' ? when(value) : format === 'text' ? (value === '' ? '(none)' : String(value))
          : formatAs(format, value);
        var attributes = { 'data-column': c, 'data-value': value === null ? '' : String(value),
          class: format === 'text' ? '' : 'num' };
        return el(i === 0 ? 'th' : 'td', i === 0 ? Object.assign(attributes, { scope: 'row' }) : attributes, [shown]);
      });
      if (panel.curve) cells.push(el('td', {}, [sparkline(ctx, row)]));
      return el('tr', {}, cells);
    });
    var table = el('table', {}, [
      el('caption', { class: 'sr-only' }, [panel.title]),
      el('thead', {}, [head]),
      el('tbody', {}, body)
    ]);
    fill(section, [el('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': panel.title }, [table])]);
  }

  function renderHeatmap(ctx, section, panel, answer) {
    var cells = answer.grid;
    var peak = answer.peak;
    var measure = panel.value || 'views';
    var max = Math.max.apply(null, cells.map(function (c) { return c[measure]; }).concat([0]));
    var step = function (v) { return v <= 0 ? 0 : Math.min(7, Math.ceil(v / max * 7)); };
    var S = 26, L = 40, T = 22;
    var W = L + 24 * S + 4, H = T + 7 * S + 4;
    var describe = function (c) {
      return DAYS[c.weekday - 1] + ' ' + String(c.hour).padStart(2, '0') + ':00–' +
        String((c.hour + 1) % 24).padStart(2, '0') + ':00: ' + c.views + ' views, ' + c.visitors + ' visitors';
    };
    var chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'heatmap', role: 'group', tabindex: '0',
      'aria-label': panel.title + ' by weekday and hour, ' + answer.tz + '. Use the arrow keys to read cells.' });
    for (var h = 0; h < 24; h += 3) {
      chart.appendChild(svg('text', { x: L + h * S + S / 2, y: 14, 'text-anchor': 'middle', class: 'axis' },
        [String(h).padStart(2, '0')]));
    }
    DAYS.forEach(function (day, d) {
      chart.appendChild(svg('text', { x: L - 6, y: T + d * S + S / 2 + 4, 'text-anchor': 'end', class: 'axis' }, [day]));
    });
    var isPeak = function (c) { return peak && peak.weekday === c.weekday && peak.hour === c.hour; };
    var rects = cells.map(function (c) {
      var rect = svg('rect', {
        x: L + c.hour * S + 1, y: T + (c.weekday - 1) * S + 1, width: S - 2, height: S - 2, rx: 3,
        fill: PALETTE[step(c[measure])], class: 'cell' + (isPeak(c) ? ' peak' : ''),
        'data-weekday': c.weekday, 'data-hour': c.hour, 'data-views': c.views, 'data-visitors': c.visitors
      }, [svg('title', {}, [describe(c)])]);
      chart.appendChild(rect);
      return rect;
    });
    var readout = el('p', { class: 'readout muted', 'aria-live': 'polite' }, ['']);
    var cursor = peak ? (peak.weekday - 1) * 24 + peak.hour : 0;
    chart.addEventListener('keydown', function (event) {
      var moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -24, ArrowDown: 24 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      rects[cursor].classList.remove('focused');
      cursor = Math.min(167, Math.max(0, cursor + moves[event.key]));
      rects[cursor].classList.add('focused');
      readout.textContent = describe(cells[cursor]);
    });
    var legend = el('div', { class: 'heat-legend' }, [el('span', { class: 'muted' }, [heading(measure) + ': '])]
      .concat(PALETTE.map(function (colour, i) {
        var low = i === 0 ? 0 : Math.floor((i - 1) / 7 * max) + 1;
        var high = i === 0 ? 0 : Math.floor(i / 7 * max);
        var text = i === 0 ? '0' : low >= high ? String(high) : low + '–' + high;
        if (i > 0 && low > high) return null;
        return el('span', { class: 'swatch' }, [
          svg('svg', { viewBox: '0 0 12 12', width: 12, height: 12, 'aria-hidden': 'true' },
            [svg('rect', { width: 12, height: 12, rx: 2, fill: colour })]),
          text
        ]);
      })));
    var callout = peak
      ? el('p', { class: 'peak-callout', 'data-weekday': peak.weekday, 'data-hour': peak.hour },
        [el('strong', {}, ['Busiest: ']), describe(peak) + ' (' + answer.tz + ')'])
      : el('p', { class: 'muted' }, ['No views in this range.']);
    fill(section, [callout, el('div', { class: 'scroll' }, [chart]), legend, readout]);
  }

  var RENDER = { number: renderNumber, line: renderLine, bar: renderBar, table: renderTable, heatmap: renderHeatmap };

  // ---- loading a panel --------------------------------------------------------------

  function failed(ctx, section, panel, error) {
    section.setAttribute('aria-busy', 'false');
    section.classList.add('failed');
    var content = section.querySelector('.content');
    content.textContent = '';
    if (error && error.status === 401) {
      append(content, [el('p', { class: 'error' }, ['Your session ended. ']), el('a', { href: '/dashboard' }, ['Log in again'])]);
      return;
    }
    var retry = el('button', { type: 'button', class: 'retry' }, ['Retry']);
    retry.addEventListener('click', function () { load(ctx, section, panel, true); });
    append(content, [el('p', { class: 'error', role: 'alert' }, ['Could not load this panel: ' +
      ((error && error.message) || String(error))]), retry]);
  }

  function load(ctx, section, panel, fresh) {
    var current = api(ctx.site, panel.report, paramsFor(panel, ctx.range), fresh);
    var previous = panel.compare ? api(ctx.site, panel.report, paramsFor(panel, previousRange(ctx.range)), fresh) : null;
    return Promise.all([current, previous]).then(function (answers) {
      RENDER[panel.visual](ctx, section, panel, answers[0], answers[1]);
    }).catch(function (error) { failed(ctx, section, panel, error); });
  }

  // ---- the page -----------------------------------------------------------------------

  function snippet() {
    var site = document.getElementById('main').dataset.site;
    return '<script defer src="' + location.origin + '/js/footfall.js" data-site="' + site + '"></script>';
  }

  function showEmpty(ctx) {
    api(ctx.site, 'timeseries', { from: ctx.range.from, to: ctx.range.to }).then(function (answer) {
      var views = answer.rows.reduce(function (acc, r) { return acc + r.views; }, 0);
      if (views > 0) return;
      var box = document.getElementById('empty');
      var code = el('code', {}, [snippet()]);
      var copy = el('button', { type: 'button' }, ['Copy snippet']);
      copy.addEventListener('click', function () {
        if (navigator.clipboard) navigator.clipboard.writeText(snippet()).then(function () { copy.textContent = 'Copied'; });
      });
      append(box, [el('p', {}, [el('strong', {}, ['No views in this range yet. ']),
        'If you have just set footfall up, add this tag to every page of ' + ctx.site + ':']),
        el('pre', {}, [code]), copy]);
      box.hidden = false;
    }).catch(function () {});
  }

  function setUpControls(ctx) {
    var query = new URLSearchParams(location.search);
    document.querySelectorAll('[data-range]').forEach(function (button) {
      button.setAttribute('aria-pressed', String(button.dataset.range === ctx.range.key));
      button.addEventListener('click', function () {
        location.search = '?range=' + button.dataset.range;
      });
    });
    var from = document.getElementById('range-from');
    var to = document.getElementById('range-to');
    from.value = ctx.range.from;
    to.value = ctx.range.to;
    document.getElementById('custom-range').addEventListener('submit', function (event) {
      event.preventDefault();
      if (from.value > to.value) {
        to.setCustomValidity('The end must not be before the start');
        to.reportValidity();
        return;
      }
      location.search = '?from=' + from.value + '&to=' + to.value;
    });
    to.addEventListener('input', function () { to.setCustomValidity(''); });
    document.getElementById('range-text').textContent = ctx.range.from === ctx.range.to
      ? longDate(ctx.range.from) : longDate(ctx.range.from) + ' – ' + longDate(ctx.range.to);
    var picker = document.getElementById('site-picker');
    if (picker) {
      picker.addEventListener('change', function () {
        location.href = '/dashboard/' + encodeURIComponent(picker.value) + '/' + ctx.slug + location.search;
      });
    }
    // Keep the range when switching dashboards.
    document.querySelectorAll('nav a[data-dashboard]').forEach(function (link) {
      link.href = link.pathname + location.search;
    });
    return query;
  }

  function start() {
    var main = document.getElementById('main');
    var definition = document.getElementById('definition');
    if (!main || !definition) return;
    // A share link's token leaves the address bar (the session cookie carries on).
    if (location.pathname === '/dashboard/share') {
      history.replaceState(null, '', '/dashboard/' + encodeURIComponent(main.dataset.site));
    }
    var dashboard = JSON.parse(definition.textContent);
    var ctx = { site: main.dataset.site, tz: main.dataset.tz, slug: main.dataset.slug };
    ctx.range = currentRange(ctx.tz);
    setUpControls(ctx);
    var loads = dashboard.panels.map(function (panel, index) {
      var section = document.getElementById('panel-' + index);
      var done = load(ctx, section, panel, false);
      if (panel.refresh_secs) {
        setInterval(function () { load(ctx, section, panel, true); }, panel.refresh_secs * 1000);
      }
      return done;
    });
    showEmpty(ctx);
    Promise.all(loads).then(function () { main.setAttribute('data-loaded', 'true'); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
