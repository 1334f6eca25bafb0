// Many standard socket.io-client v4 connections on their default options (long-polling first,
// then the websocket upgrade), two per interview session: each connects, joins, upgrades, and
// the interviewer's offer reaches the interviewee.
// Usage: node crowd.mjs <url> <pairs.json>, the file holding
//   [{"session_id": …, "interviewer": <token>, "interviewee": <token>}, …]
// Prints one JSON line: what every connection did, and every failure it saw.
import { readFileSync } from "node:fs";
import { io } from "socket.io-client";

const [url, pairsFile] = process.argv.slice(2);
const pairs = JSON.parse(readFileSync(pairsFile, "utf8"));
const failures = [];
const sockets = [];
const OFFER = { type: "offer", sdp: "v=0 crowd offer" };

function within(ms, what, promise) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)),
  ]);
}

function open(token, name) {
  const socket = io(url, { auth: { token } }); // default options otherwise
  const record = { name, socket, connectErrors: 0, upgradeErrors: 0, disconnects: 0 };
  socket.on("connect_error", (error) => {
    record.connectErrors += 1;
    failures.push(`${name}: connect_error ${error.message}`);
  });
  socket.on("disconnect", (reason) => {
    if (!record.closing) {
      record.disconnects += 1;
      failures.push(`${name}: disconnected (${reason})`);
    }
  });
  socket.io.on("open", () => {
    record.firstTransport ??= socket.io.engine.transport.name;
    socket.io.engine.on("upgradeError", (error) => {
      record.upgradeErrors += 1;
      failures.push(`${name}: upgrade failed ${error.message}`);
    });
  });
  sockets.push(record);
  return record;
}

async function ready(record, sessionId) {
  const { socket } = record;
  await within(10000, `${record.name} connect`, new Promise((resolve) => socket.once("connect", resolve)));
  const ack = await within(10000, `${record.name} join`, socket.emitWithAck("join", { session_id: sessionId }));
  if (!ack.ok) throw new Error(`${record.name} join refused: ${JSON.stringify(ack)}`);
  if (socket.io.engine.transport.name !== "websocket") {
    await within(10000, `${record.name} upgrade`, new Promise((resolve) => socket.io.engine.once("upgrade", resolve)));
  }
  record.route = socket.io.engine.id.split(".")[0];
}

async function pair({ session_id: sessionId, interviewer, interviewee }, index) {
  const caller = open(interviewer, `pair ${index} interviewer`);
  const callee = open(interviewee, `pair ${index} interviewee`);
  await Promise.all([ready(caller, sessionId), ready(callee, sessionId)]);
  const heard = new Promise((resolve) => callee.socket.once("signal", resolve));
  const ack = await within(10000, `pair ${index} signal`, caller.socket.emitWithAck("signal", {
    session_id: sessionId, type: "offer", data: OFFER,
  }));
  if (!ack.ok) throw new Error(`pair ${index} signal refused: ${JSON.stringify(ack)}`);
  const signal = await within(10000, `pair ${index} relay`, heard);
  if (signal.type !== "offer" || signal.data.sdp !== OFFER.sdp) {
    throw new Error(`pair ${index} heard ${JSON.stringify(signal)}`);
  }
  return { caller: caller.route, callee: callee.route };
}

const results = await Promise.allSettled(pairs.map(pair));
const relayed = [];
for (const result of results) {
  if (result.status === "fulfilled") relayed.push(result.value);
  else failures.push(String(result.reason?.message ?? result.reason));
}
for (const record of sockets) {
  record.closing = true;
  record.socket.close();
}
const routes = {};
for (const record of sockets) {
  if (record.route) routes[record.route] = (routes[record.route] ?? 0) + 1;
}
console.log(JSON.stringify({
  connections: sockets.length,
  connected: sockets.filter((r) => r.route).length,
  first_transports: [...new Set(sockets.map((r) => r.firstTransport))],
  relayed: relayed.length,
  cross_process_pairs: relayed.filter((p) => p.caller !== p.callee).length,
  routes,
  failures,
}));
setTimeout(() => process.exit(0), 50);
