/**
 * Readiness probe for a broker listener, independent of the client under test:
 * it speaks just enough of the Kafka protocol (ApiVersions v0, SaslHandshake v1)
 * to prove the listener serves requests, over TCP or TLS, and FindCoordinator v3
 * to tell which node coordinates a consumer group.
 * Kafka opens its data-plane acceptors only once the broker has caught up with the
 * metadata log, so an ApiVersions answer means the broker is running.
 */
import { readFileSync } from 'node:fs';
import { type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { CertificatePaths } from './certs.js';
import type { BrokerPorts } from './connection.js';
import { SCRAM_MECHANISM } from './server-config.js';

export interface ProbeTarget {
  host: string;
  port: number;
  tls?: { ca: string; cert?: string; key?: string; servername?: string };
  /** When set, also asks the listener whether it offers this SASL mechanism. */
  saslMechanism?: string;
}

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const FIND_COORDINATOR = 10;
const CLIENT_ID = 'lambda-kafka-probe';

/** Request header v1, or v2 for a flexible version: v1 followed by an empty tagged-field section. */
function encodeRequest(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: Buffer,
  flexible = false,
): Buffer {
  const clientId = Buffer.from(CLIENT_ID);
  const header = Buffer.alloc(2 + 2 + 4 + 2);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  const payload = Buffer.concat([header, clientId, flexible ? NO_TAGGED_FIELDS : Buffer.alloc(0), body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  return Buffer.concat([size, payload]);
}

function kafkaString(value: string): Buffer {
  const bytes = Buffer.from(value);
  const length = Buffer.alloc(2);
  length.writeInt16BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}

const NO_TAGGED_FIELDS = Buffer.from([0]);

function unsignedVarint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A flexible version's COMPACT_STRING: unsigned varint of length + 1, then the bytes. */
function compactString(value: string): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([unsignedVarint(bytes.length + 1), bytes]);
}

/** Reads a response body field by field. */
class Reader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}
  int16(): number {
    this.offset += 2;
    return this.buffer.readInt16BE(this.offset - 2);
  }
  int32(): number {
    this.offset += 4;
    return this.buffer.readInt32BE(this.offset - 4);
  }
  unsignedVarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.buffer.readUInt8(this.offset++);
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
  }
  compactNullableString(): string | null {
    const length = this.unsignedVarint() - 1;
    if (length < 0) return null;
    this.offset += length;
    return this.buffer.toString('utf8', this.offset - length, this.offset);
  }
  skipTaggedFields(): void {
    const count = this.unsignedVarint();
    for (let i = 0; i < count; i++) {
      this.unsignedVarint();
      this.offset += this.unsignedVarint();
    }
  }
}

/** Reads length-prefixed responses off a socket, one per call. */
function responseReader(socket: Socket): () => Promise<Buffer> {
  let buffered = Buffer.alloc(0);
  let waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  const drain = () => {
    if (!waiting) return;
    if (failure) {
      waiting.reject(failure);
      waiting = undefined;
      return;
    }
    if (buffered.length < 4) return;
    const size = buffered.readInt32BE(0);
    if (buffered.length < 4 + size) return;
    const frame = buffered.subarray(4, 4 + size);
    buffered = buffered.subarray(4 + size);
    waiting.resolve(frame);
    waiting = undefined;
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    drain();
  });
  const fail = (error: Error) => {
    failure ??= error;
    drain();
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('connection closed by the broker')));
  return () =>
    new Promise<Buffer>((resolve, reject) => {
      waiting = { resolve, reject };
      drain();
    });
}

function open(target: ProbeTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = target.tls
      ? tlsConnect({
          host: target.host,
          port: target.port,
          ca: target.tls.ca,
          cert: target.tls.cert,
          key: target.tls.key,
          servername: target.tls.servername ?? 'localhost',
        })
      : tcpConnect({ host: target.host, port: target.port });
    socket.once(target.tls ? 'secureConnect' : 'connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the listener answers ApiVersions (and SaslHandshake when asked); rejects otherwise. */
export async function probeListener(target: ProbeTarget, timeoutMs = 3000): Promise<void> {
  const socket = await withTimeout(open(target), timeoutMs, `connect to ${target.host}:${target.port}`);
  try {
    const next = responseReader(socket);
    socket.write(encodeRequest(API_VERSIONS, 0, 1, Buffer.alloc(0)));
    const versions = await withTimeout(next(), timeoutMs, 'ApiVersions');
    const versionsError = versions.readInt16BE(4);
    if (versionsError !== 0) throw new Error(`ApiVersions answered error code ${versionsError}`);
    if (target.saslMechanism) {
      socket.write(encodeRequest(SASL_HANDSHAKE, 1, 2, kafkaString(target.saslMechanism)));
      const handshake = await withTimeout(next(), timeoutMs, 'SaslHandshake');
      const handshakeError = handshake.readInt16BE(4);
      if (handshakeError !== 0) {
        throw new Error(`SaslHandshake(${target.saslMechanism}) answered error code ${handshakeError}`);
      }
    }
  } finally {
    socket.destroy();
  }
}

export interface Coordinator {
  /** 0 when found; otherwise a Kafka error code, e.g. 15 COORDINATOR_NOT_AVAILABLE while __consumer_offsets is created. */
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

/** Asks one listener which node coordinates group `groupId` (FindCoordinator v3, key type 0 = group). */
export async function findGroupCoordinator(
  target: ProbeTarget,
  groupId: string,
  timeoutMs = 3000,
): Promise<Coordinator> {
  const socket = await withTimeout(open(target), timeoutMs, `connect to ${target.host}:${target.port}`);
  try {
    const next = responseReader(socket);
    const body = Buffer.concat([compactString(groupId), Buffer.from([0]), NO_TAGGED_FIELDS]);
    socket.write(encodeRequest(FIND_COORDINATOR, 3, 1, body, true));
    const response = new Reader(await withTimeout(next(), timeoutMs, 'FindCoordinator'));
    response.int32(); // correlation id (response header v1)
    response.skipTaggedFields();
    response.int32(); // throttle_time_ms
    const errorCode = response.int16();
    const errorMessage = response.compactNullableString();
    const nodeId = response.int32();
    const host = response.compactNullableString() ?? '';
    const port = response.int32();
    return { errorCode, errorMessage, nodeId, host, port };
  } finally {
    socket.destroy();
  }
}

/** Probes a local broker's three client listeners with the credentials each one requires. */
export async function probeBrokerListeners(host: string, ports: BrokerPorts, certs: CertificatePaths): Promise<void> {
  const ca = readFileSync(certs.caFile, 'utf8');
  const cert = readFileSync(certs.clientCertFile, 'utf8');
  const key = readFileSync(certs.clientKeyFile, 'utf8');
  await probeListener({ host, port: ports.PLAINTEXT });
  await probeListener({ host, port: ports.SSL, tls: { ca, cert, key } });
  await probeListener({ host, port: ports.SASL_SSL, tls: { ca }, saslMechanism: SCRAM_MECHANISM });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
