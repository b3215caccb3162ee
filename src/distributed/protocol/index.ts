/**
 * The message encoding of the distributed layer (the manual's Protocol chapter; DESIGN.md, Data):
 * msgpack bodies, large bytes as separate frames (never copied into the body), lz4 for frames that
 * compress, one header per message part, and a registry of serializers per type.
 *
 * ```ts
 * const frames = toFrames({ op: 'compute-task', key, fn: new Serialize(ref), args: [x] });
 * fromFrames(frames);                           // the message, Serialize()d parts decoded
 * fromFrames(frames, { deserialize: false });   // the scheduler: parts stay opaque Serialized
 * ```
 */
export { toFrames, fromFrames, PROTOCOL_VERSION, type ToFramesOptions, type FromFramesOptions } from './frames.js';
export { Serialize, Serialized, ProtocolError } from './markers.js';
export { serialize, deserialize, registerSerializer, unregisterSerializer, serializers, type Serializer } from './registry.js';
export { nbytesOf } from './nbytes.js';
