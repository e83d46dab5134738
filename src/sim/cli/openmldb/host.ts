// What the stand-in binary runs on: its process (stdout, stderr, stdin, environment, the
// network) or, for a run inside another program, whatever that program hands it. The
// engine tier of the tests runs the binary this way, in process, against a simulator
// without ports (test/helpers/in-process.ts); `openmldb` itself always runs on its process.
import { AsyncLocalStorage } from 'node:async_hooks';

/** A brpc HTTP reply as the client reads it, or the connection refused or cut. */
export type PostReply = { status: number; headers: Record<string, string>; text: string } | { failed: 'refused' | 'reset' };

/** What ns_client and sql_client read: the interface of both registries. */
export interface Registry {
  init(): Promise<boolean>;
  getChildren(path: string): Promise<string[] | undefined>;
  getValue(path: string): Promise<string | undefined>;
  exists(path: string): Promise<0 | 1 | -1>;
}

export interface BinaryHost {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  pid: number;
  /** Standard input; undefined: none (at its end at once, not a terminal). */
  stdin: NodeJS.ReadStream | undefined;
  /** One brpc POST; undefined: over the network. */
  post?: (address: string, path: string, headers: Record<string, string>, body: string) => Promise<PostReply>;
  /** The registry --zk_cluster names; undefined: over the network (zk.ts openRegistry). */
  registry?: (zkCluster: string) => Registry;
  /** What one process of the real binary keeps between calls. */
  state: { glogNoticePrinted: boolean; nextSocketId: number };
}

const processHost: BinaryHost = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => {
    try {
      process.stderr.write(text);
    } catch {
      // stderr closed: nothing to do
    }
  },
  env: process.env,
  pid: process.pid,
  get stdin() {
    return process.stdin;
  },
  state: { glogNoticePrinted: false, nextSocketId: 0 },
};

const current = new AsyncLocalStorage<BinaryHost>();

/** The host of the binary run this code is part of. */
export function host(): BinaryHost {
  return current.getStore() ?? processHost;
}

/** Run `fn` as one run of the binary on `h`. */
export function onHost<T>(h: BinaryHost, fn: () => Promise<T>): Promise<T> {
  return current.run(h, fn);
}
