// Bayeux servers nobody here wrote, for the tests that prove the suite's CometD clients and protocol tests
// work against any standard Bayeux server:
//   cometd  npm "cometd-nodejs-server", the CometD project's own: long-polling only, sessions kept by its
//           BAYEUX_BROWSER cookie, every /meta/connect held 30 s unless the client advises otherwise;
//   faye    npm "faye", an independent Bayeux implementation: long-polling and websocket, no cookie,
//           connects held 60 s unless advised otherwise, 401 (its code) for an unknown client.
//
//   node third_party_bayeux_server.mjs [cometd|faye] [--require-sub-paths]
//
// Listens on 127.0.0.1, a free port, and prints one line first: "LISTENING http://127.0.0.1:<port>/cometd".
// The server keeps its stock options; it is mapped on /cometd and every path below it (both libraries do
// that themselves). --require-sub-paths answers 404 at /cometd itself, so only the sub-path URLs the
// CometD clients post to (/cometd/handshake, /cometd/connect...) reach it: a server that demands them.
// The control API, JSON in and out, exists only so the tests can make server-side things happen:
//
//   POST /control/publish {"channel": "/x", "data": {...}, "waitForSubscriberMs": 5000}
//        publishes data on channel from the server side; first waits (up to waitForSubscriberMs) until
//        the channel has a subscriber, so a test can publish right after a client (re)subscribes.
//        Answers {"subscribers": n}: how many the channel had when the message was published.
//   POST /control/forget
//        ends every session the way the server ends an expired one, so the next request of each client
//        carries an unknown clientId. Answers {"forgotten": n}.
//
// Ends on SIGTERM / SIGINT or when stdin closes (the parent died).

import { createRequire } from "node:module";
import http from "node:http";

const require = createRequire(import.meta.url);
const ENDPOINT = "/cometd";
const args = process.argv.slice(2);
const IMPLEMENTATION = args.find((a) => !a.startsWith("--")) ?? "cometd";
const REQUIRE_SUB_PATHS = args.includes("--require-sub-paths");

// Who is subscribed to what, from each server's own events: both name the client and the channel.
const subscribers = new Map();
const waiting = new Set();

function subscribed(clientId, channel) {
    if (!subscribers.has(channel)) {
        subscribers.set(channel, new Set());
    }
    subscribers.get(channel).add(clientId);
    for (const wake of [...waiting]) {
        wake(channel);
    }
}

function unsubscribed(clientId, channel) {
    subscribers.get(channel)?.delete(clientId);
}

function gone(clientId) {
    for (const clients of subscribers.values()) {
        clients.delete(clientId);
    }
}

function subscriberCount(channel) {
    return subscribers.get(channel)?.size ?? 0;
}

// Resolves once channel has a subscriber, or after waitMs: awaited on the server's own event.
function subscriberOf(channel, waitMs) {
    if (subscriberCount(channel) > 0 || !(waitMs > 0)) {
        return Promise.resolve();
    }
    return new Promise((resolve) => {
        const done = () => {
            clearTimeout(timer);
            waiting.delete(wake);
            resolve();
        };
        const wake = (name) => {
            if (name === channel) {
                done();
            }
        };
        const timer = setTimeout(done, waitMs);
        waiting.add(wake);
    });
}

function cometdServer() {
    const { createCometDServer } = require("cometd-nodejs-server");
    const cometd = createCometDServer();
    const sessions = new Set();
    cometd.addListener("sessionAdded", (session) => sessions.add(session));
    cometd.addListener("sessionRemoved", (session) => {
        sessions.delete(session);
        gone(session.id);
    });
    cometd.addListener("subscribed", (channel, session) => subscribed(session.id, channel.name));
    cometd.addListener("unsubscribed", (channel, session) => unsubscribed(session.id, channel.name));
    return {
        handle: (request, response) => cometd.handle(request, response),
        upgrade: (request, socket) => socket.destroy(), // no websocket transport
        publish(channel, data) {
            return new Promise((resolve) => cometd.createServerChannel(channel).publish(null, data, () => resolve()));
        },
        forget() {
            // ServerSession.disconnect, the server's API for ending a session: it is removed and its held
            // connect answered; the client's next request gets 402::session_unknown.
            const forgotten = [...sessions];
            forgotten.forEach((session) => session.disconnect());
            return forgotten.length;
        },
        close() {
            cometd.close();
        },
    };
}

