/**
 * The RPC methods: one Transmission request object in, one response object out, by calls to
 * {@link DaemonApi}. No HTTP here (server.ts does that), so this is tested with an in-memory
 * daemon. Errors the daemon throws (`LodestoneError`) become the `result` string; anything else
 * is "internal error" (logged), and the server keeps running.
 */
import { isLodestoneError } from '../../errors.js';
import type { AddSource, DaemonApi, QueueMove, TorrentPatch, TorrentSelector } from '../daemon-api.js';
import {
  type Args,
  addOptionsFromArgs,
  parseIds,
  RpcArgumentError,
  settingsPatchFromArgs,
  string,
  torrentPatchFromArgs,
} from './arguments.js';
import { selectSessionFields, sessionStats, sessionValues } from './session-fields.js';
import { knownFields, torrentObject, torrentValues } from './torrent-fields.js';

export type RpcLog = (level: 'error' | 'info' | 'debug', message: string) => void;

export interface MethodContext {
  api: DaemonApi;
  sessionId: string;
  configDir: string;
  version: string;
  log: RpcLog;
  onSessionClose: () => void;
  /** Fetches a `.torrent` from an http(s) URL (bounded in size and time). */
  fetchTorrent: (url: string) => Promise<Uint8Array>;
}

export interface RpcResponse {
  result: string;
  arguments: Record<string, unknown>;
  tag?: number;
}

type Method = (args: Args, ctx: MethodContext) => Promise<Record<string, unknown> | undefined>;

function selector(args: Args): TorrentSelector {
  return parseIds(args.ids);
}

async function torrentGet(args: Args, ctx: MethodContext): Promise<Record<string, unknown>> {
  if (!Array.isArray(args.fields)) throw new RpcArgumentError('no fields specified');
  const fields = knownFields(args.fields.filter((f): f is string => typeof f === 'string'));
  const ids = selector(args);
  const torrents = ctx.api.torrents(ids);
  const out: Record<string, unknown> = {};
  if (args.format === 'table') {
    out.torrents = [fields, ...torrents.map((t) => torrentValues(t, fields))];
  } else {
    out.torrents = torrents.map((t) => torrentObject(t, fields));
  }
  if (ids === 'recently-active') out.removed = ctx.api.recentlyRemoved();
  return out;
}

const MAX_BASE64 = 14 * 1024 * 1024;

async function addSource(args: Args, ctx: MethodContext): Promise<AddSource> {
  const metainfo = string(args, 'metainfo');
  if (metainfo !== undefined && metainfo !== '') {
    if (metainfo.length > MAX_BASE64) throw new RpcArgumentError('invalid or corrupt torrent file');
    return { kind: 'metainfo', bytes: new Uint8Array(Buffer.from(metainfo, 'base64')) };
  }
  const filename = string(args, 'filename');
  if (filename === undefined || filename === '')
    throw new RpcArgumentError('no filename or metainfo specified');
  if (/^magnet:/i.test(filename)) return { kind: 'magnet', uri: filename };
  if (/^https?:\/\//i.test(filename)) {
    try {
      return { kind: 'metainfo', bytes: await ctx.fetchTorrent(filename) };
    } catch (error) {
      throw new RpcArgumentError(`gotMetadataFromURL: ${(error as Error).message}`);
    }
  }
  return { kind: 'file', path: filename };
}

async function torrentAdd(args: Args, ctx: MethodContext): Promise<Record<string, unknown>> {
  const options = addOptionsFromArgs(args);
  const source = await addSource(args, ctx);
  const { torrent, duplicate } = await ctx.api.add({ ...options, source });
  const summary = torrent.summary();
  const entry = { id: summary.id, name: summary.name, hashString: summary.hash };
  return duplicate ? { 'torrent-duplicate': entry } : { 'torrent-added': entry };
}

/** Whether a file-index list is Transmission's "all files" (an empty list). */
function hasEmptyIndexList(patch: TorrentPatch): boolean {
  return [
    patch.filesWanted,
    patch.filesUnwanted,
    patch.priorityHigh,
    patch.priorityNormal,
    patch.priorityLow,
  ].some((list) => list !== undefined && list.length === 0);
}

async function torrentSet(args: Args, ctx: MethodContext): Promise<undefined> {
  const ids = selector(args);
  const patch = torrentPatchFromArgs(args);
  for (const key of ['trackerAdd', 'trackerRemove', 'trackerReplace']) {
    if (args[key] !== undefined)
      ctx.log('info', `torrent-set: ${key} is not supported (use trackerList); ignored`);
  }
  const location = string(args, 'location');
  if (location !== undefined && location !== '') await ctx.api.setLocation(ids, location, { move: false });
  if (!hasEmptyIndexList(patch)) {
    if (Object.keys(patch).length > 0) await ctx.api.set(ids, patch);
    return undefined;
  }
  // An empty list means every file: expand it for each torrent (each has its own file count).
  for (const torrent of ctx.api.torrents(ids)) {
    const all = torrent.files().map((_, i) => i);
    const expand = (list: number[] | undefined) => (list !== undefined && list.length === 0 ? all : list);
    const own: TorrentPatch = { ...patch };
    for (const key of [
      'filesWanted',
      'filesUnwanted',
      'priorityHigh',
      'priorityNormal',
      'priorityLow',
    ] as const) {
      const list = expand(patch[key]);
      if (list !== undefined) own[key] = list;
    }
    await ctx.api.set([torrent.id], own);
  }
  return undefined;
}

