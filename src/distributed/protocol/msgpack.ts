/**
 * The msgpack codec of message bodies and headers: msgpackr, configured for plain, self-describing
 * msgpack (no record extension, no structured clone, no typed-array extensions: the tree encoder
 * in tree.ts has already turned everything msgpack cannot say into plain maps before packing).
 */
import { C1, Packr } from 'msgpackr';
import { ProtocolError } from './markers.js';

const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  structuredClone: false,
  mapsAsObjects: true,
  bundleStrings: false,
});

/** msgpack bytes of a plain value. */
export function pack(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** The value of msgpack bytes; a ProtocolError naming `what` when they are not exactly one value. */
export function unpack(bytes: Uint8Array, what: string): unknown {
  let v: unknown;
  try {
    // msgpackr's native string extractor crashes the process (SIGSEGV, Node 20) on bytes in a
    // SharedArrayBuffer, where the comm layer puts large frames: read a private copy of those.
    v = packr.unpack(bytes.buffer instanceof SharedArrayBuffer ? Buffer.from(bytes) : bytes);
  } catch (e) {
    throw new ProtocolError(`malformed ${what}: ${(e as Error).message}`);
  }
  // msgpackr decodes the never-used byte 0xC1 to a marker object instead of failing.
  if (v === C1) throw new ProtocolError(`malformed ${what}: byte 0xc1`);
  return v;
}
