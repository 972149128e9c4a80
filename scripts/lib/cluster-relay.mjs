#!/usr/bin/env node
// A TCP relay to the API server: `node cluster-relay.mjs <listen address> <port> <target port>
// [<target address>]`. The API server listens on 127.0.0.1 only, which the node's network namespace
// cannot reach (127.0.0.1 there is its own loopback). One relay listens on the root namespace's end
// of the veth pair (a link-local address only that namespace can reach) and connects to 127.0.0.1;
// a second one, inside the node's namespace on the node IP, connects to the first, and is what the
// `kubernetes` Service's endpoint names for pods (Endpoints refuse link-local addresses). Bytes pass
// through unchanged, so TLS and client certificates run end to end.
//
// Plain Node.js with no dependencies.
import { connect, createServer } from "node:net";

const [host, portText, targetText, targetHost = "127.0.0.1"] = process.argv.slice(2);
const port = Number(portText);
const target = Number(targetText);
if (!host || !Number.isInteger(port) || !Number.isInteger(target)) {
  process.stderr.write("usage: cluster-relay.mjs <listen address> <port> <target port> [<target address>]\n");
  process.exit(2);
}

const server = createServer((inbound) => {
  const outbound = connect({ host: targetHost, port: target });
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
server.listen({ host, port }, () =>
  process.stdout.write(`relay ${host}:${port} -> ${targetHost}:${target}\n`),
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
