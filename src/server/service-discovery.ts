import type { Request } from 'express';
import type { Source } from '../sources/source.js';

/** One `http_sd_configs` target group of `GET /sd`. */
export interface SdTargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** Where Prometheus reaches this exporter, for the targets of `/sd`. */
export interface ExporterAddress {
  /** `host:port`. */
  host: string;
  scheme: 'http' | 'https';
  /** Any path prefix before `/probe` (a reverse proxy), without the trailing slash. */
  pathPrefix: string;
}

/** Where Prometheus reaches this exporter: `--web.external-url`, else the request's own Host. */
export function addressOf(req: Request, externalUrl: URL | undefined): ExporterAddress {
  if (externalUrl) {
    return { host: externalUrl.host, scheme: externalUrl.protocol === 'https:' ? 'https' : 'http', pathPrefix: externalUrl.pathname.replace(/\/+$/, '') };
  }
  return { host: req.get('host') ?? 'localhost', scheme: req.protocol === 'https' ? 'https' : 'http', pathPrefix: '' };
}

/**
 * `GET /sd`: Prometheus HTTP service discovery for the `/probe` job, from this shard's sources: a
 * target group per register read one by one and one per source read as a whole. Only the
 * `probe_only` sources: one that `/metrics` reads would be held twice by a Prometheus that
 * scrapes both.
 */
export function targetGroups(sources: readonly Source[], address: ExporterAddress): SdTargetGroup[] {
  const where: Record<string, string> = {
    ...(address.scheme === 'https' ? { __scheme__: 'https' } : {}),
    ...(address.pathPrefix ? { __metrics_path__: `${address.pathPrefix}/probe` } : {}),
  };
  const group = (labels: Record<string, string>): SdTargetGroup => ({ targets: [address.host], labels: { ...where, ...labels } });
  return sources.filter((source) => source.config.probe_only).flatMap((source) => {
    const targets = source.probeTargets();
    if (!targets) return [group({ __param_source: source.name, source: source.name })];
    return targets.map((t) => group({ ...t.labels, __param_source: source.name, __param_target: t.kkt, source: source.name, kkt: t.kkt }));
  });
}
