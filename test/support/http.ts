/** What an HTTP caller must never be told: the cluster's inside. */

/** An address, a port, a path, a variable name, a host name, a mechanism, librdkafka's words. */
export const CLUSTER_INSIDE: readonly RegExp[] = [
  /\d+\.\d+\.\d+\.\d+/,
  /:\d{2,5}\b/,
  /(^|[\s"'(])\/[\w.-]+\//,
  /KAFKA_/,
  /localhost/i,
  /SASL|SCRAM|PLAIN|SSL|TLS|AWS_MSK_IAM/,
  /broker|librdkafka|ECONNREFUSED|ipv4#|\.pem\b/i,
];

/** The patterns of CLUSTER_INSIDE that `text` matches (none, for a body a caller may see). */
export function insideFound(text: string): string[] {
  return CLUSTER_INSIDE.filter((pattern) => pattern.test(text)).map(String);
}
