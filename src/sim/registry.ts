// The ZooKeeper stand-in: what the embedded registry shows the stand-in binary under the
// cluster's root path (docs/architecture.md "Registry protocol"), read from the nodes and
// the metadata as they are now. With the simulator on ZooKeeper, zk-coordinator.ts writes
// the same nodes to a real one instead.
import type { NameserverMetadata } from './ns-metadata.js';
import type { SimNodes } from './nodes.js';

const pad10 = (n: number) => String(n).padStart(10, '0');

/** The options the registry's paths follow (SimOptions'). */
export interface RegistryOptions {
  rootPath: string;
  useName: boolean;
}

export class EmbeddedRegistry {
  constructor(
    private readonly options: RegistryOptions,
    private readonly nodes: SimNodes,
    private readonly meta: NameserverMetadata,
  ) {}

  children(path: string): string[] | undefined {
    const root = this.options.rootPath.replace(/\/+$/, '');
    if (path === `${root}/leader`) {
      return this.nodes.nameservers.filter((n) => n.running).sort((a, b) => a.seq - b.seq).map((n) => `ns_${pad10(n.seq)}`);
    }
    if (path === `${root}/nodes`) return this.nodes.tablets().filter((t) => t.running || this.nodes.sessionRemainingMs(t.endpoint) > 0).map((t) => t.endpoint).sort();
    if (path === `${root}/map/names` && this.options.useName) {
      return [...this.nodes.nameservers.map((n) => n.endpoint), ...this.nodes.tablets().map((t) => t.endpoint)].sort();
    }
    if (path === root) return ['leader', 'nodes', 'config', 'table', 'op', 'db', ...(this.options.useName ? ['map'] : [])];
    if (path === `${root}/config`) return ['auto_failover'];
    if (path === `${root}/db`) return [...this.meta.databases].sort();
    return undefined;
  }

  get(path: string): string | undefined {
    const root = this.options.rootPath.replace(/\/+$/, '');
    const leaderChild = path.match(/^(.*)\/leader\/ns_(\d+)$/);
    if (leaderChild && leaderChild[1] === root) {
      const seq = Number(leaderChild[2]);
      return this.nodes.nameservers.find((n) => n.running && n.seq === seq)?.endpoint;
    }
    if (path.startsWith(`${root}/nodes/`)) {
      const t = this.nodes.tabletNodes.get(path.slice(`${root}/nodes/`.length));
      return t && (t.running || this.nodes.sessionRemainingMs(t.endpoint) > 0) ? `startup_${t.endpoint}` : undefined;
    }
    if (path.startsWith(`${root}/map/names/`) && this.options.useName) {
      return this.nodes.realEndpoint(path.slice(`${root}/map/names/`.length));
    }
    if (path === `${root}/config/auto_failover`) return String(this.meta.storedAutoFailover);
    return undefined;
  }
}
