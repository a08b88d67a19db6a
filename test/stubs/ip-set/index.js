// Only load-ip-set (WebTorrent's `blocklist` option) constructs this; we never
// pass a blocklist, so reaching it means a test started using one.
module.exports = class IPSet {
  constructor() {
    throw new TypeError(
      'ip-set is stubbed out in Lodestone (test/stubs/README.md): no WebTorrent blocklists',
    );
  }
};