function fayeServer() {
    const faye = require("faye");
    const bayeux = new faye.NodeAdapter({ mount: ENDPOINT });
    const clients = new Set();
    bayeux.on("handshake", (clientId) => clients.add(clientId));
    bayeux.on("disconnect", (clientId) => {
        clients.delete(clientId);
        gone(clientId);
    });
    bayeux.on("subscribe", (clientId, channel) => subscribed(clientId, channel));
    bayeux.on("unsubscribe", (clientId, channel) => unsubscribed(clientId, channel));
    return {
        handle: (request, response) => bayeux.handle(request, response),
        upgrade: (request, socket, head) => bayeux.handleUpgrade(request, socket, head),
        publish(channel, data) {
            return bayeux.getClient().publish(channel, data);
        },
        forget() {
            // Faye has no public call that ends a session; its engine's destroyClient is what its own
            // session expiry calls (the held connect is answered, a websocket closed).
            const forgotten = [...clients];
            forgotten.forEach((clientId) => bayeux._server._engine.destroyClient(clientId));
            return forgotten.length;
        },
        close() {
            bayeux.close();
        },
    };
}

const IMPLEMENTATIONS = { cometd: cometdServer, faye: fayeServer };
if (!(IMPLEMENTATION in IMPLEMENTATIONS)) {
    console.log(`FAIL: unknown implementation ${IMPLEMENTATION}; use one of ${Object.keys(IMPLEMENTATIONS)}`);
    process.exit(2);
}
const bayeux = IMPLEMENTATIONS[IMPLEMENTATION]();

function readJson(request) {
    return new Promise((resolve, reject) => {
        let text = "";
        request.setEncoding("utf8");
        request.on("data", (chunk) => { text += chunk; });
        request.on("end", () => {
            try {
                resolve(text ? JSON.parse(text) : {});
            } catch (failure) {
                reject(failure);
            }
        });
        request.on("error", reject);
    });
}

function answer(response, status, body) {
    response.writeHead(status, { "Content-Type": "application/json" });
    response.end(JSON.stringify(body));
}

async function control(request, response, action) {
    const body = await readJson(request);
    if (action === "publish") {
        if (typeof body.channel !== "string" || !body.channel.startsWith("/")) {
            answer(response, 400, { error: "channel (a string starting with /) is required" });
            return;
        }
        await subscriberOf(body.channel, body.waitForSubscriberMs);
        const count = subscriberCount(body.channel);
        await bayeux.publish(body.channel, body.data ?? {});
        answer(response, 200, { subscribers: count });
    } else if (action === "forget") {
        answer(response, 200, { forgotten: bayeux.forget() });
    } else {
        answer(response, 404, { error: `no control action ${action}` });
    }
}

// Our routes first; every other request goes to the Bayeux server.
const server = http.createServer((request, response) => {
    const path = new URL(request.url, "http://localhost").pathname;
    if (path.startsWith("/control/")) {
        if (request.method !== "POST") {
            answer(response, 405, { error: "POST only" });
            return;
        }
        control(request, response, path.slice("/control/".length)).catch((failure) => {
            answer(response, 400, { error: String(failure) });
        });
    } else if (REQUIRE_SUB_PATHS && path.replace(/\/+$/, "") === ENDPOINT) {
        response.writeHead(404, { "Content-Type": "text/plain" });
        response.end("Not Found: post to a sub-path of the endpoint");
    } else {
        bayeux.handle(request, response);
    }
});
server.on("upgrade", (request, socket, head) => bayeux.upgrade(request, socket, head));

function stop() {
    bayeux.close();
    server.close();
    server.closeAllConnections();
    process.exit(0);
}

process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();

server.listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    console.log(`LISTENING http://127.0.0.1:${port}${ENDPOINT}`);
});
