#!/bin/bash
# Lodestone <-> python3-libtorrent over uTP only, on loopback (a measurement, not a test).
#
# usage: bench/utp-lodestone-libtorrent.sh DIR [MiB]   (default 256; run `npm run build` first)
# libtorrent (TCP off both ways: test/fixtures/utp/lt-swarm-peer.py utp-only) seeds a file of
# MiB random bytes in 1 MiB pieces; `lodestone download` fetches it over uTP. Prints seconds,
# MiB/s and the CPU seconds per GiB of each process (Lodestone from /usr/bin/time, libtorrent
# from /proc/PID/stat over the transfer). Compare with bench/libtorrent-utp-pair.py DIR MiB
# (libtorrent <-> libtorrent, both sessions in one process) run right before or after.
set -euo pipefail
dir=$1
mib=${2:-256}
root=$(cd "$(dirname "$0")/.." && pwd)
cli=$root/dist/cli/lodestone.js
mkdir -p "$dir/seed" "$dir/leech"
rm -f "$dir/leech/payload.bin" "$dir/seed/status.json"
head -c "${mib}M" /dev/urandom > "$dir/seed/payload.bin"
node "$cli" create "$dir/seed/payload.bin" --piece-length 1MiB --no-date -f -o "$dir/payload.torrent" > /dev/null
port=$((20000 + RANDOM % 20000))
/usr/bin/python3 "$root/test/fixtures/utp/lt-swarm-peer.py" seed utp-only "$dir/payload.torrent" "$dir/seed" 127.0.0.1 "$port" &
lt=$!
trap 'kill $lt 2>/dev/null || true' EXIT
until [ -f "$dir/seed/status.json" ] && grep -q '"is_seeding": true' "$dir/seed/status.json"; do sleep 0.2; done
ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$lt/stat"; }
before=$(cpu)
/usr/bin/time -f '%e %U %S' -o "$dir/time.txt" \
  node "$cli" download "$dir/payload.torrent" -o "$dir/leech" --peer "127.0.0.1:$port" --no-trackers \
  --bind 127.0.0.1 -p 0 -q --no-dht
after=$(cpu)
cmp "$dir/seed/payload.bin" "$dir/leech/payload.bin"
read -r elapsed user sys < "$dir/time.txt"
awk -v mib="$mib" -v e="$elapsed" -v u="$user" -v s="$sys" -v lt=$(( after - before )) -v hz="$ticks" 'BEGIN {
  gib = mib / 1024
  printf "%d MiB in %.1f s: %.1f MiB/s\n", mib, e, mib / e
  printf "Lodestone (leecher): %.2f CPU s per GiB (user %.2f, system %.2f)\n", (u + s) / gib, u / gib, s / gib
  printf "libtorrent (seeder): %.2f CPU s per GiB\n", lt / hz / gib
}'
