#!/usr/bin/python3
"""Reference figure for docs/utp.md: libtorrent -> libtorrent over uTP only on loopback.

usage: libtorrent-utp-pair.py DIR [MiB]   (default 256). Prints MiB/s and CPU seconds per GiB of
this process (both sessions run in it, as both Lodestone ends do in bench/utp-loopback.ts).
"""
import os
import sys
import time

import libtorrent as lt

directory = sys.argv[1]
size = int(sys.argv[2] if len(sys.argv) > 2 else 256) * 1024 * 1024
seed_dir, leech_dir = os.path.join(directory, 'seed'), os.path.join(directory, 'leech')
os.makedirs(seed_dir, exist_ok=True)
os.makedirs(leech_dir, exist_ok=True)
with open(os.path.join(seed_dir, 'data.bin'), 'wb') as f:
    for _ in range(size // (1024 * 1024)):
        f.write(os.urandom(1024 * 1024))
fs = lt.file_storage()
lt.add_files(fs, os.path.join(seed_dir, 'data.bin'))
creator = lt.create_torrent(fs, 1024 * 1024, flags=lt.create_torrent.v1_only)
lt.set_piece_hashes(creator, seed_dir)
info = lt.torrent_info(creator.generate())


def session(address, port):
    return lt.session({
        'listen_interfaces': '%s:%d' % (address, port), 'outgoing_interfaces': address,
        'enable_outgoing_tcp': False, 'enable_incoming_tcp': False,
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'out_enc_policy': 2, 'in_enc_policy': 2,
    })


seeder, leecher = session('127.0.0.81', 7081), session('127.0.0.82', 7082)
seed = seeder.add_torrent({'ti': info, 'save_path': seed_dir})
while not seed.status().is_seeding:
    time.sleep(0.05)
leech = leecher.add_torrent({'ti': info, 'save_path': leech_dir})
cpu0, t0 = time.process_time(), time.monotonic()
leech.connect_peer(('127.0.0.81', 7081))
while not leech.status().is_seeding:
    time.sleep(0.01)
seconds, cpu = time.monotonic() - t0, time.process_time() - cpu0
print('{"mibPerSecond": %.1f, "seconds": %.2f, "cpuSecondsPerGiB": %.2f}' % (
    size / 1048576 / seconds, seconds, cpu * (1 << 30) / size))
