import { isIP, isIPv4, isIPv6 } from 'node:net';

/** Where a register's URL points, read without DNS: one spelling for every way to write it. */
export interface RegisterPlace {
  scheme: string;
  /** A host name (lower case), or an IP address in one spelling (an IPv4-mapped IPv6 one as IPv4), without brackets. */
  host: string;
  /** `host` is an IP address: nothing to resolve. */
  isIp: boolean;
  port: number;
  /** The base path the endpoint paths are resolved against, ending in `/`. */
  path: string;
}

/**
 * What the register pool keys a register's address by: `gate`, where its requests go (scheme,
 * address, port), so a register has one rate gate whatever it is called; `read`, that and the base
 * path, for the read scrapes share (two paths behind one address are two registers behind one gateway).
 */
export interface AddressKeys {
  gate: string;
  read: string;
}

export function registerPlaceOf(url: string): RegisterPlace {
  const u = new URL(url);
  const bracketed = u.hostname.startsWith('[');
  const host = bracketed ? canonicalIpv6(u.hostname.slice(1, -1)) ?? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  const path = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  return { scheme: u.protocol, host, isIp: isIP(host) !== 0, port, path };
}

/** `address:port`, an IPv6 address in brackets. */
export function hostPortOf(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The keys of a register at `address` (its place's host resolved, or the host itself when it is an IP or needs no resolving). */
export function addressKeysAt(place: RegisterPlace, address: string): AddressKeys {
  const gate = `${place.scheme}//${hostPortOf(address, place.port)}`;
  return { gate, read: gate + place.path };
}

/** A register's address as its URL spells it, without DNS: two registers with one are one register under two names. */
export function spelledAddress(url: string): string {
  const place = registerPlaceOf(url);
  return addressKeysAt(place, place.host).read;
}

export interface HostPort {
  ip: string;
  family: 'ipv4' | 'ipv6';
  /** `ip:port` or `[ipv6]:port` in the one spelling URLs use; an IPv4-mapped address as IPv4. */
  host: string;
}

/** `ip:port` or `[ipv6]:port`, nothing else: no scheme, path, credentials or host names. */
export function parseHostPort(target: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(target);
  if (!m) return undefined;
  const [, v6, v4 = '', portText] = m;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  // isIPv4 refuses octets over 255 and leading zeros (which a URL would read as octal).
  const ip = v6 !== undefined ? canonicalIpv6(v6) : isIPv4(v4) ? v4 : undefined;
  if (ip === undefined) return undefined;
  return { ip, family: isIPv4(ip) ? 'ipv4' : 'ipv6', host: hostPortOf(ip, port) };
}

/**
 * An IPv6 address as URLs spell it (`[::FFFF:A00:1]` is `::ffff:a00:1`); an IPv4-mapped one as
 * the IPv4 address it stands for (`10.0.0.1`), to be checked against IPv4 networks.
 */
function canonicalIpv6(address: string): string | undefined {
  if (!isIPv6(address)) return undefined;
  const ip = new URL(`http://[${address}]`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ip);
  if (!mapped) return ip;
  const [high, low] = [parseInt(mapped[1] as string, 16), parseInt(mapped[2] as string, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}
