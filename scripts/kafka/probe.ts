/**
 * Readiness probe for a broker listener, independent of the client under test:
 * it speaks just enough of the Kafka protocol (ApiVersions v0, SaslHandshake v1)
 * to prove the listener serves requests, over TCP or TLS.
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
const CLIENT_ID = 'lambda-kafka-probe';

function encodeRequest(apiKey: number, apiVersion: number, correlationId: number, body: Buffer): Buffer {
  const clientId = Buffer.from(CLIENT_ID);
  const header = Buffer.alloc(2 + 2 + 4 + 2);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  const payload = Buffer.concat([header, clientId, body]);
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