function queueMethod(move: QueueMove): Method {
  return async (args, ctx) => {
    await ctx.api.queueMove(selector(args), move);
    return undefined;
  };
}

async function sessionGet(args: Args, ctx: MethodContext): Promise<Record<string, unknown>> {
  const settings = ctx.api.settings();
  let free = -1;
  try {
    free = (await ctx.api.freeSpace(settings['download-dir'])).freeBytes;
  } catch {
    // -1, as Transmission reports a folder it cannot measure
  }
  const values = sessionValues(settings, {
    version: ctx.version,
    sessionId: ctx.sessionId,
    configDir: ctx.configDir,
    downloadDirFreeSpace: free,
  });
  return selectSessionFields(values, args.fields);
}

async function sessionSet(args: Args, ctx: MethodContext): Promise<undefined> {
  const { patch, ignored } = settingsPatchFromArgs(args);
  if (ignored.length > 0) ctx.log('debug', `session-set: ignored ${ignored.join(', ')}`);
  if (Object.keys(patch).length > 0) await ctx.api.updateSettings(patch);
  return undefined;
}

const METHODS: Record<string, Method> = {
  'torrent-get': torrentGet,
  'torrent-add': torrentAdd,
  'torrent-set': torrentSet,
  'torrent-start': async (args, ctx) => void (await ctx.api.start(selector(args))),
  'torrent-start-now': async (args, ctx) => void (await ctx.api.start(selector(args), { now: true })),
  'torrent-stop': async (args, ctx) => void (await ctx.api.stop(selector(args))),
  'torrent-verify': async (args, ctx) => void (await ctx.api.verify(selector(args))),
  'torrent-reannounce': async (args, ctx) => void (await ctx.api.reannounce(selector(args))),
  'torrent-remove': async (args, ctx) => {
    const deleteData = args['delete-local-data'] === true || args['delete-local-data'] === 1;
    await ctx.api.remove(selector(args), { deleteData });
    return undefined;
  },
  'torrent-set-location': async (args, ctx) => {
    const location = string(args, 'location');
    if (location === undefined || location === '') throw new RpcArgumentError('no location');
    await ctx.api.setLocation(selector(args), location, { move: args.move === true || args.move === 1 });
    return undefined;
  },
  'torrent-rename-path': async (args, ctx) => {
    const ids = selector(args);
    const torrents = ctx.api.torrents(ids);
    // Transmission renames in exactly one torrent.
    if (torrents.length !== 1 || torrents[0] === undefined) {
      throw new RpcArgumentError('torrent-rename-path requires 1 torrent');
    }
    const path = string(args, 'path');
    const name = string(args, 'name');
    if (path === undefined || name === undefined) throw new RpcArgumentError('invalid argument');
    const renamed = await ctx.api.renamePath(torrents[0].id, path, name);
    return { id: torrents[0].id, path: renamed.path, name: renamed.name };
  },
  'queue-move-top': queueMethod('top'),
  'queue-move-up': queueMethod('up'),
  'queue-move-down': queueMethod('down'),
  'queue-move-bottom': queueMethod('bottom'),
  'session-get': sessionGet,
  'session-set': sessionSet,
  'session-stats': async (_args, ctx) => sessionStats(ctx.api.stats()),
  'session-close': async (_args, ctx) => {
    ctx.onSessionClose();
    return undefined;
  },
  'free-space': async (args, ctx) => {
    const path = string(args, 'path');
    if (path === undefined || path === '') throw new RpcArgumentError('directory path is not absolute');
    if (!path.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(path)) {
      throw new RpcArgumentError('directory path is not absolute');
    }
    const space = await ctx.api.freeSpace(path);
    return { path: space.path, 'size-bytes': space.freeBytes, total_size: space.totalBytes };
  },
  // Lodestone has no outside service to ask whether its port is reachable: say so, never guess.
  'port-test': async () => {
    throw new RpcArgumentError('port-test is not supported: Lodestone cannot test its port from outside');
  },
  'blocklist-update': async () => {
    throw new RpcArgumentError('blocklist is not supported');
  },
};

/** The method names answered. */
export const RPC_METHODS: readonly string[] = Object.keys(METHODS);

/** Answers one parsed request body (any JSON value); never throws. */
export async function handleRpcRequest(request: unknown, ctx: MethodContext): Promise<RpcResponse> {
  const body =
    typeof request === 'object' && request !== null && !Array.isArray(request) ? (request as Args) : {};
  const tag = Number.isSafeInteger(body.tag) ? (body.tag as number) : undefined;
  const respond = (result: string, args: Record<string, unknown> = {}): RpcResponse =>
    tag === undefined ? { arguments: args, result } : { arguments: args, result, tag };
  const name = body.method;
  if (typeof name !== 'string') return respond('no method name');
  const method = Object.hasOwn(METHODS, name) ? METHODS[name] : undefined;
  if (method === undefined) return respond('method name not recognized');
  const rawArgs = body.arguments;
  const args =
    typeof rawArgs === 'object' && rawArgs !== null && !Array.isArray(rawArgs) ? (rawArgs as Args) : {};
  try {
    return respond('success', (await method(args, ctx)) ?? {});
  } catch (error) {
    if (error instanceof RpcArgumentError || isLodestoneError(error)) return respond(error.message);
    ctx.log(
      'error',
      `rpc ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return respond('internal error');
  }
}
