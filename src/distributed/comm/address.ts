/**
 * Addresses as dask writes them: 'tcp://host:port', or 'host:port' for short. IPv6 hosts go in
 * brackets ('tcp://[::1]:8786'). Every address the comm layer reports is in the long form.
 */
import { isIPv6 } from 'node:net';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** Parses 'tcp://host:port' or 'host:port'; a bad address is a TypeError that shows it. */
export function parseAddress(address: string): HostPort {
  if (typeof address !== 'string') throw new TypeError(`an address must be a string, got ${typeof address}`);
  let rest = address.trim();
  const scheme = SCHEME.exec(rest);
  if (scheme) {
    if (scheme[1].toLowerCase() !== 'tcp') {
      throw new TypeError(`unsupported address scheme '${scheme[1]}' in '${address}'; only tcp:// is supported`);
    }
    rest = rest.slice(scheme[0].length);
  }
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0 || rest[end + 1] !== ':') throw badAddress(address);
    host = rest.slice(1, end);
    portText = rest.slice(end + 2);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon <= 0 || rest.indexOf(':') !== colon) throw badAddress(address);
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535 || host === '') throw badAddress(address);
  return { host, port };
}

/** The long form, 'tcp://host:port'. */
export function formatAddress(host: string, port: number): string {
  return `tcp://${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** Any accepted spelling of an address, in its long form (the key a connection pool uses). */
export function normalizeAddress(address: string): string {
  const { host, port } = parseAddress(address);
  return formatAddress(host, port);
}

function badAddress(address: string): TypeError {
  return new TypeError(`bad address '${address}': expected 'tcp://host:port' or 'host:port' with a port in 0..65535`);
}
