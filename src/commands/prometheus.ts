// `status --format prometheus`: the verdict in the Prometheus text exposition format, for
// node_exporter's textfile collector. `up` is 0 when the cluster could not be observed
// (exit 3), so an alert can tell "unhealthy" from "not seen".
import type { StatusReport } from '../workflow/status.js';

export interface ClusterLabels {
  zkCluster: string;
  zkRootPath: string;
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export class Exposition {
  private readonly out: string[] = [];
  constructor(private readonly base: Record<string, string>) {}

  metric(name: string, help: string, samples: Array<[Record<string, string>, number]>): void {
    this.out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) {
      const all = Object.entries({ ...this.base, ...labels })
        .map(([k, v]) => `${k}="${escape(v)}"`)
        .join(',');
      this.out.push(`${name}{${all}} ${Number.isFinite(value) ? value : 'NaN'}`);
    }
  }

  text(): string {
    return `${this.out.join('\n')}\n`;
  }
}

const P = 'openmldb_recover';
const seconds = (iso: string | Date) => Math.round(new Date(iso).getTime()) / 1000;

function start(cluster: ClusterLabels, up: boolean, now: Date): Exposition {
  const x = new Exposition({ zk_cluster: cluster.zkCluster, zk_root_path: cluster.zkRootPath });
  x.metric(`${P}_up`, '1 when the cluster could be observed, 0 when it could not (status exit 3).', [[{}, up ? 1 : 0]]);
  x.metric(`${P}_check_timestamp_seconds`, 'Unix time this check ran.', [[{}, seconds(now)]]);
  return x;
}

export function renderPrometheus(s: StatusReport, cluster: ClusterLabels, now = new Date()): string {
  const x = start(cluster, true, now);
  const partitions = s.tables.flatMap((t) => t.partitions);
  const count = <T>(items: T[], pred: (i: T) => boolean) => items.filter(pred).length;
  x.metric(`${P}_cluster_healthy`, '1 when every partition is fully served, else 0.', [[{}, s.healthy ? 1 : 0]]);
  x.metric(`${P}_partitions`, 'Partitions by health verdict.', [
    [{ verdict: 'healthy' }, count(partitions, (p) => p.healthy)],
    [{ verdict: 'unhealthy' }, count(partitions, (p) => !p.healthy)],
  ]);
  x.metric(`${P}_tables`, 'Tables by health verdict.', [
    [{ verdict: 'healthy' }, count(s.tables, (t) => t.healthy)],
    [{ verdict: 'unhealthy' }, count(s.tables, (t) => !t.healthy)],
  ]);
  const states = [...new Set(['healthy', 'offline', ...s.tablets.map((t) => t.state)])];
  x.metric(
    `${P}_tablets`,
    "Tablets by state in the nameserver's view.",
    states.map((state) => [{ state }, count(s.tablets, (t) => t.state === state)]),
  );
  x.metric(`${P}_auto_failover`, '1 when auto_failover is on.', [[{}, s.autoFailover ? 1 : 0]]);
  x.metric(`${P}_unfinished_ops`, 'Ops kInited or kDoing.', [[{}, s.unfinishedOps]]);
  x.metric(`${P}_observation_timestamp_seconds`, 'Unix time of the observation the verdict is based on.', [[{}, seconds(s.takenAt)]]);
  return x.text();
}

/** What a check prints when the cluster could not be observed. */
export function renderPrometheusDown(cluster: ClusterLabels, now = new Date()): string {
  return start(cluster, false, now).text();
}
