// footfall's beacon: the script the collector serves at /js/footfall.js. Embed it with
//   <script defer src="https://COLLECTOR/js/footfall.js" data-site="example.com"></script>
// docs/beacon.md documents every option and the JS API. `npm run build` in beacon/
// minifies this file with terser (pinned in package-lock.json) into footfall.min.js,
// which the collector compiles in; `npm run check` (part of scripts/test) fails when
// footfall.min.js is stale or over its size budget of 1,600 bytes gzipped, which is
// why this code is terse in places (see docs/beacon.md for what was left out).
//
// What it sends, one JSON object per event to the collector's /api/event
// (docs/intake.md): site, event name, the page URL without its fragment, the referrer, a random
// id of the page view, the screen width, the browser's time zone, the page's published
// time, with engagement events the engaged time and the deepest point of the page seen,
// with a cookie its random id and whether the browser came before, and in consent mode
// that the visitor consented. Nothing else. The collector keeps only host, path and
// utm_* of the URLs.
//
// Rules: it never throws into the host page (every entry point is guarded), writes
// nothing to the console, loads nothing but footfall-links.js (and that only when the
// tag asks for link tracking), and sends nothing when Do-Not-Track or Global Privacy
// Control is on (unless the site says otherwise), the visitor opted out, or (data-consent)
// the visitor has not consented.
((w, d) => {
  try {
    const nav = navigator;
    const loc = location;
    const hist = history;
    const script = d.currentScript;
    const attr = (name) => script.dataset[name]; // data-NAME (every name is one word)
    const site = attr('site') || loc.hostname;
    // Where events go (a relative data-api is resolved against the script's address);
    // footfall.forget() posts to "forget" beside it.
    const endpoint = new URL(attr('api') || '/api/event', script.src);
    // Cookie lifetime in seconds: 390 days (under 13 months), counted from the cookie's
    // creation and never extended by later visits.
    const LIFETIME = 390 * 86400;
    const ID_COOKIE = 'footfall_id';
    const VISIT_COOKIE = 'footfall_visit';
    const OPT_OUT = 'footfall_optout';
    const queued = w.footfall?.q || [];
    const refused =
      (attr('dnt') != 'ignore' && nav.doNotTrack == 1) ||
      (attr('gpc') != 'ignore' && nav.globalPrivacyControl);
    const hashRoutes = attr('hash') != null;
    let referrer = d.referrer;
    let viewKey; // the current page view: its URL without query
    let viewUrl; // ...the URL sent with its events
    let viewId; // ...its random id, sent with every event of the view
    let published; // ...its <meta property="article:published_time">
    // Engaged time counts while the page is visible and the visitor did something (scrolled,
    // typed, pointed, touched; showing the page counts too) in the last 30 seconds.
    let counted = 0; // engaged ms of the view not sent yet
    let from = 0; // when counting last stopped (0: the page is hidden)
    let activeUntil = 0; // the last input + 30 s
    let depth = 0; // the deepest point of the view seen, % of the page
    // Consent: undefined without data-consent (send, say nothing about consent); with it
    // false (send nothing, write no cookie) until footfall.consent(true) makes it true
    // (send, with "consent": true, which consent-mode sites require).
    let consent;
    if (attr('consent') != null) consent = false;

    const now = () => Date.now();
    const visible = () => !d.hidden;
    const guard = (fn) => (a) => {
      try {
        return fn(a);
      } catch {}
    };
    const on = (target, type, fn, options) => target.addEventListener(type, guard(fn), options);
    const randomId = () => crypto.getRandomValues(new Uint32Array(2)).join('x');
    const getCookie = (name) => d.cookie.match('(^|; )' + name + '=([^;]*)')?.[2];
    // Scoped to the site's domain so that its subdomains share it; the browser ignores
    // a domain the page is not on, and then the host-only cookie is written.
    const setCookie = (name, value, maxAge) => {
      const cookie = `${name}=${value};path=/;max-age=${maxAge};samesite=lax${w.isSecureContext ? ';secure' : ''}`;
      d.cookie = cookie + ';domain=' + site;
      if (!maxAge || getCookie(name) != value) d.cookie = cookie;
    };
    const optedOut = () => getCookie(OPT_OUT) == 1;

    // {visitor: cookie id, returning}, or nothing when cookieless: data-cookieless (read
    // at each event, so a consent banner may remove it) or the browser refused the
    // cookie. footfall_id (a random id) is written once and expires LIFETIME after;
    // footfall_visit (1 when this visit comes from a browser seen before, else 0) expires
    // 30 minutes after the last event, which ends the visit.
    const visitor = () => {
      if (attr('cookieless') != null) return;
      let id = getCookie(ID_COOKIE);
      const returning = id ? getCookie(VISIT_COOKIE) || 1 : 0;
      if (!id) setCookie(ID_COOKIE, (id = randomId()), LIFETIME);
      setCookie(VISIT_COOKIE, returning, 1800);
      return getCookie(ID_COOKIE) == id && { visitor: id, returning: returning == 1 };
    };

    // The page URL as sent: without its fragment. With data-hash, a #/route (or #!/route)
    // becomes the path: /app/#/settings is sent as /app/settings.
    const pageUrl = () => {
      const route = hashRoutes && loc.hash.match(/^#!?(\/[^?]*)/)?.[1];
      return loc.origin + (route ? loc.pathname.replace(/\/$/, '') + route : loc.pathname) + loc.search;
    };

    const send = (name, extra) => {
      if (refused || optedOut() || consent == 0) return; // == 0: false, not undefined
      const body = JSON.stringify({
        site,
        name,
        url: viewUrl || pageUrl(),
        referrer,
        pageview: viewId,
        screen: screen.width,
        tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
        published,
        consent,
        ...visitor(),
        ...extra,
      });
      // sendBeacon posts text/plain and survives the page being left; fetch with
      // keepalive does the same where sendBeacon is missing or refuses.
      nav.sendBeacon?.(endpoint, body) ||
        fetch(endpoint, { method: 'POST', body, keepalive: true }).catch(now);
    };

    // Adds the visible, active time since the last call.
    const tally = () => {
      const t = now();
      if (from) counted += Math.max(0, Math.min(t, activeUntil) - from);
      from = visible() && t;
    };
    const active = () => {
      tally();
      activeUntil = now() + 3e4; // 30 s of attention after each input
    };
    // Reads the layout, so only on scroll (and when a view starts), never per pointer move.
    const scrolled = () => {
      active();
      depth = Math.max(depth, Math.min(100, (((scrollY + innerHeight) * 100) / d.documentElement.scrollHeight) | 0));
    };

    // Sends the view's engaged time since it was shown or last flushed, and how deep it was
    // read. When the page is leaving, the clock stops: the hidden event that follows sends
    // nothing.
    const flush = (leaving) => {
      tally();
      if (viewId && counted) send('engagement', { engaged_ms: Math.min(counted, 864e5), scroll: depth });
      counted = 0;
      if (leaving) from = 0;
    };

    const pageview = (force) => {
      const url = pageUrl();
      const key = url.split('?')[0];
      if (force != 1 && key == viewKey) return; // same page, other query or hash
      flush();
      if (viewKey) referrer = viewUrl;
      viewKey = key;
      viewUrl = url;
      viewId = randomId();
      depth = 0;
      scrolled();
      // undefined without such a meta, or when it holds no time
      published = guard(() => new Date(d.querySelector('[property$=published_time]').content).toISOString())();
      send('pageview');
    };

    // Consent given (true): send from now on, starting with the held-back pageview of the
    // page view the visitor is on (its engaged time so far counts too). Refused or
    // withdrawn (false): send nothing more and delete the visitor's cookie id.
    const giveConsent = (given) => {
      given ? consent == 0 && viewId && ((consent = true), send('pageview')) : setCookie(ID_COOKIE, '', 0);
      consent = !!given;
    };

    const footfall = guard((args) =>
      args[0] == 'pageview'
        ? pageview(1)
        : args[0] == 'consent'
          ? giveConsent(args[1])
          : send(args[0], { props: args[1]?.props })
    );
    const api = (...args) => footfall(args);
    api.consent = guard(giveConsent);
    api.optOut = guard(() => setCookie(OPT_OUT, 1, LIFETIME));
    api.optIn = guard(() => setCookie(OPT_OUT, '', 0));
    // Visitor rights: asks the collector to delete the events it can still link to this
    // browser (its cookie id, or cookieless its address and user agent), then opts out
    // and deletes the visitor cookies. The forget endpoint lies beside the event endpoint.
    api.forget = guard(() => {
      const body = JSON.stringify({ site, visitor: getCookie(ID_COOKIE) });
      setCookie(OPT_OUT, 1, LIFETIME);
      setCookie(ID_COOKIE, '', 0);
      nav.sendBeacon(new URL('forget', endpoint), body);
    });
    w.footfall = api;

    // data-outbound, data-downloads: clicks on links are counted by footfall-links.js,
    // loaded from beside this script, with this tag's data- attributes, only for pages
    // that ask for it and browsers that may be counted.
    if (!refused && !optedOut() && (attr('outbound') != null || attr('downloads') != null)) {
      const links = d.createElement('script');
      links.src = new URL('footfall-links.js', script.src);
      Object.assign(links.dataset, script.dataset);
      d.head.append(links);
    }

    on(d, 'visibilitychange', () => (visible() ? active() : flush()));
    on(w, 'pagehide', () => flush(1));
    // Presses of a key or a pointer (touch arrives as pointer events; no per-move listener):
    // captured, so the page's own handlers cannot hide them.
    for (const type of ['keydown', 'pointerdown']) on(w, type, active, true);
    on(w, 'scroll', scrolled); // the document's scrolls (they bubble to the window)

    if (attr('manual') == null) {
      pageview();
      for (const method of ['pushState', 'replaceState']) {
        const original = hist[method];
        hist[method] = function () {
          const result = original.apply(this, arguments);
          guard(pageview)();
          return result;
        };
      }
      on(w, 'popstate', pageview);
      if (hashRoutes) on(w, 'hashchange', pageview);
    }
    queued.map(footfall); // calls made before the script loaded
  } catch {}
})(window, document);
