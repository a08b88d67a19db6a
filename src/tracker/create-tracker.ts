import { TrackerError } from '../errors.js';
import { HttpTracker, type HttpTrackerOptions } from './http-tracker.js';
import type { TrackerClient } from './types.js';
import { UdpTracker, type UdpTrackerOptions } from './udp-tracker.js';

export interface CreateTrackerOptions {
  http?: HttpTrackerOptions;
  udp?: UdpTrackerOptions;
}

/** The client for a tracker URL, chosen by scheme: http, https or udp. Anything else is a TrackerError. */
export function createTrackerClient(url: string, options: CreateTrackerOptions = {}): TrackerClient {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch (error) {
    throw new TrackerError(`invalid tracker URL "${url}"`, { cause: error });
  }
  switch (protocol) {
    case 'http:':
    case 'https:':
      return new HttpTracker(url, options.http);
    case 'udp:':
      return new UdpTracker(url, options.udp);
    default:
      throw new TrackerError(`unsupported tracker scheme ${protocol} in "${url}"`);
  }
}
