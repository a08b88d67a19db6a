// An empty module: WebTorrent's conn-pool treats `Object.keys(utp).length === 0`
// as "uTP not supported" and sticks to TCP.
module.exports = {};
