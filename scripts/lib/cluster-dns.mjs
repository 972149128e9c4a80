#!/usr/bin/env node
// The real node's cluster DNS: answers A queries for <service>.<namespace>.svc.cluster.local with the
// Service's ClusterIP, read from the API server; every other name gets NXDOMAIN (there is nothing
// beyond the node's namespace to ask). It listens on UDP port 53 of the node's IP, inside the
// node's network namespace, which is the nameserver the kubelet writes into every pod.
//
//   node cluster-dns.mjs <listen address> <API server URL> <CA file> <cert file> <key file>
//
// Plain Node.js with no dependencies: a DNS message is a 12-byte header, the question, and one
// answer record, which is all this needs.
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { request } from "node:https";

const [listen, server, caFile, certFile, keyFile] = process.argv.slice(2);
if (!listen || !server || !caFile || !certFile || !keyFile) {
  process.stderr.write("usage: cluster-dns.mjs <listen address> <API server URL> <CA> <cert> <key>\n");
  process.exit(2);
}
const tls = { ca: readFileSync(caFile), cert: readFileSync(certFile), key: readFileSync(keyFile) };
// The API server's certificate names the loopback address it serves on, not the relay's.
const serverName = "localhost";
const ttlSeconds = 5;
const cache = new Map();

function serviceIP(namespace, name) {
  const key = `${namespace}/${name}`;
  const hit = cache.get(key);
  if (hit && hit.until > Date.now()) return Promise.resolve(hit.ip);
  return new Promise((resolveIP, reject) => {
    const req = request(
      // A list by name, not a get: kube-proxy's role, whose identity this borrows, may only list.
      `${server}/api/v1/namespaces/${encodeURIComponent(namespace)}/services` +
        `?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`,
      { ...tls, servername: serverName, timeout: 3000 },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => {
          if (res.statusCode !== 200) return reject(new Error(`API server answered ${res.statusCode}`));
          const ip = JSON.parse(text).items?.[0]?.spec?.clusterIP;
          const found = ip && ip !== "None" ? ip : null;
          cache.set(key, { ip: found, until: Date.now() + 2000 });
          resolveIP(found);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("API server: no answer in 3 s")));
    req.on("error", reject);
    req.end();
  });
}

/** The question's name (lower case), type and where the question ends, or null when malformed. */
function parseQuestion(message) {
  if (message.length < 12 || message.readUInt16BE(4) !== 1) return null;
  const labels = [];
  let offset = 12;
  while (offset < message.length) {
    const length = message[offset];
    if (length === 0) break;
    if (length > 63 || offset + 1 + length > message.length) return null;
    labels.push(
      message
        .subarray(offset + 1, offset + 1 + length)
        .toString("ascii")
        .toLowerCase(),
    );
    offset += 1 + length;
  }
  if (offset + 5 > message.length) return null;
  return { name: labels.join("."), type: message.readUInt16BE(offset + 1), end: offset + 5 };
}

function reply(query, question, rcode, ip) {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // the id
  const recursionDesired = query[2] & 0x01;
  header[2] = 0x84 | recursionDesired; // an answer, authoritative
  header[3] = rcode;
  header.writeUInt16BE(question ? 1 : 0, 4);
  header.writeUInt16BE(ip ? 1 : 0, 6);
  const parts = [header];
  if (question) parts.push(query.subarray(12, question.end));
  if (ip) {
    const answer = Buffer.alloc(16);
    answer.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    answer.writeUInt16BE(1, 2); // A
    answer.writeUInt16BE(1, 4); // IN
    answer.writeUInt32BE(ttlSeconds, 6);
    answer.writeUInt16BE(4, 10);
    ip.split(".").forEach((octet, i) => (answer[12 + i] = Number(octet)));
    parts.push(answer);
  }
  return Buffer.concat(parts);
}

const NOERROR = 0;
const SERVFAIL = 2;
const NXDOMAIN = 3;
const A = 1;

async function answer(query) {
  const question = parseQuestion(query);
  if (!question) return reply(query, null, 1, null); // FORMERR
  const match = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/.exec(question.name);
  if (!match) return reply(query, question, NXDOMAIN, null);
  try {
    const ip = await serviceIP(match[2], match[1]);
    if (!ip) return reply(query, question, NXDOMAIN, null);
    // The name exists; only A records are held (an AAAA question gets an empty answer).
    return reply(query, question, NOERROR, question.type === A ? ip : null);
  } catch (error) {
    process.stderr.write(`cluster-dns: ${question.name}: ${error.message}\n`);
    return reply(query, question, SERVFAIL, null);
  }
}

const socket = createSocket("udp4");
socket.on("message", (query, from) => {
  answer(query).then((message) => socket.send(message, from.port, from.address));
});
socket.on("error", (error) => {
  process.stderr.write(`cluster-dns: ${error.message}\n`);
  process.exit(1);
});
socket.bind(53, listen, () => process.stdout.write(`cluster DNS on ${listen}:53 (udp)\n`));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
