// footfall's link tracking, served at /js/footfall-links.js. The beacon (footfall.js)
// loads it, with the beacon tag's data- attributes, when that tag has data-outbound or
// data-downloads; docs/beacon.md documents both. Built into footfall-links.min.js by
// `npm run build` (budget 500 bytes gzipped).
//
// A click (or middle click) on a link counts as
// - `download` when the link's path ends in one of data-downloads' extensions
//   (data-downloads="pdf,zip", case-insensitive), else
// - `outbound` with data-outbound when the link goes to another host than the site and
//   its subdomains (mailto:, tel: and javascript: links have no host and never count),
// sent through the beacon's API as footfall(NAME, {props}), props holding url, the
// link's origin and path (no query, no fragment, at most 256 characters), and the
// download's `extension` (lowercase) or the outbound link's `host`, so the events report
// breaks either down (event=download&breakdown=prop.extension, ...=prop.host).
((d) => {
  try {
    const script = d.currentScript;
    const attr = (name) => script.dataset[name];
    const site = attr('site') || location.hostname;
    let downloads = attr('downloads');
    downloads = downloads != null && RegExp('\\.(' + downloads.replace(/\W+/g, '|') + ')$', 'i');
    const outbound = attr('outbound') != null;
    const count = (event) => {
      try {
        const link = event.button < 2 && event.target.closest('a[href]');
        const host = link.hostname; // empty for mailto:, tel:, javascript:
        const path = link.pathname;
        const url = (link.origin + path).slice(0, 256);
        if (host && downloads && downloads.test(path)) {
          footfall('download', { props: { url, extension: path.split('.').pop().toLowerCase() } });
        } else if (host && outbound && !('.' + host).endsWith('.' + site)) {
          footfall('outbound', { props: { url, host } });
        }
      } catch {}
    };
    for (const type of ['click', 'auxclick']) d.addEventListener(type, count, true);
  } catch {}
})(document);
