// footfall dashboard: fills the panels of a dashboard page from the reports API.
// Plain script, no dependencies, charts drawn as SVG. Served from /dashboard/assets/ under a
// Content-Security-Policy without inline scripts or styles, so nothing here sets HTML
// style attributes: sizes are SVG attributes, colours are CSS classes or SVG fills.
(function () {
  'use strict';

  var SVG = 'http://www.w3.org/2000/svg';
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
    if (contentFormat(column)) return contentFormat(column);
    if (/_seconds$/.test(column)) return 'duration';
    if (/^hours_/.test(column)) return 'hours';
    if (/_share$/.test(column) || /_rate$/.test(column)) return 'percent';
    if (/_at$/.test(column)) return 'when';
    if (/^(views|visitors|entries|sessions|events|conversions)/.test(column)) return 'count';
    return 'text';
  }

  var HEADINGS = {
    path: 'Page', views: 'Views', visitors: 'Visitors', entries: 'Entries', sessions: 'Visits',
    reason: 'Reason', events: 'Events', explanation: 'What it means',
    avg_engaged_seconds: 'Engaged / view', hours_to_first_view: 'Time to first view',
    views_24h: 'Views 24 h', views_7d: 'Views 7 d', visitors_24h: 'Visitors 24 h', visitors_7d: 'Visitors 7 d',
    published_at: 'Published', first_view_at: 'First view', referrer_host: 'Referrer', source_class: 'Source',
    search_share: 'Search', social_share: 'Social', internal_share: 'Internal', other_share: 'Other',
    direct_share: 'Direct', returning_share: 'Returning', browser: 'Browser', os: 'OS', device: 'Device',
    country: 'Country', utm_source: 'utm_source', utm_medium: 'utm_medium', utm_campaign: 'utm_campaign'
  };

  // The goals report's columns (docs/reports.md, goals).
  Object.assign(HEADINGS, { name: 'Name', conversions: 'Conversions', conversion_rate: 'Conversion rate' });

  function heading(column) {
    return HEADINGS[column] || column;
  }

  // ---- dates and times --------------------------------------------------------------
  //
  // One set of formatters prints every date and time of the page (range label, axes,
  // tooltips, table times): the reader's language, in the site's time zone. The API's
  // times are local to the site with their offset, so each is read as its wall clock
  // (local date and time taken as if UTC, see `wall`) and printed with `timeZone: 'UTC'`:
  // a date of the range, a bucket's start and "now" then print alike. Date inputs stay
  // ISO (YYYY-MM-DD), as HTML requires.

  var LOCALES = navigator.languages && navigator.languages.length ? Array.prototype.slice.call(navigator.languages)
    : undefined;

  function formatter(options) {
    var format = new Intl.DateTimeFormat(LOCALES, Object.assign({ timeZone: 'UTC' }, options));
    return function (wallMs) { return format.format(new Date(wallMs)); };
  }

  var DATE = { day: 'numeric', month: 'short', year: 'numeric' };
  var TIME = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  var FORMAT = {
    date: formatter(DATE),
    day: formatter({ day: 'numeric', month: 'short' }),
    time: formatter(TIME),
    clock: formatter(Object.assign({ second: '2-digit' }, TIME)),
    dateTime: formatter(Object.assign({}, DATE, TIME)),
    weekday: formatter({ weekday: 'short' })
  };
  // Monday 2026-01-05 and the six days after it.
  var DAYS = [0, 1, 2, 3, 4, 5, 6].map(function (d) { return FORMAT.weekday(Date.UTC(2026, 0, 5 + d)); });

  // The wall clock of `YYYY-MM-DD` or an RFC 3339 time: its local fields as a UTC instant.
  function wall(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(text || '');
    if (!m) return NaN;
    return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] || 0), Number(m[5] || 0));
  }

  function when(rfc3339) {
    return rfc3339 ? FORMAT.dateTime(wall(rfc3339)) : '–';
  }

  function longDate(date) {
    return FORMAT.date(wall(date));
  }

  function hourOfDay(hour) {
    return FORMAT.time(Date.UTC(2026, 0, 5, hour));
  }

  // Now in the site's time zone: the instant, the local date and hour, the wall clock.
  var CLOCKS = {};
  function siteNow(tz) {
    var instant = Date.now();
    var parts = {};
    CLOCKS[tz] = CLOCKS[tz] || new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit'
    });
    CLOCKS[tz].formatToParts(new Date(instant)).forEach(function (part) { parts[part.type] = part.value; });
    return {
      instant: instant,
      date: parts.year + '-' + parts.month + '-' + parts.day,
      hour: Number(parts.hour),
      wall: Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour),
        Number(parts.minute), Number(parts.second))
    };
  }

  function addDays(date, days) {
    var d = new Date(date + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function daysBetween(from, to) {
    return Math.round((Date.parse(to + 'T00:00:00Z') - Date.parse(from + 'T00:00:00Z')) / 86400000);
  }

  // The range of the URL (?range=today|7d|30d or ?from=&to=), default 7 days to today.
  function currentRange(tz) {
    var query = new URLSearchParams(location.search);
    var end = siteNow(tz).date;
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

  // ---- filters ------------------------------------------------------------------------
  //
  // The reports' filters (docs/reports.md#filters) live in the page's URL beside the range:
  // every panel's request carries them (not-stored takes none), they show as chips that
  // remove them, and clicking a page, source, country or device adds one.

  // The filters' parameter names, from the collector (`prop` stands for `prop.KEY`).
  function isFilter(name) {
    var main = document.getElementById('main');
    var names = main && main.dataset.filters ? main.dataset.filters.split(' ') : [];
    return names.indexOf(name) >= 0 || (names.indexOf('prop') >= 0 && /^prop\.[^=&]+$/.test(name));
  }

  // Whether a share link locks filter `name`: the server shows its chip (`data-locked`, no
  // remove control) and applies it to every report; the URL cannot change it.
  function isLocked(name) {
    var chips = document.querySelectorAll('#filters [data-locked]');
    return Array.prototype.some.call(chips, function (chip) { return chip.dataset.filter === name; });
  }

  // The URL's filters: [[name, value], ...] in the URL's order.
  function currentFilters() {
    var filters = [];
    new URLSearchParams(location.search).forEach(function (value, name) {
      if (isFilter(name) && value && !isLocked(name)) filters.push([name, value]);
    });
    return filters;
  }

  // The page's query with `range` (an object of range parameters) and `filters`.
  function queryWith(range, filters) {
    var query = new URLSearchParams(range);
    filters.forEach(function (filter) { query.set(filter[0], filter[1]); });
    keepSort(query);
    return '?' + query.toString();
  }

  // The range parameters of the URL as they are.
  function rangeParams() {
    var query = new URLSearchParams(location.search);
    var params = {};
    ['range', 'from', 'to'].forEach(function (name) { if (query.get(name)) params[name] = query.get(name); });
    return params;
  }

  // The filters a row of `report` stands for (clicking it adds them), or none.
  function rowFilters(report, row) {
    switch (report) {
      case 'top-content':
      case 'content-discovery': return [['page', row.path]];
      case 'sources': return [['source', row.referrer_host || row.source_class]];
      case 'countries': return row.country ? [['country', row.country]] : [];
      case 'devices': return [['browser', row.browser], ['os', row.os], ['device', row.device]]
        .filter(function (filter) { return filter[1]; });
      default: return [];
    }
  }

  // A row's label as a link that filters the dashboard by the row.
  function filterLink(panel, row, label) {
    var filters = rowFilters(panel.report, row).filter(function (filter) { return !isLocked(filter[0]); });
    if (!filters.length) return label;
    var kept = currentFilters().filter(function (filter) {
      return !filters.some(function (added) { return added[0] === filter[0]; });
    });
    return el('a', { class: 'filter-by', href: queryWith(rangeParams(), kept.concat(filters)),
      title: 'Show the dashboard for ' + filters.map(function (f) { return f[0] + ' = ' + f[1]; }).join(', ') }, [label]);
  }

  // The chips of the URL's filters, each removing its filter.
  function showFilters() {
    var box = document.getElementById('filters');
    var filters = currentFilters();
    if (!box || !filters.length) return;
    append(box, [el('span', { class: 'muted' }, ['Filtered by ']), ' '].concat(filters.map(function (filter) {
      var rest = currentFilters().filter(function (other) { return other[0] !== filter[0]; });
      var negated = filter[1].charAt(0) === '!';
      return el('a', { class: 'chip', 'data-filter': filter[0], href: queryWith(rangeParams(), rest),
        title: 'Remove this filter' }, [filter[0] + (negated ? ' is not ' + filter[1].slice(1) : ' = ' + filter[1]), ' ×']);
    })));
    box.hidden = false;
  }

  function previousRange(range) {
    var length = daysBetween(range.from, range.to) + 1;
    return { from: addDays(range.from, -length), to: addDays(range.from, -1) };
  }

  function rangeText(range) {
    return range.from === range.to ? longDate(range.from) : longDate(range.from) + ' – ' + longDate(range.to);
  }

  // Whether a time bucket (a row of timeseries) lies before now ('past'), holds now
  // ('current', drawn as partial) or lies after it ('future', not drawn at all).
  function bucketState(row, interval, now) {
    var begins = Date.parse(row.start);
    if (begins > now.instant) return 'future';
    if (interval === 'hour') return now.instant < begins + 3600000 ? 'current' : 'past';
    return row.start.slice(0, 10) === now.date ? 'current' : 'past';
  }

  // ---- the API ----------------------------------------------------------------------

  var cache = {};

  function ApiError(status, body) {
    this.status = status;
    this.field = body && body.field;
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

  function sumOf(rows, field) {
    return rows.reduce(function (acc, row) { return acc + Number(row[field] || 0); }, 0);
  }

  // A number panel's value: a field of answers without rows (realtime), else the rows
  // reduced as the panel says.
  function reduce(panel, answer) {
    if (!answer.rows) return Number(answer[panel.value] || 0);
    var rows = answer.rows;
    if (panel.aggregate === 'weighted_mean') {
      var weights = sumOf(rows, panel.weight);
      if (!weights) return 0;
      var total = rows.reduce(function (acc, row) {
        return acc + Number(row[panel.value] || 0) * Number(row[panel.weight] || 0);
      }, 0);
      return Math.round(total / weights * 10) / 10;
    }
    return sumOf(rows, panel.value);
  }

  // Whether an answer has anything to compare with: views (a mean's weight) or a sum.
  function hasData(panel, answer) {
    if (!answer.rows) return true;
    return sumOf(answer.rows, panel.aggregate === 'weighted_mean' ? panel.weight : panel.value) > 0;
  }

  function paramsFor(panel, range) {
    var params = Object.assign({}, panel.params || {});
    if (panel.report !== 'realtime') {
      params.from = range.from;
      params.to = range.to;
    }
    // A single day by day is one lone point: draw it by hour.
    if (panel.report === 'timeseries' && panel.visual === 'line' && range.from === range.to) params.interval = 'hour';
    if (panel.report !== 'not-stored') currentFilters().forEach(function (filter) { params[filter[0]] = filter[1]; });
    if (sortOf(panel)) params.sort = sortOf(panel);
    // A line with `compare` also draws the previous period, bucket by bucket.
    if (panel.compare && panel.visual === 'line') params.compare = 'previous';
    return params;
  }

  // ---- comparisons --------------------------------------------------------------------
  //
  // A number panel with `compare` is compared like for like: a range that has ended with
  // the whole previous period of the same length; a range that includes today with the
  // same elapsed span of the previous period: its complete days, then the day in
  // progress by hour up to the hour in progress (today until 15:00 against yesterday
  // until 15:00). Timeseries answers give those hours; an average (engaged time per
  // view) does not grow with elapsed time, so it is compared with the whole previous
  // period; other sums cannot be cut at an hour and are not compared while the range
  // runs. The answer: { value, before, has, span, title } or { text, title }.

  function compare(ctx, panel, answer, fresh) {
    var range = ctx.range;
    var previous = previousRange(range);
    var now = siteNow(ctx.tz);
    var value = reduce(panel, answer);
    var whole = 'compared with ' + rangeText(previous);
    if (range.from > now.date) {
      return Promise.resolve({ text: 'this range has not begun', title: 'the range begins after today' });
    }
    var running = range.to >= now.date;
    if (!running || panel.aggregate === 'weighted_mean') {
      return api(ctx.site, panel.report, paramsFor(panel, previous), fresh).then(function (before) {
        return {
          value: value, before: reduce(panel, before), has: hasData(panel, before), span: 'vs previous period',
          title: whole + (running ? ' (an average, so the whole period, although this range is still running)' : '')
        };
      });
    }
    if (panel.report !== 'timeseries') {
      return Promise.resolve({
        text: 'no like-for-like comparison while the range runs',
        title: 'this report cannot be cut at the hour in progress; pick a range that has ended to compare'
      });
    }
    var day = daysBetween(range.from, now.date);
    var counterpart = addDays(previous.from, day);
    var hourly = function (date) {
      return Object.assign(paramsFor(panel, { from: date, to: date }), { interval: 'hour' });
    };
    return Promise.all([
      // The previous period's whole days before the counterpart day; none when the range
      // starts today.
      day > 0 ? api(ctx.site, 'timeseries', paramsFor(panel, previous), fresh) : Promise.resolve({ rows: [] }),
      api(ctx.site, 'timeseries', hourly(now.date), fresh),
      api(ctx.site, 'timeseries', hourly(counterpart), fresh)
    ]).then(function (answers) {
      var upTo = function (rows, date) {
        return rows.filter(function (row) { return row.start.slice(0, 10) < date; });
      };
      var hoursSoFar = function (rows) {
        return rows.filter(function (row) { return Number(row.start.slice(11, 13)) <= now.hour; });
      };
      var field = panel.value;
      var mine = sumOf(upTo(answer.rows, now.date), field) + sumOf(hoursSoFar(answers[1].rows), field);
      var before = sumOf(upTo(answers[0].rows, counterpart), field) + sumOf(hoursSoFar(answers[2].rows), field);
      var until = now.hour === 23 ? 'midnight' : hourOfDay(now.hour + 1);
      var single = range.from === range.to;
      var title = 'compared with ' + longDate(previous.from) + (day > 0 ? ' – ' + longDate(counterpart) : '') +
        ' until ' + until + ', the same span as this range so far';
      if (mine !== value) {
        title += '; the day in progress is counted by hour on both sides (someone who came in two hours ' +
          'counts twice), ' + count(mine) + ' for this range';
      }
      return {
        value: mine, before: before, has: before > 0, title: title,
        span: single ? 'vs yesterday until ' + until : 'vs previous period until the same time'
      };
    });
  }

  // ---- visuals ----------------------------------------------------------------------

  function renderNumber(ctx, section, panel, answer, comparison) {
    var value = reduce(panel, answer);
    var big = el('p', { class: 'big', 'data-value': String(value) }, [formatAs(panel.format, value)]);
    var nodes = [big];
    if (comparison) {
      var c = comparison;
      var change = el('p', { class: 'change', title: c.title,
        'data-previous': c.before === undefined ? '' : String(c.before) });
      if (c.text) {
        change.textContent = c.text;
      } else if (!c.has) {
        change.textContent = 'no previous data';
      } else if (c.before === 0) {
        change.textContent = c.value === 0 ? 'no change ' + c.span + ' (' + formatAs(panel.format, 0) + ')'
          : '▲ up from ' + formatAs(panel.format, 0) + ' ' + c.span;
      } else {
        var pct = Math.round((c.value - c.before) / c.before * 100);
        change.classList.add(pct > 0 ? 'up' : pct < 0 ? 'down' : 'flat');
        change.textContent = (pct > 0 ? '▲ +' : pct < 0 ? '▼ ' : '') + pct + '% ' + c.span + ' (' +
          formatAs(panel.format, c.before) + ')';
      }
      nodes.push(change);
    }
    if (panel.refresh_secs) {
      nodes.push(el('p', { class: 'muted small' }, ['updated ' + FORMAT.clock(siteNow(ctx.tz).wall) +
        ', refreshes every ' + panel.refresh_secs + ' s']));
      big.setAttribute('aria-live', 'polite');
    }
    fill(section, nodes);
  }

  function scale(min, max, from, to) {
    return function (v) { return max === min ? (from + to) / 2 : from + (v - min) / (max - min) * (to - from); };
  }

  // Tick spacing, in buckets: the first of these that leaves room for every label.
  var STEPS = {
    hour: [1, 2, 3, 4, 6, 12, 24, 48, 72, 96, 168, 336, 672, 1344, 2688, 5376],
    day: [1, 2, 3, 4, 7, 14, 28, 56, 91, 182, 366]
  };
  var TICK_GAP = 10;

  // The line chart, drawn at `W` pixels wide so its text keeps its size at every width.
  function lineChart(ctx, panel, answer, W) {
    var rows = answer.rows;
    var interval = answer.interval === 'hour' ? 'hour' : 'day';
    var now = siteNow(ctx.tz);
    var states = rows.map(function (row) { return bucketState(row, interval, now); });
    var begun = states.filter(function (state) { return state !== 'future'; }).length;
    var partial = begun > 0 && states[begun - 1] === 'current';
    var H = Math.round(Math.min(300, Math.max(180, W * 0.25))), L = 40, R = 24, T = 12, B = 28;
    var series = [panel.value, panel.value === 'views' ? 'visitors' : 'views'];
    var shown = rows.slice(0, begun);
    var before = previousLine(panel, rows);
    var max = Math.max(1, Math.max.apply(null, shown.map(function (r) { return Math.max(r.views, r.visitors); })
      .concat(before.map(function (point) { return point.value; })).concat([0])));
    var x = scale(0, Math.max(1, rows.length - 1), L, W - R);
    var y = scale(0, max, H - B, T);
    var inProgress = partial ? ' (so far)' : '';
    var chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img',
      'data-interval': interval, 'data-buckets': rows.length,
      'aria-label': panel.title + ': ' + series.map(function (s) {
        return heading(s) + ' ' + shown.map(function (r) { return r[s]; }).join(', ') + inProgress;
      }).join('; ') + (begun < rows.length ? '; ' + (rows.length - begun) + ' ' + interval + 's still to come' : '') +
        (answer.compare ? '; ' + heading(panel.value) + ' in the previous period ' +
          before.map(function (point) { return point.value; }).join(', ') : '') });
    [0, 0.5, 1].forEach(function (f) {
      var v = Math.round(max * f);
      chart.appendChild(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid-line' }));
      chart.appendChild(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, [count(v)]));
    });
    // Axis labels: one format for days (day and month, the year is in the range label);
    // hours as times, with the date where a day begins.
    var sameDay = rows.length > 0 && rows[0].start.slice(0, 10) === rows[rows.length - 1].start.slice(0, 10);
    var tickLabel = function (row, i) {
      var w = wall(row.start);
      if (interval === 'day') return FORMAT.day(w);
      return sameDay || (i > 0 && row.start.slice(11, 13) !== '00') ? FORMAT.time(w) : FORMAT.day(w);
    };
    var labels = rows.map(tickLabel);
    var widest = Math.max.apply(null, labels.map(function (text) { return text.length; }).concat([1]));
    var room = Math.max(1, Math.floor((W - L - R) / (widest * 7 + TICK_GAP)));
    var steps = STEPS[interval];
    var every = steps.filter(function (s) { return Math.ceil(rows.length / s) <= room; })[0] || steps[steps.length - 1];
    rows.forEach(function (row, i) {
      if (i % every !== 0) return;
      chart.appendChild(svg('text', { x: x(i), y: H - 8, 'text-anchor': 'middle', class: 'axis tick' },
        [labels[i]]));
    });
    drawPreviousLine(chart, before, x, y, interval);
    series.forEach(function (name, index) {
      var points = shown.map(function (row, i) { return x(i) + ',' + y(row[name]); });
      var done = partial ? points.slice(0, -1) : points;
      if (done.length > 1) {
        chart.appendChild(svg('polyline', { points: done.join(' '), class: 'series s' + index, fill: 'none' }));
      }
      if (partial && points.length > 1) {
        chart.appendChild(svg('polyline', { points: points.slice(-2).join(' '), class: 'series partial s' + index,
          fill: 'none' }));
      }
      shown.forEach(function (row, i) {
        var current = states[i] === 'current';
        var at = interval === 'hour' ? FORMAT.dateTime(wall(row.start)) : FORMAT.date(wall(row.start));
        chart.appendChild(svg('circle', { cx: x(i), cy: y(row[name]), r: rows.length > 60 && !current ? 1.5 : 3,
          class: 'dot s' + index + (current ? ' partial' : ''), 'data-start': row.start, 'data-value': row[name] },
        [svg('title', {}, [at + ': ' + row[name] + ' ' + name + (current ? ' so far, this ' + interval +
          ' is in progress' : '')])]));
      });
    });
    var keys = series.map(function (name, index) { return el('span', { class: 'key s' + index }, [heading(name)]); });
    if (answer.compare) {
      keys.push(el('span', { class: 'key previous', title: 'each ' + interval + ' beside the same ' + interval +
        ' of ' + rangeText(answer.compare) + (before.length < rows.length ? '; a gap: that ' + interval +
        ' has no counterpart (a clock change) or too few visitors to show' : '') },
      [heading(panel.value) + ', previous period']));
    }
    if (partial) keys.push(el('span', { class: 'key partial' }, ['so far (this ' + interval + ' is in progress)']));
    if (begun === 0) keys.push(el('span', { class: 'muted' }, ['this range has not begun']));
    return [chart, el('p', { class: 'legend' }, keys)];
  }

  // The previous period's points of a line with `compare`: each bucket's counterpart (the
  // answer pairs them, by date and wall-clock hour) at the bucket's own position, over the
  // whole range (the previous period has happened, so its days to come are drawn too).
  // A bucket without one (an hour a clock change skipped, a suppressed count) is a gap.
  function previousLine(panel, rows) {
    var points = [];
    rows.forEach(function (row, i) {
      var previous = row.previous;
      if (previous && !previous.suppressed && previous[panel.value] !== null && previous[panel.value] !== undefined) {
        points.push({ at: i, value: Number(previous[panel.value]), start: previous.start });
      }
    });
    return points;
  }

  function drawPreviousLine(chart, points, x, y, interval) {
    var run = [];
    var flush = function () {
      if (run.length > 1) chart.appendChild(svg('polyline', { points: run.join(' '), class: 'previous-series', fill: 'none' }));
      run = [];
    };
    points.forEach(function (point, k) {
      if (k > 0 && points[k - 1].at !== point.at - 1) flush();
      run.push(x(point.at) + ',' + y(point.value));
      var at = interval === 'hour' ? FORMAT.dateTime(wall(point.start)) : FORMAT.date(wall(point.start));
      chart.appendChild(svg('circle', { cx: x(point.at), cy: y(point.value), r: 1.5, class: 'previous-dot',
        'data-start': point.start, 'data-value': point.value }, [svg('title', {}, [at + ': ' + point.value])]));
    });
    flush();
  }

  // Drops axis labels that would overlap their left neighbour (or leave the chart), after
  // layout, so no two labels ever touch whatever the fonts.
  function thinTicks(chart) {
    var width = chart.viewBox.baseVal.width;
    var right = -Infinity;
    chart.querySelectorAll('text.tick').forEach(function (tick) {
      var box = tick.getBBox();
      if (box.x < 0) tick.setAttribute('text-anchor', 'start');
      else if (box.x + box.width > width) tick.setAttribute('text-anchor', 'end');
      box = tick.getBBox();
      if (box.x < right + TICK_GAP) tick.remove();
      else right = box.x + box.width;
    });
  }

  function renderLine(ctx, section, panel, answer) {
    var content = section.querySelector('.content');
    var draw = function () {
      var width = Math.max(240, Math.round(content.clientWidth || 720));
      fill(section, lineChart(ctx, panel, answer, width));
      thinTicks(section.querySelector('svg.chart'));
      return width;
    };
    ctx.redraws[section.id] = { content: content, width: draw(), draw: draw };
  }

  // What an `(other)` row stands for, per report: its marker column and its rows' name.
  var FOLDS = {
    'top-content': { column: 'path', one: 'page', many: 'pages' },
    'content-discovery': { column: 'path', one: 'new page', many: 'new pages', within: ' in the first 7 days' },
    sources: { column: 'referrer_host', one: 'source', many: 'sources' },
    devices: { column: 'browser', one: 'browser, system and device combination',
      many: 'browser, system and device combinations' },
    countries: { column: 'country', one: 'country', many: 'countries' }
  };

  // The fold of an answer: { column, folded, min, summed, ... } when it has an `(other)` row.
  function foldOf(panel, answer) {
    var fold = FOLDS[panel.report];
    var small = answer.small_counts;
    if (!fold || !small || !small.folded_rows) return null;
    return Object.assign({ folded: small.folded_rows, min: small.min_visitors,
      summed: small.other_visitors === 'summed' }, fold);
  }

  // The (other) row's visitors when the collector added them up over the folded rows.
  var SUMMED = 'visitors added up over the folded rows on some days (a long range of a busy site, or days ' +
    'whose raw events retention deleted): someone in two of them on one day counts twice';

  function isSummed(fold, row, column) {
    return isFoldRow(fold, row) && fold.summed && /^visitors/.test(column);
  }

  function isFoldRow(fold, row) {
    return fold !== null && row[fold.column] === '(other)';
  }

  // "12 pages with fewer than 5 visitors each, folded to protect privacy (reports.min_visitors)".
  function foldNote(ctx, fold) {
    var text = fold.folded === 1
      ? '1 ' + fold.one + ' with fewer than ' + fold.min + ' visitors' + (fold.within || '')
      : fold.folded + ' ' + fold.many + ' with fewer than ' + fold.min + ' visitors each' + (fold.within || '');
    smallCountsHelp(ctx, fold);
    return el('span', { class: 'fold-note' }, [text +
      ', folded to protect privacy (', el('a', { href: '#small-counts-help' }, ['reports.min_visitors']), ')']);
  }

  // The page's note on small counts, once, which the fold rows link to.
  function smallCountsHelp(ctx, fold) {
    if (document.getElementById('small-counts-help')) return;
    var help = el('aside', { id: 'small-counts-help', class: 'notice', tabindex: '-1' }, [
      el('h2', {}, ['Small counts and (other)']),
      el('p', {}, ['So that no row names a page, a source, a device or a country that one person accounts for, ' +
        'rows with fewer than ' + fold.min + ' visitors are added up into one row, (other). Its views are the ' +
        'sums of those rows; its visitors count each visitor once a day, as the site\'s total does, however ' +
        'many of the rows they appear in (over a long range of a busy site they are added up instead, and ' +
        'the number says so when you point at it). The threshold is the collector\'s setting ', el('code', {}, ['reports.min_visitors']),
        ' (', el('code', {}, ['FOOTFALL_REPORTS__MIN_VISITORS']), ', default 5; 0 or 1 turns folding off), ' +
        'described in footfall\'s docs/configuration.md and docs/reports.md ("Small counts").'])
    ]);
    document.getElementById('main').appendChild(help);
  }

  function label(panel, row) {
    return panel.label.map(function (column) { return row[column] || '(none)'; }).join(' / ');
  }

  // Bar labels that would read the same (a source with two utm campaigns) get the values
  // of the other text columns that tell them apart.
  function distinctLabels(panel, rows, fold) {
    var labels = rows.map(function (row) { return isFoldRow(fold, row) ? '(other)' : label(panel, row); });
    var groups = {};
    labels.forEach(function (text, i) { (groups[text] = groups[text] || []).push(i); });
    return labels.map(function (text, i) {
      var group = groups[text];
      if (group.length < 2) return text;
      var row = rows[i];
      var extra = Object.keys(row).filter(function (column) {
        return typeof row[column] === 'string' && panel.label.indexOf(column) < 0 &&
          group.some(function (j) { return rows[j][column] !== row[column]; });
      }).map(function (column) { return column + '=' + (row[column] || '(none)'); });
      return extra.length ? text + ' · ' + extra.join(' · ') : text;
    });
  }

  function renderBar(ctx, section, panel, answer) {
    if (noGoals(ctx, section, panel, answer)) return;
    var rows = answer.rows;
    if (!rows.length) return fill(section, [el('p', { class: 'muted' }, ['Nothing in this range.'])]);
    var fold = foldOf(panel, answer);
    var labels = distinctLabels(panel, rows, fold);
    var max = Math.max.apply(null, rows.map(function (r) { return r[panel.value]; })) || 1;
    var list = el('ul', { class: 'bars' }, rows.map(function (row, i) {
      var value = row[panel.value];
      var other = isFoldRow(fold, row);
      var bar = svg('svg', { class: 'bar', viewBox: '0 0 100 6', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
        [svg('rect', { x: 0, y: 0, height: 6, width: Math.max(0.5, value / max * 100) })]);
      return el('li', other ? { class: 'fold', 'data-folded-rows': String(fold.folded) } : {}, [
        el('span', { class: 'name' }, [other ? labels[i] : filterLink(panel, row, labels[i])]),
        el('span', { class: 'value' + (isSummed(fold, row, panel.value) ? ' summed' : ''), 'data-value': String(value),
          title: isSummed(fold, row, panel.value) ? SUMMED + ' (' + value + ')' : String(value) },
          [formatAs(panel.format, value)]),
        bar,
        other ? foldNote(ctx, fold) : null
      ]);
    }));
    fill(section, [list]);
  }

  var SPARK_DAYS = 7;

  // A page's views per day in its first 7 days: days still to come are not drawn, the
  // day in progress is drawn lighter ("so far").
  function sparkline(ctx, row) {
    var start = (row.published_at || row.first_view_at || '').slice(0, 10);
    if (!start) return noCurve('no start time for this page');
    var holder = el('span', { class: 'spark', 'aria-label': 'views per day in the first 7 days: loading' },
      ['…']);
    api(ctx.site, 'timeseries', { from: start, to: addDays(start, SPARK_DAYS - 1), path: row.path }).then(function (answer) {
      var now = siteNow(ctx.tz);
      var states = answer.rows.map(function (r) { return bucketState(r, 'day', now); });
      var begun = states.filter(function (state) { return state !== 'future'; }).length;
      var values = answer.rows.slice(0, begun).map(function (r) { return r.views; });
      var partial = begun > 0 && states[begun - 1] === 'current';
      var max = Math.max.apply(null, values.concat([1]));
      var x = scale(0, SPARK_DAYS - 1, 2, 70), y = scale(0, max, 18, 2);
      var points = values.map(function (v, i) { return x(i) + ',' + y(v); });
      var done = partial ? points.slice(0, -1) : points;
      var description = 'views per day in the first 7 days: ' + values.join(', ') + (partial ? ' (today so far)' : '') +
        (begun < SPARK_DAYS ? '; ' + (SPARK_DAYS - begun) + ' days still to come' : '');
      var line = svg('svg', { viewBox: '0 0 72 20', class: 'sparkline', role: 'img', 'aria-label': description,
        'data-days': begun, 'data-partial': String(partial) }, [
        svg('title', {}, [description]),
        done.length > 1 ? svg('polyline', { points: done.join(' '), fill: 'none' })
          : done.length === 1 ? svg('circle', { cx: x(0), cy: y(values[0]), r: 1.2, class: 'lone' }) : null,
        partial && points.length > 1 ? svg('polyline', { points: points.slice(-2).join(' '), fill: 'none',
          class: 'partial' }) : null,
        partial ? svg('circle', { cx: x(begun - 1), cy: y(values[begun - 1]), r: 1.8, class: 'partial' }) : null
      ]);
      holder.replaceWith(line);
    }).catch(function (error) {
      holder.replaceWith(noCurve('could not load: ' + ((error && error.message) || String(error))));
    });
    return holder;
  }

  // "—" in place of a curve, with why.
  function noCurve(why) {
    return el('span', { class: 'spark none', title: why, 'data-why': why }, [
      el('span', { 'aria-hidden': 'true' }, ['—']), el('span', { class: 'sr-only' }, ['no curve: ' + why])]);
  }

  function renderTable(ctx, section, panel, answer) {
    if (noGoals(ctx, section, panel, answer)) return;
    var rows = answer.rows;
    if (!rows.length) {
      var empty = panel.report === 'content-discovery' ? 'No page was first published or viewed in this range.'
        : panel.report === 'not-stored' ? 'No event of this range was dropped or refused.'
        : 'Nothing in this range.';
      return fill(section, [el('p', { class: 'muted' }, [empty])]);
    }
    var fold = foldOf(panel, answer);
    var columns = panel.columns;
    var head = el('tr', {}, columns.map(function (c) {
      return el('th', { scope: 'col', class: alignment(c), 'aria-sort': ariaSort(panel, answer, c) },
        [sortableHeading(panel, answer, c)]);
    }).concat(panel.curve ? [el('th', { scope: 'col' }, ['First 7 days'])] : []));
    var body = rows.map(function (row) {
      var other = isFoldRow(fold, row);
      var cells = columns.map(function (c, i) {
        var format = columnFormat(c);
        var value = row[c];
        var shown = contentFormat(c) || (value === null && !other) ? contentCell(ctx, panel, answer, row, c)
          : format === 'when' ? when(value) : format === 'text' ? (value === '' ? '(none)' : String(value))
            : formatAs(format, value);
        var summed = isSummed(fold, row, c);
        var attributes = { 'data-column': c, 'data-value': value === null || typeof value === 'object' ? ''
          : String(value), class: alignment(c) + (summed ? ' summed' : ''), title: summed ? SUMMED : null };
        if (i === 0) Object.assign(attributes, { scope: 'row' });
        if (other && i === 0) attributes.class += ' fold';
        var label = i === 0 && !other ? filterLink(panel, row, shown) : shown;
        return el(i === 0 ? 'th' : 'td', attributes, [label, other && i === 0 ? foldNote(ctx, fold) : null,
          i === 0 && !other ? titledPath(row, c) : null]);
      });
      if (panel.curve) {
        cells.push(el('td', {}, [other
          ? noCurve('(other) adds up ' + fold.folded + ' ' + (fold.folded === 1 ? fold.one : fold.many) +
            '; a curve is drawn per page, and (other) is not one')
          : row.suppressed
            ? noCurve(row.found ? 'fewer than ' + answer.small_counts.min_visitors + ' visitors in the first 7 days: ' +
              'its counts are not shown, to protect privacy (reports.min_visitors)' : 'nobody viewed it in its first 7 days')
            : sparkline(ctx, row)]));
      }
      return el('tr', other ? { class: 'fold', 'data-folded-rows': String(fold.folded) } : {}, cells);
    });
    var table = el('table', {}, [
      el('caption', { class: 'sr-only' }, [panel.title]),
      el('thead', {}, [head]),
      el('tbody', {}, body)
    ]);
    fill(section, [el('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': panel.title }, [table]),
      tableNotes(panel, answer)]);
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
      return DAYS[c.weekday - 1] + ' ' + hourOfDay(c.hour) + '–' + hourOfDay((c.hour + 1) % 24) + ': ' + c.views +
        ' views, ' + c.visitors + ' visitors';
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

  // ---- content columns, sorting and publish timing (issue 18) -------------------------
  //
  // The content dashboard's columns beyond counts: a page's title (registry text from
  // feeds: always a text node, never HTML), whether it was found, a ratio to the site's
  // typical page, lists of sources; what a missing value means (suppressed, not found, not
  // reached: never shown as 0); table headings that set a report's `sort` (kept in the
  // URL); and the publish-timing heatmap.

  // Formats by column name beyond columnFormat's: title, found, ratio (vs_*), list, and
  // the shares and durations of a window (`_share_7d`, `_seconds_7d`), minutes as counts.
  function contentFormat(column) {
    if (column === 'title') return 'title';
    if (column === 'found') return 'found';
    if (/^vs_/.test(column)) return 'ratio';
    if (column === 'top_referrers' || column === 'internal_from') return 'list';
    if (/_share_(24h|7d)$/.test(column)) return 'percent';
    if (/_seconds_(24h|7d)$/.test(column)) return 'duration';
    if (/_minutes$/.test(column)) return 'count';
    return null;
  }

  var TEXT_FORMATS = ['text', 'title', 'found', 'list'];

  function alignment(column) {
    return TEXT_FORMATS.indexOf(columnFormat(column)) >= 0 ? '' : 'num';
  }

  Object.assign(HEADINGS, {
    title: 'Post', found: 'Found?', hours_to_10_visitors: 'To 10 readers', hours_to_100_visitors: 'To 100 readers',
    vs_typical_24h: '24 h vs typical', read_through_share_7d: 'Read to 75%',
    median_engaged_seconds_7d: 'Median engaged', top_referrers: 'Top referrers', internal_from: 'From our pages',
    engaged_minutes: 'Engaged minutes', median_engaged_seconds: 'Median engaged',
    engaged_view_share: 'Engaged views', read_through_share: 'Read to 75%'
  });

  var WEEK_MS = 7 * 86400000;

  // Whether a page's first 7 days are still running (its numbers can still grow).
  function inFirstWeek(row) {
    var start = Date.parse(row.published_at || row.first_view_at || '');
    return !isNaN(start) && Date.now() < start + WEEK_MS;
  }

  function minVisitors(answer) {
    return (answer.small_counts && answer.small_counts.min_visitors) || 0;
  }

  // A marked value with why it reads as it does (`title`, also for screen readers).
  function marked(kind, text, why) {
    return el('span', { class: 'marked ' + kind, title: why, 'data-why': why }, [text,
      el('span', { class: 'sr-only' }, [' (' + why + ')'])]);
  }

  // A cell of a content column, or a missing value with what it means.
  function contentCell(ctx, panel, answer, row, column) {
    var value = row[column];
    var min = minVisitors(answer);
    var other = row.path === '(other)';
    switch (columnFormat(column)) {
      case 'title': return row.title === null || row.title === undefined || row.title === '' ? row.path : row.title;
      case 'found':
        if (other) return '–';
        if (!row.found) {
          return inFirstWeek(row)
            ? marked('unfound', 'not found yet', 'nobody has viewed it so far in its first 7 days')
            : marked('unfound', 'not found', 'nobody viewed it in its first 7 days');
        }
        return row.suppressed ? marked('suppressed', 'found, by fewer than ' + min, suppressedWhy(min)) : 'found';
      case 'list':
        if (value && value.length) return sourceList(column, value);
        break;
      case 'ratio':
        if (value !== null && value !== undefined) return ratio(value);
        break;
      default:
        if (value !== null && value !== undefined) return formatAs(columnFormat(column), value);
    }
    return missing(row, column, min, other);
  }

  function suppressedWhy(min) {
    return 'fewer than ' + min + ' visitors in its first 7 days: its numbers are hidden to protect privacy ' +
      '(reports.min_visitors)';
  }

  // "2.3× typical": a page's first 24 hours against the site's typical page.
  function ratio(value) {
    return (value >= 10 ? String(Math.round(value)) : trim(value)) + '× typical';
  }

  // What a missing value (null, or an empty list) of a page means.
  function missing(row, column, min, other) {
    var visitors = /^visitors/.test(column);
    if (other) return marked('none', '–', '(other) adds up pages with different starts; this is per page');
    if (!row.found) {
      var never = inFirstWeek(row) ? 'nobody has viewed it so far' : 'nobody viewed it in its first 7 days';
      if (visitors || /^views/.test(column)) return marked('unfound', 'none', never);
      return marked('unfound', /^hours_to_/.test(column) ? 'not reached' : '–', never);
    }
    if (row.suppressed) {
      return visitors ? marked('suppressed', 'fewer than ' + min, suppressedWhy(min))
        : marked('suppressed', 'hidden', suppressedWhy(min));
    }
    if (/^hours_to_\d+_visitors$/.test(column)) {
      return inFirstWeek(row) ? marked('none', 'not yet', 'not reached so far; its first 7 days are still running')
        : marked('none', 'not in 7 days', 'not reached in its first 7 days');
    }
    if (/^vs_/.test(column)) {
      return marked('none', 'no yardstick', 'needs at least 5 pages that started in the 90 days before it ' +
        '(and their median of visitors in 24 hours above 0)');
    }
    if (columnFormat(column) === 'list') {
      return marked('none', 'none named', column === 'internal_from'
        ? 'no page of the site sent it ' + (min > 1 ? 'at least ' + min + ' visitors' : 'a visitor')
        : 'no other site sent it ' + (min > 1 ? 'at least ' + min + ' visitors' : 'a visitor'));
    }
    if (column === 'hours_to_first_view') return marked('none', '–', 'no publish time');
    return marked('none', '–', 'nothing to show');
  }

  // [{host|path, visitors}] as a short list: "news.example.org 3".
  function sourceList(column, entries) {
    return el('ul', { class: 'sources', 'data-list': column }, entries.map(function (entry) {
      var name = entry.host || entry.path;
      return el('li', { title: name + ': ' + entry.visitors + ' visitors' }, [el('span', { class: 'source' }, [name]),
        ' ', el('span', { class: 'n' }, [count(entry.visitors)])]);
    }));
  }

  // Under a title, the page's path (the title is the registry's, the path footfall's).
  function titledPath(row, column) {
    if (column !== 'title' || !row.title) return null;
    return el('span', { class: 'page-path muted' }, [row.path]);
  }

  // The notes under a content-discovery table: what the marked values it shows mean.
  function tableNotes(panel, answer) {
    if (panel.report !== 'content-discovery') return null;
    var min = minVisitors(answer);
    var notes = [];
    var any = function (test) { return answer.rows.some(test); };
    if (any(function (row) { return !row.found; })) {
      notes.push(el('li', {}, [el('strong', {}, ['not found']), ': nobody viewed the post in its first 7 days.']));
    }
    if (min > 1 && any(function (row) { return row.suppressed; })) {
      notes.push(el('li', {}, [el('strong', {}, ['fewer than ' + min]), ', ', el('strong', {}, ['hidden']),
        ': a post read by fewer than ' + min + ' visitors in its first 7 days is listed, but its numbers are ' +
        'hidden to protect privacy (reports.min_visitors); sources with fewer than ' + min + ' visitors are not named.']));
    }
    if (panel.columns.some(function (c) { return /^vs_/.test(c); })) {
      notes.push(el('li', {}, [el('strong', {}, ['× typical']), ': its visitors in the first 24 hours against the ' +
        'median of the site\'s pages that started in the 90 days before it; ', el('strong', {}, ['no yardstick']),
        ' with fewer than 5 such pages.']));
    }
    return notes.length ? el('ul', { class: 'table-notes muted' }, notes) : null;
  }

  // ---- sorting: a panel's `sorts` maps columns to its report's `sort` values; the URL's
  // `sort` (one for the page) applies to each panel that offers it.

  function sortOf(panel) {
    var wanted = new URLSearchParams(location.search).get('sort');
    var offered = Object.keys(panel.sorts || {}).map(function (c) { return panel.sorts[c]; });
    return wanted && offered.indexOf(wanted) >= 0 ? wanted : null;
  }

  // Keeps the URL's `sort` in a query built from the range and the filters.
  function keepSort(query) {
    var sort = new URLSearchParams(location.search).get('sort');
    if (sort && !query.has('sort')) query.set('sort', sort);
  }

  function ariaSort(panel, answer, column) {
    var value = panel.sorts && panel.sorts[column];
    if (!value) return null;
    return answer.sort === value ? 'descending' : 'none';
  }

  // A heading that sorts the panel by its column (a link: the sort lives in the URL).
  function sortableHeading(panel, answer, column) {
    var value = panel.sorts && panel.sorts[column];
    if (!value) return heading(column);
    var query = new URLSearchParams(location.search);
    query.set('sort', value);
    var active = answer.sort === value;
    return el('a', { class: 'sort' + (active ? ' active' : ''), href: '?' + query.toString(), 'data-sort': value,
      title: active ? 'Sorted by this column, highest first' : 'Sort by this column, highest first' },
    [heading(column), el('span', { 'aria-hidden': 'true' }, [active ? ' ▼' : ' ↕'])]);
  }

  // Line charts follow their panel's width also when the window keeps its size: a page
  // that grows or shrinks past the window's height gains or loses its scroll bar, which
  // narrows or widens every panel without a resize event. The page's width changing is
  // passed on as one (redrawOnResize draws the charts whose width changed).
  function redrawOnLayout() {
    var main = document.getElementById('main');
    if (!main || typeof ResizeObserver === 'undefined') return;
    var width = main.clientWidth;
    new ResizeObserver(function () {
      if (main.clientWidth === width) return;
      width = main.clientWidth;
      window.dispatchEvent(new Event('resize'));
    }).observe(main);
  }

  // ---- publish timing: pages by the weekday and hour they started, coloured by their
  // median visitors in 24 hours; the number in a cell is its pages; the best cells are
  // outlined and named above the grid.

  function renderPublishTiming(ctx, section, panel, answer) {
    var cells = answer.grid;
    var best = answer.best || [];
    var min = answer.min_visitors;
    var medians = cells.map(function (c) { return c.median_visitors_24h || 0; });
    var max = Math.max.apply(null, medians.concat([0]));
    // A square-root scale: one far-reaching page leaves the others apart.
    var step = function (v) {
      return max <= 0 || v <= 0 ? 1 : Math.min(7, Math.max(1, Math.ceil(Math.sqrt(v / max) * 7)));
    };
    var rank = function (c) {
      for (var i = 0; i < best.length; i += 1) if (best[i].weekday === c.weekday && best[i].hour === c.hour) return i + 1;
      return 0;
    };
    var S = 26, L = 40, T = 22;
    var W = L + 24 * S + 4, H = T + 7 * S + 4;
    var describe = function (c) {
      var slot = DAYS[c.weekday - 1] + ' ' + hourOfDay(c.hour) + '–' + hourOfDay((c.hour + 1) % 24);
      if (!c.pages) return slot + ': no page started';
      var median = c.median_visitors_24h === null ? 'median hidden (fewer than ' + min + ' visitors together)'
        : 'median ' + count(c.median_visitors_24h) + ' visitors in their first 24 h';
      return slot + ': ' + c.pages + (c.pages === 1 ? ' page, ' : ' pages, ') + median;
    };
    var chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'heatmap publish', role: 'group',
      'aria-label': panel.title + ' by weekday and hour of publishing, ' + answer.tz });
    chart.appendChild(svg('defs', {}, [svg('pattern', { id: 'hidden-median', width: 5, height: 5,
      patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, [
      svg('rect', { width: 5, height: 5, fill: PALETTE[0] }),
      svg('line', { x1: 0, y1: 0, x2: 0, y2: 5, stroke: '#8a94a3', 'stroke-width': 2 })])]));
    for (var h = 0; h < 24; h += 3) {
      chart.appendChild(svg('text', { x: L + h * S + S / 2, y: 14, 'text-anchor': 'middle', class: 'axis' },
        [String(h).padStart(2, '0')]));
    }
    DAYS.forEach(function (day, d) {
      chart.appendChild(svg('text', { x: L - 6, y: T + d * S + S / 2 + 4, 'text-anchor': 'end', class: 'axis' }, [day]));
    });
    cells.forEach(function (c) {
      var x = L + c.hour * S + 1, y = T + (c.weekday - 1) * S + 1;
      var hidden = c.pages > 0 && c.median_visitors_24h === null;
      var colour = !c.pages ? PALETTE[0] : hidden ? 'url(#hidden-median)' : PALETTE[step(c.median_visitors_24h)];
      var place = rank(c);
      var group = svg('g', { class: 'cell-group', 'data-weekday': c.weekday, 'data-hour': c.hour,
        'data-pages': c.pages, 'data-median': c.median_visitors_24h === null ? '' : c.median_visitors_24h,
        'data-best': place ? String(place) : null }, [
        svg('title', {}, [describe(c) + (place ? '; best time no. ' + place : '')]),
        svg('rect', { x: x, y: y, width: S - 2, height: S - 2, rx: 3, fill: colour,
          class: 'cell' + (place ? ' best' : '') + (hidden ? ' hidden-median' : '') + (c.pages ? '' : ' empty') })
      ]);
      if (c.pages) {
        group.appendChild(svg('text', { x: x + (S - 2) / 2, y: y + (S - 2) / 2 + 4, 'text-anchor': 'middle',
          class: 'cell-label' + (!hidden && step(c.median_visitors_24h) >= 4 ? ' on-dark' : '') }, [String(c.pages)]));
      }
      chart.appendChild(group);
    });
    var callout = best.length
      ? el('div', { class: 'peak-callout best-times' }, [el('strong', {}, ['Best times to publish: ']),
        el('ol', {}, best.map(function (c) {
          return el('li', { 'data-weekday': c.weekday, 'data-hour': c.hour }, [describe(c)]);
        })), el('span', { class: 'muted' }, [' (' + answer.tz + '; cells with at least 3 pages)'])])
      : el('p', { class: 'muted' }, [answer.pages ? 'No hour of the week has 3 pages with a median yet: ' +
        'publish more, or pick a longer range.' : 'No page started in this range.']);
    var legend = el('div', { class: 'heat-legend' }, [el('span', { class: 'muted' }, ['Median visitors in 24 h: '])]
      .concat([1, 2, 3, 4, 5, 6, 7].map(function (i) {
        var low = Math.pow((i - 1) / 7, 2) * max, high = Math.pow(i / 7, 2) * max;
        if (max <= 0 && i > 1) return null;
        return el('span', { class: 'swatch' }, [
          svg('svg', { viewBox: '0 0 12 12', width: 12, height: 12, 'aria-hidden': 'true' },
            [svg('rect', { width: 12, height: 12, rx: 2, fill: PALETTE[i] })]),
          max <= 0 ? '0' : count(Math.round(low)) + '–' + count(Math.round(high))
        ]);
      })).concat([
        el('span', { class: 'swatch' }, [svg('svg', { viewBox: '0 0 12 12', width: 12, height: 12, 'aria-hidden': 'true' },
          [svg('rect', { width: 12, height: 12, rx: 2, fill: PALETTE[0] })]), 'no page']),
        min > 1 ? el('span', { class: 'swatch' }, ['hatched: median hidden (fewer than ' + min + ' visitors)']) : null,
        el('span', { class: 'swatch' }, ['number: pages started; outlined: best'])
      ]));
    fill(section, [callout, el('div', { class: 'scroll' }, [chart]), legend]);
  }

  var RENDER = { number: renderNumber, line: renderLine, bar: renderBar, table: renderTable,
    heatmap: function (ctx, section, panel, answer) {
      return (panel.report === 'publish-timing' ? renderPublishTiming : renderHeatmap)(ctx, section, panel, answer);
    } };

  // ---- goals and funnels --------------------------------------------------------------

  // A goals panel of a site without goals says how to define one, and fills the panel
  // (returns true). The goals report lists every goal of the site, so no rows: no goals.
  function noGoals(ctx, section, panel, answer) {
    if (panel.report !== 'goals' || !answer.rows || answer.rows.length) return false;
    fill(section, [el('p', { class: 'muted', 'data-explained': 'no-goals' }, [
      'This site has no goals yet. Define one with ',
      el('code', {}, ['footfall goals add --site ' + ctx.site + ' "Signed up" --event signup']),
      ' (a custom event) or ', el('code', {}, ['--page "/thanks*"']), ' (pages; * matches any characters).'])]);
    return true;
  }

  // A funnel's steps as bars scaled to the first step, each after the first with its
  // drop-off from the step before; a step with too few visitors shows no numbers.
  function renderFunnel(ctx, section, panel, answer) {
    var steps = answer.steps;
    var first = steps.length && steps[0].visitors ? steps[0].visitors : 0;
    var list = el('ol', { class: 'bars funnel' }, steps.map(function (step, i) {
      var shown = !step.suppressed;
      var width = shown && first ? Math.max(0.5, step.visitors / first * 100) : 0;
      var value = shown ? count(step.visitors) + (i > 0 ? ' (' + percent(step.conversion_rate) + ')' : '')
        : 'fewer than ' + answer.min_visitors + ' visitors: not shown';
      var drop = i === 0 ? null : el('span', { class: 'drop muted',
        'data-dropped-off': step.dropped_off === null ? '' : String(step.dropped_off) }, [step.dropped_off === null
        ? 'drop-off not shown' : '−' + count(step.dropped_off) + ' (' + percent(step.drop_off_rate) + ') dropped off']);
      return el('li', { 'data-step': String(i + 1) }, [
        el('span', { class: 'name' }, [(i + 1) + '. ' + step.name]),
        el('span', { class: 'value', 'data-value': shown ? String(step.visitors) : '' }, [value]),
        svg('svg', { class: 'bar', viewBox: '0 0 100 6', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
          [svg('rect', { x: 0, y: 0, height: 6, width: width })]),
        drop
      ]);
    }));
    fill(section, [list, el('p', { class: 'muted small' }, ['Visitors who reached each step after every ' +
      'earlier one on the same day (the visitor hash lives one day); in brackets, the share of the first step.'])]);
  }

  RENDER.funnel = renderFunnel;

  // ---- loading a panel --------------------------------------------------------------

  function failed(ctx, section, panel, error) {
    if (explained(section, panel, error)) return;
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

  // A panel the reports refuse for a reason the viewer should read rather than an error
  // box: fills the panel with it and returns true.
  function explained(section, panel, error) {
    if (missingFunnel(section, panel, error)) return true;
    var locked = document.querySelector('#filters [data-locked]') !== null;
    if (!(error && error.status === 403 && panel.report === 'not-stored' && locked)) return false;
    fill(section, [el('p', { class: 'muted', 'data-explained': 'locked' }, ['Not shown with this share link: ' +
      'it locks filters, and events that were not stored cannot be filtered.'])]);
    return true;
  }

  // A funnel panel whose funnel the site has not defined (or whose steps lost a goal)
  // says so and how to define it, and fills the panel (returns true).
  function missingFunnel(section, panel, error) {
    if (!(error && error.status === 400 && error.field === 'funnel' && panel.report === 'funnel')) return false;
    var site = document.getElementById('main').dataset.site;
    fill(section, [el('p', { class: 'muted', 'data-explained': 'no-funnel' }, [error.message + '. Define it with ',
      el('code', {}, ['footfall funnels add --site ' + site + ' "' + panel.params.funnel + '" GOAL GOAL…']),
      ' (2 to 8 goals in order, each from ', el('code', {}, ['footfall goals add']), ').'])]);
    return true;
  }

  function load(ctx, section, panel, fresh) {
    return api(ctx.site, panel.report, paramsFor(panel, ctx.range), fresh).then(function (answer) {
      // A comparison that cannot be had leaves the panel's own number standing.
      var comparison = panel.compare && panel.visual === 'number'
        ? compare(ctx, panel, answer, fresh).catch(function (error) {
          return { text: 'no comparison: ' + ((error && error.message) || String(error)) };
        })
        : null;
      return Promise.resolve(comparison).then(function (c) { RENDER[panel.visual](ctx, section, panel, answer, c); });
    }).catch(function (error) { failed(ctx, section, panel, error); });
  }

  // ---- the page -----------------------------------------------------------------------

  // The beacon's tag, pointing at the address this page was loaded from.
  function snippet(site) {
    return '<script defer src="' + location.origin + '/js/footfall.js" data-site="' + site + '"></script>';
  }

  function showEmpty(ctx) {
    api(ctx.site, 'timeseries', { from: ctx.range.from, to: ctx.range.to }).then(function (answer) {
      var views = sumOf(answer.rows, 'views');
      if (views > 0) return;
      var box = document.getElementById('empty');
      var code = el('code', {}, [snippet(ctx.site)]);
      var copy = el('button', { type: 'button' }, ['Copy snippet']);
      copy.addEventListener('click', function () {
        if (navigator.clipboard) navigator.clipboard.writeText(snippet(ctx.site)).then(function () { copy.textContent = 'Copied'; });
      });
      append(box, [el('p', {}, [el('strong', {}, ['No views in this range yet. ']),
        'If you have just set footfall up, add this tag to every page of ' + ctx.site + ':']),
        el('pre', {}, [code]), copy,
        el('p', {}, ['Added it and still nothing? The two usual causes:']),
        el('ul', { class: 'causes' }, [
          el('li', { 'data-cause': 'bot' }, [el('strong', {}, ['An automated or headless browser is dropped as a bot. ']),
            'Puppeteer, Playwright, Selenium and HeadlessChrome are answered 202 and nothing is stored; ' +
            'test with an ordinary browser.']),
          el('li', { 'data-cause': 'origin' }, [el('strong', {}, ['The page must be on the site\'s own domain. ']),
            'Events are accepted from pages on ' + ctx.site + ' (and its subdomains or the origins allowed for it); ' +
            'a page at 127.0.0.1 for a site registered as localhost is refused (403), so open it as ' +
            'http://localhost/… or register the name you use.'])
        ]),
        ctx.notStoredPanel >= 0 ? el('p', { class: 'where' }, ['What footfall answered but did not store, and why: ',
          el('a', { href: '#panel-' + ctx.notStoredPanel }, ['Events not stored']), ' (below).']) : null]);
      box.hidden = false;
    }).catch(function () {});
  }

  function setUpControls(ctx) {
    document.querySelectorAll('[data-range]').forEach(function (button) {
      button.setAttribute('aria-pressed', String(button.dataset.range === ctx.range.key));
      button.addEventListener('click', function () {
        location.search = queryWith({ range: button.dataset.range }, currentFilters());
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
      location.search = queryWith({ from: from.value, to: to.value }, currentFilters());
    });
    to.addEventListener('input', function () { to.setCustomValidity(''); });
    var now = siteNow(ctx.tz);
    document.getElementById('range-text').textContent = rangeText(ctx.range) +
      (ctx.range.from <= now.date && now.date <= ctx.range.to ? ' (so far: ' + FORMAT.time(now.wall) + ')' : '');
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
  }

  // Line charts are drawn at their width: draw again when it changes.
  function redrawOnResize(ctx) {
    var pending = false;
    window.addEventListener('resize', function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () {
        pending = false;
        Object.keys(ctx.redraws).forEach(function (id) {
          var chart = ctx.redraws[id];
          if (Math.abs(Math.round(chart.content.clientWidth) - chart.width) > 1) chart.width = chart.draw();
        });
      });
    });
  }

  // The site list: a filter box narrows it by domain or time zone.
  function startPicker() {
    var filter = document.getElementById('site-filter');
    if (!filter) return;
    var rows = Array.prototype.slice.call(document.querySelectorAll('.sites tbody tr'));
    var status = document.getElementById('site-filter-count');
    var apply = function () {
      var words = filter.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (row) {
        var match = !words || row.textContent.toLowerCase().indexOf(words) >= 0;
        row.hidden = !match;
        if (match) shown += 1;
      });
      status.textContent = shown === rows.length ? rows.length + ' sites' : shown + ' of ' + rows.length + ' sites';
    };
    filter.addEventListener('input', apply);
    apply();
  }

  function start() {
    startPicker();
    var main = document.getElementById('main');
    var definition = document.getElementById('definition');
    if (!main || !definition) return;
    // A share link's token leaves the address bar (the session cookie carries on).
    if (location.pathname === '/dashboard/share') {
      history.replaceState(null, '', '/dashboard/' + encodeURIComponent(main.dataset.site));
    }
    var dashboard = JSON.parse(definition.textContent);
    var ctx = { site: main.dataset.site, tz: main.dataset.tz, slug: main.dataset.slug, redraws: {} };
    ctx.range = currentRange(ctx.tz);
    setUpControls(ctx);
    showFilters();
    redrawOnResize(ctx);
    redrawOnLayout();
    var loads = dashboard.panels.map(function (panel, index) {
      var section = document.getElementById('panel-' + index);
      var done = load(ctx, section, panel, false);
      if (panel.refresh_secs) {
        setInterval(function () { load(ctx, section, panel, true); }, panel.refresh_secs * 1000);
      }
      return done;
    });
    ctx.notStoredPanel = dashboard.panels.findIndex(function (panel) { return panel.report === 'not-stored'; });
    showEmpty(ctx);
    Promise.all(loads).then(function () { main.setAttribute('data-loaded', 'true'); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
