#!/usr/bin/env node
// A TCP relay from the node's side of the veth pair to the API server on loopback:
// `node cluster-relay.mjs <listen address> <port> <target port>`. The API server listens on
// 127.0.0.1 only, which the node's network namespace cannot reach (127.0.0.1 there is its own
// loopback); this relay listens on the root namespace's end of the veth pair (a link-local address
// only that namespace can reach) and passes bytes through unchanged, so TLS and client
// certificates still run end to end between the kubelet and the API server.
//
// Plain Node.js with no dependencies.
import { connect, createServer } from "node:net";

const [host, portText, targetText] = process.argv.slice(2);
const port = Number(portText);
const target = Number(targetText);
if (!host || !Number.isInteger(port) || !Number.isInteger(target)) {
  process.stderr.write("usage: cluster-relay.mjs <listen address> <port> <target port on 127.0.0.1>\n");
  process.exit(2);
}

const server = createServer((inbound) => {
  const outbound = connect({ host: "127.0.0.1", port: target });
  inbound.pipe(outbound);
  outbound.pipe(inbound);
  const close = () => {
    inbound.destroy();
    outbound.destroy();
  };
  inbound.on("error", close);
  outbound.on("error", close);
  inbound.on("close", close);
  outbound.on("close", close);
});
server.listen({ host, port }, () => process.stdout.write(`relay ${host}:${port} -> 127.0.0.1:${target}\n`));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
